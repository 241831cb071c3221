/*
 * One upstream OpenID Connect provider, as Cloudflare Access uses an "OpenID Connect" identity provider:
 * authorization code flow with a confidential (or public) client, PKCE (S256), state and nonce, through
 * openid-client. Discovery is lazy (first login click) and retried after a failure, so the emulator
 * starts before the IdP does.
 */
import * as client from 'openid-client';
import { type OidcIdentity, identityFromClaims } from './claims';
import type { OidcProviderConfig } from './config';
import { OidcLoginError, asLoginError, idpError } from './errors';
import type { PendingLogin } from './pendingLogins';

const CLIENT_AUTH = {
  client_secret_basic: client.ClientSecretBasic,
  client_secret_post: client.ClientSecretPost,
  none: client.None,
};

/** One configured OpenID Connect provider: lazy discovery, authorization URL, callback. */
export class OidcLoginProvider {
  #configuration: Promise<client.Configuration> | undefined;

  constructor(
    readonly config: OidcProviderConfig,
    /** The redirect URI registered at the IdP: `<public origin>/cdn-cgi/access/callback`. */
    readonly redirectUri: string,
  ) {}

  /** Discovers the IdP once; a failed discovery is forgotten so the next login retries. */
  configuration(): Promise<client.Configuration> {
    const { issuer, clientId, clientSecret, name } = this.config;
    this.#configuration ??= client
      .discovery(
        issuer,
        clientId,
        clientSecret,
        CLIENT_AUTH[this.config.tokenEndpointAuthMethod](clientSecret),
        {
          // Verify id token signatures with the IdP's published keys (jwks_uri), as Access does with the
          // "Certificate URL", even over TLS; and allow http for local issuers.
          execute: [
            ...(issuer.protocol === 'http:'
              ? [client.allowInsecureRequests]
              : []),
            client.enableNonRepudiationChecks,
          ],
          timeout: 10,
        },
      )
      .catch(error => {
        this.#configuration = undefined;
        const url = `${issuer.href.replace(
          /\/?$/,
          '/',
        )}.well-known/openid-configuration`;
        throw asLoginError(
          error,
          'discovery',
          'Identity provider unreachable',
          detail =>
            `Could not load the OpenID Connect configuration of ${name} from ${url} (${detail}). Is it running, and is the issuer URL right? Try again.`,
        );
      });
    return this.#configuration;
  }

  /** Starts a login: the authorization URL to send the browser to, and what to keep for the callback. */
  async start(redirectUrl: string): Promise<{
    authorizationUrl: URL;
    pending: Omit<PendingLogin, 'expiresAt'>;
  }> {
    const configuration = await this.configuration();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const codeVerifier = this.config.pkce
      ? client.randomPKCECodeVerifier()
      : undefined;
    const pkce = codeVerifier && {
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    };
    return {
      authorizationUrl: client.buildAuthorizationUrl(configuration, {
        redirect_uri: this.redirectUri,
        scope: this.config.scopes.join(' '),
        state,
        nonce,
        ...pkce,
      }),
      pending: {
        providerId: this.config.id,
        state,
        nonce,
        codeVerifier,
        redirectUrl,
      },
    };
  }

  /**
   * Completes a login at the callback: exchanges the code (checking state, nonce and PKCE), reads the id
   * token (and userinfo if configured) and returns the identity. `callbackQuery` is the raw query string.
   */
  async finish(
    pending: PendingLogin,
    callbackQuery: string,
  ): Promise<OidcIdentity> {
    const { name } = this.config;
    const configuration = await this.configuration();
    const currentUrl = new URL(this.redirectUri);
    currentUrl.search = callbackQuery;
    // After a failure, discover again next time: fresh endpoints and keys (e.g. the IdP restarted).
    const failed = (...args: Parameters<typeof asLoginError>) => {
      this.#configuration = undefined;
      return asLoginError(...args);
    };
    const tokens = await client
      .authorizationCodeGrant(configuration, currentUrl, {
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        pkceCodeVerifier: pending.codeVerifier,
        idTokenExpected: true,
      })
      .catch(error => {
        throw error instanceof client.AuthorizationResponseError
          ? idpError(name, error.error, error.error_description)
          : failed(
              error,
              'token exchange',
              'Sign-in failed at the token exchange',
              detail =>
                `${name} did not complete the sign-in (${detail}). Check the client id and secret, the redirect URI registered there (${this.redirectUri}) and the PKCE setting, then try again.`,
            );
      });
    const idClaims = tokens.claims();
    if (!idClaims) {
      throw new OidcLoginError(
        502,
        'No id token',
        `${name} answered without an id token. Request the "openid" scope.`,
        'no id token',
      );
    }
    const userinfo = this.config.userinfo
      ? await client
          .fetchUserInfo(configuration, tokens.access_token, idClaims.sub)
          .catch(error => {
            throw failed(
              error,
              'userinfo',
              'Userinfo failed',
              detail =>
                `${name}'s userinfo endpoint failed (${detail}). Try again, or set userinfo: false if the id token carries the claims.`,
            );
          })
      : {};
    return identityFromClaims(this.config, { ...idClaims, ...userinfo });
  }
}
