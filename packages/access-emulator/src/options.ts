/*
 * The emulator's options, and their checking before anything listens: users and service tokens, login
 * methods, audience, session duration, origins, the public URL, TLS and the listening interface. Every
 * bad value stops the start with an Error naming the option.
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
import {
  type LoginMethodOptions,
  type LoginMethods,
  resolveLoginMethods,
} from './loginMethods';
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
  /**
   * Listen on a `host` that is not loopback (e.g. `0.0.0.0`): anyone who can reach the port can sign in
   * as any user. Default false. A warning is emitted when it is used.
   */
  dangerouslyAllowNetworkAccess?: boolean;
  /**
   * Serve HTTPS (HTTP/1.1, WebSocket upgrades too) with this certificate and key (PEM strings or
   * Buffers), e.g. from `createTlsCertificates`. Default: plain HTTP.
   */
  tls?: TlsOptions;
  /**
   * The URL browsers use; its origin is the token issuer, and its host (besides loopback names) the only
   * `Host` answered. Default `http://localhost:<port>`, or `https://localhost:<port>` with `tls`.
   */
  publicUrl?: string;
  /** Frontend origin (everything not under a backend path). Default http://localhost:3000. */
  frontendUrl?: string;
  /**
   * Backend origin (`/api/`, `/.backstage/`). Default http://localhost:7007. Several origins (an array,
   * or comma-separated) are balanced round-robin; one whose connection fails is skipped for a while and
   * idempotent requests without a body are retried once on the next (see proxy.ts).
   */
  backendUrl?: string | string[];
  /** Path prefixes routed to the backend. Default `['/api/', '/.backstage/']`. */
  backendPaths?: string[];
  /** Rewrite Host to the origin's host. Default false (the origin sees the public Host). */
  changeOrigin?: boolean;
  /** Application Audience tag(s) for `aud`. Default {@link DEFAULT_AUD}. */
  audience?: string | string[];
  /**
   * Token/session lifetime: seconds, or as in Backstage config (`24h`, `30 minutes`, `PT24H`,
   * `{ hours: 24 }`). Default 24h.
   */
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
}

/** The options once checked, with every default filled in. */
export interface ResolvedOptions extends UsersConfig {
  loginMethods: LoginMethods;
  audience: string[];
  sessionDurationSeconds: number;
  frontendUrl: string;
  backendUrls: string[];
  /** The public origin when `publicUrl` was given (otherwise it depends on the port). */
  publicOrigin?: string;
  port: number;
  host: string;
  /** Whether `host` is reachable from the network (allowed by `dangerouslyAllowNetworkAccess`). */
  networkExposed: boolean;
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
  const inline = validateUsersConfig(
    { users: options.users ?? [], serviceTokens: options.serviceTokens ?? [] },
    'options',
  );
  // Once more together: an inline user may repeat one of the file.
  return validateUsersConfig(
    {
      users: [...file.users, ...inline.users],
      serviceTokens: [...file.serviceTokens, ...inline.serviceTokens],
    },
    'users',
  );
}

export async function resolveOptions(
  options: AccessEmulatorOptions,
): Promise<ResolvedOptions> {
  const { users, serviceTokens } = await usersOf(options);
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
    users,
    serviceTokens,
    loginMethods: await resolveLoginMethods(options),
    audience,
    sessionDurationSeconds: durationSeconds(
      options.sessionDuration ?? DEFAULT_SESSION_DURATION,
      'sessionDuration',
    ),
    frontendUrl: originOf(
      'frontendUrl',
      options.frontendUrl ?? DEFAULT_FRONTEND_URL,
    ),
    backendUrls,
    publicOrigin,
    port: options.port ?? DEFAULT_PORT,
    host,
    networkExposed,
  };
}

/** The warning printed when the emulator listens beyond loopback. */
export function networkExposureWarning(host: string, port: number): string {
  return `The Cloudflare Access emulator listens on ${host}:${port}, beyond loopback: anyone who can reach this port can sign in as any user (there are no passwords) and use the Backstage behind it. Use it only on a network you trust.`;
}
