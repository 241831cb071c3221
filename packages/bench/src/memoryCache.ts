import {
  CacheService,
  CacheServiceSetOptions,
} from '@backstage/backend-plugin-api';
import { durationToMilliseconds, JsonValue } from '@backstage/types';

/**
 * An in-process CacheService for the benchmarks: what Backstage's default memory cache does, without a
 * backend around it.
 */
export function createMemoryCache(): CacheService {
  const entries = new Map<string, { value: JsonValue; expiresAt: number }>();
  const cache: CacheService = {
    async get<T extends JsonValue>(key: string) {
      const entry = entries.get(key);
      if (!entry || entry.expiresAt <= Date.now()) {
        entries.delete(key);
        return undefined;
      }
      return entry.value as T;
    },
    async set(key: string, value: JsonValue, options?: CacheServiceSetOptions) {
      const ttl = options?.ttl;
      let ttlMs = 60_000;
      if (typeof ttl === 'number') {
        ttlMs = ttl;
      } else if (ttl) {
        ttlMs = durationToMilliseconds(ttl);
      }
      entries.set(key, { value, expiresAt: Date.now() + ttlMs });
    },
    async delete(key: string) {
      entries.delete(key);
    },
    withOptions() {
      return cache;
    },
  };
  return cache;
}
