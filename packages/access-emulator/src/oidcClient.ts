/*
 * One upstream OpenID Connect provider, as Cloudflare Access uses an "OpenID Connect" identity provider:
 * authorization code flow with a confidential (or public) client, PKCE (S256), state and nonce, through
 * openid-client. Discovery is lazy (first login click) and retried after a failure, so the emulator
 * starts before the IdP does.
 */
import * as client from 'openid-client';
import { type OidcIdentity, identityFromClaims } from './oidcClaims';
import type { OidcProviderConfig } from './oidcConfig';
import { OidcLoginError, asLoginError, idpError } from './oidcErrors';
import type { PendingLogin } from './pendingLogins';

const DISCOVERY_TIMEOUT_SECONDS = 10;

function clientAuth(config: OidcProviderConfig): client.ClientAuth {
  switch (config.tokenEndpointAuthMethod) {
    case 'client_secret_post':
      return client.ClientSecretPost(config.clientSecret);
    case 'none':
      return client.None();
    default:
      return client.ClientSecretBasic(config.clientSecret);
  }
}

/** One configured OpenID Connect provider: lazy discovery, authorization URL, callback. */
export class OidcLoginProvider {
  #configuration: Promise<client.Configuration> | undefined;

  constructor(
    readonly config: OidcProviderConfig,
    /** The redirect URI registered at the IdP: `<public origin>/cdn-cgi/access/callback`. */
    readonly redirectUri: string,
    private readonly options: { fetch?: client.CustomFetch } = {},
  ) {}

  /** Discovers the IdP once; a failed discovery is forgotten so the next login retries. */
  configuration(): Promise<client.Configuration> {
    if (!this.#configuration) {
      const insecure = this.config.issuer.protocol === 'http:';
      const discovery = client.discovery(
        this.config.issuer,
        this.config.clientId,
        this.config.clientSecret,
        clientAuth(this.config),
        {
          // Verify id token signatures with the IdP's published keys (jwks_uri), as Access does with the
          // "Certificate URL", even over TLS; and allow http for local issuers.
          execute: [
            ...(insecure ? [client.allowInsecureRequests] : []),
            client.enableNonRepudiationChecks,
          ],
          timeout: DISCOVERY_TIMEOUT_SECONDS,
          ...(this.options.fetch
            ? { [client.customFetch]: this.options.fetch }
            : {}),
        },
      );
      this.#configuration = discovery.catch(error => {
        this.#configuration = undefined;
        throw asLoginError(
          error,
          'discovery',
          'Identity provider unreachable',
          detail =>
            `Could not load the OpenID Connect configuration of ${
              this.config.name
            } from ${this.config.issuer.href.replace(
              /\/?$/,
              '/',
            )}.well-known/openid-configuration (${detail}). Is it running, and is the issuer URL right? Try again.`,
        );
      });
    }
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
    const parameters: Record<string, string> = {
      redirect_uri: this.redirectUri,
      scope: this.config.scopes.join(' '),
      state,
      nonce,
    };
    let codeVerifier: string | undefined;
    if (this.config.pkce) {
      codeVerifier = client.randomPKCECodeVerifier();
      parameters.code_challenge = await client.calculatePKCECodeChallenge(
        codeVerifier,
      );
      parameters.code_challenge_method = 'S256';
    }
    return {
      authorizationUrl: client.buildAuthorizationUrl(configuration, parameters),
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
    const configuration = await this.configuration();
    const currentUrl = new URL(this.redirectUri);
    currentUrl.search = callbackQuery;
    let tokens;
    try {
      tokens = await client.authorizationCodeGrant(configuration, currentUrl, {
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        pkceCodeVerifier: pending.codeVerifier,
        idTokenExpected: true,
      });
    } catch (error) {
      if (error instanceof client.AuthorizationResponseError) {
        throw idpError(this.config.name, error.error, error.error_description);
      }
      // Rediscover next time (fresh endpoints and keys, e.g. after the IdP restarted with new keys).
      this.#configuration = undefined;
      throw asLoginError(
        error,
        'token exchange',
        'Sign-in failed at the token exchange',
        detail =>
          `${this.config.name} did not complete the sign-in (${detail}). Check the client id and secret, the redirect URI registered there (${this.redirectUri}) and the PKCE setting, then try again.`,
      );
    }
    const idClaims = tokens.claims();
    if (!idClaims) {
      throw new OidcLoginError(
        502,
        'No id token',
        `${this.config.name} answered without an id token. Request the "openid" scope.`,
        'no id token',
      );
    }
    let claims: Record<string, unknown> = { ...idClaims };
    if (this.config.userinfo) {
      try {
        const userinfo = await client.fetchUserInfo(
          configuration,
          tokens.access_token,
          idClaims.sub,
        );
        claims = { ...claims, ...userinfo };
      } catch (error) {
        this.#configuration = undefined;
        throw asLoginError(
          error,
          'userinfo',
          'Userinfo failed',
          detail =>
            `${this.config.name}'s userinfo endpoint failed (${detail}). Try again, or set userinfo: false if the id token carries the claims.`,
        );
      }
    }
    return identityFromClaims(this.config, claims);
  }
}
