/*
 * The emulator's options, checked before anything listens: every bad value stops the start with an Error
 * naming the option.
 */
import {
  DEFAULT_AUD,
  DEFAULT_BACKEND_URL,
  DEFAULT_FRONTEND_URL,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_SESSION_DURATION,
} from './defaults';
import { type DurationInput, durationSeconds } from './duration';
import type { Faults } from './faults';
import { isLoopbackName } from './hosts';
import type { TlsOptions } from './httpServer';
import { type LoginMethodOptions, resolveLoginMethods } from './loginMethods';
import {
  type ManagedOAuthOptions,
  resolveManagedOAuth,
} from './oauth/settings';
import {
  type EmulatorUser,
  type ServiceTokenConfig,
  type UsersConfig,
  loadUsersFile,
  validateUsersConfig,
} from './users';

export interface AccessEmulatorOptions extends LoginMethodOptions {
  /** Port to listen on; 0 picks a free one. Default 7000. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1; one that is not loopback needs `dangerouslyAllowNetworkAccess`. */
  host?: string;
  /** Allow a `host` beyond loopback (`0.0.0.0`): anyone who reaches the port can sign in as anyone (warns). */
  dangerouslyAllowNetworkAccess?: boolean;
  /** Serve HTTPS (upgrades too) with this PEM certificate and key, e.g. from `createTlsCertificates`. */
  tls?: TlsOptions;
  /**
   * The URL browsers use: its origin is the token issuer, its host the only `Host` answered besides
   * loopback names. Default `http://localhost:<port>` (`https://` with `tls`).
   */
  publicUrl?: string;
  /** Frontend origin (everything not under a backend path). Default http://localhost:3000. */
  frontendUrl?: string;
  /** Backend origin(s) (`/api/`, `/.backstage/`), several balanced round-robin. Default http://localhost:7007. */
  backendUrl?: string | string[];
  /** Path prefixes routed to the backend. Default `['/api/', '/.backstage/']`. */
  backendPaths?: string[];
  /** Rewrite Host to the origin's host. Default false (the origin sees the public Host). */
  changeOrigin?: boolean;
  /** Application Audience tag(s) for `aud`. Default {@link DEFAULT_AUD}. */
  audience?: string | string[];
  /** Token lifetime: seconds, or as in Backstage config (`24h`, `PT24H`, `{ hours: 24 }`). Default 24h. */
  sessionDuration?: DurationInput;
  /** Directory for the signing keys; without one keys live in memory only. */
  stateDir?: string;
  /** YAML file with users and service tokens. */
  usersFile?: string;
  /** Users in addition to those of the users file. */
  users?: EmulatorUser[];
  /** Service tokens in addition to those of the users file. */
  serviceTokens?: ServiceTokenConfig[];
  /** Country code for the `country` claim when a user has none. Default XX. */
  country?: string;
  /** Account id in get-identity. */
  accountId?: string;
  /** Initial faults. */
  faults?: Faults;
  /** One line per request; default: no logging. */
  log?: (line: string) => void;
  /**
   * Cloudflare Access "Managed OAuth": Access as the OAuth authorization server of this application, for
   * MCP clients and agents (`true` or settings). Default off: nothing changes for browsers either way.
   */
  managedOAuth?: boolean | ManagedOAuthOptions;
}

/** Comma-separated and repeated values as one list. */
export function splitList(value: string | string[]): string[] {
  return (Array.isArray(value) ? value : [value])
    .flatMap(v => v.split(','))
    .map(v => v.trim())
    .filter(Boolean);
}

function originOf(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name}: not a URL: ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`${name}: must be an http(s) URL: ${value}`);
  }
  return url.origin;
}

async function usersOf(options: AccessEmulatorOptions): Promise<UsersConfig> {
  const file = options.usersFile
    ? await loadUsersFile(options.usersFile)
    : { users: [], serviceTokens: [] };
  const { users, serviceTokens } = options;
  const inline = validateUsersConfig({ users, serviceTokens }, 'options');
  // Once more together: an inline user may repeat one of the file.
  return validateUsersConfig(
    {
      users: [...file.users, ...inline.users],
      serviceTokens: [...file.serviceTokens, ...inline.serviceTokens],
    },
    'users',
  );
}

/** The options once checked, with every default filled in. */
export async function resolveOptions(options: AccessEmulatorOptions) {
  const audience = splitList(options.audience ?? DEFAULT_AUD);
  if (audience.length === 0) {
    throw new Error('At least one AUD tag is required');
  }
  const backendUrls = splitList(options.backendUrl ?? DEFAULT_BACKEND_URL).map(
    v => originOf('backendUrl', v),
  );
  if (backendUrls.length === 0) {
    throw new Error('backendUrl: at least one backend origin is required');
  }
  const publicOrigin =
    options.publicUrl === undefined
      ? undefined
      : originOf('publicUrl', options.publicUrl);
  if (options.tls && publicOrigin?.startsWith('http:')) {
    throw new Error(
      `publicUrl: must be an https URL when tls is set: ${options.publicUrl}`,
    );
  }
  const host = options.host ?? DEFAULT_HOST;
  const networkExposed = !isLoopbackName(host);
  if (networkExposed && !options.dangerouslyAllowNetworkAccess) {
    throw new Error(
      `host: ${host} is not a loopback address, so anyone on the network could sign in as any user. Listen on 127.0.0.1 (the default), or allow it explicitly with dangerouslyAllowNetworkAccess (--dangerously-allow-network-access).`,
    );
  }
  return {
    ...(await usersOf(options)),
    loginMethods: await resolveLoginMethods(options),
    audience,
    /** Managed OAuth's settings when it is on. */
    managedOAuth: resolveManagedOAuth(options.managedOAuth),
    sessionDurationSeconds: durationSeconds(
      options.sessionDuration ?? DEFAULT_SESSION_DURATION,
      'sessionDuration',
    ),
    frontendUrl: originOf(
      'frontendUrl',
      options.frontendUrl ?? DEFAULT_FRONTEND_URL,
    ),
    backendUrls,
    /** The public origin when `publicUrl` was given (otherwise it depends on the port). */
    publicOrigin,
    port: options.port ?? DEFAULT_PORT,
    host,
    /** Whether `host` is reachable from the network (allowed by `dangerouslyAllowNetworkAccess`). */
    networkExposed,
  };
}

/** The warning printed when the emulator listens beyond loopback. */
export function networkExposureWarning(host: string, port: number): string {
  return `The Cloudflare Access emulator listens on ${host}:${port}, beyond loopback: anyone who can reach this port can sign in as any user (there are no passwords) and use the Backstage behind it. Use it only on a network you trust.`;
}
