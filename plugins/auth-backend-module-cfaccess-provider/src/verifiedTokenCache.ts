import { LRUCache } from 'lru-cache';
import { sha256 } from './sha256';

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
 * Successfully verified tokens, so that a session's repeated refreshes skip
 * the RSA signature check.
 *
 * - Keyed by the SHA-256 of the token; the token itself is never stored.
 * - Bounded (LRU, `maxEntries`); only successes are added, so invalid tokens
 *   can neither fill it nor evict anything.
 * - A hit is only returned while exp/nbf pass exactly as in a fresh
 *   verification; the caller must also check that the key is still current.
 * - Tokens whose nbf is still in the future are not added until valid.
 */
export class VerifiedTokenCache<T extends { claims: TimeClaims }> {
  private readonly lru?: LRUCache<string, CachedVerification<T>>;

  constructor(private readonly options: VerifiedTokenCacheOptions) {
    if (options.maxEntries > 0) {
      this.lru = new LRUCache({ max: options.maxEntries });
    }
  }

  get enabled(): boolean {
    return this.lru !== undefined;
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }

  static keyFor(token: string): string {
    return sha256(token, 'base64url');
  }

  get(token: string, nowMs: number): CachedVerification<T> | undefined {
    if (!this.lru) {
      return undefined;
    }
    const key = VerifiedTokenCache.keyFor(token);
    const entry = this.lru.get(key);
    if (!entry) {
      return undefined;
    }
    if (
      !timeClaimsValid(
        entry.verified.claims,
        nowMs,
        this.options.clockToleranceSeconds,
      )
    ) {
      // Let the verifier produce the proper rejection (expired, not_yet_valid).
      this.lru.delete(key);
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
    this.lru.set(VerifiedTokenCache.keyFor(token), entry);
    return true;
  }

  delete(token: string): void {
    this.lru?.delete(VerifiedTokenCache.keyFor(token));
  }
}
