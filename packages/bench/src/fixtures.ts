/*
 * Shared fixtures: one signing key, token minting with jose, the Access double (msw answering the fixed
 * https://<team>.cloudflareaccess.com URLs with a configurable latency and request counters), a
 * Backstage CacheService, request objects and the three contenders.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import {
  CacheService,
  CacheServiceSetOptions,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { CacheManager } from '@backstage/backend-defaults/cache';
import { ConfigReader } from '@backstage/config';
import { JsonValue } from '@backstage/types';
import { createCloudflareAccessAuthenticator as createOurs } from '@cfaccess/plugin-auth-backend-module-cfaccess-provider';
// The upstream module is a devDependency on purpose: only the bench compares against it.
// eslint-disable-next-line @backstage/no-undeclared-imports
import { createCloudflareAccessAuthenticator as createUpstream } from '@backstage/plugin-auth-backend-module-cloudflare-access-provider';
import {
  createLocalJWKSet,
  decodeJwt,
  exportJWK,
  generateKeyPair,
  JWK,
  jwtVerify,
  SignJWT,
} from 'jose';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { loadUpstreamOnOurJose } from './upstreamOnOurJose';

export const TEAM = 'bench-team';
export const ISSUER = `https://${TEAM}.cloudflareaccess.com`;
export const CERTS_URL = `${ISSUER}/cdn-cgi/access/certs`;
export const IDENTITY_URL = `${ISSUER}/cdn-cgi/access/get-identity`;
export const AUD = 'bench-aud-tag';
export const KID = 'bench-key';
export const HEADER = 'cf-access-jwt-assertion';

export type BenchKey = {
  privateKey: CryptoKey;
  publicJwk: JWK;
  jwks: { keys: JWK[] };
};

export async function createBenchKey(): Promise<BenchKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', {
    extractable: true,
  });
  const publicJwk = {
    ...(await exportJWK(publicKey)),
    kid: KID,
    alg: 'RS256',
    use: 'sig',
  };
  return { privateKey, publicJwk, jwks: { keys: [publicJwk] } };
}

/** The email of session i; sessions map onto `users` distinct people when given. */
export function emailOf(i: number, users?: number): string {
  return `user${users ? i % users : i}@example.com`;
}

/** One Access application token per session: its own sub and identity_nonce. */
export function mintToken(
  key: BenchKey,
  i: number,
  options: { users?: number; prefix?: string } = {},
): Promise<string> {
  const person = options.users ? i % options.users : i;
  return new SignJWT({
    email: emailOf(i, options.users),
    type: 'app',
    identity_nonce: `${options.prefix ?? 'nonce'}-${i}`,
    country: 'SE',
  })
    .setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience([AUD])
    .setSubject(`sub-${person}`)
    .setIssuedAt()
    .setNotBefore('0s')
    .setExpirationTime('2h')
    .sign(key.privateKey);
}

/** Mints `count` tokens, `batch` at a time (RSA signing runs on libuv's thread pool). */
export async function mintTokens(
  key: BenchKey,
  count: number,
  options: { users?: number; prefix?: string; from?: number } = {},
): Promise<string[]> {
  const from = options.from ?? 0;
  const tokens: string[] = new Array(count);
  const batch = 512;
  for (let start = 0; start < count; start += batch) {
    const end = Math.min(count, start + batch);
    const minted = await Promise.all(
      Array.from({ length: end - start }, (_, j) =>
        mintToken(key, from + start + j, options),
      ),
    );
    for (let j = 0; j < minted.length; j++) {
      // A flat copy: jose builds the token by concatenation (a rope), which V8 flattens, and so
      // shrinks, on first use; heap measurements would count that as negative growth.
      tokens[start + j] = Buffer.from(minted[j], 'latin1').toString('latin1');
    }
  }
  return tokens;
}

/**
 * A distinct, well-formed token with a wrong signature (the expensive kind to reject: it passes every
 * cheap check and fails only at the RSA verification). Characters before the last one are replaced, so
 * the signature stays canonical base64url (the last character carries unused bits, and a token spelled
 * differently there is refused before the RSA check).
 */
export function forgeToken(valid: string, i: number): string {
  const [header, payload, signature] = valid.split('.');
  const tail = i.toString(36).padStart(8, 'A');
  return `${header}.${payload}.${signature.slice(
    0,
    -9,
  )}${tail}${signature.slice(-1)}`;
}

export type AccessRequest = {
  kind: 'certs' | 'identity';
  start: number;
  end: number;
};

export type AccessDouble = {
  /** Simulated Access answer time in ms (both endpoints). */
  latencyMs: number;
  counts: { certs: number; identity: number };
  /** Requests with start and end (performance.now()), while `recording`. */
  log: AccessRequest[];
  recording: boolean;
  reset(): void;
  close(): void;
};

let double: AccessDouble | undefined;

/**
 * The Access double, one per process (msw patches the process's HTTP clients once): answers
 * `https://<team>.cloudflareaccess.com/cdn-cgi/access/certs` and `/get-identity` after `latencyMs`.
 * Everything else (e.g. the backend calling itself) passes through.
 */
export function startAccessDouble(jwks: { keys: JWK[] }): AccessDouble {
  if (double) {
    return double;
  }
  const state: AccessDouble = {
    latencyMs: 0,
    counts: { certs: 0, identity: 0 },
    log: [],
    recording: false,
    reset() {
      state.counts.certs = 0;
      state.counts.identity = 0;
      state.log = [];
    },
    close() {},
  };
  async function answer(kind: AccessRequest['kind'], body: () => unknown) {
    const start = performance.now();
    state.counts[kind]++;
    if (state.latencyMs > 0) {
      await sleep(state.latencyMs);
    }
    const response = HttpResponse.json(body() as any);
    if (state.recording) {
      state.log.push({ kind, start, end: performance.now() });
    }
    return response;
  }
  const server = setupServer(
    http.get(CERTS_URL, () => answer('certs', () => jwks)),
    http.get(IDENTITY_URL, ({ request }) =>
      answer('identity', () => {
        const token = /CF_Authorization=([^;]+)/.exec(
          request.headers.get('cookie') ?? '',
        )?.[1];
        const claims = token ? decodeJwt(token) : {};
        return {
          id: claims.sub,
          name: `Bench ${claims.email}`,
          email: claims.email,
          groups: [{ id: 'g1', name: 'bench-team-a', email: '' }],
          idp: { id: 'idp', type: 'oidc' },
        };
      }),
    ),
  );
  server.listen({ onUnhandledRequest: 'bypass' });
  state.close = () => {
    server.close();
    double = undefined;
  };
  double = state;
  return state;
}

/**
 * The longest chain of Access requests that ran one after another (each starting after the previous
 * one ended): the number of sequential round trips the caller waited for.
 */
export function sequentialRoundTrips(log: AccessRequest[]): number {
  let chain = 0;
  let lastEnd = -Infinity;
  for (const r of [...log].sort((a, b) => a.end - b.end)) {
    if (r.start >= lastEnd) {
      chain++;
      lastEnd = r.end;
    }
  }
  return chain;
}

/** A CacheService wrapper counting what is written to it. */
export type CountingCache = CacheService & {
  stats: { sets: number };
  /** Keys written, when created with `recordKeys` (the memory benchmark deletes them again). */
  keys?: Set<string>;
};

/**
 * What a Backstage plugin gets from `coreServices.cache` in a backend with no cache config: the
 * backend-defaults CacheManager's in-memory (Keyv + Map) store, no default TTL.
 */
export function createBackstageCache(
  options: { recordKeys?: boolean } = {},
): CountingCache {
  const inner = CacheManager.fromConfig(new ConfigReader({})).forPlugin('auth');
  const stats = { sets: 0 };
  const keys = options.recordKeys ? new Set<string>() : undefined;
  const wrap = (c: CacheService): CountingCache => ({
    stats,
    keys,
    get: <T extends JsonValue>(key: string) => c.get<T>(key),
    async set(
      key: string,
      value: JsonValue,
      setOptions?: CacheServiceSetOptions,
    ) {
      stats.sets++;
      keys?.add(key);
      return c.set(key, value, setOptions);
    },
    delete: (key: string) => c.delete(key),
    withOptions: clientOptions => wrap(c.withOptions(clientOptions)),
  });
  return wrap(inner);
}

/** A logger that drops everything (the module logs rate-limited warnings through it). */
export const silentLogger: LoggerService = {
  error() {},
  warn() {},
  info() {},
  debug() {},
  child() {
    return silentLogger;
  },
};

/**
 * What reaches `authenticate({ req })` from Express: `headers` (ours), `header()` and `cookies`
 * (upstream's helper reads these).
 */
export function makeRequest(token: string): any {
  const headers: Record<string, string> = { [HEADER]: token };
  return {
    headers,
    cookies: {},
    header(name: string) {
      return headers[name.toLowerCase()];
    },
    get(name: string) {
      return headers[name.toLowerCase()];
    },
  };
}

export type ContenderName = 'cfaccess' | 'upstream';
export const CONTENDERS: ContenderName[] = ['cfaccess', 'upstream'];
/** Also upstream's module on the project's jose major (the first-verification benchmark's third). */
export type AnyContenderName = ContenderName | 'upstreamOnOurJose';

export type Contender = {
  name: AnyContenderName;
  cache: CountingCache;
  authenticate(req: unknown): Promise<unknown>;
  /** Runs the shutdown hooks the authenticator registered (ours: stops the background key refresh). */
  dispose(): Promise<void>;
};

/**
 * A freshly initialised authenticator, as each module builds it: ours with the module's options
 * (logger, `prefetchKeys: true`, lifecycle) and config defaults (verified-token cache of 10,000, identity
 * cache 300 s), upstream's with `{ cache }`; same team, same AUD, each with its own Backstage cache.
 */
export async function createContender(
  name: AnyContenderName,
  options: { recordKeys?: boolean } = {},
): Promise<Contender> {
  const cache = createBackstageCache(options);
  const config = new ConfigReader({ teamName: TEAM, audience: AUD });
  if (name === 'cfaccess') {
    const hooks: Array<() => void | Promise<void>> = [];
    const authenticator = createOurs({
      cache,
      logger: silentLogger,
      prefetchKeys: true,
      lifecycle: { addShutdownHook: hook => hooks.push(hook) },
    });
    const ctx = await authenticator.initialize({ config });
    return {
      name,
      cache,
      authenticate: req => authenticator.authenticate({ req: req as any }, ctx),
      async dispose() {
        for (const hook of hooks.splice(0)) {
          await hook();
        }
      },
    };
  }
  const create =
    name === 'upstreamOnOurJose' ? loadUpstreamOnOurJose() : createUpstream;
  const authenticator = create({ cache });
  const ctx = await authenticator.initialize({ config });
  return {
    name,
    cache,
    authenticate: req => authenticator.authenticate({ req: req as any }, ctx),
    async dispose() {},
  };
}

/** The signature-check floor: bare jose.jwtVerify with the key already in hand. */
export function createFloor(
  key: BenchKey,
): (token: string) => Promise<unknown> {
  const localJwks = createLocalJWKSet(key.jwks);
  return token =>
    jwtVerify(token, localJwks, {
      issuer: ISSUER,
      audience: AUD,
      algorithms: ['RS256'],
    });
}
