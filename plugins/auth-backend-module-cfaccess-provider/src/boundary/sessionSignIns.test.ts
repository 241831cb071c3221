import type { BackstageSignInResult } from '@backstage/plugin-auth-node';
import { SignJWT } from 'jose';
import {
  SERVICE_CLIENT_ID,
  serviceClaims,
  TestClock,
  userClaims,
} from '../__testUtils__/fixtures';
import type { VerifiedAccessToken } from '../token/tokenVerifier';
import { CloudflareAccessClaims } from '../types';
import { accessSessionKey, SessionSignIns } from './sessionSignIns';

const secret = new TextEncoder().encode('a-test-secret-of-at-least-32-bytes!!');

/** A Backstage token as the auth backend issues it: what the sign-in resolver returns. */
async function backstageSignIn(
  clock: TestClock,
  options: { sub?: string; lifetime?: number; identity?: boolean } = {},
): Promise<BackstageSignInResult> {
  const sub = options.sub ?? 'user:default/jane';
  const token = await new SignJWT({ sub, ent: [sub] })
    .setProtectedHeader({ alg: 'HS256', typ: 'vnd.backstage.user' })
    .setIssuedAt(clock.seconds)
    .setExpirationTime(clock.seconds + (options.lifetime ?? 3600))
    .sign(secret);
  return options.identity === false
    ? { token }
    : {
        token,
        identity: {
          type: 'user',
          userEntityRef: sub,
          ownershipEntityRefs: [sub],
        },
      };
}

const person = (claims: object): VerifiedAccessToken => ({
  tokenType: 'user',
  claims: claims as CloudflareAccessClaims,
});

const service = (claims: object): VerifiedAccessToken => ({
  tokenType: 'service',
  claims: claims as CloudflareAccessClaims,
  clientId: SERVICE_CLIENT_ID,
  subject: { subject: 'user:default/ci-bot', entityRef: 'user:default/ci-bot' },
});

/** A resolver that counts its calls and issues a token for the clock's now. */
function countingResolver(clock: TestClock, options = {}) {
  const resolve = jest.fn(() => backstageSignIn(clock, options));
  return resolve;
}

describe('accessSessionKey', () => {
  const clock = new TestClock();

  it("keys a person by sub and identity_nonce, not by the token's times", () => {
    const first = person(userClaims(clock));
    clock.advance(600);
    const later = person(userClaims(clock));
    expect(accessSessionKey(later)).toBe(accessSessionKey(first));
    expect(
      accessSessionKey(
        person(userClaims(clock, { identity_nonce: 'nonce-2' })),
      ),
    ).not.toBe(accessSessionKey(first));
    expect(
      accessSessionKey(person(userClaims(clock, { sub: 'someone-else' }))),
    ).not.toBe(accessSessionKey(first));
  });

  it('keys a person without sub by the email', () => {
    const a = person(userClaims(clock, { sub: '', email: 'a@example.com' }));
    const b = person(userClaims(clock, { sub: '', email: 'b@example.com' }));
    expect(accessSessionKey(a)).not.toBe(accessSessionKey(b));
    expect(accessSessionKey(a)).toBe(
      accessSessionKey(
        person(userClaims(clock, { sub: '', email: 'a@example.com' })),
      ),
    );
  });

  it('keys a service token by its Client ID, whatever assertion it sends', () => {
    const first = service(serviceClaims(clock));
    clock.advance(1);
    const second = service(serviceClaims(clock, { iat: clock.seconds + 7 }));
    expect(accessSessionKey(second)).toBe(accessSessionKey(first));
    const other: VerifiedAccessToken = {
      ...service(serviceClaims(clock)),
      clientId: 'other.access',
    } as VerifiedAccessToken;
    expect(accessSessionKey(other)).not.toBe(accessSessionKey(first));
  });

  it('never keys a person like a service token', () => {
    // A person whose sub reads like a Client ID is still another session.
    const spoof = person(
      userClaims(clock, { sub: SERVICE_CLIENT_ID, identity_nonce: '' }),
    );
    expect(accessSessionKey(spoof)).not.toBe(
      accessSessionKey(service(serviceClaims(clock))),
    );
  });
});

describe('SessionSignIns', () => {
  let clock: TestClock;
  beforeEach(() => {
    clock = new TestClock();
  });

  const janeKey = () => accessSessionKey(person(userClaims(clock)));
  const accessExp = () => clock.seconds + 3600;

  it('resolves a session once for concurrent callers (single flight)', async () => {
    const sessions = new SessionSignIns(10, clock.now);
    let release!: () => void;
    const gate = new Promise<void>(r => {
      release = r;
    });
    const resolve = jest.fn(async () => {
      await gate;
      return backstageSignIn(clock);
    });
    const key = janeKey();
    const callers = [
      sessions.signIn(key, accessExp(), 'request', resolve),
      sessions.signIn(key, accessExp(), 'request', resolve),
      sessions.signIn(key, accessExp(), 'refresh', resolve),
    ];
    // The others wait for the first one's resolution rather than starting their own.
    await Promise.resolve();
    expect(resolve).toHaveBeenCalledTimes(1);
    release();
    const [a, b, c] = await Promise.all(callers);
    expect(resolve).toHaveBeenCalledTimes(1);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(a.userEntityRef).toBe('user:default/jane');
    expect(a.issuedAt).toBe(clock.seconds);
    expect(a.expiresAt).toBe(clock.seconds + 3600);
    // and it is cached
    expect(sessions.known(key)).toBe(a);
    expect(await sessions.signIn(key, accessExp(), 'request', resolve)).toBe(a);
    expect(resolve).toHaveBeenCalledTimes(1);
  });

  it('resolves concurrent callers of different sessions separately', async () => {
    const sessions = new SessionSignIns(10, clock.now);
    const resolve = countingResolver(clock);
    const [a, b] = await Promise.all([
      sessions.signIn(janeKey(), accessExp(), 'request', resolve),
      sessions.signIn(
        accessSessionKey(person(userClaims(clock, { sub: 'bob' }))),
        accessExp(),
        'request',
        resolve,
      ),
    ]);
    expect(resolve).toHaveBeenCalledTimes(2);
    expect(a).not.toBe(b);
  });

  it("reuses a service token's sign-in for every new assertion of it", async () => {
    const sessions = new SessionSignIns(10, clock.now);
    const resolve = countingResolver(clock, { sub: 'user:default/ci-bot' });
    const signIns = [];
    for (let i = 0; i < 5; i += 1) {
      // A new assertion (new iat, exp) on every request.
      const assertion = service(serviceClaims(clock));
      signIns.push(
        await sessions.signIn(
          accessSessionKey(assertion),
          assertion.claims.exp,
          'request',
          resolve,
        ),
      );
      clock.advance(10);
    }
    expect(resolve).toHaveBeenCalledTimes(1);
    expect(new Set(signIns).size).toBe(1);
    expect(signIns[0].userEntityRef).toBe('user:default/ci-bot');
  });

  it('signs a new identity_nonce (a new Access login) in again', async () => {
    const sessions = new SessionSignIns(10, clock.now);
    const resolve = countingResolver(clock);
    const first = await sessions.signIn(
      janeKey(),
      accessExp(),
      'request',
      resolve,
    );
    const again = await sessions.signIn(
      janeKey(),
      accessExp(),
      'request',
      resolve,
    );
    expect(again).toBe(first);
    const relogin = accessSessionKey(
      person(userClaims(clock, { identity_nonce: 'nonce-2' })),
    );
    expect(sessions.known(relogin)).toBeUndefined();
    const second = await sessions.signIn(
      relogin,
      accessExp(),
      'request',
      resolve,
    );
    expect(resolve).toHaveBeenCalledTimes(2);
    expect(second).not.toBe(first);
  });

  it('gives a refresh the cached sign-in only while at least half its lifetime is left', async () => {
    const sessions = new SessionSignIns(10, clock.now);
    const resolve = countingResolver(clock);
    const key = janeKey();
    const exp = accessExp();
    const first = await sessions.signIn(key, exp, 'request', resolve);

    clock.advance(1800); // exactly half left
    expect(await sessions.signIn(key, exp, 'refresh', resolve)).toBe(first);
    expect(resolve).toHaveBeenCalledTimes(1);

    clock.advance(1); // less than half left
    // A request still takes it ...
    expect(await sessions.signIn(key, exp, 'request', resolve)).toBe(first);
    expect(sessions.known(key)).toBe(first);
    expect(resolve).toHaveBeenCalledTimes(1);
    // ... a refresh gets a new one, which replaces it for requests too.
    const refreshed = await sessions.signIn(
      key,
      exp + 1800,
      'refresh',
      resolve,
    );
    expect(resolve).toHaveBeenCalledTimes(2);
    expect(refreshed).not.toBe(first);
    expect(refreshed.issuedAt).toBe(clock.seconds);
    expect(sessions.known(key)).toBe(refreshed);
  });

  it('gives a request the cached sign-in while at least 30 seconds are left', async () => {
    const sessions = new SessionSignIns(10, clock.now);
    const resolve = countingResolver(clock);
    const key = janeKey();
    const exp = accessExp();
    const first = await sessions.signIn(key, exp, 'request', resolve);
    clock.advance(3570);
    expect(sessions.known(key)).toBe(first);
    expect(await sessions.signIn(key, exp, 'request', resolve)).toBe(first);
    clock.advance(1);
    expect(sessions.known(key)).toBeUndefined();
    const second = await sessions.signIn(key, exp + 3600, 'request', resolve);
    expect(second).not.toBe(first);
    expect(resolve).toHaveBeenCalledTimes(2);
  });

  it("expires a sign-in at the Access token's exp when that comes first", async () => {
    const sessions = new SessionSignIns(10, clock.now);
    const resolve = countingResolver(clock);
    const key = janeKey();
    const accessExpiresAt = clock.seconds + 600;
    const first = await sessions.signIn(
      key,
      accessExpiresAt,
      'request',
      resolve,
    );
    expect(first.expiresAt).toBe(accessExpiresAt);

    // A refresh's "half the lifetime" is half of the 600 seconds.
    clock.advance(300);
    expect(
      await sessions.signIn(key, accessExpiresAt, 'refresh', resolve),
    ).toBe(first);
    clock.advance(1);
    expect(
      await sessions.signIn(key, accessExpiresAt, 'request', resolve),
    ).toBe(first);
    const refreshed = await sessions.signIn(
      key,
      clock.seconds + 3600,
      'refresh',
      resolve,
    );
    expect(refreshed).not.toBe(first);
    expect(resolve).toHaveBeenCalledTimes(2);

    // and a request stops taking it 30 seconds before the Access token expires
    const other = new SessionSignIns(10, clock.now);
    const once = await other.signIn(
      key,
      clock.seconds + 600,
      'request',
      resolve,
    );
    clock.advance(571);
    expect(other.known(key)).toBeUndefined();
    expect(
      await other.signIn(key, clock.seconds + 3600, 'request', resolve),
    ).not.toBe(once);
  });

  it("expires a sign-in at the Backstage token's exp when that comes first", async () => {
    const sessions = new SessionSignIns(10, clock.now);
    const resolve = countingResolver(clock, { lifetime: 300 });
    const first = await sessions.signIn(
      janeKey(),
      accessExp(),
      'request',
      resolve,
    );
    expect(first.expiresAt).toBe(clock.seconds + 300);
  });

  it('does not cache a sign-in that is already too close to its expiry', async () => {
    const sessions = new SessionSignIns(10, clock.now);
    const resolve = countingResolver(clock);
    const key = janeKey();
    const first = await sessions.signIn(
      key,
      clock.seconds + 20,
      'request',
      resolve,
    );
    // The caller gets it (it is still valid) ...
    expect(first.expiresAt).toBe(clock.seconds + 20);
    // ... but nobody else does.
    expect(sessions.known(key)).toBeUndefined();
    await sessions.signIn(key, clock.seconds + 20, 'request', resolve);
    expect(resolve).toHaveBeenCalledTimes(2);
  });

  it('remembers no failure: the next caller resolves again', async () => {
    const sessions = new SessionSignIns(10, clock.now);
    const key = janeKey();
    const resolve = jest
      .fn<Promise<BackstageSignInResult>, []>()
      .mockRejectedValueOnce(new Error('catalog unavailable'))
      .mockImplementation(() => backstageSignIn(clock));
    await expect(
      sessions.signIn(key, accessExp(), 'request', resolve),
    ).rejects.toThrow('catalog unavailable');
    expect(sessions.known(key)).toBeUndefined();
    const second = await sessions.signIn(key, accessExp(), 'request', resolve);
    expect(second.userEntityRef).toBe('user:default/jane');
    expect(resolve).toHaveBeenCalledTimes(2);
  });

  it('shares a failure with the callers waiting for it, then forgets it', async () => {
    const sessions = new SessionSignIns(10, clock.now);
    const key = janeKey();
    let fail!: (error: Error) => void;
    const resolve = jest
      .fn<Promise<BackstageSignInResult>, []>()
      .mockImplementationOnce(
        () =>
          new Promise((_, reject) => {
            fail = reject;
          }),
      )
      .mockImplementation(() => backstageSignIn(clock));
    const first = sessions.signIn(key, accessExp(), 'request', resolve);
    const second = sessions.signIn(key, accessExp(), 'request', resolve);
    fail(new Error('no such user'));
    await expect(first).rejects.toThrow('no such user');
    await expect(second).rejects.toThrow('no such user');
    expect(resolve).toHaveBeenCalledTimes(1);
    await sessions.signIn(key, accessExp(), 'request', resolve);
    expect(resolve).toHaveBeenCalledTimes(2);
  });

  it('takes the user from the identity, else from the token', async () => {
    const sessions = new SessionSignIns(10, clock.now);
    const fromToken = await sessions.signIn(
      janeKey(),
      accessExp(),
      'request',
      () =>
        backstageSignIn(clock, { sub: 'user:default/bob', identity: false }),
    );
    expect(fromToken.userEntityRef).toBe('user:default/bob');
    expect(sessions.known(janeKey())).toBe(fromToken);
  });

  it('caches nothing with maxEntries 0, and holds at most maxEntries sessions', async () => {
    const none = new SessionSignIns(0, clock.now);
    const resolve = countingResolver(clock);
    await none.signIn(janeKey(), accessExp(), 'request', resolve);
    await none.signIn(janeKey(), accessExp(), 'request', resolve);
    expect(resolve).toHaveBeenCalledTimes(2);
    expect(none.known(janeKey())).toBeUndefined();

    const two = new SessionSignIns(2, clock.now);
    const keys = ['a', 'b', 'c'].map(sub =>
      accessSessionKey(person(userClaims(clock, { sub }))),
    );
    for (const key of keys) {
      await two.signIn(key, accessExp(), 'request', resolve);
    }
    expect(two.known(keys[0])).toBeUndefined();
    expect(two.known(keys[1])).toBeDefined();
    expect(two.known(keys[2])).toBeDefined();
  });
});
