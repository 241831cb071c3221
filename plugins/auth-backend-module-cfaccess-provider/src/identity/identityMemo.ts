import { LRUCache } from 'lru-cache';
import { deepFreeze } from '../lib/deepFreeze';
import { countJsonContainers } from '../lib/jsonDepth';
import { CloudflareAccessIdentityProfile } from '../types';

type MemoEntry = {
  identity: CloudflareAccessIdentityProfile;
  /** ms since epoch; the entry is not served from then on. */
  expiresAt: number;
};

export type IdentityMemoOptions = {
  /** Most identities held; 0 disables the memo. */
  maxEntries: number;
  /**
   * Most bytes held, all entries together, as estimated by memoryWeight. An
   * answer near the body limit is a megabyte, so a count alone would not
   * bound memory.
   */
  maxBytes: number;
};

/**
 * What an identity costs in memory, estimated from its JSON: its text, plus a
 * fixed cost per object and array, which dominates for an answer that nests
 * many small ones (`[[],[],…]` costs far more heap than its JSON text).
 */
const BYTES_PER_CONTAINER = 64;
export const memoryWeight = (
  identity: CloudflareAccessIdentityProfile,
  jsonBytes: number,
) => jsonBytes + BYTES_PER_CONTAINER * countJsonContainers(identity);

/**
 * A per-process memo of get-identity answers in front of the CacheService, so
 * that a known session's identity costs neither a cache read nor a JSON parse.
 *
 * - Keyed like the CacheService (SHA-256 of the issuer, sub and
 *   identity_nonce). The answer for one session never changes, so replicas
 *   cannot disagree.
 * - Bounded by count and by estimated memory (memoryWeight; least recently
 *   used dropped first); an identity larger than the whole budget is not held.
 * - An entry is never served at or after the deadline it was stored with.
 * - Identities are deep-frozen when stored, so callers cannot change them.
 */
export class IdentityMemo {
  private readonly lru?: LRUCache<string, MemoEntry>;

  constructor(options: IdentityMemoOptions) {
    if (options.maxEntries > 0 && options.maxBytes > 0) {
      this.lru = new LRUCache({
        max: options.maxEntries,
        maxSize: options.maxBytes,
      });
    }
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

  /**
   * Stores a (successful) identity until `expiresAt`, counting its
   * memoryWeight (from `jsonBytes`, the size of its JSON) against the budget;
   * returns it frozen.
   */
  set(
    key: string,
    identity: CloudflareAccessIdentityProfile,
    jsonBytes: number,
    expiresAt: number,
    nowMs: number,
  ): CloudflareAccessIdentityProfile {
    const frozen = deepFreeze(identity);
    if (this.lru && expiresAt > nowMs) {
      // lru-cache refuses (does not store) an entry larger than maxSize.
      this.lru.set(
        key,
        { identity: frozen, expiresAt },
        { size: memoryWeight(frozen, jsonBytes) },
      );
    }
    return frozen;
  }
}
