/*
 * Managed OAuth access tokens: `oauth:` followed by a JWS (RFC 9068 `at+jwt`) signed with the team's
 * current key. Clients treat the token as opaque, as Cloudflare's are. Signing it with the team key
 * rather than keeping a random value lets two emulators that share a --state-dir act as two applications
 * of one team: a token of the other application verifies, so it is recognised and refused for that
 * reason ("another application") instead of looking like garbage.
 *
 * The JWS is deliberately not an application token, so that a client stripping `oauth:` and sending the
 * rest to an origin (or anything verifying Access application tokens against the team's certs) is
 * refused: its `type` is `oauth_access`, not `app`, and its `aud` is the resource URL, never an AUD tag.
 * The application's AUD tags ride in the private `app_aud` claim, which only the edge reads.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, errors, jwtVerify } from 'jose';
import type { KeyStore } from '../keys';
import { subjectForEmail } from '../tokens';

export const OAUTH_TOKEN_PREFIX = 'oauth:';
const ACCESS_TOKEN_TYPE = 'at+jwt';
/** The `type` claim: anything but Access's `app`, which origins accept as a person's application token. */
export const ACCESS_TOKEN_TYPE_CLAIM = 'oauth_access';

export interface AccessTokenClaims {
  email: string;
  client_id: string;
  /** The grant's id: a token lives no longer than its grant. */
  sid: string;
  /** Seconds since the epoch. */
  exp: number;
}

export type AccessTokenCheck =
  | { ok: true; claims: AccessTokenClaims }
  | {
      ok: false;
      reason: 'invalid token' | 'expired token' | 'another application';
      /** The verified claims of an expired token of this application (revocation still names its grant). */
      expired?: AccessTokenClaims;
    };

export class AccessTokens {
  constructor(
    private readonly keys: KeyStore,
    private readonly settings: { issuer: string; audience: string[] },
  ) {}

  /** `resource`: the grant's RFC 8707 resource, the token's `aud`. */
  async mint(
    claims: Omit<AccessTokenClaims, 'exp'> & { resource: string },
    now: number,
    expiresAt: number,
  ): Promise<string> {
    const key = this.keys.current;
    const jws = await new SignJWT({
      type: ACCESS_TOKEN_TYPE_CLAIM,
      email: claims.email,
      client_id: claims.client_id,
      sid: claims.sid,
      app_aud: [...this.settings.audience],
    })
      .setProtectedHeader({
        alg: 'RS256',
        kid: key.kid,
        typ: ACCESS_TOKEN_TYPE,
      })
      .setIssuer(this.settings.issuer)
      .setAudience(claims.resource)
      .setSubject(subjectForEmail(claims.email))
      .setJti(randomUUID())
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(expiresAt)
      .sign(key.privateKey);
    return `${OAUTH_TOKEN_PREFIX}${jws}`;
  }

  /**
   * Signature (current or previous team key), header type, required claims, issuer, expiry, then the
   * `type` claim and this application's AUD tags (`app_aud`).
   */
  async verify(token: string, now: number): Promise<AccessTokenCheck> {
    if (!token.startsWith(OAUTH_TOKEN_PREFIX)) {
      return { ok: false, reason: 'invalid token' };
    }
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(
        token.slice(OAUTH_TOKEN_PREFIX.length),
        this.keys.verificationKeys,
        {
          algorithms: ['RS256'],
          typ: ACCESS_TOKEN_TYPE,
          issuer: this.settings.issuer,
          currentDate: new Date(now),
          requiredClaims: [
            'type',
            'email',
            'client_id',
            'sid',
            'exp',
            'aud',
            'app_aud',
          ],
        },
      ));
    } catch (error) {
      // Claims are checked after the signature: an issuer or expiry complaint is about a genuine token.
      if (
        error instanceof errors.JWTClaimValidationFailed &&
        error.claim === 'iss' &&
        isAccessToken(error.payload)
      ) {
        return { ok: false, reason: 'another application' };
      }
      if (error instanceof errors.JWTExpired && isAccessToken(error.payload)) {
        const claims = this.#claims(error.payload);
        return {
          ok: false,
          reason: 'expired token',
          ...(claims && this.#ours(error.payload) ? { expired: claims } : {}),
        };
      }
      return { ok: false, reason: 'invalid token' };
    }
    const claims = isAccessToken(payload) ? this.#claims(payload) : undefined;
    if (!claims) {
      return { ok: false, reason: 'invalid token' };
    }
    return this.#ours(payload)
      ? { ok: true, claims }
      : { ok: false, reason: 'another application' };
  }

  /** Whether the token's application AUD tags share one with this application's. */
  #ours(payload: Record<string, unknown>): boolean {
    const tags = payload.app_aud;
    return (
      Array.isArray(tags) &&
      tags.some(
        tag => typeof tag === 'string' && this.settings.audience.includes(tag),
      )
    );
  }

  #claims(payload: Record<string, unknown>): AccessTokenClaims | undefined {
    const { email, client_id, sid, exp } = payload;
    return typeof email === 'string' &&
      typeof client_id === 'string' &&
      typeof sid === 'string' &&
      typeof exp === 'number'
      ? { email, client_id, sid, exp }
      : undefined;
  }
}

/** A Managed OAuth access token's payload, by its `type` claim. */
function isAccessToken(payload: Record<string, unknown>): boolean {
  return payload.type === ACCESS_TOKEN_TYPE_CLAIM;
}
