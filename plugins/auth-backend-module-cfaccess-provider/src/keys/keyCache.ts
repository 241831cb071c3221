import { CloudflareAccessKeysUnavailableError } from '../errors';
import { errorText } from '../lib/errorText';
import { logValue } from '../lib/logValue';
import { CfAccessMetrics } from '../lib/metrics';
import { RateLimitedLogger } from '../lib/rateLimitedLogger';
import { isTimeout } from '../lib/timeout';
import { requestCerts } from './certsRequest';
import { importSigningKeys, KeysForKid } from './signingKeys';

export type { KeysForKid } from './signingKeys';

/**
 * The keys for a kid (`key` is the first, normally the only one), or why
 * there are none.
 */
export type KeyLookup =
  | { key: CryptoKey; keys: KeysForKid }
  | { key?: undefined; keys?: undefined; unknownKid: true; keysAgeMs: number };

export type KeyCacheOptions = {
  certsUrl: string;
  cacheMaxAgeMs: number;
  cooldownMs: number;
  timeoutMs: number;
  staleMaxAgeMs: number;
  /** Larger certs answers are refused (a failed fetch). */
  maxBodyBytes: number;
  logger: RateLimitedLogger;
  metrics: CfAccessMetrics;
  now?: () => number;
  fetch?: typeof fetch;
};

type KeySet = {
  keys: Map<string, KeysForKid>;
  /** kid -> the key material its keys were imported from, to reuse unchanged keys. */
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
 * - a refetch keeps the same keys object for a kid whose key material did not
 *   change, so holders of a kid's keys (the verified-token cache) can tell by
 *   identity whether they are still published;
 * - several keys under one kid (never seen from Access) are all kept, up to
 *   MAX_KEYS_PER_KID, with a warning, and a token is checked against each,
 *   as jose's JWKS helpers do; identical duplicates count once;
 * - certs answers over `maxBodyBytes` are refused unread, and bodies that are
 *   not read (error statuses) are cancelled.
 */
export class KeyCache {
  private current?: KeySet;
  private inflight?: Promise<KeySet>;
  private lastAttemptAt?: number;
  private lastUnknownKidRefetchAt?: number;
  private lastError?: unknown;
  private readonly now: () => number;

  constructor(private readonly options: KeyCacheOptions) {
    this.now = options.now ?? Date.now;
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

  /**
   * The kid's keys when the keys in hand are fresh and have it: what getKey
   * would answer without fetching, without a promise. Otherwise undefined
   * (call getKey).
   */
  freshKeys(kid: string): KeysForKid | undefined {
    const set = this.current;
    return set && this.now() - set.fetchedAt < this.options.cacheMaxAgeMs
      ? set.keys.get(kid)
      : undefined;
  }

  async getKey(kid: string): Promise<KeyLookup> {
    let set = this.current;
    if (!set || this.now() - set.fetchedAt >= this.options.cacheMaxAgeMs) {
      // Missing or no longer fresh: refetch unless a recent attempt failed.
      set = await this.refreshOrStale();
    }

    let keys = set.keys.get(kid);
    if (!keys && (this.inflight || this.unknownKidCooldownElapsed())) {
      // Possibly a rotation we have not seen yet; at most one unknown-kid
      // refetch per cooldown, and callers arriving meanwhile wait for that
      // one. The cooldown counts from the last unknown-kid refetch, not from
      // the last fetch: a user signing in right after a routine fetch with a
      // just-rotated key must not be turned away for a whole cooldown.
      if (!this.inflight) {
        this.lastUnknownKidRefetchAt = this.now();
      }
      set = await this.refreshOrStale();
      keys = set.keys.get(kid);
    }
    if (keys) {
      return { key: keys[0], keys };
    }
    if (this.lastError !== undefined) {
      // The refetch that would tell a rotation from a made-up kid failed (or
      // is held back by the failure cooldown): we cannot check this token, so
      // it is an outage (503), not the token's fault (401 unknown_kid).
      throw new CloudflareAccessKeysUnavailableError(
        `cannot tell whether kid ${logValue(
          kid,
        )} is a current key: the signing keys could not be refreshed from ${
          this.options.certsUrl
        } (${errorText(this.lastError)})`,
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
        )}s ago: ${errorText(this.lastError)}`,
      );
      return set;
    }
    throw new CloudflareAccessKeysUnavailableError(
      `no signing keys could be fetched from ${certsUrl} (${errorText(
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
    const { certsUrl, timeoutMs, maxBodyBytes, metrics } = this.options;
    let body: unknown;
    try {
      ({ body } = await requestCerts(certsUrl, {
        timeoutMs,
        maxBodyBytes,
        fetch: this.options.fetch,
      }));
    } catch (error) {
      metrics.jwksFetch(isTimeout(error) ? 'timeout' : 'error');
      throw error;
    }
    const imported = await importSigningKeys(body);
    if (imported.size === 0) {
      metrics.jwksFetch('error');
      throw new Error('certs endpoint returned no usable RSA signing keys');
    }
    const keys = new Map<string, KeysForKid>();
    const material = new Map<string, string>();
    const previous = this.current;
    for (const [kid, entry] of imported) {
      if (entry.keys.length > 1) {
        this.options.logger.warn(
          `duplicate-kid:${kid}`,
          `Cloudflare Access certs list ${
            entry.keys.length
          } different keys under kid ${logValue(
            kid,
          )}; tokens with that kid are checked against each`,
        );
      }
      // Same material as before: keep the same keys object (see the class comment).
      keys.set(
        kid,
        previous?.material.get(kid) === entry.material
          ? previous.keys.get(kid)!
          : entry.keys,
      );
      material.set(kid, entry.material);
    }
    metrics.jwksFetch('success');
    return { keys, material, fetchedAt: this.now() };
  }
}
