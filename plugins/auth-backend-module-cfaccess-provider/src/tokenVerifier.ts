import {
  errors as joseErrors,
  JWTHeaderParameters,
  JWTPayload,
  jwtVerify,
  JWTVerifyOptions,
  JWTVerifyResult,
} from 'jose';
import { JsonObject } from '@backstage/types';
import { CfAccessConfig } from './config';
import { isCanonicalCompactJws } from './compactToken';
import {
  CloudflareAccessAuthenticationError,
  CloudflareAccessRejectionReason,
  isCloudflareAccessRejection,
  withoutStackTrace,
} from './errors';
import { KeyCache, KeysForKid } from './keyCache';
import { ServiceTokenSubject } from './serviceTokenSubject';
import { deepFreeze } from './deepFreeze';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from './jsonDepth';
import { logValue } from './logValue';
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
  keyCache: Pick<KeyCache, 'getKey' | 'freshKeys'>;
  /** Successful verifications to reuse; see VerifiedTokenCache. */
  verifiedTokens?: VerifiedTokenCache<VerifiedAccessToken>;
  metrics?: Pick<CfAccessMetrics, 'verifiedTokenCache'>;
  now?: () => number;
};

/** The application token's `type`; Access's organisation token says `org`. */
const APPLICATION_TOKEN_TYPE = 'app';

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
 * Verifies Cloudflare Access application tokens: canonical compact form,
 * RS256 only, a key of this team domain, exact issuer, one of the AUD tags,
 * exp/nbf with tolerance, an application token (`type` `app` when present),
 * and a person or an allowed service token behind it. Fails closed: any
 * doubt is a rejection with a reason code.
 *
 * Only the canonical spelling of a token is accepted, before any cache
 * lookup or network call, so one token has exactly one verified-token cache
 * entry (see isCanonicalCompactJws).
 *
 * With a VerifiedTokenCache, a token that verified before is accepted
 * without the signature check while its exp/nbf still pass and the keys
 * that verified it are still the ones KeyCache serves for its kid (same
 * freshness, refetch and stale rules as a fresh verification).
 */
export class TokenVerifier {
  private readonly now: () => number;
  private readonly joseOptions: Omit<JWTVerifyOptions, 'currentDate'>;

  constructor(private readonly options: TokenVerifierOptions) {
    this.now = options.now ?? Date.now;
    const { config } = options;
    this.joseOptions = {
      algorithms: ['RS256'],
      issuer: config.issuer,
      audience: config.audiences,
      clockTolerance: config.clockToleranceSeconds,
      requiredClaims: ['exp'],
    };
  }

  async verify(token: string | undefined): Promise<VerifiedAccessToken> {
    const { config } = this.options;
    if (token === undefined || token.trim() === '') {
      throw reject('missing_token', 'no Access application token was sent');
    }
    // Size first: never parse attacker-sized input. A UTF-16 code unit is at
    // most 3 UTF-8 bytes, so a token this short needs no counting.
    if (token.length * 3 > config.maxTokenBytes) {
      const size = Buffer.byteLength(token, 'utf8');
      if (size > config.maxTokenBytes) {
        throw reject(
          'token_too_large',
          `the token is ${size} bytes, more than the ${config.maxTokenBytes} allowed`,
        );
      }
    }
    if (!isCanonicalCompactJws(token)) {
      throw reject(
        'malformed_token',
        'the token is not a compact JWS of three canonical base64url segments (no padding, whitespace or line breaks)',
      );
    }

    const cached = this.fromCache(token);
    if (cached !== undefined) {
      const hit = cached instanceof Promise ? await cached : cached;
      if (hit) {
        return hit;
      }
    }
    return this.verifyFresh(token);
  }

  /**
   * A verification from scratch: the key for the token's kid, the signature
   * and claim checks, then the verified-token cache. A method of its own,
   * whose promise verify returns rather than awaits: the stack trace every
   * jose error captures (through each awaiting function) is a frame shorter,
   * about 2% of the instructions a forged token costs.
   */
  private async verifyFresh(token: string): Promise<VerifiedAccessToken> {
    const { config } = this.options;
    // Filled in by resolveKey when jose asks for the key.
    let found: { kid: string; keys: KeysForKid } | undefined;
    const resolveKey = (header: JWTHeaderParameters) => {
      const { kid } = header;
      if (typeof kid !== 'string' || !kid) {
        throw reject('malformed_token', 'the token header has no kid');
      }
      const fresh = this.options.keyCache.freshKeys(kid);
      if (fresh) {
        found = { kid, keys: fresh };
        return fresh[0];
      }
      // May throw the 503 keys_unavailable.
      return this.options.keyCache.getKey(kid).then(lookup => {
        if (!lookup.keys) {
          throw reject(
            'unknown_kid',
            `no signing key with kid ${logValue(kid)} in the team's certs`,
          );
        }
        found = { kid, keys: lookup.keys };
        return lookup.key;
      });
    };

    let payload: JWTPayload;
    try {
      ({ payload } = await this.verifySignature(token, resolveKey));
    } catch (error) {
      if (
        !found ||
        found.keys.length === 1 ||
        !(error instanceof joseErrors.JWSSignatureVerificationFailed)
      ) {
        throw mapJoseError(error, config);
      }
      payload = await this.verifyWithOtherKeys(token, found.keys);
    }

    // Frozen before it is cached, so no caller can change what a hit returns.
    const verified = deepFreeze(this.classify(payload));
    // Only successes are remembered; the verification time is taken afresh.
    this.options.verifiedTokens?.set(
      token,
      { verified, kid: found!.kid, keys: found!.keys },
      this.now(),
    );
    return verified;
  }

  /**
   * The RSA signature and claim checks; the step the cache saves. Not async
   * on purpose: a rejection passes through one promise less.
   */
  verifySignature(
    token: string,
    key:
      | CryptoKey
      | ((header: JWTHeaderParameters) => CryptoKey | Promise<CryptoKey>),
  ): Promise<JWTVerifyResult> {
    return jwtVerify(token, key, {
      ...this.joseOptions,
      currentDate: new Date(this.now()),
    });
  }

  /** Several keys under one kid: the first failed, try the others in turn. */
  private async verifyWithOtherKeys(
    token: string,
    keys: KeysForKid,
  ): Promise<JWTPayload> {
    let last: unknown;
    for (const key of keys.slice(1)) {
      try {
        const { payload } = await this.verifySignature(token, key);
        return payload;
      } catch (error) {
        if (!(error instanceof joseErrors.JWSSignatureVerificationFailed)) {
          throw mapJoseError(error, this.options.config);
        }
        last = error;
      }
    }
    throw mapJoseError(last, this.options.config);
  }

  /**
   * A cached verification whose time claims and keys are still good; else
   * undefined. Synchronous while the kid's keys are fresh (the common case),
   * a promise when the key lookup has to refetch (which may throw 503).
   */
  private fromCache(
    token: string,
  ):
    | VerifiedAccessToken
    | Promise<VerifiedAccessToken | undefined>
    | undefined {
    const { verifiedTokens: cache, keyCache, metrics } = this.options;
    if (!cache?.enabled) {
      return undefined;
    }
    const entry = cache.get(token, this.now());
    if (!entry) {
      metrics?.verifiedTokenCache?.('miss');
      return undefined;
    }
    // Same key rules as a fresh verification: may refetch, may throw 503.
    const check = (keys: KeysForKid | undefined) => {
      if (keys === entry.keys) {
        metrics?.verifiedTokenCache?.('hit');
        // Frozen when cached: no copy needed, callers cannot change it.
        return entry.verified;
      }
      // The kid is gone or now names other keys: verify from scratch.
      cache.delete(token);
      metrics?.verifiedTokenCache?.('miss');
      return undefined;
    };
    const fresh = keyCache.freshKeys(entry.kid);
    return fresh
      ? check(fresh)
      : keyCache.getKey(entry.kid).then(lookup => check(lookup.keys));
  }

  private classify(payload: JWTPayload): VerifiedAccessToken {
    const { serviceTokens } = this.options.config;
    // Signed, but from the identity provider's claims: bounded before anything walks it.
    if (exceedsJsonDepth(payload)) {
      throw reject(
        'malformed_token',
        `the token's claims nest deeper than ${MAX_JSON_DEPTH} levels`,
        { subject: subjectOf(payload) },
      );
    }
    if (payload.type !== undefined && payload.type !== APPLICATION_TOKEN_TYPE) {
      throw reject(
        'wrong_token_type',
        `the token's type is ${logValue(
          String(payload.type),
        )}, not "${APPLICATION_TOKEN_TYPE}" (an application token)`,
        { subject: subjectOf(payload) },
      );
    }
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
          `service token with Client ID ${logValue(
            commonName,
          )} is not listed in serviceTokens`,
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
): Error {
  // Thrown by resolveKey (no kid, unknown kid, keys unavailable): already ours.
  if (isCloudflareAccessRejection(error)) {
    return error;
  }
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
          `the token was issued by ${logValue(
            String(error.payload.iss ?? ''),
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
