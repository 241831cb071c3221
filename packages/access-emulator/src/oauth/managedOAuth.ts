/*
 * The Managed OAuth state of one emulator (one Access application): its settings, the registered
 * clients, pending authorization codes, grants, and the access tokens it signs. All in memory.
 */
import type { KeyStore } from '../keys';
import type { AccessTokenPayload } from '../tokens';
import { AccessTokens } from './accessTokens';
import { AuthorizationCodes } from './authorizationCodes';
import { ClientRegistry } from './clients';
import { type ApplicationToken, type Grant, GrantStore } from './grants';
import type { ManagedOAuthSettings } from './settings';

export interface ManagedOAuthDependencies {
  settings: ManagedOAuthSettings;
  keys: KeyStore;
  /** The team domain: in the emulator the public origin, which is also the token issuer. */
  issuer: string;
  /** This application's AUD tags. */
  audience: string[];
  /**
   * Mints a person's application token as a login does (signInUser: get-identity answers for it), living
   * at most `expiresInSeconds`.
   */
  signIn: (
    email: string,
    ip: string,
    expiresInSeconds: number,
  ) => Promise<ApplicationToken>;
  /** Verifies an application token (signature, issuer, audience, expiry). */
  verifyApplicationToken: (token: string) => Promise<AccessTokenPayload>;
  /** Caps of the in-memory stores (internal: tests set small ones); defaults otherwise. */
  limits?: { clients?: number; grants?: number; codes?: number };
}

export class ManagedOAuth {
  readonly settings: ManagedOAuthSettings;
  readonly issuer: string;
  readonly clients: ClientRegistry;
  readonly codes: AuthorizationCodes;
  readonly grants: GrantStore;
  readonly accessTokens: AccessTokens;

  constructor(private readonly deps: ManagedOAuthDependencies) {
    this.settings = deps.settings;
    this.issuer = deps.issuer;
    this.accessTokens = new AccessTokens(deps.keys, deps);
    this.codes = new AuthorizationCodes({ maxCodes: deps.limits?.codes });
    this.grants = new GrantStore({ maxGrants: deps.limits?.grants });
    // A client with a live grant or a code still to exchange is never forgotten to make room.
    this.clients = new ClientRegistry({
      maxClients: deps.limits?.clients,
      inUse: (clientId, now) =>
        this.grants.hasLiveGrant(clientId, now) ||
        this.codes.hasPendingCode(clientId, now),
    });
  }

  /** The clock of codes, grants and access tokens (read at each call, so a test can move it). */
  now(): number {
    return Date.now();
  }

  /**
   * Signs the person of a grant in (at the code exchange, a refresh, or when the origin needs a fresh
   * application token): the token lives as long as an access token would, never past the grant session,
   * so it is no more use after a revocation than the access token it stands for.
   */
  signIn(
    grant: Pick<Grant, 'email' | 'expiresAt'>,
    ip: string,
  ): Promise<ApplicationToken> {
    const iat = Math.floor(this.now() / 1000);
    const seconds = Math.min(
      this.settings.accessTokenLifetimeSeconds,
      Math.floor(grant.expiresAt / 1000) - iat,
    );
    return this.deps.signIn(grant.email, ip, Math.max(1, seconds));
  }

  /**
   * The application token the origin gets for a grant: the one minted at issue or refresh while it is
   * still valid (it may outlive neither its expiry nor two key rotations), else a fresh one.
   */
  async applicationTokenFor(
    grant: Grant,
    ip: string,
  ): Promise<ApplicationToken> {
    const valid = await this.deps
      .verifyApplicationToken(grant.applicationToken.token)
      .then(() => true)
      .catch(() => false);
    if (!valid) {
      grant.applicationToken = await this.signIn(grant, ip);
    }
    return grant.applicationToken;
  }

  /**
   * The token response for a grant (after a code exchange or a refresh): a fresh access token, living
   * `accessTokenLifetime` but never past the grant session, and the grant's new refresh token.
   */
  async tokenResponse(grant: Grant, refreshToken: string) {
    const now = this.now();
    const iat = Math.floor(now / 1000);
    const exp = Math.min(
      iat + this.settings.accessTokenLifetimeSeconds,
      Math.floor(grant.expiresAt / 1000),
    );
    const accessToken = await this.accessTokens.mint(
      {
        email: grant.email,
        client_id: grant.clientId,
        sid: grant.id,
        resource: grant.resource,
      },
      now,
      exp,
    );
    return {
      access_token: accessToken,
      token_type: 'bearer',
      expires_in: exp - iat,
      scope: '', // Access has no scopes
      resource: grant.resource,
      refresh_token: refreshToken,
    };
  }

  /** Revokes every grant (admin); returns how many were alive. */
  revokeAllGrants(): number {
    return this.grants.revokeAll(this.now());
  }
}
