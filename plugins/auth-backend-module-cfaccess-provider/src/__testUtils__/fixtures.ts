import {
  CompactSign,
  exportJWK,
  generateKeyPair,
  JWK,
  JWTPayload,
  SignJWT,
} from 'jose';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { ConfigReader } from '@backstage/config';
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { CfAccessMetrics } from '../lib/metrics';
import { SetTimer } from '../keys/keyRefresher';
import { readCfAccessConfig } from '../config/readConfig';

export const TEAM_DOMAIN = 'https://testteam.cloudflareaccess.com';
export const CERTS_URL = `${TEAM_DOMAIN}/cdn-cgi/access/certs`;
export const IDENTITY_URL = `${TEAM_DOMAIN}/cdn-cgi/access/get-identity`;
export const AUD = 'aud-tag-0123456789abcdef';
export const OTHER_AUD = 'aud-tag-other';
export const SERVICE_CLIENT_ID = '1uh2fh19efvfh129f1f919u21f2f19jf2.access';

/** A fixed start time; tests move it forward instead of sleeping. */
export const T0 = Date.parse('2026-06-01T12:00:00Z');

export class TestClock {
  ms = T0;
  now = () => this.ms;
  advance(seconds: number) {
    this.ms += seconds * 1000;
  }
  get seconds() {
    return Math.floor(this.ms / 1000);
  }
}

export type TestKey = {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
};

export async function createTestKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', {
    extractable: true,
  });
  const publicJwk = {
    ...(await exportJWK(publicKey)),
    kid,
    alg: 'RS256',
    use: 'sig',
  };
  return { kid, privateKey, publicKey, publicJwk };
}

export function userClaims(clock: TestClock, overrides: JWTPayload = {}) {
  return {
    aud: [AUD],
    email: 'jane@example.com',
    exp: clock.seconds + 3600,
    iat: clock.seconds,
    nbf: clock.seconds,
    iss: TEAM_DOMAIN,
    type: 'app',
    identity_nonce: 'nonce-1',
    sub: '7335d417-61da-459d-899c-0a01c76a2f94',
    country: 'NL',
    ...overrides,
  };
}

export function serviceClaims(clock: TestClock, overrides: JWTPayload = {}) {
  return {
    aud: [AUD],
    exp: clock.seconds + 3600,
    iat: clock.seconds,
    nbf: clock.seconds,
    iss: TEAM_DOMAIN,
    type: 'app',
    sub: '',
    common_name: SERVICE_CLIENT_ID,
    ...overrides,
  };
}

export async function mintToken(
  key: TestKey,
  claims: JWTPayload,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({
      alg: 'RS256',
      kid: key.kid,
      typ: 'JWT',
      ...header,
    } as any)
    .sign(key.privateKey);
}

/** Signs a payload given as JSON text, for claims JSON.stringify cannot write (100,000 levels deep). */
export async function mintTokenFromJson(
  key: TestKey,
  payloadJson: string,
): Promise<string> {
  return new CompactSign(new TextEncoder().encode(payloadJson))
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .sign(key.privateKey);
}

/** `[[[…]]]`, `depth` arrays deep, as JSON text. */
export function nestedJson(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** msw server whose certs and get-identity answers tests can change and count. */
export function createAccessServer() {
  const state = {
    jwks: [] as JWK[],
    certsStatus: 200,
    certsRequests: 0,
    identityRequests: 0,
    identityCookies: [] as (string | null)[],
    identity: (): Record<string, unknown> | undefined => ({
      id: 'idp-user-1',
      name: 'Jane Doe',
      email: 'jane@example.com',
      groups: [
        { id: 'g1', name: 'Platform Team', email: 'platform@example.com' },
        'SRE',
      ],
      idp: { id: 'idp1', type: 'oidc' },
    }),
    identityStatus: 200,
    /** When set, the get-identity body as it is: JSON that JSON.stringify cannot write. */
    identityBody: undefined as string | undefined,
  };
  const server = setupServer(
    http.get(CERTS_URL, () => {
      state.certsRequests += 1;
      if (state.certsStatus !== 200) {
        return new HttpResponse('unavailable', { status: state.certsStatus });
      }
      return HttpResponse.json({ keys: state.jwks });
    }),
    http.get(IDENTITY_URL, ({ request }) => {
      state.identityRequests += 1;
      state.identityCookies.push(request.headers.get('cookie'));
      if (state.identityStatus !== 200) {
        return new HttpResponse('err', { status: state.identityStatus });
      }
      if (state.identityBody !== undefined) {
        return new HttpResponse(state.identityBody, {
          headers: { 'content-type': 'application/json' },
        });
      }
      return HttpResponse.json(state.identity() ?? {});
    }),
  );
  return { server, state };
}

/**
 * The msw Access double with two signing keys, registered as jest hooks: certs serves only kid-a and every
 * test starts at T0 with fresh counters. Read the fields inside tests or hooks, not at declaration.
 */
export function useAccessServerWithTwoKeys() {
  const { server, state } = createAccessServer();
  const access = { server, state } as {
    server: typeof server;
    state: typeof state;
    keyA: TestKey;
    keyB: TestKey;
    clock: TestClock;
  };
  beforeAll(async () => {
    server.listen({ onUnhandledRequest: 'error' });
    access.keyA = await createTestKey('kid-a');
    access.keyB = await createTestKey('kid-b');
  });
  afterAll(() => server.close());
  afterEach(() => server.resetHandlers());
  beforeEach(() => {
    access.clock = new TestClock();
    state.jwks = [access.keyA.publicJwk];
    state.certsStatus = 200;
    state.certsRequests = 0;
  });
  return access;
}

/**
 * msw's `onUnhandledRequest` for tests that also call a local test backend with supertest: loopback
 * requests pass through, anything else unmocked is an error.
 */
export function errorUnlessLoopback(
  req: Request,
  print: { error(): void },
): void {
  const { hostname } = new URL(req.url);
  if (hostname !== '127.0.0.1' && hostname !== 'localhost') {
    print.error();
  }
}

export function mockMetrics(): jest.Mocked<Required<CfAccessMetrics>> {
  return {
    authentication: jest.fn(),
    jwksFetch: jest.fn(),
    identityFetch: jest.fn(),
    identityCache: jest.fn(),
    verifiedTokenCache: jest.fn(),
  };
}

export function testConfig(extra: Record<string, unknown> = {}) {
  return readCfAccessConfig(
    new ConfigReader({ teamName: 'testteam', audience: AUD, ...extra }),
  );
}

/** An in-memory CacheService that records what was set and with which TTL. */
export function memoryCache() {
  const store = new Map<string, unknown>();
  const sets: { key: string; ttl: unknown }[] = [];
  const cache = {
    get: jest.fn(async (key: string) => store.get(key) as any),
    set: jest.fn(async (key: string, value: unknown, options?: any) => {
      store.set(key, value);
      sets.push({ key, ttl: options?.ttl });
    }),
    delete: jest.fn(async (key: string) => {
      store.delete(key);
    }),
    withOptions: jest.fn(),
  };
  return { cache: cache as any, store, sets };
}

/** Timers a test fires by hand (after moving its fake clock) instead of waiting. */
export function manualTimers(now: () => number) {
  const scheduled: {
    callback: () => Promise<void> | void;
    delayMs: number;
    dueAt: number;
    cancelled: boolean;
  }[] = [];
  const setTimer: SetTimer = (callback, delayMs) => {
    const timer = {
      callback,
      delayMs,
      dueAt: now() + delayMs,
      cancelled: false,
    };
    scheduled.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  };
  const pending = () => scheduled.filter(t => !t.cancelled);
  return { scheduled, setTimer, pending };
}

/**
 * Closes each named plugin's database on backend shutdown. Backstage's
 * DatabaseManager deliberately leaves SQLite connections open at shutdown,
 * so every startTestBackend left a knex pool whose reaper interval kept the
 * jest worker alive ("A worker process has failed to exit gracefully").
 */
export const closeDatabasesOnShutdown = (pluginIds: string[]) =>
  pluginIds.map(pluginId =>
    createBackendModule({
      pluginId,
      moduleId: 'test-close-database',
      register(reg) {
        reg.registerInit({
          deps: {
            database: coreServices.database,
            rootLifecycle: coreServices.rootLifecycle,
          },
          async init({ database, rootLifecycle }) {
            rootLifecycle.addShutdownHook(async () => {
              await (await database.getClient()).destroy();
            });
          },
        });
      },
    }),
  );

/** closeDatabasesOnShutdown for the auth plugin alone. */
export const [closeAuthDatabaseOnShutdown] = closeDatabasesOnShutdown(['auth']);

/**
 * A fetch that answers with a body streamed in chunks, recording whether the
 * reader cancelled it (a body left unread holds its connection) and how much
 * of it was pulled. `chunks` bodies of `chunkBytes` each, or endless.
 */
export function streamingFetch(options: {
  status?: number;
  headers?: Record<string, string>;
  chunkBytes?: number;
  chunks?: number;
  body?: string;
}) {
  const stats = { cancelled: false, pulledBytes: 0, requests: 0 };
  const fetchImpl = (async () => {
    stats.requests += 1;
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (options.body !== undefined) {
          controller.enqueue(new TextEncoder().encode(options.body));
          controller.close();
          return;
        }
        if (options.chunks !== undefined && sent >= options.chunks) {
          controller.close();
          return;
        }
        const chunk = new Uint8Array(options.chunkBytes ?? 16384).fill(32);
        sent += 1;
        stats.pulledBytes += chunk.byteLength;
        controller.enqueue(chunk);
      },
      cancel() {
        stats.cancelled = true;
      },
    });
    return new Response(stream, {
      status: options.status ?? 200,
      headers: options.headers,
    });
  }) as unknown as typeof fetch;
  return { fetch: fetchImpl, stats };
}

/** Entries held: private state, read here rather than exposed for tests. */
export const entriesIn = (cache: object): number =>
  (cache as { lru?: { size: number } }).lru?.size ?? 0;
