import { http, HttpResponse, delay } from 'msw';
import { CloudflareAccessKeysUnavailableError } from '../errors';
import { KeyCache } from './keyCache';
import { MAX_KEYS_PER_KID } from './signingKeys';
import { RateLimitedLogger } from '../lib/rateLimitedLogger';
import {
  CERTS_URL,
  createTestKey,
  streamingFetch,
  useAccessServerWithTwoKeys,
  mockMetrics,
  TestClock,
  TestKey,
} from '../__testUtils__/fixtures';

describe('KeyCache', () => {
  const access = useAccessServerWithTwoKeys();
  const { server, state } = access;
  let keyA: TestKey;
  let keyB: TestKey;
  let clock: TestClock;
  let warn: jest.Mock;
  let metrics: ReturnType<typeof mockMetrics>;

  beforeEach(() => {
    ({ keyA, keyB, clock } = access);
    warn = jest.fn();
    metrics = mockMetrics();
  });

  function createCache(
    overrides: Partial<{
      timeoutMs: number;
      maxBodyBytes: number;
      fetch: typeof fetch;
    }> = {},
  ) {
    return new KeyCache({
      certsUrl: CERTS_URL,
      cacheMaxAgeMs: 600_000,
      cooldownMs: 30_000,
      timeoutMs: 5000,
      staleMaxAgeMs: 3_600_000,
      maxBodyBytes: 1_048_576,
      logger: new RateLimitedLogger(
        {
          warn,
          info: jest.fn(),
          error: jest.fn(),
          debug: jest.fn(),
          child: jest.fn(),
        } as any,
        60_000,
        clock.now,
      ),
      metrics,
      now: clock.now,
      ...overrides,
    });
  }

  it('fetches once for many concurrent lookups (single-flight)', async () => {
    const cache = createCache();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => cache.getKey('kid-a')),
    );
    expect(results.every(r => r.key)).toBe(true);
    expect(state.certsRequests).toBe(1);
    expect(metrics.jwksFetch).toHaveBeenCalledWith('success');
  });

  it('serves cached keys while fresh and refetches after cacheMaxAge', async () => {
    const cache = createCache();
    await cache.getKey('kid-a');
    clock.advance(599);
    await cache.getKey('kid-a');
    expect(state.certsRequests).toBe(1);
    clock.advance(2);
    await cache.getKey('kid-a');
    expect(state.certsRequests).toBe(2);
  });

  it('refetches for an unknown kid at most once per cooldown', async () => {
    const cache = createCache();
    await cache.getKey('kid-a');
    clock.advance(31);
    for (let i = 0; i < 50; i++) {
      const r = await cache.getKey(`made-up-${i}`);
      expect(r.key).toBeUndefined();
    }
    expect(state.certsRequests).toBe(2);
    clock.advance(31);
    await cache.getKey('made-up-again');
    expect(state.certsRequests).toBe(3);
  });

  it('a flood of concurrent made-up kids makes at most one request', async () => {
    const cache = createCache();
    await cache.getKey('kid-a');
    clock.advance(31);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => cache.getKey(`x-${i}`)),
    );
    expect(state.certsRequests).toBe(2);
  });

  it('picks up a rotated key without restart', async () => {
    const cache = createCache();
    expect((await cache.getKey('kid-a')).key).toBeDefined();
    state.jwks = [keyB.publicJwk, keyA.publicJwk];
    clock.advance(31);
    expect((await cache.getKey('kid-b')).key).toBeDefined();
    expect(state.certsRequests).toBe(2);
  });

  it('picks up a key rotated right after a routine fetch, without waiting a cooldown', async () => {
    // The e2e suite caught this: a user signing in just after a rotation was
    // turned away for a whole cooldown because a routine fetch had just run.
    const cache = createCache();
    await cache.getKey('kid-a');
    state.jwks = [keyB.publicJwk, keyA.publicJwk];
    expect((await cache.getKey('kid-b')).key).toBeDefined();
    expect(state.certsRequests).toBe(2);
  });

  it('counts the cooldown from the last unknown-kid refetch', async () => {
    const cache = createCache();
    await cache.getKey('kid-a');
    expect((await cache.getKey('made-up-1')).key).toBeUndefined();
    expect(state.certsRequests).toBe(2);
    // Within the cooldown of that refetch even a real new kid waits.
    state.jwks = [keyB.publicJwk, keyA.publicJwk];
    clock.advance(29);
    expect((await cache.getKey('kid-b')).key).toBeUndefined();
    expect(state.certsRequests).toBe(2);
    clock.advance(1);
    expect((await cache.getKey('kid-b')).key).toBeDefined();
    expect(state.certsRequests).toBe(3);
  });

  it('keeps serving last-good keys during an outage, with a warning, until staleMaxAge', async () => {
    const cache = createCache();
    await cache.getKey('kid-a');
    state.certsStatus = 500;
    clock.advance(601);
    expect((await cache.getKey('kid-a')).key).toBeDefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/could not be refreshed/);
    expect(metrics.jwksFetch).toHaveBeenCalledWith('error');
    // Further requests in the cooldown neither refetch nor warn again.
    const before = state.certsRequests;
    await cache.getKey('kid-a');
    await cache.getKey('kid-a');
    expect(state.certsRequests).toBe(before);
    expect(warn).toHaveBeenCalledTimes(1);

    clock.advance(3600);
    await expect(cache.getKey('kid-a')).rejects.toBeInstanceOf(
      CloudflareAccessKeysUnavailableError,
    );
  });

  it('answers an unknown kid during an outage with 503, not unknown_kid, and recovers', async () => {
    const cache = createCache();
    await cache.getKey('kid-a');
    state.certsStatus = 503;
    state.jwks = [keyA.publicJwk, keyB.publicJwk];
    // Known kid on last-good keys still works; the rotated kid cannot be checked.
    const error = await cache.getKey('kid-b').catch(e => e);
    expect(error).toBeInstanceOf(CloudflareAccessKeysUnavailableError);
    // What failed is for the log; the message is the reason and one sentence.
    expect(error.details.detail).toMatch(/"kid-b".*HTTP 503/);
    expect(error.message).not.toContain(CERTS_URL);
    expect((await cache.getKey('kid-a')).key).toBeDefined();
    // Held back by the failure cooldown: still 503, no extra request.
    const before = state.certsRequests;
    await expect(cache.getKey('kid-b')).rejects.toBeInstanceOf(
      CloudflareAccessKeysUnavailableError,
    );
    expect(state.certsRequests).toBe(before);

    state.certsStatus = 200;
    clock.advance(31);
    expect((await cache.getKey('kid-b')).key).toBeDefined();
    // With certs healthy, a made-up kid is the token's fault again.
    clock.advance(31);
    expect(await cache.getKey('kid-made-up')).toMatchObject({
      unknownKid: true,
    });
  });

  it('fails with 503 keys_unavailable when no keys were ever fetched', async () => {
    state.certsStatus = 503;
    const cache = createCache();
    const error = await cache.getKey('kid-a').catch(e => e);
    expect(error).toBeInstanceOf(CloudflareAccessKeysUnavailableError);
    expect(error.name).toBe('ServiceUnavailableError');
    expect(error.reason).toBe('keys_unavailable');
    expect(error.details.detail).toMatch(/HTTP 503/);
    expect(error.details.detail).toContain(CERTS_URL);
    expect(error.message).toBe(
      'Cloudflare Access token rejected (keys_unavailable): The Cloudflare Access signing keys are unavailable; try again shortly.',
    );
    // Retries are rate-limited by the cooldown too.
    await cache.getKey('kid-a').catch(() => {});
    expect(state.certsRequests).toBe(1);
    clock.advance(31);
    state.certsStatus = 200;
    expect((await cache.getKey('kid-a')).key).toBeDefined();
  });

  it('recovers after an outage once certs answers again', async () => {
    const cache = createCache();
    await cache.getKey('kid-a');
    state.certsStatus = 500;
    clock.advance(601);
    await cache.getKey('kid-a');
    state.certsStatus = 200;
    state.jwks = [keyB.publicJwk];
    clock.advance(31);
    expect((await cache.getKey('kid-b')).key).toBeDefined();
  });

  it('treats a JWKS without usable RSA keys as unavailable', async () => {
    state.jwks = [
      { kty: 'EC', kid: 'ec', crv: 'P-256', x: 'x', y: 'y' },
      { kty: 'oct', kid: 'hmac', k: 'c2VjcmV0' },
      { ...keyA.publicJwk, kid: undefined },
      { ...keyA.publicJwk, use: 'enc', kid: 'enc' },
      { ...keyA.publicJwk, alg: 'RS512', kid: 'rs512' },
    ] as any;
    const cache = createCache();
    await expect(cache.getKey('ec')).rejects.toBeInstanceOf(
      CloudflareAccessKeysUnavailableError,
    );
  });

  it('ignores non-RSA keys next to RSA ones', async () => {
    state.jwks = [
      { kty: 'oct', kid: 'kid-hmac', k: 'c2VjcmV0' },
      keyA.publicJwk,
    ] as any;
    const cache = createCache();
    expect((await cache.getKey('kid-a')).key).toBeDefined();
    expect((await cache.getKey('kid-hmac')).key).toBeUndefined();
  });

  it('times out a hanging certs request', async () => {
    server.use(
      http.get(CERTS_URL, async () => {
        await delay('infinite');
        return HttpResponse.json({});
      }),
    );
    const cache = createCache({ timeoutMs: 100 });
    const error = await cache.getKey('kid-a').catch(e => e);
    expect(error.details.detail).toMatch(/timed out/);
    expect(metrics.jwksFetch).toHaveBeenCalledWith('timeout');
  });

  it('treats a non-JSON certs answer as a failure', async () => {
    server.use(http.get(CERTS_URL, () => new HttpResponse('<html>')));
    const cache = createCache();
    await expect(cache.getKey('kid-a')).rejects.toBeInstanceOf(
      CloudflareAccessKeysUnavailableError,
    );
  });

  it('tryRefresh never throws and warms the cache', async () => {
    state.certsStatus = 500;
    const failing = createCache();
    await expect(failing.tryRefresh()).resolves.toEqual({
      ok: false,
      error: expect.objectContaining({ status: 500 }),
    });

    state.certsStatus = 200;
    const cache = createCache();
    await expect(cache.tryRefresh()).resolves.toEqual({ ok: true });
    const before = state.certsRequests;
    await cache.getKey('kid-a');
    expect(state.certsRequests).toBe(before);
  });

  describe('several keys under one kid', () => {
    it('keeps each, warns, and counts identical duplicates once', async () => {
      const twin = { ...keyB.publicJwk, kid: 'kid-a' };
      state.jwks = [keyA.publicJwk, twin, keyA.publicJwk];
      const cache = createCache();
      const lookup = await cache.getKey('kid-a');
      // Before: the last key silently replaced the first.
      expect(lookup.keys).toHaveLength(2);
      expect(warn).toHaveBeenCalledWith(
        expect.stringMatching(/2 different keys under kid "kid-a"/),
        undefined,
      );
      // Unchanged material keeps the same keys object across a refresh.
      clock.advance(601);
      expect((await cache.getKey('kid-a')).keys).toBe(lookup.keys);
    });

    it(`keeps at most ${MAX_KEYS_PER_KID} keys per kid`, async () => {
      const extra = await Promise.all(
        Array.from({ length: MAX_KEYS_PER_KID + 2 }, () =>
          createTestKey('kid-a'),
        ),
      );
      state.jwks = extra.map(k => k.publicJwk);
      const lookup = await createCache().getKey('kid-a');
      expect(lookup.keys).toHaveLength(MAX_KEYS_PER_KID);
    });
  });

  describe('answer bodies', () => {
    it('refuses a certs answer over maxBodyBytes, without reading it all', async () => {
      const endless = streamingFetch({});
      const cache = createCache({ maxBodyBytes: 65536, fetch: endless.fetch });
      const error = await cache.getKey('kid-a').catch(e => e);
      expect(error).toBeInstanceOf(CloudflareAccessKeysUnavailableError);
      expect(error.details.detail).toMatch(/larger than 65536 bytes/);
      expect(endless.stats.cancelled).toBe(true);
      expect(endless.stats.pulledBytes).toBeLessThan(200_000);
      expect(metrics.jwksFetch).toHaveBeenCalledWith('error');
    });

    it('cancels the body of an error answer instead of leaving it unread', async () => {
      const failing = streamingFetch({ status: 502, chunks: 1000 });
      const cache = createCache({ fetch: failing.fetch });
      await expect(cache.getKey('kid-a')).rejects.toBeInstanceOf(
        CloudflareAccessKeysUnavailableError,
      );
      expect(failing.stats.cancelled).toBe(true);
    });

    it('reads a certs answer within the limit', async () => {
      const ok = streamingFetch({
        body: JSON.stringify({ keys: [keyA.publicJwk] }),
      });
      const cache = createCache({ maxBodyBytes: 16384, fetch: ok.fetch });
      expect((await cache.getKey('kid-a')).key).toBeDefined();
    });
  });
});
