/*
 * Certs endpoint outage for longer than the key cache age, through the real auth backend and the emulator.
 *
 * `jwks.cacheMaxAgeSeconds` cannot go below 60, so the provider runs on a test clock (real time plus an
 * offset the test moves forward) instead of waiting minutes; the emulator, the network and the timeouts stay
 * real. Settings: keys fresh for 60 s, stale keys served for 120 s more, failed fetches retried at most once
 * per 10 s cooldown. The rate-limited warnings use a 60 s window on the same clock.
 */
import type { Faults } from '@cfaccess/access-emulator';
import {
  type FaultHarness,
  OffsetClock,
  reasonOf,
  sleep,
  STALE_KEYS_WARNING,
  startFaultHarness,
} from './harness';

jest.setTimeout(60_000);

const FRESH_MS = 60_000;
const STALE_MS = 120_000;
const COOLDOWN_MS = 10_000;
const LOG_WINDOW_MS = 60_000;

const outages: Array<{ name: string; faults: Faults; jwksTimeoutMs: number }> =
  [
    {
      name: 'certs answers 503',
      faults: { certsStatus: 503 },
      jwksTimeoutMs: 1000,
    },
    {
      // latencyMs also delays get-identity; identity.timeoutMs keeps sign-ins quick (JWT profile).
      name: 'certs hangs past jwks.timeoutMs',
      faults: { latencyMs: 8000 },
      jwksTimeoutMs: 300,
    },
  ];

describe.each(outages)('certs outage: $name', ({ faults, jwksTimeoutMs }) => {
  let h: FaultHarness;
  const clock = new OffsetClock();
  let next = 0;
  /** A new sign-in: a token the backend has never seen, so no cache can answer for it. */
  const newUser = () =>
    h.signIn(`load${String(++next).padStart(2, '0')}@example.com`);
  const refreshNewUser = async () => h.refresh(await newUser());

  beforeAll(async () => {
    h = await startFaultHarness({
      clock,
      provider: {
        jwks: {
          cacheMaxAgeSeconds: FRESH_MS / 1000,
          staleMaxAgeSeconds: STALE_MS / 1000,
          cooldownSeconds: COOLDOWN_MS / 1000,
          timeoutMs: jwksTimeoutMs,
        },
        identity: { timeoutMs: 100 },
      },
    });
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('keeps signed-in users and new sign-ins working on last-good keys, then answers clear 503s, then recovers without a restart', async () => {
    // Before the outage: two people signed in, keys fetched once (prefetch at startup).
    const alice = await h.signIn('alice@example.com');
    const bob = await h.signIn('bob@example.com');
    expect((await h.refresh(alice)).status).toBe(200);
    expect((await h.refresh(bob, 'cookie')).status).toBe(200);
    expect(h.emulator.stats().certsRequests).toBe(1);

    h.emulator.setFaults(faults);
    h.emulator.resetStats();

    // 1. Past freshness: the refetch fails, the last-good keys keep serving, and one warning is logged.
    clock.advance(FRESH_MS + 1_000);
    const started = Date.now();
    const aliceStale = await h.refresh(alice);
    expect(aliceStale.status).toBe(200);
    expect(aliceStale.body.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/alice',
    );
    // Answered within the certs timeout, not after the emulator's 8 s hang (generous bound).
    expect(Date.now() - started).toBeLessThan(5_000);
    const signedInDuringOutage = await newUser();
    const fresh = await h.refresh(signedInDuringOutage);
    expect(fresh.status).toBe(200);
    expect(fresh.body.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/load01',
    );
    expect(h.logs.warnings(STALE_KEYS_WARNING)).toHaveLength(1);
    // One failed attempt; the next ones wait for the cooldown.
    expect(h.emulator.stats().certsRequests).toBe(1);

    // A burst within the cooldown: all served, no further certs request, no further warning.
    const burst = await Promise.all([
      h.refresh(alice),
      h.refresh(bob, 'cookie'),
      h.refresh(signedInDuringOutage),
      ...Array.from({ length: 5 }, refreshNewUser),
    ]);
    expect(burst.map(r => r.status)).toEqual(burst.map(() => 200));
    expect(h.emulator.stats().certsRequests).toBe(1);
    expect(h.logs.warnings(STALE_KEYS_WARNING)).toHaveLength(1);

    // 2. Through the rest of the log window: a retry per cooldown at most, still one warning.
    const firstWarningAt = FRESH_MS + 1_000;
    let elapsed = firstWarningAt;
    let steps = 0;
    // (15 s of margin for the real time the requests take on a loaded machine.)
    while (
      elapsed + COOLDOWN_MS + 1_000 <
      firstWarningAt + LOG_WINDOW_MS - 15_000
    ) {
      clock.advance(COOLDOWN_MS + 1_000);
      elapsed += COOLDOWN_MS + 1_000;
      steps += 1;
      const [known, signedIn] = await Promise.all([
        h.refresh(alice),
        refreshNewUser(),
      ]);
      expect(known.status).toBe(200);
      expect(signedIn.status).toBe(200);
    }
    expect(steps).toBeGreaterThanOrEqual(3);
    expect(h.logs.warnings(STALE_KEYS_WARNING)).toHaveLength(1);
    const retries = h.emulator.stats().certsRequests;
    expect(retries).toBeGreaterThanOrEqual(2);
    expect(retries).toBeLessThanOrEqual(1 + steps);

    // 3. The next interval: exactly one more warning, counting the suppressed ones.
    clock.advance(firstWarningAt + LOG_WINDOW_MS - elapsed + 1_000);
    elapsed = firstWarningAt + LOG_WINDOW_MS + 1_000;
    expect((await refreshNewUser()).status).toBe(200);
    const stale = h.logs.warnings(STALE_KEYS_WARNING);
    expect(stale).toHaveLength(2);
    expect(stale[1].message).toMatch(/\(\d+ similar warnings suppressed\)/);

    // 4. Past the stale window (fetched at 0, fresh 60 s + stale 120 s): clear 503 keys_unavailable,
    // for signed-in users and new sign-ins alike, and no flood of certs requests.
    clock.advance(FRESH_MS + STALE_MS - elapsed + 1_000);
    h.emulator.resetStats();
    const lateUsers = await Promise.all(
      Array.from({ length: 5 }, () => newUser()),
    );
    const refused = await Promise.all([
      h.refresh(alice),
      h.refresh(bob, 'cookie'),
      h.refresh(signedInDuringOutage),
      ...lateUsers.map(t => h.refresh(t)),
      ...lateUsers.map(t => h.refresh(t, 'cookie')),
    ]);
    for (const res of refused) {
      expect(res.status).toBe(503);
      expect(reasonOf(res)).toBe('keys_unavailable');
      expect(res.body.error.name).toBe('ServiceUnavailableError');
      expect(res.body.backstageIdentity).toBeUndefined();
    }
    expect(h.emulator.stats().certsRequests).toBeLessThanOrEqual(1);
    expect(
      h.logs.warnings(/sign-in rejected \(keys_unavailable\)/),
    ).toHaveLength(1);

    // 5. Certs come back: after the cooldown the same backend fetches the keys and everyone signs in again.
    h.emulator.clearFaults();
    h.emulator.resetStats();
    clock.advance(COOLDOWN_MS + 1_000);
    const recovered = await Promise.all([
      h.refresh(alice),
      h.refresh(bob, 'cookie'),
      h.refresh(lateUsers[0]),
      refreshNewUser(),
    ]);
    expect(recovered.map(r => r.status)).toEqual([200, 200, 200, 200]);
    expect(h.emulator.stats().certsRequests).toBe(1);

    // Fresh again: no certs request for the next minute.
    clock.advance(30_000);
    expect((await refreshNewUser()).status).toBe(200);
    expect(h.emulator.stats().certsRequests).toBe(1);

    expect(h.tokenLogged()).toBe(false);
  });
});

describe('certs down at startup (packaged module)', () => {
  let h: FaultHarness;
  let startedAt: number;

  beforeAll(async () => {
    startedAt = Date.now();
    h = await startFaultHarness({
      emulator: { faults: { certsStatus: 503 } },
      provider: { jwks: { cooldownSeconds: 1 } },
    });
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('answers 503 keys_unavailable without flooding certs, then signs in once certs answer, without a restart', async () => {
    const alice = await h.signIn('alice@example.com');
    const refused = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        h.refresh(alice, i % 2 ? 'cookie' : 'header'),
      ),
    );
    for (const res of refused) {
      expect(res.status).toBe(503);
      expect(reasonOf(res)).toBe('keys_unavailable');
    }
    // The startup fetch plus at most one retry per 1 s cooldown, however many requests came.
    const seconds = (Date.now() - startedAt) / 1000;
    expect(h.emulator.stats().certsRequests).toBeLessThanOrEqual(
      2 + Math.ceil(seconds),
    );
    expect(
      h.logs.warnings(/sign-in rejected \(keys_unavailable\)/),
    ).toHaveLength(1);

    h.emulator.clearFaults();
    await sleep(1_100);
    const accepted = await h.refresh(alice);
    expect(accepted.status).toBe(200);
    expect(accepted.body.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/alice',
    );
    expect(h.tokenLogged()).toBe(false);
  });
});
