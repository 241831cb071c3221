import { importJWK, JWK } from 'jose';
import { CloudflareAccessKeysUnavailableError } from './errors';
import { CfAccessMetrics } from './metrics';
import { RateLimitedLogger } from './rateLimitedLogger';

/** Why a key could not be returned for a kid. */
export type KeyLookup =
  | { key: CryptoKey }
  | { key?: undefined; unknownKid: true; keysAgeMs: number };

export type KeyCacheOptions = {
  certsUrl: string;
  cacheMaxAgeMs: number;
  cooldownMs: number;
  timeoutMs: number;
  staleMaxAgeMs: number;
  logger: RateLimitedLogger;
  metrics: CfAccessMetrics;
  now?: () => number;
  fetch?: typeof fetch;
};

type KeySet = {
  keys: Map<string, CryptoKey>;
  /** kid -> the key material it was imported from, to reuse unchanged keys. */
  material: Map<string, string>;
  fetchedAt: number;
};

/**
 * The team's signing keys from `<team domain>/cdn-cgi/access/certs`, by kid.
 *
 * Rules (each one tested):
 * - one request at a time, shared by every concurrent caller (single-flight);
 * - keys are fresh for `cacheMaxAgeMs`, then refetched on the next use;
 * - an unknown kid refetches at most once per `cooldownMs`, so made-up kids
 *   cannot turn into a flood of requests, while a real rotation is picked up;
 * - when a refetch fails, the last good keys keep serving for
 *   `staleMaxAgeMs` past their freshness, with a rate-limited warning;
 * - with no usable keys at all, callers get a 503 `keys_unavailable`;
 * - a refetch keeps the same key object for a kid whose key material did not
 *   change, so holders of a key (the verified-token cache) can tell by
 *   identity whether it is still published.
 */
export class KeyCache {
  private current?: KeySet;
  private inflight?: Promise<KeySet>;
  private lastAttemptAt?: number;
  private lastUnknownKidRefetchAt?: number;
  private lastError?: unknown;
  private readonly now: () => number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: KeyCacheOptions) {
    this.now = options.now ?? Date.now;
    this.fetchImpl = options.fetch ?? ((...args) => fetch(...args));
  }

  /**
   * Fetches the keys ahead of the first request. Never throws: Access being
   * unreachable at startup must not stop the backend.
   */
  async prefetch(): Promise<boolean> {
    const result = await this.tryRefresh();
    if (!result.ok) {
      this.options.logger.warn(
        'prefetch',
        `Could not prefetch Cloudflare Access signing keys from ${
          this.options.certsUrl
        }; will retry on first sign-in: ${describe(result.error)}`,
      );
    }
    return result.ok;
  }

  /**
   * Refetches now, sharing any request already in flight. Never throws; on
   * failure the last good keys stay (the usual stale rules apply).
   */
  async tryRefresh(): Promise<{ ok: true } | { ok: false; error: unknown }> {
    try {
      await this.refresh();
      return { ok: true };
    } catch (error) {
      return { ok: false, error };
    }
  }

  /** When the keys in use were fetched (ms since epoch); undefined before the first success. */
  get keysFetchedAt(): number | undefined {
    return this.current?.fetchedAt;
  }

  async getKey(kid: string): Promise<KeyLookup> {
    let set = this.current;
    if (!set || this.now() - set.fetchedAt >= this.options.cacheMaxAgeMs) {
      // Missing or no longer fresh: refetch unless a recent attempt failed.
      set = await this.refreshOrStale();
    }

    let key = set.keys.get(kid);
    if (!key && (this.inflight || this.unknownKidCooldownElapsed())) {
      // Possibly a rotation we have not seen yet; at most one unknown-kid
      // refetch per cooldown, and callers arriving meanwhile wait for that
      // one. The cooldown counts from the last unknown-kid refetch, not from
      // the last fetch: a user signing in right after a routine fetch with a
      // just-rotated key must not be turned away for a whole cooldown.
      if (!this.inflight) {
        this.lastUnknownKidRefetchAt = this.now();
      }
      set = await this.refreshOrStale();
      key = set.keys.get(kid);
    }
    if (key) {
      return { key };
    }
    if (this.lastError !== undefined) {
      // The refetch that would tell a rotation from a made-up kid failed (or
      // is held back by the failure cooldown): we cannot check this token, so
      // it is an outage (503), not the token's fault (401 unknown_kid).
      throw new CloudflareAccessKeysUnavailableError(
        `cannot tell whether kid ${JSON.stringify(
          kid.slice(0, 64),
        )} is a current key: the signing keys could not be refreshed from ${
          this.options.certsUrl
        } (${describe(this.lastError)})`,
        this.lastError,
      );
    }
    return {
      unknownKid: true,
      keysAgeMs: Math.max(0, this.now() - set.fetchedAt),
    };
  }

  private unknownKidCooldownElapsed(): boolean {
    return (
      this.lastUnknownKidRefetchAt === undefined ||
      this.now() - this.lastUnknownKidRefetchAt >= this.options.cooldownMs
    );
  }

  private cooldownElapsed(): boolean {
    return (
      this.lastAttemptAt === undefined ||
      this.now() - this.lastAttemptAt >= this.options.cooldownMs
    );
  }

  /** Refetch (rate-limited by the cooldown when failing), or fall back to stale keys. */
  private async refreshOrStale(): Promise<KeySet> {
    const recentFailure =
      this.lastError !== undefined && !this.cooldownElapsed();
    if (!recentFailure || this.inflight) {
      try {
        return await this.refresh();
      } catch {
        // handled below
      }
    }
    const set = this.current;
    const { cacheMaxAgeMs, staleMaxAgeMs, certsUrl } = this.options;
    if (set && this.now() - set.fetchedAt < cacheMaxAgeMs + staleMaxAgeMs) {
      this.options.logger.warn(
        'stale',
        `Cloudflare Access signing keys could not be refreshed from ${certsUrl}; using keys fetched ${Math.round(
          (this.now() - set.fetchedAt) / 1000,
        )}s ago: ${describe(this.lastError)}`,
      );
      return set;
    }
    throw new CloudflareAccessKeysUnavailableError(
      `no signing keys could be fetched from ${certsUrl} (${describe(
        this.lastError,
      )})`,
      this.lastError,
    );
  }

  /** Single-flight fetch: concurrent callers share one request. */
  private refresh(): Promise<KeySet> {
    if (!this.inflight) {
      this.lastAttemptAt = this.now();
      this.inflight = this.fetchKeys()
        .then(
          set => {
            this.current = set;
            this.lastError = undefined;
            return set;
          },
          error => {
            this.lastError = error;
            throw error;
          },
        )
        .finally(() => {
          this.inflight = undefined;
        });
    }
    return this.inflight;
  }

  private async fetchKeys(): Promise<KeySet> {
    const { certsUrl, timeoutMs, metrics } = this.options;
    let body: unknown;
    try {
      const res = await this.fetchImpl(certsUrl, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!res.ok) {
        throw new Error(`certs endpoint answered HTTP ${res.status}`);
      }
      body = await res.json();
    } catch (error) {
      metrics.jwksFetch(isTimeout(error) ? 'timeout' : 'error');
      throw error;
    }

    const jwks = (body as { keys?: unknown })?.keys;
    const keys = new Map<string, CryptoKey>();
    const material = new Map<string, string>();
    if (Array.isArray(jwks)) {
      for (const jwk of jwks as JWK[]) {
        // Access signs with RSA only; anything else in the set is ignored.
        if (
          !jwk ||
          typeof jwk !== 'object' ||
          jwk.kty !== 'RSA' ||
          typeof jwk.kid !== 'string' ||
          !jwk.kid ||
          (jwk.use !== undefined && jwk.use !== 'sig') ||
          (jwk.alg !== undefined && jwk.alg !== 'RS256') ||
          jwk.d !== undefined
        ) {
          continue;
        }
        try {
          const { kid, kty, n, e } = jwk;
          const fingerprint = `${n}.${e}`;
          const previous = this.current;
          const key =
            previous?.material.get(kid) === fingerprint
              ? previous.keys.get(kid)!
              : ((await importJWK({ kty, n, e }, 'RS256')) as CryptoKey);
          keys.set(kid, key);
          material.set(kid, fingerprint);
        } catch {
          // An unimportable key is skipped; the rest may still be fine.
        }
      }
    }
    if (keys.size === 0) {
      metrics.jwksFetch('error');
      throw new Error('certs endpoint returned no usable RSA signing keys');
    }
    metrics.jwksFetch('success');
    return { keys, material, fetchedAt: this.now() };
  }
}

function isTimeout(error: unknown): boolean {
  // Duck-typed: the abort error is a DOMException, not always an Error.
  const name = (error as { name?: unknown } | undefined)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

export function describe(error: unknown): string {
  if (isTimeout(error)) {
    return 'request timed out';
  }
  return error instanceof Error ? error.message : String(error ?? 'unknown');
}
