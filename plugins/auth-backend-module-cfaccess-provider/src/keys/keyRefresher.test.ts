import { KeyCache } from './keyCache';
import { KeyRefresher, unrefTimer } from './keyRefresher';
import { RateLimitedLogger } from '../lib/rateLimitedLogger';
import {
  CERTS_URL,
  useAccessServerWithTwoKeys,
  mockMetrics,
  manualTimers,
  TestClock,
  TestKey,
} from '../__testUtils__/fixtures';

describe('KeyRefresher', () => {
  const access = useAccessServerWithTwoKeys();
  const { state } = access;
  let keyA: TestKey;
  let keyB: TestKey;
  let clock: TestClock;
  let warn: jest.Mock;
  let timers: ReturnType<typeof manualTimers>;

  beforeEach(() => {
    ({ keyA, keyB, clock } = access);
    warn = jest.fn();
    timers = manualTimers(clock.now);
  });

  function create() {
    const logger = new RateLimitedLogger({ warn } as any, 60_000, clock.now);
    const keyCache = new KeyCache({
      certsUrl: CERTS_URL,
      cacheMaxAgeMs: 600_000,
      cooldownMs: 30_000,
      timeoutMs: 5000,
      staleMaxAgeMs: 3_600_000,
      maxBodyBytes: 1_048_576,
      logger,
      metrics: mockMetrics(),
      now: clock.now,
    });
    const refresher = new KeyRefresher({
      keyCache,
      certsUrl: CERTS_URL,
      cacheMaxAgeMs: 600_000,
      retryMs: 30_000,
      logger,
      now: clock.now,
      setTimer: timers.setTimer,
    });
    return { keyCache, refresher };
  }

  /** Moves the clock to the only pending timer's due time and runs it. */
  async function fireNext() {
    expect(timers.pending()).toHaveLength(1);
    const [next] = timers.pending();
    next.cancelled = true;
    clock.ms = Math.max(clock.ms, next.dueAt);
    await next.callback();
  }

  it('fetches at start and again at 80% of the max age, before the keys go stale', async () => {
    const { keyCache, refresher } = create();
    await refresher.start();
    expect(state.certsRequests).toBe(1);
    expect(timers.pending()[0].delayMs).toBe(480_000);

    // A rotation between fetches: the refresh picks it up, no sign-in waits.
    state.jwks = [keyB.publicJwk, keyA.publicJwk];
    await fireNext();
    expect(state.certsRequests).toBe(2);
    expect(timers.pending()[0].delayMs).toBe(480_000);
    expect((await keyCache.getKey('kid-b')).key).toBeDefined();
    expect(state.certsRequests).toBe(2);

    // Many cycles: the keys never reach their max age.
    for (let i = 0; i < 5; i++) {
      await fireNext();
      expect(clock.ms - keyCache.keysFetchedAt!).toBe(0);
    }
    expect(state.certsRequests).toBe(7);
  });

  it('keeps the last good keys on failure, warns rate-limited, and retries after the cooldown', async () => {
    const { keyCache, refresher } = create();
    await refresher.start();
    state.certsStatus = 500;
    await fireNext();
    expect(state.certsRequests).toBe(2);
    expect(timers.pending()[0].delayMs).toBe(30_000);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(
      /Could not refresh Cloudflare Access signing keys.*keys fetched 480s ago keep serving.*retrying in 30s: "certs endpoint answered HTTP 500"/,
    );
    // Still fresh (480s + 30s < 600s): served without a request.
    await fireNext();
    expect(warn).toHaveBeenCalledTimes(1);
    expect((await keyCache.getKey('kid-a')).key).toBeDefined();
    expect(state.certsRequests).toBe(3);

    state.certsStatus = 200;
    await fireNext();
    expect(state.certsRequests).toBe(4);
    expect(timers.pending()[0].delayMs).toBe(480_000);
  });

  it('does not fail when certs is unreachable at start, and retries in the background', async () => {
    state.certsStatus = 503;
    const { keyCache, refresher } = create();
    await expect(refresher.start()).resolves.toBeUndefined();
    expect(keyCache.keysFetchedAt).toBeUndefined();
    expect(warn.mock.calls[0][0]).toMatch(/no keys yet/);
    state.certsStatus = 200;
    await fireNext();
    expect(keyCache.keysFetchedAt).toBe(clock.ms);
  });

  it('postpones its refresh after a request-path refetch, and shares one in flight', async () => {
    const { keyCache, refresher } = create();
    await refresher.start();
    // An unknown kid makes the request path refetch 100s later.
    clock.advance(100);
    state.jwks = [keyB.publicJwk, keyA.publicJwk];
    await keyCache.getKey('kid-b');
    expect(state.certsRequests).toBe(2);
    // The timer set for 480s fires; the keys are only 380s old, so no request.
    await fireNext();
    expect(state.certsRequests).toBe(2);
    expect(timers.pending()[0].delayMs).toBe(100_000);
    await fireNext();
    expect(state.certsRequests).toBe(3);

    // A refresh and a request-path refetch at the same moment: one request.
    clock.advance(480);
    await Promise.all([
      keyCache.getKey('kid-new'),
      timers.pending()[0].callback(),
    ]);
    expect(state.certsRequests).toBe(4);
  });

  it('stops: no timer left, and a run in flight does not reschedule', async () => {
    const { refresher } = create();
    await refresher.start();
    refresher.stop();
    expect(timers.pending()).toHaveLength(0);

    const other = create().refresher;
    const starting = other.start();
    other.stop();
    await starting;
    expect(timers.pending()).toHaveLength(0);
  });

  it('uses unref’d timers, which never keep the process alive', () => {
    const spy = jest.spyOn(global, 'setTimeout');
    try {
      const handle = unrefTimer(() => {}, 1_000_000);
      const timeout = spy.mock.results[0].value as NodeJS.Timeout;
      expect(timeout.hasRef()).toBe(false);
      handle.cancel();
    } finally {
      spy.mockRestore();
    }
  });
});
