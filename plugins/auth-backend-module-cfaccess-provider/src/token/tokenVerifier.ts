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
  private readonly joseOptions: JWTVerifyOptions;

  constructor(private readonly options: TokenVerifierOptions) {
    const now = options.now ?? Date.now;
    this.now = now;
    const { config } = options;
    // One object for every verification: jose reads the time through the
    // getter, and only once the signature is good.
    this.joseOptions = {
      algorithms: ['RS256'],
      issuer: config.issuer,
      audience: config.audiences,
      clockTolerance: config.clockToleranceSeconds,
      requiredClaims: ['exp'],
      get currentDate() {
        return new Date(now());
      },
    };
  }

  /**
   * Not async, and neither is verifyFresh, and a rejection is returned, not
   * thrown: each async function a rejection passes through, and each throw
   * (which unwinds the stack to find its handler), costs a forged token time.
   */
  verify(token: string | undefined): Promise<VerifiedAccessToken> {
    const refused = this.refuseForm(token);
    if (refused) {
      return Promise.reject(refused);
    }
    const canonical = token as string;
    let cached: ReturnType<TokenVerifier['fromCache']>;
    try {
      cached = this.fromCache(canonical);
    } catch (error) {
      return Promise.reject(error);
    }
    if (cached === undefined) {
      return this.verifyFresh(canonical);
    }
    if (cached instanceof Promise) {
      return cached.then(hit => hit ?? this.verifyFresh(canonical));
    }
    return Promise.resolve(cached);
  }

  /**
   * The rejection for a token that is missing, too large or not in canonical
   * form; undefined for one that may be looked up.
   */
  private refuseForm(token: string | undefined): Error | undefined {
    const { config } = this.options;
    if (token === undefined || token.trim() === '') {
      return reject('missing_token', 'no Access application token was sent');
    }
    // Size first: never parse attacker-sized input. A UTF-16 code unit is at
    // most 3 UTF-8 bytes, so a token this short needs no counting.
    if (token.length * 3 > config.maxTokenBytes) {
      const size = Buffer.byteLength(token, 'utf8');
      if (size > config.maxTokenBytes) {
        return reject(
          'token_too_large',
          `the token is ${size} bytes, more than the ${config.maxTokenBytes} allowed`,
        );
      }
    }
    if (!isCanonicalCompactJws(token)) {
      return reject(
        'malformed_token',
        'the token is not a compact JWS of three canonical base64url segments (no padding, whitespace or line breaks)',
      );
    }
    return undefined;
  }

  /**
   * A verification from scratch: the key for the token's kid, the signature
   * and claim checks, then the verified-token cache.
   */
  private verifyFresh(token: string): Promise<VerifiedAccessToken> {
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

    // Settled through succeed and fail rather than by what a then callback
    // returns or throws: a rejection is then neither a throw (which unwinds
    // the stack) nor a rejected promise of its own.
    return new Promise<VerifiedAccessToken>((succeed, fail) => {
      this.verifySignatureAndClaims(token, resolveKey).then(
        ({ payload }) => {
          try {
            succeed(this.accept(token, payload, found!));
          } catch (error) {
            fail(error);
          }
        },
        error => {
          try {
            if (
              !found ||
              found.keys.length === 1 ||
              !(error instanceof joseErrors.JWSSignatureVerificationFailed)
            ) {
              fail(mapJoseError(error, this.options.config));
              return;
            }
            const { kid, keys } = found;
            succeed(
              this.verifyWithOtherKeys(token, keys).then(payload =>
                this.accept(token, payload, { kid, keys }),
              ),
            );
          } catch (unexpected) {
            fail(unexpected);
          }
        },
      );
    });
  }

  /** A verified payload: classified, frozen and remembered. */
  private accept(
    token: string,
    payload: JWTPayload,
    found: { kid: string; keys: KeysForKid },
  ): VerifiedAccessToken {
    // Frozen before it is cached, so no caller can change what a hit returns.
    const verified = freezeVerified(this.classify(payload));
    // Only successes are remembered; the verification time is taken afresh.
    this.options.verifiedTokens?.set(
      token,
      { verified, kid: found.kid, keys: found.keys },
      this.now(),
    );
    return verified;
  }

  /** jose's RSA signature and claim checks (issuer, audience, time claims); the step the cache saves. */
  private verifySignatureAndClaims(
    token: string,
    key:
      | CryptoKey
      | ((header: JWTHeaderParameters) => CryptoKey | Promise<CryptoKey>),
  ): Promise<JWTVerifyResult> {
    return jwtVerify(token, key, this.joseOptions);
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

/**
 * deepFreeze of a classified token, walking only what came from the token
 * (aud, custom) or the config (a service token's subject): the rest are the
 * objects classify and toClaims just built, holding strings and numbers.
 */
function freezeVerified(verified: VerifiedAccessToken): VerifiedAccessToken {
  const { claims } = verified;
  deepFreeze(claims.aud);
  deepFreeze(claims.custom);
  Object.freeze(claims);
  if (verified.tokenType === 'service') {
    deepFreeze(verified.subject);
  }
  return Object.freeze(verified);
}
