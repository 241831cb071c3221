import { performance } from 'node:perf_hooks';
import { CacheService, LoggerService } from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import {
  createProxyAuthenticator,
  ProxyAuthenticator,
} from '@backstage/plugin-auth-node';
import {
  CfAccessConfig,
  readCfAccessConfig,
  readDeploymentMode,
} from './config';
import {
  CloudflareAccessAuthenticationError,
  CloudflareAccessRejection,
  isCloudflareAccessRejection,
  rejectionHint,
} from './errors';
import { IdentityClient, identityRequestFor } from './identity';
import { KeyCache, KeyRefresher, SetTimer } from './keys';
import {
  CfAccessMetrics,
  createCfAccessMetrics,
  errorText,
  logField,
  logValue,
  noopLogger,
  RateLimitedLogger,
} from './lib';
import {
  extractToken,
  TokenVerifier,
  VerifiedAccessToken,
  VerifiedTokenCache,
} from './token';
import {
  CloudflareAccessIdentityProfile,
  CloudflareAccessProviderInfo,
  CloudflareAccessResult,
} from './types';

/**
 * Options for {@link createCloudflareAccessAuthenticator}.
 *
 * @public
 */
export type CloudflareAccessAuthenticatorOptions = {
  /** Where get-identity answers are cached; shared between replicas. */
  cache: CacheService;
  /** Rejections and outages are logged here (rate-limited); silent without it. */
  logger?: LoggerService;
  /** The provider id the config lives under, for error messages. Default `cfaccess`. */
  providerId?: string;
  /**
   * Backstage's root config (`coreServices.rootConfig`), so the team-domain
   * rules see `auth.environment`: an http or loopback team domain (the local
   * Access emulator) is accepted only with `auth.environment: development`.
   * Without it the production rules apply.
   */
  rootConfig?: Config;
  /**
   * Fetch the signing keys when the provider initialises, and refresh them in
   * the background before they go stale, so no sign-in waits for the certs
   * endpoint. Never blocks or fails startup. Default `false`; the module
   * turns it on.
   */
  prefetchKeys?: boolean;
  /**
   * Stops the background key refresh on shutdown (Backstage's `lifecycle` or
   * `rootLifecycle` service). Without it the refresh timer still never keeps
   * the process alive.
   */
  lifecycle?: { addShutdownHook(hook: () => void | Promise<void>): void };
};

/**
 * What `initialize` builds from config and `authenticate` uses: opaque, so
 * that nothing but this module depends on how it is made.
 *
 * @public
 */
export type CloudflareAccessAuthenticatorContext = {
  readonly $$type: '@cfaccess/CloudflareAccessAuthenticatorContext';
};

/** Hooks for this package's own tests; not part of the public API. */
export type AuthenticatorTestHooks = {
  /** Clock in ms since epoch. */
  now?: () => number;
  /** Metrics sink. */
  metrics?: CfAccessMetrics;
  /** Schedules the background key refresh. */
  setTimer?: SetTimer;
};

/** What the opaque context holds. */
export type AuthenticatorState = {
  config: CfAccessConfig;
  keyCache: KeyCache;
  verifier: TokenVerifier;
  identityClient?: IdentityClient;
  /** Set when `prefetchKeys` is on. */
  keyRefresher?: KeyRefresher;
};

type ContextWithState = CloudflareAccessAuthenticatorContext &
  AuthenticatorState;

/** The state behind an authenticator context. */
export function authenticatorState(
  ctx: CloudflareAccessAuthenticatorContext,
): AuthenticatorState {
  return ctx as ContextWithState;
}

function fallbackIdentity(
  verified: VerifiedAccessToken,
): CloudflareAccessIdentityProfile {
  if (verified.tokenType === 'service') {
    // The profile email is the configured subject when that is an email, as upstream hands it to resolvers.
    return {
      id: verified.clientId,
      name: verified.subject.subject,
      email: verified.subject.email ?? '',
      groups: [],
    };
  }
  const { sub, email } = verified.claims;
  return { id: sub, name: email, email, groups: [] };
}

/**
 * Creates the Cloudflare Access proxy authenticator, for use with
 * `createProxyAuthProviderFactory` and a custom sign-in resolver.
 *
 * @public
 */
export function createCloudflareAccessAuthenticator(
  options: CloudflareAccessAuthenticatorOptions,
): ProxyAuthenticator<
  CloudflareAccessAuthenticatorContext,
  CloudflareAccessResult,
  CloudflareAccessProviderInfo
> {
  return createAuthenticator(options);
}

/** createCloudflareAccessAuthenticator, with hooks for this package's tests. */
export function createAuthenticator(
  options: CloudflareAccessAuthenticatorOptions,
  hooks: AuthenticatorTestHooks = {},
): ProxyAuthenticator<
  CloudflareAccessAuthenticatorContext,
  CloudflareAccessResult,
  CloudflareAccessProviderInfo
> {
  const now = hooks.now ?? Date.now;
  const metrics = hooks.metrics ?? createCfAccessMetrics();
  const log = new RateLimitedLogger(options.logger ?? noopLogger, 60_000, now);

  // The caller got the reason code and one sentence; the log gets the rest.
  function logRejection(error: CloudflareAccessRejection) {
    const { reason } = error;
    const { detail, subject, cause } = error.details;
    log.warn(
      `reject:${reason}:${subject ?? ''}`,
      () =>
        `Cloudflare Access sign-in rejected (${reason})${
          subject ? ` for ${logValue(subject)}` : ''
        }: ${detail}${
          cause === undefined ? '' : ` (${errorText(cause)})`
        }; ${rejectionHint(reason)}`,
      () => ({ reason, ...(subject && { subject: logField(subject) }) }),
    );
  }

  const authenticator = createProxyAuthenticator<
    ContextWithState,
    CloudflareAccessResult,
    CloudflareAccessProviderInfo
  >({
    async defaultProfileTransform(result: CloudflareAccessResult) {
      // A person's email is the signed claim, as upstream takes it; a service
      // token's is its configured email subject (the fallback identity's),
      // whatever the token's claims say.
      const email =
        result.tokenType === 'service'
          ? result.cfIdentity.email
          : result.claims.email;
      return {
        profile: {
          email: email || undefined,
          displayName: result.cfIdentity.name || undefined,
        },
      };
    },

    initialize({ config }): ContextWithState {
      const cfg = readCfAccessConfig(config, {
        providerId: options.providerId,
        mode: readDeploymentMode(options.rootConfig),
      });
      const keyCache = new KeyCache({
        certsUrl: cfg.certsUrl,
        ...cfg.jwks,
        logger: log,
        metrics,
        now,
      });
      const verifiedTokens = new VerifiedTokenCache<VerifiedAccessToken>({
        maxEntries: cfg.verifiedTokenCache.maxEntries,
        clockToleranceSeconds: cfg.clockToleranceSeconds,
      });
      const verifier = new TokenVerifier({
        config: cfg,
        keyCache,
        verifiedTokens,
        metrics,
        now,
      });
      const identityClient = cfg.identity.enabled
        ? new IdentityClient({
            issuer: cfg.issuer,
            identityUrl: cfg.identityUrl,
            cache: options.cache,
            timeoutMs: cfg.identity.timeoutMs,
            maxBodyBytes: cfg.identity.maxBodyBytes,
            cacheTtlMs: cfg.identity.cacheTtlMs,
            // One identity per session; sized like the verified-token cache (0 disables both).
            memoMaxEntries: cfg.verifiedTokenCache.maxEntries,
            logger: log,
            metrics,
            now,
          })
        : undefined;
      let keyRefresher: KeyRefresher | undefined;
      if (options.prefetchKeys) {
        const refresher = new KeyRefresher({
          keyCache,
          certsUrl: cfg.certsUrl,
          cacheMaxAgeMs: cfg.jwks.cacheMaxAgeMs,
          retryMs: cfg.jwks.cooldownMs,
          logger: log,
          now,
          setTimer: hooks.setTimer,
        });
        options.lifecycle?.addShutdownHook(() => refresher.stop());
        // Deliberately not awaited; the first fetch never throws.
        void refresher.start();
        keyRefresher = refresher;
      }
      return {
        $$type: '@cfaccess/CloudflareAccessAuthenticatorContext',
        config: cfg,
        keyCache,
        verifier,
        identityClient,
        keyRefresher,
      };
    },

    async authenticate({ req }, ctx) {
      const started = performance.now();
      const elapsed = () => (performance.now() - started) / 1000;
      let verified: VerifiedAccessToken;
      const token = extractToken(req, ctx.config);
      try {
        verified = await ctx.verifier.verify(token);
      } catch (error) {
        const rejection = isCloudflareAccessRejection(error)
          ? error
          : // Fail closed on anything unexpected, as a 401 rather than a 500.
            new CloudflareAccessAuthenticationError(
              'malformed_token',
              'the token could not be verified',
              { cause: error },
            );
        logRejection(rejection);
        metrics.authentication(
          { ok: false, reason: rejection.reason },
          elapsed(),
        );
        throw rejection;
      }

      // Only now, with the signature verified, is the token sent anywhere.
      let identity: CloudflareAccessIdentityProfile | undefined;
      if (verified.tokenType === 'user' && ctx.identityClient) {
        try {
          identity = await ctx.identityClient.getIdentity(
            identityRequestFor(token!, verified.claims),
          );
        } catch (error) {
          // The client handles what it expects; anything else still only costs the identity.
          log.warn(
            'identity-unexpected',
            () =>
              `Cloudflare Access identity failed unexpectedly, continuing with the token's claims and no groups: ${logValue(
                error,
              )}`,
          );
          identity = undefined;
        }
      }
      const cfIdentity = identity ?? fallbackIdentity(verified);
      const expiresInSeconds = Math.max(
        0,
        Math.floor(verified.claims.exp - now() / 1000),
      );
      const result: CloudflareAccessResult = {
        claims: verified.claims,
        cfIdentity,
        expiresInSeconds,
        token: token!,
        tokenType: verified.tokenType,
        identityAvailable: identity !== undefined,
        ...(verified.tokenType === 'service' && {
          serviceToken: { clientId: verified.clientId, ...verified.subject },
        }),
      };
      // What the browser gets: never the token.
      const providerInfo: CloudflareAccessProviderInfo = {
        ...(cfIdentity.email && { email: cfIdentity.email }),
        ...(cfIdentity.name && { name: cfIdentity.name }),
        ...(identity && { groups: identity.groups.map(g => g.name || g.id) }),
        expiresInSeconds,
      };
      metrics.authentication(
        { ok: true, tokenType: verified.tokenType },
        elapsed(),
      );
      return { result, providerInfo };
    },
  });
  // Callers see the context as opaque; only this module reads its state.
  return authenticator as unknown as ProxyAuthenticator<
    CloudflareAccessAuthenticatorContext,
    CloudflareAccessResult,
    CloudflareAccessProviderInfo
  >;
}
