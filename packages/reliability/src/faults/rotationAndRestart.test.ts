/*
 * Key rotation and an emulator restart while people are signed in, through the real auth backend.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type FaultHarness,
  OffsetClock,
  reasonOf,
  sleep,
  startFaultHarness,
} from './harness';

jest.setTimeout(60_000);

/** jwks.cooldownSeconds: 1, the smallest allowed, so an unknown-kid refetch is allowed again after 1 s. */
const COOLDOWN_MS = 1_000;

describe('key rotation (packaged module)', () => {
  let h: FaultHarness;

  // A fresh backend and emulator for each test.
  beforeEach(async () => {
    h = await startFaultHarness({
      provider: { jwks: { cooldownSeconds: COOLDOWN_MS / 1000 } },
    });
  });

  afterEach(async () => {
    await h?.stop();
  });

  it('while signed in: keeps old sessions working, signs new ones in with the new key, and drops a key Access dropped', async () => {
    // Signed in with the first key; two more tokens of that key are kept back for later.
    const alice = await h.signIn('alice@example.com');
    const bob = await h.signIn('bob@example.com');
    const carolFirstKey = await h.signIn('carol@example.com');
    const daveFirstKey = await h.signIn('dave@example.com');
    expect((await h.refresh(alice)).status).toBe(200);
    expect((await h.refresh(bob, 'cookie')).status).toBe(200);
    h.emulator.resetStats();

    // First rotation: the old key stays in certs as the previous key.
    await h.emulator.rotateKeys();
    expect((await h.refresh(alice)).status).toBe(200);
    expect((await h.refresh(bob, 'cookie')).status).toBe(200);
    expect(h.emulator.stats().certsRequests).toBe(0);

    // A sign-in with the new key: one unknown-kid refetch, and everyone works.
    const erin = await h.signIn('erin@example.com');
    const erinRes = await h.refresh(erin);
    expect(erinRes.status).toBe(200);
    expect(erinRes.body.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/erin',
    );
    expect(h.emulator.stats().certsRequests).toBe(1);
    const afterRefetch = await Promise.all([
      h.refresh(alice),
      h.refresh(bob, 'cookie'),
      h.refresh(carolFirstKey),
      h.refresh(erin, 'cookie'),
    ]);
    expect(afterRefetch.map(r => r.status)).toEqual([200, 200, 200, 200]);
    expect(h.emulator.stats().certsRequests).toBe(1);

    // Second rotation: the first key leaves certs. A new sign-in is picked up after the cooldown; a
    // first-key token never seen before is now refused, as Access itself would refuse it.
    await h.emulator.rotateKeys();
    await sleep(COOLDOWN_MS + 100);
    const load = await h.signIn('load01@example.com');
    expect((await h.refresh(load)).status).toBe(200);
    expect((await h.refresh(erin)).status).toBe(200);
    expect(h.emulator.stats().certsRequests).toBe(2);
    const dropped = await h.refresh(daveFirstKey);
    expect(dropped.status).toBe(401);
    expect(reasonOf(dropped)).toBe('unknown_kid');
    expect(h.tokenLogged()).toBe(false);
  });

  it('during a certs outage: keeps signed-in users working, refuses the new key until certs answer, then signs it in', async () => {
    const alice = await h.signIn('alice@example.com');
    expect((await h.refresh(alice)).status).toBe(200);

    h.emulator.setFaults({ certsStatus: 503 });
    await h.emulator.rotateKeys();
    const bob = await h.signIn('bob@example.com');

    // The new kid cannot be checked while certs fails: a 503 that names the outage, never a sign-in
    // unverified, and not a 401 blaming the token.
    const refused = await h.refresh(bob);
    expect(refused.status).toBe(503);
    expect(reasonOf(refused)).toBe('keys_unavailable');
    expect(refused.body.backstageIdentity).toBeUndefined();
    // Signed-in users are not affected.
    expect((await h.refresh(alice, 'cookie')).status).toBe(200);

    // Certs back: after the cooldown the new kid is fetched and the sign-in works, with no restart.
    h.emulator.clearFaults();
    await sleep(COOLDOWN_MS + 100);
    const accepted = await h.refresh(bob);
    expect(accepted.status).toBe(200);
    expect(accepted.body.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/bob',
    );
    expect((await h.refresh(alice)).status).toBe(200);
  });
});

describe('emulator restart while signed in (test clock)', () => {
  let clock: OffsetClock;
  let h: FaultHarness;
  let stateDir: string;

  beforeEach(async () => {
    clock = new OffsetClock();
    stateDir = await mkdtemp(join(tmpdir(), 'cfaccess-reliability-'));
    h = await startFaultHarness({
      clock,
      emulator: { stateDir },
      provider: {
        jwks: { cacheMaxAgeSeconds: 60, cooldownSeconds: COOLDOWN_MS / 1000 },
        identity: { timeoutMs: 500 },
      },
    });
  });

  afterEach(async () => {
    await h?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('keeps sessions working while Access is down and after it restarts with its persisted keys', async () => {
    // Sessions on two keys: alice before a rotation, bob after it.
    const alice = await h.signIn('alice@example.com');
    expect((await h.refresh(alice)).status).toBe(200);
    await h.emulator.rotateKeys();
    const bob = await h.signIn('bob@example.com');
    expect((await h.refresh(bob)).status).toBe(200);
    // Logged in at Access but not yet seen by Backstage.
    const carol = await h.signIn('carol@example.com');
    const dave = await h.signIn('dave@example.com');

    await h.restartEmulator({}, async () => {
      // Access down: signed-in users keep refreshing; a first sign-in gets the JWT profile.
      const down = await Promise.all([
        h.refresh(alice),
        h.refresh(bob, 'cookie'),
      ]);
      expect(down.map(r => r.status)).toEqual([200, 200]);
      const carolDown = await h.refresh(carol);
      expect(carolDown.status).toBe(200);
      expect(carolDown.body.profile.displayName).toBe('carol@example.com');
    });

    // Past the key cache age, the keys are refetched from the restarted emulator: the same keys.
    clock.advance(61_000);
    const erin = await h.signIn('erin@example.com');
    const after = await Promise.all([
      h.refresh(alice),
      h.refresh(bob, 'cookie'),
      h.refresh(carol),
      h.refresh(dave),
      h.refresh(erin),
    ]);
    expect(after.map(r => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(h.emulator.stats().certsRequests).toBe(1);
    // get-identity answers again, from the restarted emulator, for old and new sessions.
    expect(after[2].body.profile.displayName).toBe('Carol Danvers');
    expect(after[3].body.providerInfo.groups).toEqual(['product']);
    expect(after[4].body.providerInfo.groups).toEqual(['engineering']);
    expect(h.tokenLogged()).toBe(false);
  });

  it('control: a restart that loses the keys (no state dir) is noticed, not papered over', async () => {
    const alice = await h.signIn('alice@example.com');
    expect((await h.refresh(alice)).status).toBe(200);
    const bob = await h.signIn('bob@example.com');

    await h.restartEmulator({ stateDir: undefined });
    clock.advance(61_000);
    await sleep(COOLDOWN_MS + 100);

    // Bob's token is signed by a key the new emulator no longer publishes.
    const res = await h.refresh(bob);
    expect(res.status).toBe(401);
    expect(reasonOf(res)).toBe('unknown_kid');
    // A token of the new emulator signs in.
    const carol = await h.signIn('carol@example.com');
    expect((await h.refresh(carol)).status).toBe(200);
  });
});
