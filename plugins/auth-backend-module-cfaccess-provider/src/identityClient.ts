import { createHash } from 'node:crypto';
import { CacheService } from '@backstage/backend-plugin-api';
import { JsonObject } from '@backstage/types';
import { normalizeAccessGroups } from './groups';
import { CfAccessMetrics } from './metrics';
import { RateLimitedLogger } from './rateLimitedLogger';
import { CloudflareAccessIdentityProfile } from './types';

export type IdentityClientOptions = {
  identityUrl: string;
  cache: CacheService;
  timeoutMs: number;
  /** Upper bound for cached entries; also capped by the token's lifetime. */
  cacheTtlMs: number;
  logger: RateLimitedLogger;
  metrics: CfAccessMetrics;
  now?: () => number;
  fetch?: typeof fetch;
  /** Most lookups shared in flight at once; beyond it requests are not deduplicated. */
  maxInflight?: number;
};

export const DEFAULT_MAX_INFLIGHT = 10_000;

export type IdentityRequest = {
  /** The verified application token; only ever sent to get-identity. */
  token: string;
  sub: string;
  email: string;
  identityNonce: string;
  /** Token expiry, seconds since epoch. */
  exp: number;
};

const CACHE_PREFIX = 'cfaccess:identity:v1:';

/**
 * Fetches the user's identity from `<team domain>/cdn-cgi/access/get-identity`
 * and caches it in Backstage's CacheService (shared between replicas).
 *
 * Cache key: SHA-256 of sub and identity_nonce, never the token; a new login
 * gets a new nonce and so a fresh fetch. Failures are not cached and return
 * `undefined`, and the caller carries on with the token's claims.
 *
 * Per-process state is bounded: the single-flight map holds only lookups in
 * flight (each ends within the timeout) and never more than `maxInflight`.
 */
export class IdentityClient {
  private readonly inflight = new Map<
    string,
    Promise<CloudflareAccessIdentityProfile | undefined>
  >();
  private readonly now: () => number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: IdentityClientOptions) {
    this.now = options.now ?? Date.now;
    this.fetchImpl = options.fetch ?? ((...args) => fetch(...args));
  }

  static cacheKey(sub: string, identityNonce: string): string {
    return (
      CACHE_PREFIX +
      createHash('sha256').update(`${sub}\n${identityNonce}`).digest('hex')
    );
  }

  async getIdentity(
    request: IdentityRequest,
  ): Promise<CloudflareAccessIdentityProfile | undefined> {
    // Without a nonce there is nothing safe to key on: fetch, do not cache.
    if (!request.identityNonce) {
      return this.fetchIdentity(request);
    }
    const key = IdentityClient.cacheKey(request.sub, request.identityNonce);
    const existing = this.inflight.get(key);
    if (existing) {
      return existing;
    }
    if (
      this.inflight.size >= (this.options.maxInflight ?? DEFAULT_MAX_INFLIGHT)
    ) {
      // Full: still answer, just without sharing, so memory stays bounded.
      return this.lookup(key, request);
    }
    const promise = this.lookup(key, request).finally(() => {
      this.inflight.delete(key);
    });
    this.inflight.set(key, promise);
    return promise;
  }

  private async lookup(
    key: string,
    request: IdentityRequest,
  ): Promise<CloudflareAccessIdentityProfile | undefined> {
    const { cache, metrics, logger, cacheTtlMs } = this.options;
    try {
      const cached = await cache.get<JsonObject>(key);
      if (cached && typeof cached === 'object') {
        metrics.identityCache('hit');
        return cached as unknown as CloudflareAccessIdentityProfile;
      }
    } catch (error) {
      logger.warn(
        'identity-cache-get',
        `Identity cache read failed, fetching instead: ${errorMessage(error)}`,
      );
    }
    metrics.identityCache('miss');

    const identity = await this.fetchIdentity(request);
    const ttl = Math.min(cacheTtlMs, request.exp * 1000 - this.now());
    if (identity && ttl > 0) {
      try {
        await cache.set(key, identity as unknown as JsonObject, { ttl });
      } catch (error) {
        logger.warn(
          'identity-cache-set',
          `Identity cache write failed: ${errorMessage(error)}`,
        );
      }
    }
    return identity;
  }

  private async fetchIdentity(
    request: IdentityRequest,
  ): Promise<CloudflareAccessIdentityProfile | undefined> {
    const { identityUrl, timeoutMs, metrics, logger } = this.options;
    try {
      const res = await this.fetchImpl(identityUrl, {
        headers: {
          accept: 'application/json',
          cookie: `CF_Authorization=${request.token}`,
        },
        // An expired Access session answers with a redirect to the login page.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (res.status !== 200) {
        throw new Error(`get-identity answered HTTP ${res.status}`);
      }
      const body = (await res.json()) as unknown;
      const identity = parseIdentity(body, request);
      metrics.identityFetch('success');
      return identity;
    } catch (error) {
      const timeout = isTimeout(error);
      metrics.identityFetch(timeout ? 'timeout' : 'error');
      logger.warn(
        'identity-fetch',
        `Cloudflare Access get-identity failed, continuing with the token's claims and no groups: ${
          timeout ? 'request timed out' : errorMessage(error)
        }`,
      );
      return undefined;
    }
  }
}

function parseIdentity(
  body: unknown,
  request: IdentityRequest,
): CloudflareAccessIdentityProfile {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new Error(
      'get-identity answered with something other than an object',
    );
  }
  const b = body as Record<string, unknown>;
  // The identity must describe the same person as the verified token.
  const email = typeof b.email === 'string' ? b.email : '';
  if (email.toLowerCase() !== request.email.toLowerCase()) {
    throw new Error(
      "get-identity answered for an email other than the token's",
    );
  }
  const idp =
    b.idp && typeof b.idp === 'object' && !Array.isArray(b.idp)
      ? (b.idp as Record<string, unknown>)
      : undefined;
  return {
    id: typeof b.id === 'string' && b.id ? b.id : request.sub,
    name: typeof b.name === 'string' && b.name ? b.name : email,
    email: request.email,
    groups: normalizeAccessGroups(b.groups),
    ...(idp && {
      idp: { id: String(idp.id ?? ''), type: String(idp.type ?? '') },
    }),
    ...(isJsonObject(b.custom) ? { custom: b.custom } : {}),
  };
}

function isJsonObject(value: unknown): value is JsonObject {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function isTimeout(error: unknown): boolean {
  // Duck-typed: the abort error is a DOMException, not always an Error.
  const name = (error as { name?: unknown } | undefined)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
