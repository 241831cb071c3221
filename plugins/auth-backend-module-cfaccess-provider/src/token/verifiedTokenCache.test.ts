import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { UnsecuredJWT } from 'jose';
import {
  CachedVerification,
  FINGERPRINT_LENGTH,
  timeClaimsValid,
  TimeClaims,
  VerifiedTokenCache,
} from './verifiedTokenCache';
import { entriesIn, T0 } from '../__testUtils__/fixtures';

type Verified = { claims: TimeClaims; label: string };

const NOW_S = Math.floor(T0 / 1000);
const verifyingKeys = [{} as CryptoKey];

function entry(
  claims: Partial<TimeClaims> = {},
  label = 'x',
): CachedVerification<Verified> {
  return {
    verified: { claims: { exp: NOW_S + 3600, nbf: NOW_S, ...claims }, label },
    kid: 'kid-a',
    keys: verifyingKeys,
  };
}

function create(maxEntries = 100, clockToleranceSeconds = 60) {
  return new VerifiedTokenCache<Verified>({
    maxEntries,
    clockToleranceSeconds,
  });
}

describe('VerifiedTokenCache', () => {
  it('finds entries by the end of the token and hits only on its SHA-256, never storing the token', () => {
    const cache = create();
    const token = 'header.payload.signature-that-must-not-be-stored';
    expect(cache.set(token, entry(), T0)).toBe(true);
    const stored = [...(cache as any).lru.entries()];
    expect(stored).toEqual([
      [
        token.slice(-FINGERPRINT_LENGTH),
        {
          digest: createHash('sha256').update(token).digest('base64url'),
          entry: entry(),
        },
      ],
    ]);
    expect(JSON.stringify(stored)).not.toContain('that-must-not-be-stored');
    expect(cache.get(token, T0)?.verified.label).toBe('x');
    // A token differing in any character is a miss.
    expect(cache.get(`${token}A`, T0)).toBeUndefined();
    expect(cache.get(`X${token}`, T0)).toBeUndefined();
    expect(cache.get(token.replace('payload', 'pAyload'), T0)).toBeUndefined();
  });

  it('keeps an entry when another token with the same end is looked up or deleted', () => {
    const cache = create();
    const token = 'header.payload.signature-of-the-real-token';
    const lookalike = 'header.other-payload.signature-of-the-real-token';
    cache.set(token, entry({}, 'real'), T0);
    expect(cache.get(lookalike, T0)).toBeUndefined();
    cache.delete(lookalike);
    expect(cache.get(token, T0)?.verified.label).toBe('real');
    cache.delete(token);
    expect(cache.get(token, T0)).toBeUndefined();
    expect(entriesIn(cache)).toBe(0);
  });

  it('is bounded, evicting the least recently used', () => {
    const cache = create(3);
    for (const t of ['t1', 't2', 't3']) {
      cache.set(t, entry({}, t), T0);
    }
    // t1 used again, so t2 is the least recently used.
    expect(cache.get('t1', T0)).toBeDefined();
    cache.set('t4', entry({}, 't4'), T0);
    cache.set('t5', entry({}, 't5'), T0);
    expect(entriesIn(cache)).toBe(3);
    expect(cache.get('t1', T0)).toBeDefined();
    expect(cache.get('t2', T0)).toBeUndefined();
    expect(cache.get('t3', T0)).toBeUndefined();
    expect(cache.get('t5', T0)).toBeDefined();
  });

  it('does not count a lookalike with the same end as a use of the entry', () => {
    const cache = create(2);
    cache.set('h.p.end-of-t1', entry({}, 't1'), T0);
    cache.set('h.p.end-of-t2', entry({}, 't2'), T0);
    // A miss with t1's end must not make t1 the most recently used.
    expect(cache.get('h.other.end-of-t1', T0)).toBeUndefined();
    cache.set('h.p.end-of-t3', entry({}, 't3'), T0);
    expect(cache.get('h.p.end-of-t1', T0)).toBeUndefined();
    expect(cache.get('h.p.end-of-t2', T0)?.verified.label).toBe('t2');
  });

  it('is off with maxEntries 0', () => {
    const cache = create(0);
    expect(cache.enabled).toBe(false);
    expect(cache.set('t', entry(), T0)).toBe(false);
    expect(cache.get('t', T0)).toBeUndefined();
    expect(entriesIn(cache)).toBe(0);
  });

  it('stops serving at exp, counting the clock tolerance as jose does', () => {
    const cache = create(10, 60);
    const exp = NOW_S + 100;
    cache.set('t', entry({ exp }), T0);
    // Valid while exp > now - tolerance, in whole seconds.
    expect(cache.get('t', (exp + 59) * 1000 + 999)).toBeDefined();
    expect(cache.get('t', (exp + 60) * 1000)).toBeUndefined();
    // And the expired entry is gone, not merely skipped.
    expect(entriesIn(cache)).toBe(0);
    expect(cache.get('t', T0)).toBeUndefined();
  });

  it('does not add a token whose nbf is still in the future, even within tolerance', () => {
    const cache = create(10, 60);
    const nbf = NOW_S + 30;
    expect(cache.set('t', entry({ nbf }), T0)).toBe(false);
    expect(entriesIn(cache)).toBe(0);
    expect(cache.set('t', entry({ nbf }), nbf * 1000)).toBe(true);
    expect(cache.get('t', nbf * 1000)).toBeDefined();
    // A clock that moves back beyond nbf - tolerance stops serving it, as jose would.
    expect(cache.get('t', (nbf - 61) * 1000)).toBeUndefined();
  });

  it('does not add a token that is already expired', () => {
    const cache = create(10, 0);
    expect(cache.set('t', entry({ exp: NOW_S }), T0)).toBe(false);
    expect(entriesIn(cache)).toBe(0);
  });

  it('deletes entries', () => {
    const cache = create();
    cache.set('t', entry(), T0);
    cache.delete('t');
    expect(cache.get('t', T0)).toBeUndefined();
  });
});

describe('timeClaimsValid', () => {
  it("agrees with jose's exp/nbf checks for any times and tolerance", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -200, max: 200 }),
        fc.integer({ min: -200, max: 200 }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 999 }),
        fc.boolean(),
        (expOffset, nbfOffset, tolerance, ms, fractional) => {
          const exp = NOW_S + expOffset + (fractional ? 0.5 : 0);
          const nbf = NOW_S + nbfOffset;
          const nowMs = T0 + ms;
          const jwt = new UnsecuredJWT({ exp, nbf }).encode();
          let joseAccepts = true;
          try {
            UnsecuredJWT.decode(jwt, {
              currentDate: new Date(nowMs),
              clockTolerance: tolerance,
            });
          } catch {
            joseAccepts = false;
          }
          expect(timeClaimsValid({ exp, nbf }, nowMs, tolerance)).toBe(
            joseAccepts,
          );
        },
      ),
      { numRuns: 2000 },
    );
  });
});
