import { LRUCache } from 'lru-cache';
import { sha256 } from '../lib/sha256';

/** The time claims a cached verification is checked against on every hit. */
export type TimeClaims = { exp: number; nbf: number };

/** One remembered verification and the keys it was verified with. */
export type CachedVerification<T extends { claims: TimeClaims }> = {
  verified: T;
  /** The kid the signature was verified with. */
  kid: string;
  /**
   * The kid's keys when it verified (normally one). KeyCache keeps the same
   * object while the kid's key material is unchanged, so identity comparison
   * tells whether they are still the ones the team publishes.
   */
  keys: readonly CryptoKey[];
};

export type VerifiedTokenCacheOptions = {
  /** Upper bound on entries; 0 disables the cache. */
  maxEntries: number;
  /** Must be the verifier's tolerance, so hits and fresh checks agree. */
  clockToleranceSeconds: number;
};

// jose compares against whole seconds; so must we, or hits and misses disagree at the edge.
const epochSeconds = (nowMs: number) => Math.floor(nowMs / 1000);

/**
 * True when jose would accept these claims at `nowMs` with this tolerance:
 * `nbf <= now + tolerance` and `exp > now - tolerance` (jose's exact rules).
 */
export function timeClaimsValid(
  claims: TimeClaims,
  nowMs: number,
  toleranceSeconds: number,
): boolean {
  const now = epochSeconds(nowMs);
  return (
    claims.nbf <= now + toleranceSeconds && claims.exp > now - toleranceSeconds
  );
}

/**
 * How many characters of a token's end (the end of its signature) find its
 * entry. Fewer than 13, so that V8 copies them instead of keeping a view of
 * the whole token alive; for an RSA-2048 signature they carry 68 bits.
 */
export const FINGERPRINT_LENGTH = 12;

/** An entry and the SHA-256 of the token it is for. */
type Stored<T extends { claims: TimeClaims }> = {
  digest: string;
  entry: CachedVerification<T>;
};

/**
 * Successfully verified tokens, so that a session's repeated refreshes skip
 * the RSA signature check.
 *
 * - Found by the last FINGERPRINT_LENGTH characters of the token, and a hit
 *   only when the SHA-256 of the whole token matches the entry's: a token
 *   differing anywhere is a miss, and one with the same end neither replaces
 *   nor removes the entry unless it too verifies. The token itself is never
 *   stored.
 * - A token whose end matches no cached token (a new session, a forged
 *   signature) is not hashed on lookup; one that keeps a cached token's
 *   signature with another payload is hashed once and misses, as every token
 *   was before. A new session is hashed once, when it is added.
 * - Bounded (LRU, `maxEntries`); only successes are added, so invalid tokens
 *   can neither fill it nor evict anything.
 * - A hit is only returned while exp/nbf pass exactly as in a fresh
 *   verification; the caller must also check that the key is still current.
 * - Tokens whose nbf is still in the future are not added until valid.
 */
export class VerifiedTokenCache<T extends { claims: TimeClaims }> {
  private readonly lru?: LRUCache<string, Stored<T>>;

  constructor(private readonly options: VerifiedTokenCacheOptions) {
    if (options.maxEntries > 0) {
      this.lru = new LRUCache({ max: options.maxEntries });
    }
  }

  get enabled(): boolean {
    return this.lru !== undefined;
  }

  static digestOf(token: string): string {
    return sha256(token, 'base64url');
  }

  static fingerprintOf(token: string): string {
    return token.slice(-FINGERPRINT_LENGTH);
  }

  get(token: string, nowMs: number): CachedVerification<T> | undefined {
    const fingerprint = VerifiedTokenCache.fingerprintOf(token);
    // Peeked, so a lookalike with the same end cannot keep an entry recent.
    const stored = this.lru?.peek(fingerprint);
    // Most first verifications end here, before any hashing.
    if (!stored || stored.digest !== VerifiedTokenCache.digestOf(token)) {
      return undefined;
    }
    this.lru!.get(fingerprint);
    const { entry } = stored;
    if (
      !timeClaimsValid(
        entry.verified.claims,
        nowMs,
        this.options.clockToleranceSeconds,
      )
    ) {
      // Let the verifier produce the proper rejection (expired, not_yet_valid).
      this.lru!.delete(fingerprint);
      return undefined;
    }
    return entry;
  }

  /** Remembers a successful verification; returns whether it was added. */
  set(token: string, entry: CachedVerification<T>, nowMs: number): boolean {
    if (!this.lru) {
      return false;
    }
    const { claims } = entry.verified;
    // Not before it is valid without tolerance, and not once expired.
    if (
      claims.nbf > epochSeconds(nowMs) ||
      !timeClaimsValid(claims, nowMs, this.options.clockToleranceSeconds)
    ) {
      return false;
    }
    this.lru.set(VerifiedTokenCache.fingerprintOf(token), {
      digest: VerifiedTokenCache.digestOf(token),
      entry,
    });
    return true;
  }

  /** Forgets this token's entry (not another token's with the same end). */
  delete(token: string): void {
    const fingerprint = VerifiedTokenCache.fingerprintOf(token);
    const stored = this.lru?.peek(fingerprint);
    if (stored && stored.digest === VerifiedTokenCache.digestOf(token)) {
      this.lru!.delete(fingerprint);
    }
  }
}
