/*
 * startAccessEmulator: wires the keystore, token issuer, routes, edge and
 * proxy into one HTTP server.
 */
import type http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import express from 'express';
import { createAccessRoutes } from './accessRoutes';
import { createAdminRoutes } from './adminRoutes';
import { type EmulatorContext, signInUser } from './context';
import {
  DEFAULT_ACCOUNT_ID,
  DEFAULT_AUD,
  DEFAULT_BACKEND_PATHS,
  DEFAULT_BACKEND_URL,
  DEFAULT_COUNTRY,
  DEFAULT_FRONTEND_URL,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_SESSION_DURATION,
} from './defaults';
import { type DurationInput, durationSeconds } from './duration';
import { applyOriginHeaders, authenticate, type EdgeDecision } from './edge';
import { FaultState, type Faults } from './faults';
import { type TlsOptions, listenClosable } from './httpServer';
import { IdentityStore } from './identities';
import { KeyStore } from './keys';
import {
  type IdentityProviderSummary,
  type LoginMethodOptions,
  loginContext,
  resolveLoginMethods,
  summarizeProviders,
} from './loginMethods';
import { createOidcRoutes } from './oidcRoutes';
import { createOriginProxy } from './proxy';
import { loginRedirectLocation } from './redirects';
import { type EmulatorStats, RequestStats } from './stats';
import { type AccessTokenPayload, TokenIssuer } from './tokens';
import {
  type EmulatorUser,
  type ServiceTokenConfig,
  loadUsersFile,
  validateUsersConfig,
} from './users';

export interface AccessEmulatorOptions extends LoginMethodOptions {
  /** Port to listen on; 0 picks a free one. Default 7000. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /**
   * Serve HTTPS (HTTP/1.1, WebSocket upgrades too) with this certificate and key (PEM strings or
   * Buffers), e.g. from {@link createTlsCertificates}. Default: plain HTTP.
   */
  tls?: TlsOptions;
  /**
   * The URL browsers use; its origin is the token issuer. Default `http://localhost:<port>`, or
   * `https://localhost:<port>` with `tls`.
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

export interface AccessEmulator {
  /** Public URL (origin) of the emulator, e.g. `http://localhost:7000` (`https://` with `tls`). */
  url: string;
  /** URL of the listening socket, e.g. `http://127.0.0.1:7000` (`https://` with `tls`). */
  listenUrl: string;
  port: number;
  /** The `iss` claim (the public origin). */
  issuer: string;
  certsUrl: string;
  loginUrl: string;
  audience: string[];
  users: EmulatorUser[];
  /** Upstream OpenID Connect providers offered on the login page. */
  identityProviders: IdentityProviderSummary[];
  /** The listening server: an `https.Server` with `tls`. */
  server: http.Server;
  close(): Promise<void>;
  rotateKeys(): Promise<{ kid: string; previousKid: string }>;
  setFaults(faults: Faults): void;
  clearFaults(): void;
  getFaults(): Faults;
  /** Counts of certs and get-identity requests since start (or the last reset). */
  stats(): EmulatorStats;
  resetStats(): void;
  /** Mints a person token as a login would (and records its identity). */
  mintUserToken(
    email: string,
    options?: { expiresInSeconds?: number },
  ): Promise<string>;
  /** Mints a service token application token for a Client ID. */
  mintServiceToken(clientId: string): Promise<string>;
  /** Verifies a token against the emulator's keys, issuer and audience. */
  verifyToken(token: string): Promise<AccessTokenPayload>;
}

function toAudience(value: string | string[] | undefined): string[] {
  const list = (Array.isArray(value) ? value : [value ?? DEFAULT_AUD])
    .flatMap(v => v.split(','))
    .map(v => v.trim())
    .filter(Boolean);
  if (list.length === 0) {
    throw new Error('At least one AUD tag is required');
  }
  return list;
}

function checkOriginUrl(name: string, value: string): string {
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

function describeCaller(decision: EdgeDecision | undefined): string {
  if (!decision) {
    return '-';
  }
  switch (decision.kind) {
    case 'user':
      return decision.payload.email ?? 'user';
    case 'service':
      return `service:${
        decision.serviceToken.name ?? decision.serviceToken.clientId
      }`;
    default:
      return decision.kind;
  }
}

/** Starts an emulator. Resolves once it is listening. */
export async function startAccessEmulator(
  options: AccessEmulatorOptions = {},
): Promise<AccessEmulator> {
  const fileConfig = options.usersFile
    ? await loadUsersFile(options.usersFile)
    : { users: [], serviceTokens: [] };
  const inline = validateUsersConfig(
    { users: options.users ?? [], serviceTokens: options.serviceTokens ?? [] },
    'options',
  );
  const merged = validateUsersConfig(
    {
      users: [...fileConfig.users, ...inline.users],
      serviceTokens: [...fileConfig.serviceTokens, ...inline.serviceTokens],
    },
    'users',
  );
  const loginMethods = await resolveLoginMethods(options);
  const audience = toAudience(options.audience);
  const sessionDurationSeconds = durationSeconds(
    options.sessionDuration ?? DEFAULT_SESSION_DURATION,
    'sessionDuration',
  );
  const frontendUrl = checkOriginUrl(
    'frontendUrl',
    options.frontendUrl ?? DEFAULT_FRONTEND_URL,
  );
  const backendUrls = (
    Array.isArray(options.backendUrl)
      ? options.backendUrl
      : [options.backendUrl ?? DEFAULT_BACKEND_URL]
  )
    .flatMap(v => v.split(','))
    .map(v => v.trim())
    .filter(Boolean)
    .map(v => checkOriginUrl('backendUrl', v));
  if (backendUrls.length === 0) {
    throw new Error('backendUrl: at least one backend origin is required');
  }
  const faults = new FaultState();
  if (options.faults) {
    faults.set(options.faults);
  }
  const keys = await KeyStore.open({ stateDir: options.stateDir });
  const log = options.log;

  const scheme = options.tls ? 'https' : 'http';
  const configuredOrigin =
    options.publicUrl === undefined
      ? undefined
      : checkOriginUrl('publicUrl', options.publicUrl);
  if (options.tls && configuredOrigin?.startsWith('http:')) {
    throw new Error(
      `publicUrl: must be an https URL when tls is set: ${options.publicUrl}`,
    );
  }
  const { server, close } = await listenClosable(
    options.port ?? DEFAULT_PORT,
    options.host ?? DEFAULT_HOST,
    options.tls,
  );
  const address = server.address() as AddressInfo;
  const port = address.port;
  const publicOrigin = configuredOrigin ?? `${scheme}://localhost:${port}`;
  const listenHost =
    address.address === '0.0.0.0' || address.address === '::'
      ? '127.0.0.1'
      : address.address;
  const listenUrl = `${scheme}://${
    listenHost.includes(':') ? `[${listenHost}]` : listenHost
  }:${port}`;

  const tokens = new TokenIssuer(keys, {
    issuer: publicOrigin,
    audience,
    sessionDurationSeconds,
  });
  const ctx: EmulatorContext = {
    keys,
    tokens,
    identities: new IdentityStore(),
    faults,
    stats: new RequestStats(),
    users: merged.users,
    serviceTokens: merged.serviceTokens,
    publicOrigin,
    secureCookies: publicOrigin.startsWith('https:'),
    accountId: options.accountId ?? DEFAULT_ACCOUNT_ID,
    country: (options.country ?? DEFAULT_COUNTRY).toUpperCase(),
    ...loginContext(loginMethods, publicOrigin, log),
  };
  const edgeOptions = { issuer: tokens, serviceTokens: ctx.serviceTokens };
  const headerOptions = {
    publicProtocol: new URL(publicOrigin).protocol,
    country: ctx.country,
  };
  const proxy = createOriginProxy({
    frontendUrl,
    backendUrl: backendUrls,
    backendPaths: options.backendPaths ?? DEFAULT_BACKEND_PATHS,
    changeOrigin: options.changeOrigin,
    onBackendDown: (url, code) => log?.(`backend ${url} marked down (${code})`),
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const callers = new WeakMap<http.IncomingMessage, EdgeDecision>();
  if (log) {
    app.use((req, res, next) => {
      const start = Date.now();
      res.once('finish', () => {
        const path = (req.originalUrl ?? req.url).split('?')[0];
        log(
          `${req.method} ${path} ${res.statusCode} ${
            Date.now() - start
          }ms ${describeCaller(callers.get(req))}`,
        );
      });
      next();
    });
  }
  app.use(createAccessRoutes(ctx));
  app.use(createOidcRoutes(ctx));
  app.use(createAdminRoutes(ctx));
  app.use('/cdn-cgi', (_req, res) => {
    res.status(404).type('text').send('Not found');
  });
  // The edge: everything else needs a session or a service token.
  app.use(async (req, res, next) => {
    let decision: EdgeDecision;
    try {
      decision = await authenticate(req, edgeOptions);
    } catch (error) {
      next(error);
      return;
    }
    callers.set(req, decision);
    if (decision.kind === 'forbidden') {
      res.status(403).type('text').send('Forbidden: invalid service token');
      return;
    }
    if (decision.kind === 'unauthenticated') {
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(302, loginRedirectLocation(req.originalUrl));
      return;
    }
    applyOriginHeaders(req, decision, headerOptions);
    next();
  });
  app.use(proxy);
  app.use(
    (
      err: Error,
      _req: express.Request,
      res: express.Response,
      _next: express.NextFunction,
    ) => {
      if (log) {
        log(`error: ${err.message}`);
      }
      if (!res.headersSent) {
        res.status(500).type('text').send('Internal emulator error');
      } else {
        res.end();
      }
    },
  );
  server.on('request', app);

  server.on(
    'upgrade',
    async (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
      const reject = (status: string, extra = '') => {
        socket.end(
          `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n${extra}\r\n`,
        );
        if (log) {
          log(
            `UPGRADE ${(req.url ?? '').split('?')[0]} ${status.split(' ')[0]}`,
          );
        }
      };
      socket.on('error', () => socket.destroy());
      try {
        if ((req.url ?? '').startsWith('/cdn-cgi/')) {
          reject('404 Not Found');
          return;
        }
        const decision = await authenticate(req, edgeOptions);
        if (decision.kind === 'forbidden') {
          reject('403 Forbidden');
          return;
        }
        if (decision.kind === 'unauthenticated') {
          reject(
            '302 Found',
            `Location: ${loginRedirectLocation(req.url ?? '/')}\r\n`,
          );
          return;
        }
        applyOriginHeaders(req, decision, headerOptions);
        if (log) {
          log(
            `UPGRADE ${(req.url ?? '').split('?')[0]} ${describeCaller(
              decision,
            )}`,
          );
        }
        proxy.upgrade(req, socket, head);
      } catch {
        socket.destroy();
      }
    },
  );

  return {
    url: publicOrigin,
    listenUrl,
    port,
    issuer: publicOrigin,
    certsUrl: `${publicOrigin}/cdn-cgi/access/certs`,
    loginUrl: `${publicOrigin}/cdn-cgi/access/login`,
    audience,
    users: ctx.users,
    identityProviders: summarizeProviders(loginMethods, publicOrigin),
    server,
    close,
    rotateKeys: () => keys.rotate(),
    setFaults: f => faults.set(f),
    clearFaults: () => faults.clear(),
    getFaults: () => faults.get(),
    stats: () => ctx.stats.get(),
    resetStats: () => ctx.stats.reset(),
    async mintUserToken(email, mintOptions = {}) {
      const { token } = await signInUser(ctx, email, {
        ip: '127.0.0.1',
        expiresInSeconds: mintOptions.expiresInSeconds,
      });
      return token;
    },
    async mintServiceToken(clientId) {
      return (await tokens.mintServiceToken(clientId)).token;
    },
    verifyToken: token => tokens.verify(token),
  };
}
