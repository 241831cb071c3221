import {
  decodeProtectedHeader,
  errors as joseErrors,
  JWTPayload,
  jwtVerify,
  ProtectedHeaderParameters,
} from 'jose';
import { JsonObject } from '@backstage/types';
import { CfAccessConfig } from './config';
import {
  CloudflareAccessAuthenticationError,
  CloudflareAccessRejectionReason,
  withoutStackTrace,
} from './errors';
import { KeyCache } from './keyCache';
import { ServiceTokenSubject } from './serviceTokenSubject';
import { deepFreeze } from './deepFreeze';
import { CfAccessMetrics } from './metrics';
import { CloudflareAccessClaims } from './types';
import { VerifiedTokenCache } from './verifiedTokenCache';

/** A token that passed every check. */
export type VerifiedAccessToken =
  | { tokenType: 'user'; claims: CloudflareAccessClaims }
  | {
      tokenType: 'service';
      claims: CloudflareAccessClaims;
      clientId: string;
      subject: ServiceTokenSubject;
    };

export type TokenVerifierOptions = {
  config: Pick<
    CfAccessConfig,
    | 'issuer'
    | 'audiences'
    | 'serviceTokens'
    | 'clockToleranceSeconds'
    | 'maxTokenBytes'
  >;
  keyCache: Pick<KeyCache, 'getKey'>;
  /** Successful verifications to reuse; see VerifiedTokenCache. */
  verifiedTokens?: VerifiedTokenCache<VerifiedAccessToken>;
  metrics?: Pick<CfAccessMetrics, 'verifiedTokenCache'>;
  now?: () => number;
};

const reject = (
  reason: CloudflareAccessRejectionReason,
  detail: string,
  options?: { subject?: string; cause?: unknown },
) =>
  withoutStackTrace(
    () => new CloudflareAccessAuthenticationError(reason, detail, options),
  );

// A signed exp/nbf may lie outside the Date range (e.g. 1e308): describe it rather than throw a RangeError.
const isoTime = (seconds: unknown) => {
  const date = new Date(typeof seconds === 'number' ? seconds * 1000 : NaN);
  return Number.isNaN(date.getTime()) ? 'an unknown time' : date.toISOString();
};

const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

function subjectOf(payload: JWTPayload | undefined): string | undefined {
  return str(payload?.email) ?? str(payload?.common_name) ?? str(payload?.sub);
}

/**
 * Verifies Cloudflare Access application tokens: RS256 only, a key of this
 * team domain, exact issuer, one of the AUD tags, exp/nbf with tolerance,
 * and a person or an allowed service token behind it. Fails closed: any
 * doubt is a rejection with a reason code.
 *
 * With a VerifiedTokenCache, a token that verified before is accepted
 * without the signature check while its exp/nbf still pass and the key
 * that verified it is still the one KeyCache serves for its kid (same
 * freshness, refetch and stale rules as a fresh verification).
 */
export class TokenVerifier {
  private readonly now: () => number;

  constructor(private readonly options: TokenVerifierOptions) {
    this.now = options.now ?? Date.now;
  }

  async verify(token: string | undefined): Promise<VerifiedAccessToken> {
    const { config, keyCache } = this.options;
    if (token === undefined || token.trim() === '') {
      throw reject('missing_token', 'no Access application token was sent');
    }
    // Size first: never parse attacker-sized input.
    const size = Buffer.byteLength(token, 'utf8');
    if (size > config.maxTokenBytes) {
      throw reject(
        'token_too_large',
        `the token is ${size} bytes, more than the ${config.maxTokenBytes} allowed`,
      );
    }
    if (token.split('.').length !== 3) {
      throw reject(
        'malformed_token',
        'the token is not a compact JWS with three segments',
      );
    }

    const cached = await this.fromCache(token);
    if (cached) {
      return cached;
    }

    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(token);
    } catch (error) {
      throw reject('malformed_token', 'the token header cannot be decoded', {
        cause: error,
      });
    }
    if (header.alg !== 'RS256') {
      throw reject(
        'unsupported_alg',
        `the token is signed with ${JSON.stringify(
          header.alg ?? null,
        )}, only RS256 is accepted`,
      );
    }
    if (typeof header.kid !== 'string' || !header.kid) {
      throw reject('malformed_token', 'the token header has no kid');
    }

    // May throw the 503 keys_unavailable.
    const lookup = await keyCache.getKey(header.kid);
    if (!lookup.key) {
      throw reject(
        'unknown_kid',
        `no signing key with kid ${JSON.stringify(
          header.kid.slice(0, 100),
        )} in the team's certs`,
      );
    }

    let payload: JWTPayload;
    try {
      payload = await this.verifySignature(token, lookup.key);
    } catch (error) {
      throw mapJoseError(error, config);
    }

    // Frozen before it is cached, so no caller can change what a hit returns.
    const verified = deepFreeze(this.classify(payload));
    // Only successes are remembered; the verification time is taken afresh.
    this.options.verifiedTokens?.set(
      token,
      { verified, kid: header.kid, key: lookup.key },
      this.now(),
    );
    return verified;
  }

  /** The RSA signature and claim checks; the step the cache saves. */
  async verifySignature(token: string, key: CryptoKey): Promise<JWTPayload> {
    const { config } = this.options;
    const { payload } = await jwtVerify(token, key, {
      algorithms: ['RS256'],
      issuer: config.issuer,
      audience: config.audiences,
      clockTolerance: config.clockToleranceSeconds,
      currentDate: new Date(this.now()),
      requiredClaims: ['exp'],
    });
    return payload;
  }

  /** A cached verification whose time claims and key are still good, else undefined. */
  private async fromCache(
    token: string,
  ): Promise<VerifiedAccessToken | undefined> {
    const { verifiedTokens: cache, keyCache, metrics } = this.options;
    if (!cache?.enabled) {
      return undefined;
    }
    const entry = cache.get(token, this.now());
    if (entry) {
      // Same key rules as a fresh verification: may refetch, may throw 503.
      const lookup = await keyCache.getKey(entry.kid);
      if (lookup.key === entry.key) {
        metrics?.verifiedTokenCache?.('hit');
        // Frozen when cached: no copy needed, callers cannot change it.
        return entry.verified;
      }
      // The kid is gone or now names another key: verify from scratch.
      cache.delete(token);
    }
    metrics?.verifiedTokenCache?.('miss');
    return undefined;
  }

  private classify(payload: JWTPayload): VerifiedAccessToken {
    const { serviceTokens } = this.options.config;
    const claims = toClaims(payload);
    const sub = str(payload.sub);
    const commonName = str(payload.common_name);

    if (sub) {
      if (!str(payload.email)) {
        throw reject('missing_claims', 'the user token has no email claim', {
          subject: sub,
        });
      }
      return { tokenType: 'user', claims };
    }
    if (commonName) {
      const subject = serviceTokens.get(commonName);
      if (!subject) {
        throw reject(
          'unknown_service_token',
          `service token with Client ID ${commonName} is not listed in serviceTokens`,
          { subject: commonName },
        );
      }
      return { tokenType: 'service', claims, clientId: commonName, subject };
    }
    throw reject(
      'missing_claims',
      'the token has neither a sub (user) nor a common_name (service token)',
    );
  }
}

function toClaims(payload: JWTPayload): CloudflareAccessClaims {
  const aud = payload.aud;
  return {
    aud: Array.isArray(aud) ? aud : [aud ?? ''].filter(Boolean),
    email: str(payload.email) ?? '',
    exp: payload.exp ?? 0,
    iat: payload.iat ?? 0,
    nbf: payload.nbf ?? 0,
    iss: payload.iss ?? '',
    type: str(payload.type) ?? '',
    identity_nonce: str(payload.identity_nonce) ?? '',
    sub: str(payload.sub) ?? '',
    country: str(payload.country) ?? '',
    ...(str(payload.common_name) && {
      common_name: payload.common_name as string,
    }),
    ...(payload.custom &&
    typeof payload.custom === 'object' &&
    !Array.isArray(payload.custom)
      ? { custom: payload.custom as JsonObject }
      : {}),
  };
}

function mapJoseError(
  error: unknown,
  config: TokenVerifierOptions['config'],
): CloudflareAccessAuthenticationError {
  if (error instanceof joseErrors.JWTExpired) {
    return reject(
      'expired',
      `the token expired at ${isoTime(error.payload.exp)}`,
      { subject: subjectOf(error.payload), cause: error },
    );
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    const subject = subjectOf(error.payload);
    switch (error.claim) {
      case 'nbf':
        return reject(
          'not_yet_valid',
          `the token is not valid before ${isoTime(error.payload.nbf)}`,
          { subject, cause: error },
        );
      case 'iss':
        return reject(
          'wrong_issuer',
          `the token was issued by ${JSON.stringify(
            String(error.payload.iss ?? '').slice(0, 200),
          )}, expected ${config.issuer}`,
          { subject, cause: error },
        );
      case 'aud':
        return reject(
          'wrong_audience',
          'the token is for another Access application (no configured AUD tag in its aud)',
          { subject, cause: error },
        );
      case 'exp':
        return reject('missing_claims', 'the token has no valid exp claim', {
          subject,
          cause: error,
        });
      default:
        return reject(
          'malformed_token',
          `the ${error.claim} claim is invalid (${error.reason})`,
          { subject, cause: error },
        );
    }
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return reject(
      'bad_signature',
      'the signature does not match the signing key named by its kid',
      { cause: error },
    );
  }
  if (
    error instanceof joseErrors.JOSEAlgNotAllowed ||
    error instanceof joseErrors.JOSENotSupported
  ) {
    return reject('unsupported_alg', 'only RS256 is accepted', {
      cause: error,
    });
  }
  return reject('malformed_token', 'the token could not be parsed', {
    cause: error,
  });
}
