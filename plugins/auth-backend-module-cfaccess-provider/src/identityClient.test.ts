import { http, HttpResponse, delay } from 'msw';
import { IdentityClient } from './identityClient';
import { RateLimitedLogger } from './rateLimitedLogger';
import {
  createAccessServer,
  IDENTITY_URL,
  memoryCache,
  mockMetrics,
  TestClock,
} from './__testUtils__/fixtures';

const { server, state } = createAccessServer();
const defaultIdentity = state.identity;

describe('IdentityClient', () => {
  let clock: TestClock;
  let warn: jest.Mock;
  let metrics: ReturnType<typeof mockMetrics>;

  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterAll(() => server.close());
  beforeEach(() => {
    clock = new TestClock();
    state.identityRequests = 0;
    state.identityCookies = [];
    state.identityStatus = 200;
    state.identity = defaultIdentity;
    warn = jest.fn();
    metrics = mockMetrics();
  });
  afterEach(() => server.resetHandlers());

  function create(
    cache = memoryCache().cache,
    timeoutMs = 3000,
    maxInflight?: number,
  ) {
    return new IdentityClient({
      identityUrl: IDENTITY_URL,
      cache,
      timeoutMs,
      maxInflight,
      cacheTtlMs: 300_000,
      logger: new RateLimitedLogger({ warn } as any, 60_000, clock.now),
      metrics,
      now: clock.now,
    });
  }

  const request = (overrides = {}) => ({
    token: 'header.payload.signature',
    sub: 'user-1',
    email: 'jane@example.com',
    identityNonce: 'nonce-1',
    exp: clock.seconds + 3600,
    ...overrides,
  });

  it('fetches the identity with the token as CF_Authorization cookie and normalises groups', async () => {
    const identity = await create().getIdentity(request());
    expect(state.identityCookies).toEqual([
      'CF_Authorization=header.payload.signature',
    ]);
    expect(identity).toEqual({
      id: 'idp-user-1',
      name: 'Jane Doe',
      email: 'jane@example.com',
      groups: [
        { id: 'g1', name: 'Platform Team', email: 'platform@example.com' },
        { id: 'SRE', name: 'SRE', email: '' },
      ],
      idp: { id: 'idp1', type: 'oidc' },
    });
    expect(metrics.identityFetch).toHaveBeenCalledWith('success');
  });

  it('caches by a hash of sub and identity_nonce, never the token', async () => {
    const { cache, store, sets } = memoryCache();
    const client = create(cache);
    await client.getIdentity(request());
    await client.getIdentity(request({ token: 'other.token.value' }));
    expect(state.identityRequests).toBe(1);
    expect(metrics.identityCache).toHaveBeenCalledWith('hit');
    const [key] = [...store.keys()];
    expect(key).toBe(IdentityClient.cacheKey('user-1', 'nonce-1'));
    expect(key).toMatch(/^cfaccess:identity:v1:[0-9a-f]{64}$/);
    expect(key).not.toContain('header');
    expect(JSON.stringify([...store.values()])).not.toContain(
      'header.payload.signature',
    );
    expect(sets[0].ttl).toBe(300_000);
  });

  it('fetches again for a new identity_nonce', async () => {
    const client = create();
    await client.getIdentity(request());
    await client.getIdentity(request({ identityNonce: 'nonce-2' }));
    expect(state.identityRequests).toBe(2);
  });

  it('caps the cache TTL at the token lifetime and skips caching expired ones', async () => {
    const { cache, sets } = memoryCache();
    const client = create(cache);
    await client.getIdentity(request({ exp: clock.seconds + 60 }));
    expect(sets[0].ttl).toBe(60_000);
    await client.getIdentity(
      request({ identityNonce: 'n3', exp: clock.seconds }),
    );
    expect(sets).toHaveLength(1);
  });

  it('makes one request for concurrent misses of the same key', async () => {
    const client = create();
    await Promise.all(
      Array.from({ length: 10 }, () => client.getIdentity(request())),
    );
    expect(state.identityRequests).toBe(1);
  });

  it('keeps only lookups in flight, never more than maxInflight', async () => {
    let release!: () => void;
    const gate = new Promise<void>(resolve => (release = resolve));
    server.use(
      http.get(IDENTITY_URL, async () => {
        state.identityRequests += 1;
        await gate;
        return HttpResponse.json(defaultIdentity());
      }),
    );
    const client = create(undefined, 3000, 2);
    const inflight = (client as any).inflight as Map<string, unknown>;
    const pending = Array.from({ length: 5 }, (_, i) =>
      client.getIdentity(request({ identityNonce: `n-${i}` })),
    );
    // A repeat of a shared lookup still joins it.
    pending.push(client.getIdentity(request({ identityNonce: 'n-0' })));
    await new Promise(resolve => setImmediate(resolve));
    expect(inflight.size).toBe(2);
    release();
    const results = await Promise.all(pending);
    expect(results.every(r => r?.email === 'jane@example.com')).toBe(true);
    expect(state.identityRequests).toBe(5);
    expect(inflight.size).toBe(0);
  });

  it('returns undefined on failure, warns, and does not cache the failure', async () => {
    state.identityStatus = 500;
    const { cache, store } = memoryCache();
    const client = create(cache);
    await expect(client.getIdentity(request())).resolves.toBeUndefined();
    expect(store.size).toBe(0);
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/get-identity failed.*HTTP 500/),
      undefined,
    );
    state.identityStatus = 200;
    await expect(client.getIdentity(request())).resolves.toBeDefined();
  });

  it('does not follow the redirect Access sends for a gone session', async () => {
    server.use(
      http.get(
        IDENTITY_URL,
        () =>
          new HttpResponse(null, {
            status: 302,
            headers: {
              location: 'https://testteam.cloudflareaccess.com/login',
            },
          }),
      ),
    );
    await expect(create().getIdentity(request())).resolves.toBeUndefined();
  });

  it('times out', async () => {
    server.use(
      http.get(IDENTITY_URL, async () => {
        await delay('infinite');
        return HttpResponse.json({});
      }),
    );
    await expect(
      create(undefined, 100).getIdentity(request()),
    ).resolves.toBeUndefined();
    expect(metrics.identityFetch).toHaveBeenCalledWith('timeout');
  });

  it('rejects an identity for another email', async () => {
    state.identity = () => ({ id: 'x', name: 'X', email: 'x@example.com' });
    await expect(create().getIdentity(request())).resolves.toBeUndefined();
  });

  it('treats cache errors as misses', async () => {
    const { cache } = memoryCache();
    cache.get.mockRejectedValue(new Error('redis down'));
    cache.set.mockRejectedValue(new Error('redis down'));
    await expect(create(cache).getIdentity(request())).resolves.toBeDefined();
  });
});
