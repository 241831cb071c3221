import { http, HttpResponse, delay } from 'msw';
import {
  IdentityClient,
  MEMO_MAX_BYTES,
  parseCachedIdentity,
} from './identityClient';
import { RateLimitedLogger } from '../lib/rateLimitedLogger';
import { sha256 } from '../lib/sha256';
import {
  createAccessServer,
  IDENTITY_URL,
  memoryCache,
  mockMetrics,
  streamingFetch,
  TEAM_DOMAIN,
  TestClock,
} from '../__testUtils__/fixtures';

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
    memo: {
      memoMaxEntries?: number;
      memoMaxBytes?: number;
      cacheTtlMs?: number;
      maxBodyBytes?: number;
      fetch?: typeof fetch;
    } = {},
  ) {
    return new IdentityClient({
      issuer: TEAM_DOMAIN,
      identityUrl: IDENTITY_URL,
      maxBodyBytes: memo.maxBodyBytes ?? 1_048_576,
      fetch: memo.fetch,
      cache,
      timeoutMs,
      maxInflight,
      cacheTtlMs: memo.cacheTtlMs ?? 300_000,
      memoMaxEntries: memo.memoMaxEntries,
      memoMaxBytes: memo.memoMaxBytes,
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

  /** A cache holding Jane's identity for request(), as another replica wrote it. */
  function cacheHolding(fields: Record<string, unknown>) {
    const { cache, store } = memoryCache();
    const key = IdentityClient.cacheKey(TEAM_DOMAIN, 'user-1', 'nonce-1');
    store.set(
      key,
      JSON.stringify({
        id: 'user-1',
        name: 'Jane',
        email: 'jane@example.com',
        groups: [],
        ...fields,
      }),
    );
    return { cache, store, key };
  }

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
        // A plain string is a name: it has no id.
        { id: '', name: 'SRE', email: '' },
      ],
      idp: { id: 'idp1', type: 'oidc' },
      // No device facts in the answer: no WARP, no Gateway, no posture.
      device: { warp: false, gateway: false, posture: [] },
      fetchedAt: clock.now(),
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
    expect(key).toBe(IdentityClient.cacheKey(TEAM_DOMAIN, 'user-1', 'nonce-1'));
    expect(key).toMatch(/^cfaccess:identity:v4:[0-9a-f]{64}$/);
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

  describe('device facts and a maximum age', () => {
    it('reads WARP, Gateway, the device id and posture results', async () => {
      state.identity = () => ({
        email: 'jane@example.com',
        is_warp: true,
        is_gateway: false,
        device_id: 'laptop-1',
        devicePosture: {
          'disk-id': {
            id: 'disk-id',
            rule_name: 'Disk encryption',
            type: 'disk_encryption',
            success: true,
            timestamp: '2026-06-01T11:55:00.000Z',
          },
        },
      });
      const identity = await create().getIdentity(request());
      expect(identity?.device).toEqual({
        id: 'laptop-1',
        warp: true,
        gateway: false,
        posture: [
          {
            ruleId: 'disk-id',
            name: 'Disk encryption',
            type: 'disk_encryption',
            success: true,
            checkedAt: Date.parse('2026-06-01T11:55:00.000Z'),
          },
        ],
      });
      expect(Object.isFrozen(identity?.device?.posture[0])).toBe(true);
    });

    it('serves the memoised identity while it is young enough, and fetches again once it is older', async () => {
      const client = create(memoryCache().cache, 3000, undefined, {
        memoMaxEntries: 10,
      });
      const first = await client.getIdentity(request(), { maxAgeMs: 60_000 });
      clock.advance(59);
      await client.getIdentity(request(), { maxAgeMs: 60_000 });
      expect(state.identityRequests).toBe(1);
      clock.advance(2);
      const again = await client.getIdentity(request(), { maxAgeMs: 60_000 });
      expect(state.identityRequests).toBe(2);
      expect(again?.fetchedAt).toBe(first!.fetchedAt! + 61_000);
      // The fresher answer replaced the older one for every caller.
      await expect(client.getIdentity(request())).resolves.toBe(again);
      expect(state.identityRequests).toBe(2);
    });

    it('fetches once for concurrent callers that find the identity too old', async () => {
      const client = create(memoryCache().cache, 3000, undefined, {
        memoMaxEntries: 10,
      });
      await client.getIdentity(request());
      clock.advance(120);
      const answers = await Promise.all(
        Array.from({ length: 5 }, () =>
          client.getIdentity(request(), { maxAgeMs: 60_000 }),
        ),
      );
      expect(state.identityRequests).toBe(2);
      expect(new Set(answers).size).toBe(1);
    });

    it('answers undefined, never the older identity, when the fresh fetch fails', async () => {
      const client = create(memoryCache().cache, 3000, undefined, {
        memoMaxEntries: 10,
      });
      await client.getIdentity(request());
      clock.advance(120);
      state.identityStatus = 500;
      await expect(
        client.getIdentity(request(), { maxAgeMs: 60_000 }),
      ).resolves.toBeUndefined();
      // Without a maximum age the cached identity still serves sign-in.
      await expect(client.getIdentity(request())).resolves.toMatchObject({
        email: 'jane@example.com',
      });
    });

    it('does not believe a fetch time ahead of this clock (another replica, another writer)', async () => {
      const { cache } = cacheHolding({
        fetchedAt: clock.now() + 30 * 60_000,
      });
      const client = create(cache);
      const identity = await client.getIdentity(request(), {
        maxAgeMs: 60_000,
      });
      expect(state.identityRequests).toBe(1);
      expect(identity?.fetchedAt).toBe(clock.now());
    });

    it('holds an identity read from the cache no longer than the cache entry lives', async () => {
      // Another replica fetched it 250 s ago; the cache keeps entries 300 s.
      const { cache, store, key } = cacheHolding({
        name: 'From the cache',
        fetchedAt: clock.now() - 250_000,
      });
      const client = create(cache, 3000, undefined, {
        memoMaxEntries: 10,
        cacheTtlMs: 300_000,
      });
      await expect(client.getIdentity(request())).resolves.toMatchObject({
        name: 'From the cache',
      });
      store.delete(key);
      clock.advance(60);
      // 310 s after the fetch: not served from the memo any more.
      await expect(client.getIdentity(request())).resolves.toMatchObject({
        name: 'Jane Doe',
      });
      expect(state.identityRequests).toBe(1);
    });

    it('fetches again when a cached identity has no fetch time', async () => {
      const { cache } = cacheHolding({});
      const client = create(cache);
      await expect(client.getIdentity(request())).resolves.toMatchObject({
        name: 'Jane',
      });
      expect(state.identityRequests).toBe(0);
      const fresh = await client.getIdentity(request(), { maxAgeMs: 60_000 });
      expect(state.identityRequests).toBe(1);
      expect(fresh?.fetchedAt).toBe(clock.now());
    });
  });

  describe('answer bodies', () => {
    it('answers an oversized identity like a failed one, without reading it all', async () => {
      const endless = streamingFetch({});
      const client = create(undefined, 3000, undefined, {
        maxBodyBytes: 65536,
        fetch: endless.fetch,
      });
      await expect(client.getIdentity(request())).resolves.toBeUndefined();
      expect(endless.stats.cancelled).toBe(true);
      expect(endless.stats.pulledBytes).toBeLessThan(200_000);
      expect(metrics.identityFetch).toHaveBeenCalledWith('error');
      expect(warn).toHaveBeenCalledWith(
        expect.stringMatching(/larger than 65536 bytes/),
        undefined,
      );
    });

    it.each([[401], [403], [302], [500]])(
      'cancels the unread body of an HTTP %i answer',
      async status => {
        const answer = streamingFetch({ status, chunks: 1000 });
        const client = create(undefined, 3000, undefined, {
          fetch: answer.fetch,
        });
        await expect(client.getIdentity(request())).resolves.toBeUndefined();
        expect(answer.stats.cancelled).toBe(true);
      },
    );

    it('accepts an answer within the limit', async () => {
      const answer = streamingFetch({
        body: JSON.stringify({ email: 'jane@example.com', groups: ['SRE'] }),
      });
      const client = create(undefined, 3000, undefined, {
        maxBodyBytes: 16384,
        fetch: answer.fetch,
      });
      await expect(client.getIdentity(request())).resolves.toMatchObject({
        groups: [{ id: '', name: 'SRE', email: '' }],
      });
    });
  });

  it.each([
    ['groups as strings', { groups: ['a', 'b', ''] }, ['a', 'b']],
    [
      'groups as objects, some partial',
      {
        groups: [
          { id: 'g1', name: 'One' },
          { name: 'Two' },
          { id: true },
          null,
        ],
      },
      ['One', 'Two'],
    ],
    ['groups missing', {}, []],
    ['groups not a list', { groups: 'admins' }, []],
  ])('reads %s', async (_, extra, names) => {
    state.identity = () => ({ email: 'jane@example.com', ...extra });
    const identity = await create().getIdentity(request());
    expect(identity?.groups.map(g => g.name)).toEqual(names);
  });

  it('treats fields of unexpected types as absent', async () => {
    state.identity = () => ({
      email: 'JANE@example.com',
      id: 42,
      name: ['x'],
      idp: 'oidc',
      custom: [1],
      is_warp: 'true',
      is_gateway: 1,
      device_id: 7,
      devicePosture: 'passed',
    });
    await expect(create().getIdentity(request())).resolves.toEqual({
      id: 'user-1',
      name: 'JANE@example.com',
      email: 'jane@example.com',
      groups: [],
      device: { warp: false, gateway: false, posture: [] },
      fetchedAt: clock.now(),
    });
  });

  it('keeps a __proto__ key in custom from changing any prototype', async () => {
    server.use(
      http.get(
        IDENTITY_URL,
        () =>
          new HttpResponse(
            '{"email":"jane@example.com","custom":{"__proto__":{"admin":true},"team":"a"},"__proto__":{"admin":true}}',
            { headers: { 'content-type': 'application/json' } },
          ),
      ),
    );
    const identity = (await create().getIdentity(request()))!;
    expect(identity.custom).toEqual({ team: 'a' });
    expect(Object.getPrototypeOf(identity.custom)).toBe(Object.prototype);
    expect((identity.custom as Record<string, unknown>).admin).toBeUndefined();
    expect((identity as Record<string, unknown>).admin).toBeUndefined();
  });

  it.each([[null], ['x'], [{}], [[]]])(
    'keeps custom whose "constructor" key is %j (a plain-object check must not read it)',
    async value => {
      const custom = { constructor: value, team: 'a' };
      state.identity = () => ({ email: 'jane@example.com', custom });
      const identity = await create().getIdentity(request());
      expect(identity?.custom).toEqual(custom);
      const cached = parseCachedIdentity(
        JSON.stringify({ ...identity }),
        'jane@example.com',
      );
      expect(cached?.custom).toEqual(custom);
    },
  );

  it.each([[[]], ['text'], [null], [42]])(
    'fails an answer that is not an object (%j)',
    async body => {
      server.use(http.get(IDENTITY_URL, () => HttpResponse.json(body)));
      await expect(create().getIdentity(request())).resolves.toBeUndefined();
      expect(warn).toHaveBeenCalledWith(
        expect.stringMatching(/something other than an object/),
        undefined,
      );
    },
  );

  it("rejects an identity whose email only folds to the token's (Unicode case folding)", async () => {
    // U+212A KELVIN SIGN lower-cases to "k": the answer is not for kate@.
    state.identity = () => ({
      id: 'k',
      name: 'K',
      email: '\u212Aate@example.com',
    });
    await expect(
      create().getIdentity(request({ email: 'kate@example.com' })),
    ).resolves.toBeUndefined();
    state.identity = () => ({ id: 'k', name: 'K', email: 'Kate@Example.com' });
    await expect(
      create().getIdentity(request({ email: 'kate@example.com' })),
    ).resolves.toMatchObject({ email: 'kate@example.com' });
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

  describe('cache format', () => {
    it('stores the identity as a JSON string under a v4 key', async () => {
      const { cache, store } = memoryCache();
      const identity = await create(cache).getIdentity(request());
      const key = IdentityClient.cacheKey(TEAM_DOMAIN, 'user-1', 'nonce-1');
      expect(key.startsWith('cfaccess:identity:v4:')).toBe(true);
      const value = store.get(key);
      expect(typeof value).toBe('string');
      expect(JSON.parse(value as string)).toEqual(identity);
    });

    it('serves a valid cached string without fetching', async () => {
      const { cache, store } = memoryCache();
      await create(cache).getIdentity(request());
      const fresh = create(cache);
      const identity = await fresh.getIdentity(request());
      expect(state.identityRequests).toBe(1);
      expect(identity?.groups.map(g => g.name)).toEqual([
        'Platform Team',
        'SRE',
      ]);
      expect(store.size).toBe(1);
    });

    it.each([
      ['not JSON', '{"id":'],
      ['a v1 object', { id: 'a', name: 'b', email: 'jane@example.com' }],
      ['JSON null', 'null'],
      ['a JSON array', '[]'],
      [
        'groups not a list',
        JSON.stringify({
          id: 'a',
          name: 'b',
          email: 'jane@example.com',
          groups: 'x',
        }),
      ],
      [
        'a bad group',
        JSON.stringify({
          id: 'a',
          name: 'b',
          email: 'jane@example.com',
          groups: [{ id: 1 }],
        }),
      ],
      [
        'a bad idp',
        JSON.stringify({
          id: 'a',
          name: 'b',
          email: 'jane@example.com',
          groups: [],
          idp: 'x',
        }),
      ],
      [
        'another email',
        JSON.stringify({
          id: 'a',
          name: 'b',
          email: 'mallory@example.com',
          groups: [],
        }),
      ],
    ])('treats %s in the cache as a miss', async (_, value) => {
      const { cache, store } = memoryCache();
      const key = IdentityClient.cacheKey(TEAM_DOMAIN, 'user-1', 'nonce-1');
      store.set(key, value);
      const identity = await create(cache).getIdentity(request());
      expect(state.identityRequests).toBe(1);
      expect(identity?.name).toBe('Jane Doe');
      expect(metrics.identityCache).toHaveBeenCalledWith('miss');
      expect(warn).toHaveBeenCalledWith(
        expect.stringMatching(/not a valid identity/),
        undefined,
      );
      // Overwritten with a good entry.
      expect(JSON.parse(store.get(key) as string).name).toBe('Jane Doe');
    });

    it('never reads entries of the earlier formats (v1 objects, v2 keys without the team)', async () => {
      const { cache, store } = memoryCache();
      const old = {
        id: 'old',
        name: 'Old',
        email: 'jane@example.com',
        groups: [],
      };
      const v2Hash = sha256('user-1\nnonce-1', 'hex');
      store.set(`cfaccess:identity:v1:${v2Hash}`, old);
      store.set(`cfaccess:identity:v2:${v2Hash}`, JSON.stringify(old));
      const identity = await create(cache).getIdentity(request());
      expect(identity?.name).toBe('Jane Doe');
      expect(state.identityRequests).toBe(1);
    });

    it('keeps two teams apart in one cache service', async () => {
      const { cache, store } = memoryCache();
      await create(cache).getIdentity(request());
      const otherTeam = new IdentityClient({
        issuer: 'https://otherteam.cloudflareaccess.com',
        identityUrl: IDENTITY_URL,
        maxBodyBytes: 1_048_576,
        cache,
        timeoutMs: 3000,
        cacheTtlMs: 300_000,
        logger: new RateLimitedLogger({ warn } as any, 60_000, clock.now),
        metrics,
        now: clock.now,
      });
      // Same sub and identity_nonce, another team: its own fetch and entry.
      await otherTeam.getIdentity(request());
      expect(state.identityRequests).toBe(2);
      expect(store.size).toBe(2);
    });
  });

  describe('in-process memo', () => {
    const withMemo = (
      cache = memoryCache().cache,
      memo: { memoMaxEntries?: number; cacheTtlMs?: number } = {},
    ) => create(cache, 3000, undefined, { memoMaxEntries: 100, ...memo });

    it('answers a known session without reading the cache service', async () => {
      const { cache } = memoryCache();
      const client = withMemo(cache);
      const first = await client.getIdentity(request());
      const second = await client.getIdentity(request({ token: 'a.b.c' }));
      expect(second).toBe(first);
      expect(cache.get).toHaveBeenCalledTimes(1);
      expect(state.identityRequests).toBe(1);
      expect(metrics.identityCache.mock.calls).toEqual([['miss'], ['hit']]);
    });

    it('memoises what it read from the cache service', async () => {
      const { cache } = memoryCache();
      await create(cache).getIdentity(request());
      const client = withMemo(cache);
      await client.getIdentity(request());
      await client.getIdentity(request());
      expect(cache.get).toHaveBeenCalledTimes(2);
      expect(state.identityRequests).toBe(1);
    });

    it('is bounded by memoMaxEntries', async () => {
      const { cache } = memoryCache();
      const client = withMemo(cache, { memoMaxEntries: 2 });
      for (const nonce of ['n1', 'n2', 'n3']) {
        await client.getIdentity(request({ identityNonce: nonce }));
      }
      expect(cache.get).toHaveBeenCalledTimes(3);
      // n1 was dropped: read from the cache service again; n3 was not.
      await client.getIdentity(request({ identityNonce: 'n3' }));
      expect(cache.get).toHaveBeenCalledTimes(3);
      await client.getIdentity(request({ identityNonce: 'n1' }));
      expect(cache.get).toHaveBeenCalledTimes(4);
    });

    it('is bounded by the size of what it holds, not only by count', async () => {
      // Answers just under the body limit, and the module's entry count.
      state.identity = () => ({
        email: 'jane@example.com',
        name: 'x'.repeat(900_000),
      });
      const { cache } = memoryCache();
      const client = create(cache, 3000, undefined, { memoMaxEntries: 10_000 });
      const nonces = Array.from({ length: 40 }, (_, i) => `n${i}`);
      for (const nonce of nonces) {
        await client.getIdentity(request({ identityNonce: nonce }));
      }
      expect(cache.get).toHaveBeenCalledTimes(40);
      // 40 answers of 900 KB are more than MEMO_MAX_BYTES: the oldest went,
      // the newest stayed.
      expect(40 * 900_000).toBeGreaterThan(MEMO_MAX_BYTES);
      await client.getIdentity(request({ identityNonce: 'n39' }));
      expect(cache.get).toHaveBeenCalledTimes(40);
      await client.getIdentity(request({ identityNonce: 'n0' }));
      expect(cache.get).toHaveBeenCalledTimes(41);
    });

    it('is off without memoMaxEntries', async () => {
      const { cache } = memoryCache();
      const client = create(cache);
      await client.getIdentity(request());
      await client.getIdentity(request());
      expect(cache.get).toHaveBeenCalledTimes(2);
    });

    it('never serves an entry past identity.cacheTtl', async () => {
      const { cache } = memoryCache();
      const client = withMemo(cache, { cacheTtlMs: 10_000 });
      await client.getIdentity(request());
      clock.ms += 9_999;
      await client.getIdentity(request());
      expect(cache.get).toHaveBeenCalledTimes(1);
      clock.ms += 1;
      await client.getIdentity(request());
      expect(cache.get).toHaveBeenCalledTimes(2);
    });

    it("never serves an entry past the token's exp", async () => {
      const { cache } = memoryCache();
      const client = withMemo(cache);
      const exp = clock.seconds + 5;
      await client.getIdentity(request({ exp }));
      clock.ms += 4_999;
      await client.getIdentity(request({ exp }));
      expect(cache.get).toHaveBeenCalledTimes(1);
      clock.ms += 1;
      await client.getIdentity(request({ exp }));
      expect(cache.get).toHaveBeenCalledTimes(2);
    });

    it('memoises nothing when caching is off (cacheTtl 0)', async () => {
      const client = withMemo(undefined, { cacheTtlMs: 0 });
      await client.getIdentity(request());
      await client.getIdentity(request());
      expect(state.identityRequests).toBe(2);
    });

    it('never memoises a failure', async () => {
      state.identityStatus = 502;
      const client = withMemo();
      await expect(client.getIdentity(request())).resolves.toBeUndefined();
      state.identityStatus = 200;
      await expect(client.getIdentity(request())).resolves.toMatchObject({
        name: 'Jane Doe',
      });
      expect(state.identityRequests).toBe(2);
    });

    it('hands out identities callers cannot change', async () => {
      const client = withMemo();
      const first = await client.getIdentity(request());
      expect(Object.isFrozen(first)).toBe(true);
      expect(Object.isFrozen(first!.groups[0])).toBe(true);
      expect(() => {
        first!.groups.push({ id: 'admins', name: 'admins', email: '' });
      }).toThrow(TypeError);
      expect(() => {
        (first as any).name = 'Mallory';
      }).toThrow(TypeError);
      const second = await client.getIdentity(request());
      expect(second?.name).toBe('Jane Doe');
      expect(second?.groups).toHaveLength(2);
    });
  });
});
