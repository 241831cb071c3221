import { LRUCache } from 'lru-cache';
import { deepFreeze } from './deepFreeze';
import { CloudflareAccessIdentityProfile } from './types';

type MemoEntry = {
  identity: CloudflareAccessIdentityProfile;
  /** ms since epoch; the entry is not served from then on. */
  expiresAt: number;
};

/**
 * A per-process memo of get-identity answers in front of the CacheService, so
 * that a known session's identity costs neither a cache read nor a JSON parse.
 *
 * - Keyed like the CacheService (SHA-256 of sub and identity_nonce). The answer
 *   for one (sub, identity_nonce) never changes, so replicas cannot disagree.
 * - Bounded: at most `maxEntries` (least recently used dropped first); 0 disables it.
 * - An entry is never served at or after the deadline it was stored with.
 * - Identities are deep-frozen when stored, so callers cannot change them.
 */
export class IdentityMemo {
  private readonly lru?: LRUCache<string, MemoEntry>;

  constructor(maxEntries: number) {
    if (maxEntries > 0) {
      this.lru = new LRUCache({ max: maxEntries });
    }
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }

  get(key: string, nowMs: number): CloudflareAccessIdentityProfile | undefined {
    const entry = this.lru?.get(key);
    if (!entry) {
      return undefined;
    }
    if (entry.expiresAt <= nowMs) {
      this.lru!.delete(key);
      return undefined;
    }
    return entry.identity;
  }

  /** Stores a (successful) identity until `expiresAt`; returns it frozen. */
  set(
    key: string,
    identity: CloudflareAccessIdentityProfile,
    expiresAt: number,
    nowMs: number,
  ): CloudflareAccessIdentityProfile {
    const frozen = deepFreeze(identity);
    if (this.lru && expiresAt > nowMs) {
      this.lru.set(key, { identity: frozen, expiresAt });
    }
    return frozen;
  }
}
