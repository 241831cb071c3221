/*
 * Access slow (2 s on certs and get-identity), through the real auth backend and the emulator: every
 * request finishes, and concurrent requests share fetches instead of piling up: one certs request per
 * refresh (cold start, expiry, rotation) and at most one get-identity request per session.
 */
import request from 'supertest';
import {
  type FaultHarness,
  LOAD_USERS,
  OffsetClock,
  startFaultHarness,
} from './harness';

jest.setTimeout(60_000);

const LATENCY_MS = 2_000;
/** Generous bound for one wave of requests; the point is "finishes", not speed. */
const WAVE_BOUND_MS = 20_000;

async function wave(requests: Array<() => Promise<request.Response>>) {
  const started = Date.now();
  const answers = await Promise.all(requests.map(r => r()));
  return { answers, tookMs: Date.now() - started };
}

function expectAllSignedInWithGroups(answers: request.Response[]) {
  const statuses = answers.map(r => r.status);
  expect(statuses).toEqual(statuses.map(() => 200));
  // get-identity answered (slowly) within its timeout, so every profile has its groups.
  for (const res of answers) {
    expect(res.body.providerInfo.groups).toEqual(expect.any(Array));
  }
}

/**
 * The 50 load users sign in at once (tokens the backend has not seen): every request finishes within the
 * bound, signed in with groups. Returns their tokens.
 */
async function signInLoadUsersAtOnce(h: FaultHarness): Promise<string[]> {
  const sessions = await Promise.all(LOAD_USERS.map(e => h.signIn(e)));
  const { answers, tookMs } = await wave(sessions.map(t => () => h.refresh(t)));
  expectAllSignedInWithGroups(answers);
  expect(tookMs).toBeLessThan(WAVE_BOUND_MS);
  return sessions;
}

describe('slow Access (packaged module)', () => {
  let h: FaultHarness;

  beforeAll(async () => {
    // Slow from the start: the key prefetch at startup is slow too.
    h = await startFaultHarness({
      emulator: { faults: { latencyMs: LATENCY_MS } },
    });
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('cold start: 50 concurrent requests of 5 sessions finish with 1 certs request and 1 get-identity request per session', async () => {
    const sessions = await Promise.all(
      ['alice', 'bob', 'carol', 'dave', 'erin'].map(n =>
        h.signIn(`${n}@example.com`),
      ),
    );
    const { answers, tookMs } = await wave(
      Array.from(
        { length: 50 },
        (_, i) => () => h.refresh(sessions[i % 5], i % 2 ? 'cookie' : 'header'),
      ),
    );

    expectAllSignedInWithGroups(answers);
    // Waited for the slow keys and identity, and no longer than a generous bound.
    expect(tookMs).toBeGreaterThanOrEqual(LATENCY_MS - 500);
    expect(tookMs).toBeLessThan(WAVE_BOUND_MS);
    expect(h.emulator.stats()).toEqual({
      certsRequests: 1,
      identityRequests: 5,
    });
  });

  it('50 new sessions at once: one get-identity request each and no certs request; then none at all', async () => {
    h.emulator.resetStats();
    const sessions = await signInLoadUsersAtOnce(h);
    expect(h.emulator.stats()).toEqual({
      certsRequests: 0,
      identityRequests: 50,
    });

    // The same sessions again: keys and identities cached, Access is not asked.
    const again = await wave(sessions.map(t => () => h.refresh(t, 'cookie')));
    expectAllSignedInWithGroups(again.answers);
    expect(h.emulator.stats()).toEqual({
      certsRequests: 0,
      identityRequests: 50,
    });
  });

  it('key rotation while slow: 50 concurrent new sign-ins with the new kid share one certs request', async () => {
    await h.emulator.rotateKeys();
    h.emulator.resetStats();
    await signInLoadUsersAtOnce(h);
    expect(h.emulator.stats()).toEqual({
      certsRequests: 1,
      identityRequests: 50,
    });
  });
});

describe('slow Access when the keys are due for a refresh (test clock)', () => {
  let h: FaultHarness;
  const clock = new OffsetClock();

  beforeAll(async () => {
    h = await startFaultHarness({
      clock,
      provider: { jwks: { cacheMaxAgeSeconds: 60 } },
    });
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('50 concurrent new sign-ins past the key cache age share one certs request', async () => {
    expect((await h.refresh(await h.signIn('alice@example.com'))).status).toBe(
      200,
    );
    h.emulator.setFaults({ latencyMs: LATENCY_MS });
    h.emulator.resetStats();
    clock.advance(61_000);

    await signInLoadUsersAtOnce(h);
    expect(h.emulator.stats()).toEqual({
      certsRequests: 1,
      identityRequests: 50,
    });
  });
});
