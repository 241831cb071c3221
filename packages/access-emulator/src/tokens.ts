/*
 * Minting and verifying Access application tokens (RS256 JWTs).
 */
import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, type JWTPayload } from 'jose';
import type { KeyStore } from './keys';

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

export interface TokenSettings {
  /** The `iss` claim: the emulator's public origin. */
  issuer: string;
  /** The `aud` claim: Application Audience tags. */
  audience: string[];
  /** Lifetime of tokens in seconds. */
  sessionDurationSeconds: number;
}

/** Formats the first 16 bytes of a digest as a (version 5 style) UUID. */
export function uuidFromDigest(digest: Buffer): string {
  const b = Buffer.from(digest.subarray(0, 16));
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(
    12,
    16,
  )}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A stable UUID-shaped id derived from a name, e.g. the `sub` for an email. */
export function stableUuid(namespace: string, value: string): string {
  return uuidFromDigest(
    createHash('sha256').update(`${namespace}:${value}`).digest(),
  );
}

/** The `sub` claim for a person: stable per (case-insensitive) email. */
export function subjectForEmail(email: string): string {
  return stableUuid('user', email.trim().toLowerCase());
}

export class TokenIssuer {
  constructor(
    private readonly keys: KeyStore,
    readonly settings: TokenSettings,
  ) {}

  async #sign(
    claims: Record<string, unknown>,
    options: { now?: number; expiresInSeconds?: number },
  ): Promise<{ token: string; payload: AccessTokenPayload }> {
    const key = this.keys.current;
    const iat = options.now ?? Math.floor(Date.now() / 1000);
    const exp =
      iat + (options.expiresInSeconds ?? this.settings.sessionDurationSeconds);
    const payload = {
      ...claims,
      aud: [...this.settings.audience],
      iss: this.settings.issuer,
      iat,
      nbf: iat,
      exp,
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
    options: { now?: number; expiresInSeconds?: number; nonce?: string } = {},
  ) {
    const email = user.email.trim().toLowerCase();
    return this.#sign(
      {
        email,
        sub: subjectForEmail(email),
        identity_nonce: options.nonce ?? randomBytes(16).toString('base64url'),
        country: user.country,
        ...(user.custom ? { custom: user.custom } : {}),
      },
      options,
    );
  }

  /** Mints a token for a service token: `common_name` = Client ID, empty `sub`, no email. */
  mintServiceToken(
    clientId: string,
    options: { now?: number; expiresInSeconds?: number } = {},
  ) {
    return this.#sign({ common_name: clientId, sub: '' }, options);
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
