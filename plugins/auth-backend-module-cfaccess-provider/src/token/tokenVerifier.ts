import {
  errors as joseErrors,
  JWTHeaderParameters,
  JWTPayload,
  jwtVerify,
  JWTVerifyOptions,
  JWTVerifyResult,
} from 'jose';
import { CfAccessConfig } from '../config/readConfig';
import { isCanonicalCompactJws } from './canonicalToken';
import { nonEmptyString, subjectOf, toClaims } from './claims';
import { mapJoseError, reject } from './rejections';
import { KeyCache, KeysForKid } from '../keys/keyCache';
import { ServiceTokenSubject } from '../signIn/serviceTokenSubject';
import { deepFreeze } from '../lib/deepFreeze';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../lib/jsonDepth';
import { logValue } from '../lib/logValue';
import { CfAccessMetrics } from '../lib/metrics';
import { CloudflareAccessClaims } from '../types';
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
   * which the instruction-count benchmark (`yarn bench:instructions`) shows
   * on a forged token.
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
      ({ payload } = await this.verifySignatureAndClaims(token, resolveKey));
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
   * jose's RSA signature and claim checks (issuer, audience, time claims);
   * the step the cache saves. Not async on purpose: a rejection passes
   * through one promise less.
   */
  private verifySignatureAndClaims(
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
        const { payload } = await this.verifySignatureAndClaims(token, key);
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
      metrics?.verifiedTokenCache('miss');
      return undefined;
    }
    // Same key rules as a fresh verification: may refetch, may throw 503.
    const check = (keys: KeysForKid | undefined) => {
      if (keys === entry.keys) {
        metrics?.verifiedTokenCache('hit');
        // Frozen when cached: no copy needed, callers cannot change it.
        return entry.verified;
      }
      // The kid is gone or now names other keys: verify from scratch.
      cache.delete(token);
      metrics?.verifiedTokenCache('miss');
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
    const sub = nonEmptyString(payload.sub);
    const commonName = nonEmptyString(payload.common_name);

    if (sub) {
      if (!nonEmptyString(payload.email)) {
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
