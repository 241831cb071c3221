import { CacheService } from '@backstage/backend-plugin-api';
import { deepFreeze } from '../lib/deepFreeze';
import { cachedIdentitySchema, identityAnswerSchema } from './identitySchema';
import { IdentityMemo } from './identityMemo';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../lib/jsonDepth';
import { logValue } from '../lib/logValue';
import { CfAccessMetrics } from '../lib/metrics';
import { RateLimitedLogger } from '../lib/rateLimitedLogger';
import { discardBody, readBodyText } from '../lib/responseBody';
import { sha256 } from '../lib/sha256';
import { sameEmailAddress } from '../signIn/email';
import { isTimeout, withTimeout } from '../lib/timeout';
import {
  CloudflareAccessClaims,
  CloudflareAccessIdentityProfile,
} from '../types';

export type IdentityClientOptions = {
  /** The team domain (token issuer): part of the cache key, so teams never share entries. */
  issuer: string;
  identityUrl: string;
  cache: CacheService;
  timeoutMs: number;
  /** Larger answers count as failed (the caller carries on with the token's claims). */
  maxBodyBytes: number;
  /** Upper bound for cached entries; also capped by the token's lifetime. */
  cacheTtlMs: number;
  logger: RateLimitedLogger;
  metrics: CfAccessMetrics;
  now?: () => number;
  fetch?: typeof fetch;
  /** Most lookups shared in flight at once; beyond it requests are not deduplicated. */
  maxInflight?: number;
  /** Most identities memoised in this process (see IdentityMemo); 0 or unset: none. */
  memoMaxEntries?: number;
  /** Most bytes memoised in this process (estimated, see IdentityMemo); default MEMO_MAX_BYTES. */
  memoMaxBytes?: number;
};

/**
 * The memo's byte budget: many thousands of real identities (a few KB each),
 * but only a few dozen answers near the body limit.
 */
export const MEMO_MAX_BYTES = 32 * 1024 * 1024;

export const DEFAULT_MAX_INFLIGHT = 10_000;

/** Clock difference between replicas within which a fetch time is believed. */
const FETCHED_AT_TOLERANCE_MS = 60_000;

export type IdentityRequest = {
  /** The verified application token; only ever sent to get-identity. */
  token: string;
  sub: string;
  email: string;
  identityNonce: string;
  /** Token expiry, seconds since epoch. */
  exp: number;
};

/** What get-identity is asked for a verified person's application token. */
export function identityRequestFor(
  token: string,
  claims: Pick<
    CloudflareAccessClaims,
    'sub' | 'email' | 'identity_nonce' | 'exp'
  >,
): IdentityRequest {
  return {
    token,
    sub: claims.sub,
    email: claims.email,
    identityNonce: claims.identity_nonce,
    exp: claims.exp,
  };
}

// v4: the value has the device facts and when get-identity answered; v3: the
// key hashes the issuer too (v2 hashed sub and identity_nonce only); the
// value is a JSON string since v2 (v1 stored an object). A new prefix per
// format, so older entries are never read.
const CACHE_PREFIX = 'cfaccess:identity:v4:';

/**
 * Fetches the user's identity from `<team domain>/cdn-cgi/access/get-identity`
 * and caches it in Backstage's CacheService (shared between replicas), with a
 * per-process memo in front (IdentityMemo).
 *
 * Cache key: SHA-256 of the issuer (team domain), sub and identity_nonce,
 * never the token; a new login gets a new nonce and so a fresh fetch, and two
 * providers on different teams sharing one cache service never share entries. The value is the identity as a JSON
 * string: Backstage's in-memory store keeps objects as live object graphs,
 * about twice the heap. Failures are not cached and return `undefined`, and
 * the caller carries on with the token's claims. Returned identities are
 * frozen.
 *
 * Per-process state is bounded: the memo by `memoMaxEntries` and
 * `memoMaxBytes`, and the
 * single-flight map holds only lookups in flight (each ends within the
 * timeout) and never more than `maxInflight`.
 */
export class IdentityClient {
  private readonly inflight = new Map<
    string,
    Promise<CloudflareAccessIdentityProfile | undefined>
  >();
  /** Fetches for a caller that found the identity too old, one per session. */
  private readonly refetches = new Map<
    string,
    Promise<CloudflareAccessIdentityProfile | undefined>
  >();
  private readonly now: () => number;
  private readonly fetchImpl: typeof fetch;
  private readonly memo: IdentityMemo;

  constructor(private readonly options: IdentityClientOptions) {
    this.now = options.now ?? Date.now;
    this.fetchImpl = options.fetch ?? ((...args) => fetch(...args));
    this.memo = new IdentityMemo({
      maxEntries: options.memoMaxEntries ?? 0,
      maxBytes: options.memoMaxBytes ?? MEMO_MAX_BYTES,
    });
  }

  static cacheKey(issuer: string, sub: string, identityNonce: string): string {
    return CACHE_PREFIX + sha256(`${issuer}\n${sub}\n${identityNonce}`, 'hex');
  }

  /**
   * The session's identity: memoised, cached or fetched. With `maxAgeMs`, an
   * identity get-identity gave longer ago than that is fetched again (one
   * fetch per session at a time); when that fetch fails the answer is
   * `undefined`, never the older identity.
   */
  async getIdentity(
    request: IdentityRequest,
    options: { maxAgeMs?: number } = {},
  ): Promise<CloudflareAccessIdentityProfile | undefined> {
    // Without a nonce there is nothing safe to key on: fetch, do not cache.
    if (!request.identityNonce) {
      const identity = await this.fetchIdentity(request);
      return identity && deepFreeze(identity);
    }
    const key = IdentityClient.cacheKey(
      this.options.issuer,
      request.sub,
      request.identityNonce,
    );
    const identity = await this.sharedLookup(key, request);
    const { maxAgeMs } = options;
    if (
      identity === undefined ||
      maxAgeMs === undefined ||
      this.youngEnough(identity, maxAgeMs)
    ) {
      return identity;
    }
    return this.single(this.refetches, key, () =>
      this.fetchAndStore(key, request),
    );
  }

  /**
   * Whether get-identity gave the identity at most `maxAgeMs` ago. A fetch
   * time ahead of this clock (another replica's, or a cache entry written
   * by anything else) is not believed.
   */
  private youngEnough(
    identity: CloudflareAccessIdentityProfile,
    maxAgeMs: number,
  ): boolean {
    const { fetchedAt } = identity;
    const now = this.now();
    return (
      fetchedAt !== undefined &&
      fetchedAt <= now + FETCHED_AT_TOLERANCE_MS &&
      now - fetchedAt <= maxAgeMs
    );
  }

  /** The memoised identity, or one lookup per session in flight. */
  private async sharedLookup(
    key: string,
    request: IdentityRequest,
  ): Promise<CloudflareAccessIdentityProfile | undefined> {
    const memoised = this.memo.get(key, this.now());
    if (memoised) {
      this.options.metrics.identityCache('hit');
      return memoised;
    }
    return this.single(this.inflight, key, () => this.lookup(key, request));
  }

  /**
   * One call per key in flight in `map`; beyond maxInflight keys, calls are
   * not shared, so memory stays bounded.
   */
  private single(
    map: Map<string, Promise<CloudflareAccessIdentityProfile | undefined>>,
    key: string,
    call: () => Promise<CloudflareAccessIdentityProfile | undefined>,
  ): Promise<CloudflareAccessIdentityProfile | undefined> {
    const existing = map.get(key);
    if (existing) {
      return existing;
    }
    if (map.size >= (this.options.maxInflight ?? DEFAULT_MAX_INFLIGHT)) {
      return call();
    }
    const promise = call().finally(() => {
      map.delete(key);
    });
    map.set(key, promise);
    return promise;
  }

  private async lookup(
    key: string,
    request: IdentityRequest,
  ): Promise<CloudflareAccessIdentityProfile | undefined> {
    const { metrics } = this.options;
    const cached = await this.readCache(key, request);
    if (cached) {
      metrics.identityCache('hit');
      // Held no longer than the entry itself lives: cacheTtlMs from the fetch.
      const { fetchedAt } = cached.identity;
      const deadline =
        fetchedAt === undefined
          ? this.deadline(request)
          : Math.min(
              this.deadline(request),
              fetchedAt + this.options.cacheTtlMs,
            );
      return this.memo.set(
        key,
        cached.identity,
        cached.jsonBytes,
        deadline,
        this.now(),
      );
    }
    metrics.identityCache('miss');
    return this.fetchAndStore(key, request);
  }

  /** Fetches the identity and keeps it in the memo and the cache, replacing any older one. */
  private async fetchAndStore(
    key: string,
    request: IdentityRequest,
  ): Promise<CloudflareAccessIdentityProfile | undefined> {
    const { logger } = this.options;
    const fetched = await this.fetchIdentity(request);
    if (!fetched) {
      // Failures are never cached nor memoised.
      return undefined;
    }
    const deadline = this.deadline(request);
    const json = JSON.stringify(fetched);
    const identity = this.memo.set(
      key,
      fetched,
      Buffer.byteLength(json),
      deadline,
      this.now(),
    );
    const ttl = deadline - this.now();
    if (ttl > 0) {
      try {
        await this.options.cache.set(key, json, { ttl });
      } catch (error) {
        logger.warn(
          'identity-cache-set',
          `Identity cache write failed: ${logValue(error)}`,
        );
      }
    }
    return identity;
  }

  /** Caching ends after cacheTtlMs from now, and never after the token expires. */
  private deadline(request: IdentityRequest): number {
    return Math.min(this.now() + this.options.cacheTtlMs, request.exp * 1000);
  }

  /** The cached identity and the size of its JSON, or undefined for a miss, a read error or an unusable entry. */
  private async readCache(
    key: string,
    request: IdentityRequest,
  ): Promise<
    { identity: CloudflareAccessIdentityProfile; jsonBytes: number } | undefined
  > {
    const { cache, logger } = this.options;
    let value: unknown;
    try {
      value = await cache.get(key);
    } catch (error) {
      logger.warn(
        'identity-cache-get',
        `Identity cache read failed, fetching instead: ${logValue(error)}`,
      );
      return undefined;
    }
    if (value === undefined) {
      return undefined;
    }
    const identity = parseCachedIdentity(value, request.email);
    if (!identity) {
      logger.warn(
        'identity-cache-invalid',
        'Identity cache entry is not a valid identity, fetching instead',
      );
      return undefined;
    }
    // parseCachedIdentity accepts only a string.
    return { identity, jsonBytes: Buffer.byteLength(value as string) };
  }

  private async fetchIdentity(
    request: IdentityRequest,
  ): Promise<CloudflareAccessIdentityProfile | undefined> {
    const { identityUrl, timeoutMs, maxBodyBytes, metrics, logger } =
      this.options;
    try {
      // The timeout covers the request and reading the body.
      const body = await withTimeout(timeoutMs, async signal => {
        const res = await this.fetchImpl(identityUrl, {
          headers: {
            accept: 'application/json',
            cookie: `CF_Authorization=${request.token}`,
          },
          // An expired Access session answers with a redirect to the login page.
          redirect: 'manual',
          signal,
        });
        if (res.status !== 200) {
          discardBody(res);
          throw new Error(`get-identity answered HTTP ${res.status}`);
        }
        return JSON.parse(await readBodyText(res, maxBodyBytes)) as unknown;
      });
      const identity = parseIdentity(body, request, this.now());
      metrics.identityFetch('success');
      return identity;
    } catch (error) {
      const timeout = isTimeout(error);
      metrics.identityFetch(timeout ? 'timeout' : 'error');
      logger.warn(
        'identity-fetch',
        `Cloudflare Access get-identity failed, continuing with the token's claims and no groups: ${
          timeout ? 'request timed out' : logValue(error)
        }`,
      );
      return undefined;
    }
  }
}

/**
 * get-identity's answer is for the token's person when the emails are equal
 * as written, or the same address but for ASCII case; never through Unicode
 * folding (sameEmailAddress). A non-ASCII email still gets its own identity.
 */
function sameEmail(a: string, b: string): boolean {
  return a === b || sameEmailAddress(a, b);
}

function parseIdentity(
  body: unknown,
  request: IdentityRequest,
  fetchedAt: number,
): CloudflareAccessIdentityProfile {
  // Before anything walks it: deep nesting is never a real answer.
  if (exceedsJsonDepth(body)) {
    throw new Error(
      `get-identity answered with JSON nested deeper than ${MAX_JSON_DEPTH} levels`,
    );
  }
  const parsed = identityAnswerSchema.safeParse(body);
  if (!parsed.success) {
    throw new Error(
      'get-identity answered with something other than an object',
    );
  }
  const answer = parsed.data;
  // The identity must describe the same person as the verified token.
  if (!sameEmail(answer.email, request.email)) {
    throw new Error(
      "get-identity answered for an email other than the token's",
    );
  }
  return {
    id: answer.id || request.sub,
    name: answer.name || answer.email,
    email: request.email,
    groups: answer.groups,
    ...(answer.idp && {
      idp: {
        id: String(answer.idp.id ?? ''),
        type: String(answer.idp.type ?? ''),
      },
    }),
    ...(answer.custom && { custom: answer.custom }),
    device: {
      ...(answer.device_id && { id: answer.device_id }),
      warp: answer.is_warp,
      gateway: answer.is_gateway,
      posture: answer.devicePosture,
    },
    fetchedAt,
  };
}

/**
 * Reads a cached identity defensively: anything but the JSON string of an
 * identity for this email (corrupt, truncated, another format) is a miss.
 */
export function parseCachedIdentity(
  value: unknown,
  email: string,
): CloudflareAccessIdentityProfile | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (exceedsJsonDepth(json)) {
    return undefined;
  }
  try {
    const parsed = cachedIdentitySchema.safeParse(json);
    return parsed.success && sameEmail(parsed.data.email, email)
      ? parsed.data
      : undefined;
  } catch {
    // A schema library that throws on some input must not fail the lookup:
    // an entry we cannot read is a miss, and the identity is fetched again.
    return undefined;
  }
}
