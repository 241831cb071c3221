import { Attributes, metrics, Meter } from '@opentelemetry/api';
import { CloudflareAccessRejectionReason } from '../errors';

/** Instrument names, exported so dashboards and tests agree. */
export const metricNames = {
  authentications: 'cfaccess.auth.authentications',
  verificationDuration: 'cfaccess.auth.verification.duration',
  jwksFetches: 'cfaccess.auth.jwks.fetches',
  identityFetches: 'cfaccess.auth.identity.fetches',
  identityCache: 'cfaccess.auth.identity.cache',
  verifiedTokenCache: 'cfaccess.auth.verified_token.cache',
} as const;

/** The few measurements this module makes; an interface so tests can spy. */
export interface CfAccessMetrics {
  authentication(
    outcome:
      | { ok: true; tokenType: 'user' | 'service' }
      | { ok: false; reason: CloudflareAccessRejectionReason },
    durationSeconds: number,
  ): void;
  jwksFetch(result: 'success' | 'error' | 'timeout'): void;
  identityFetch(result: 'success' | 'error' | 'timeout'): void;
  identityCache(result: 'hit' | 'miss'): void;
  verifiedTokenCache(result: 'hit' | 'miss'): void;
}

export function createCfAccessMetrics(
  meter: Meter = metrics.getMeter(
    '@cfaccess/plugin-auth-backend-module-cfaccess-provider',
  ),
): CfAccessMetrics {
  const authentications = meter.createCounter(metricNames.authentications, {
    description: 'Cloudflare Access token verifications by outcome and reason',
  });
  const duration = meter.createHistogram(metricNames.verificationDuration, {
    description: 'Time to verify a Cloudflare Access token',
    unit: 's',
  });
  const jwksFetches = meter.createCounter(metricNames.jwksFetches, {
    description: 'Requests to the Access certs endpoint by result',
  });
  const identityFetches = meter.createCounter(metricNames.identityFetches, {
    description: 'Requests to the Access get-identity endpoint by result',
  });
  const identityCache = meter.createCounter(metricNames.identityCache, {
    description: 'Identity cache lookups by result',
  });
  const verifiedTokenCache = meter.createCounter(
    metricNames.verifiedTokenCache,
    {
      description:
        'Verified-token cache lookups by result (a hit skips the signature check)',
    },
  );

  // One frozen attribute set per outcome, made on first use: a measurement
  // allocates nothing (the keys are closed sets: reasons, token types,
  // results), and looks its set up by a string it was given, not one it built.
  const successes = attributeSets((token_type: string) => ({
    outcome: 'success',
    token_type,
  }));
  const rejections = attributeSets((reason: string) => ({
    outcome: 'rejected',
    reason,
  }));
  const succeeded = Object.freeze({ outcome: 'success' });
  const rejected = Object.freeze({ outcome: 'rejected' });
  const results = attributeSets((result: string) => ({ result }));

  return {
    authentication(outcome, durationSeconds) {
      if (outcome.ok) {
        authentications.add(1, successes(outcome.tokenType));
        duration.record(durationSeconds, succeeded);
      } else {
        authentications.add(1, rejections(outcome.reason));
        duration.record(durationSeconds, rejected);
      }
    },
    jwksFetch(result) {
      jwksFetches.add(1, results(result));
    },
    identityFetch(result) {
      identityFetches.add(1, results(result));
    },
    identityCache(result) {
      identityCache.add(1, results(result));
    },
    verifiedTokenCache(result) {
      verifiedTokenCache.add(1, results(result));
    },
  };
}

function attributeSets<A extends Attributes>(
  make: (key: string) => A,
): (key: string) => Readonly<A> {
  const sets = new Map<string, Readonly<A>>();
  return key => {
    let set = sets.get(key);
    if (!set) {
      set = Object.freeze(make(key));
      sets.set(key, set);
    }
    return set;
  };
}
