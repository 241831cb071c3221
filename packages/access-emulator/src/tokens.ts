/*
 * Minting and verifying Access application tokens (RS256 JWTs).
 */
import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, type JWTPayload } from 'jose';
import type { KeyStore } from './keys';
import { normalizeEmail } from './users';

/** Claims of an application token, for a person or a service token. */
export interface AccessTokenPayload extends JWTPayload {
  aud: string[];
  iss: string;
  sub: string;
  iat: number;
  nbf: number;
  exp: number;
  type: 'app';
  /** Person tokens only. */
  email?: string;
  /** Person tokens only: names the identity at login (see get-identity). */
  identity_nonce?: string;
  /** Service tokens only: the service token's Client ID. */
  common_name?: string;
  country?: string;
  /** Identity-provider claims configured on the provider (OpenID Connect logins only). */
  custom?: Record<string, unknown>;
}

interface TokenSettings {
  /** The `iss` claim: the emulator's public origin. */
  issuer: string;
  /** The `aud` claim: Application Audience tags. */
  audience: string[];
  /** Lifetime of tokens in seconds. */
  sessionDurationSeconds: number;
}

/** A stable UUID (version 5 style, from SHA-256) derived from a name, e.g. the `sub` for an email. */
export function stableUuid(namespace: string, value: string): string {
  const hash = createHash('sha256').update(`${namespace}:${value}`).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return hex.replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
}

/** The `sub` claim for a person: stable per (case-insensitive) email. */
export function subjectForEmail(email: string): string {
  return stableUuid('user', normalizeEmail(email));
}

export class TokenIssuer {
  constructor(
    private readonly keys: KeyStore,
    readonly settings: TokenSettings,
  ) {}

  async #sign(
    claims: Record<string, unknown>,
    expiresInSeconds = this.settings.sessionDurationSeconds,
  ): Promise<{ token: string; payload: AccessTokenPayload }> {
    const key = this.keys.current;
    const iat = Math.floor(Date.now() / 1000);
    const payload = {
      ...claims,
      aud: [...this.settings.audience],
      iss: this.settings.issuer,
      iat,
      nbf: iat,
      exp: iat + expiresInSeconds,
      type: 'app',
    } as AccessTokenPayload;
    const token = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
      .sign(key.privateKey);
    return { token, payload };
  }

  /** Mints a token for a person, with a fresh identity nonce. */
  mintUserToken(
    user: { email: string; country: string; custom?: Record<string, unknown> },
    expiresInSeconds?: number,
  ) {
    const email = normalizeEmail(user.email);
    return this.#sign(
      {
        email,
        sub: subjectForEmail(email),
        identity_nonce: randomBytes(16).toString('base64url'),
        country: user.country,
        ...(user.custom ? { custom: user.custom } : {}),
      },
      expiresInSeconds,
    );
  }

  /** Mints a token for a service token: `common_name` = Client ID, empty `sub`, no email. */
  mintServiceToken(clientId: string) {
    return this.#sign({ common_name: clientId, sub: '' });
  }

  /** Verifies signature (current or previous key), issuer, audience and expiry. */
  async verify(token: string): Promise<AccessTokenPayload> {
    const { payload, protectedHeader } = await jwtVerify(
      token,
      this.keys.verificationKeys,
      {
        algorithms: ['RS256'],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
      },
    );
    if (protectedHeader.typ !== 'JWT' || payload.type !== 'app') {
      throw new Error('not an application token');
    }
    return payload as AccessTokenPayload;
  }
}
