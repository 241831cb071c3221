/*
 * get-identity failing or hanging, through the real auth backend and the emulator: sign-in degrades to the
 * profile from the verified JWT (email as name, no groups) within identity.timeoutMs, the failure is not
 * cached, and Access groups come back when get-identity does. A resolver that grants ownership from Access
 * groups (the example's) answers 503 identity_unavailable instead while the groups are unknown.
 */
import request from 'supertest';
import {
  type FaultHarness,
  IDENTITY_WARNING,
  ownershipOf,
  startFaultHarness,
} from './harness';

jest.setTimeout(60_000);

const IDENTITY_TIMEOUT_MS = 500;
const HANG_MS = 10_000;

/** The profile built from the token's claims alone, as the provider answers without get-identity. */
function expectJwtProfile(res: request.Response, email: string) {
  expect(res.status).toBe(200);
  expect(res.body.profile).toEqual({ email, displayName: email });
  expect(res.body.providerInfo).toEqual({
    email,
    name: email,
    expiresInSeconds: expect.any(Number),
  });
}

/** The profile from get-identity: the person's name and their Access groups. */
function expectIdentityProfile(
  res: request.Response,
  email: string,
  name: string,
  groups: string[],
) {
  expect(res.status).toBe(200);
  expect(res.body.profile).toEqual({ email, displayName: name });
  expect(res.body.providerInfo).toMatchObject({ email, name, groups });
}

describe('get-identity outage (packaged module, emailMatchingUserEntityProfileEmail)', () => {
  let h: FaultHarness;

  beforeAll(async () => {
    h = await startFaultHarness({
      provider: { identity: { timeoutMs: IDENTITY_TIMEOUT_MS } },
    });
  });

  afterAll(async () => {
    await h?.stop();
  });

  beforeEach(() => {
    h.emulator.clearFaults();
    h.emulator.resetStats();
  });

  // 302: an expired Access session answers get-identity with a redirect to the login page.
  it.each([500, 502, 401, 302])(
    'get-identity answering %i: signs in with the JWT profile, then recovers for the same session',
    async status => {
      const email = {
        500: 'alice@example.com',
        502: 'bob@example.com',
        401: 'carol@example.com',
        302: 'load01@example.com',
      }[status]!;
      const token = await h.signIn(email);
      h.emulator.setFaults({ identityStatus: status });

      const degraded = await h.refresh(token);
      expectJwtProfile(degraded, email);
      expect(degraded.body.backstageIdentity.identity.userEntityRef).toBe(
        `user:default/${email.split('@')[0]}`,
      );
      expect(h.emulator.stats().identityRequests).toBe(1);

      // The failure is not cached: once get-identity answers, the same session gets its name and groups.
      h.emulator.clearFaults();
      const recovered = await h.refresh(token, 'cookie');
      expect(recovered.status).toBe(200);
      expect(recovered.body.providerInfo.groups).toBeDefined();
      expect(recovered.body.profile.displayName).not.toBe(email);
      expect(h.emulator.stats().identityRequests).toBe(2);

      // And then cached: no further get-identity request for this session.
      expect((await h.refresh(token)).status).toBe(200);
      expect(h.emulator.stats().identityRequests).toBe(2);
    },
  );

  it(`get-identity hanging ${HANG_MS} ms: answers within identity.timeoutMs with the JWT profile, one fetch for concurrent requests`, async () => {
    const token = await h.signIn('dave@example.com');
    h.emulator.setFaults({ identityHangMs: HANG_MS });

    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        h.refresh(token, i % 2 ? 'cookie' : 'header'),
      ),
    );
    const tookMs = Date.now() - started;

    for (const res of answers) {
      expectJwtProfile(res, 'dave@example.com');
    }
    // It did wait for get-identity (up to the timeout) and gave up long before the hang ended.
    expect(tookMs).toBeGreaterThanOrEqual(IDENTITY_TIMEOUT_MS - 50);
    expect(tookMs).toBeLessThan(HANG_MS / 2);
    // Concurrent requests of one session share one get-identity request.
    expect(h.emulator.stats().identityRequests).toBe(1);

    // A new sign-in during the hang degrades the same way.
    const erin = await h.signIn('erin@example.com');
    const erinStarted = Date.now();
    expectJwtProfile(await h.refresh(erin), 'erin@example.com');
    expect(Date.now() - erinStarted).toBeLessThan(HANG_MS / 2);

    h.emulator.clearFaults();
    expectIdentityProfile(
      await h.refresh(token),
      'dave@example.com',
      'Dave Lister',
      ['product'],
    );
  });

  it('logs the get-identity failure once per interval, not once per request, and never the token', async () => {
    h.emulator.setFaults({ identityStatus: 503 });
    const tokens = await Promise.all(
      ['alice', 'bob', 'carol', 'dave', 'erin'].map(name =>
        h.signIn(`${name}@example.com`),
      ),
    );
    const answers = await Promise.all(tokens.map(t => h.refresh(t)));
    expect(answers.map(r => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(h.emulator.stats().identityRequests).toBe(5);
    // Earlier tests in this file already logged within the same 60 s window: at most one line overall.
    expect(h.logs.warnings(IDENTITY_WARNING)).toHaveLength(1);
    expect(h.tokenLogged()).toBe(false);
  });
});

describe('get-identity outage (example resolver: Access groups become ownership)', () => {
  let h: FaultHarness;

  beforeAll(async () => {
    h = await startFaultHarness({
      wiring: 'example',
      provider: { identity: { timeoutMs: IDENTITY_TIMEOUT_MS } },
    });
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('answers 503 identity_unavailable within identity.timeoutMs while get-identity hangs (fail closed), then signs in with Access groups', async () => {
    const token = await h.signIn('alice@example.com');
    h.emulator.setFaults({ identityHangMs: HANG_MS });

    const started = Date.now();
    const refused = await h.refresh(token);
    expect(Date.now() - started).toBeLessThan(HANG_MS / 2);
    // Unknown groups are not no groups: no sign-in with catalog ownership only.
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({
      name: 'ServiceUnavailableError',
      reason: 'identity_unavailable',
    });
    expect(refused.body.backstageIdentity).toBeUndefined();

    h.emulator.clearFaults();
    const recovered = await h.refresh(token);
    expect(recovered.status).toBe(200);
    expect(ownershipOf(recovered).sort()).toEqual([
      'group:default/admins',
      'group:default/engineering',
      'group:default/staff',
      'user:default/alice',
    ]);
  });
});
