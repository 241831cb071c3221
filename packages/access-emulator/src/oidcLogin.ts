/*
 * Signing in through an upstream OpenID Connect provider, as Cloudflare Access does for an "OpenID
 * Connect" identity provider: authorization code flow with a confidential (or public) client, PKCE
 * (S256), state and nonce, using openid-client. Discovery is lazy (first login click) and retried after a
 * failure, so the emulator starts before the IdP does.
 *
 * Nothing here logs or returns tokens, codes or secrets.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as client from 'openid-client';
import type { OidcProviderConfig } from './oidcConfig';
import type { EmulatorGroup } from './users';
import { isValidEmail } from './users';

/** How long a started login may take at the IdP. */
export const PENDING_LOGIN_TTL_MS = 10 * 60_000;
const MAX_PENDING_LOGINS = 1000;
const MAX_GROUPS = 500;
const MAX_GROUP_NAME = 256;
const DISCOVERY_TIMEOUT_SECONDS = 10;

/** What the emulator keeps between sending the browser to the IdP and the callback. */
export interface PendingLogin {
  providerId: string;
  state: string;
  nonce: string;
  codeVerifier?: string;
  redirectUrl: string;
  expiresAt: number;
}

/** The identity an IdP login yields, before it becomes an Access identity. */
export interface OidcIdentity {
  email: string;
  name?: string;
  groups: Array<string | EmulatorGroup>;
  custom?: Record<string, unknown>;
}

/** A login failure with a message fit for the user (no secrets) and an HTTP status. */
export class OidcLoginError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
    /** Short, secret-free reason for the request log. */
    readonly logReason: string,
  ) {
    super(message);
    this.name = 'OidcLoginError';
  }
}

/**
 * Pending logins by an opaque id (the browser holds the id in an HttpOnly cookie), single use,
 * expiring, bounded.
 */
export class PendingLogins {
  readonly #byId = new Map<string, PendingLogin>();

  constructor(private readonly now: () => number = Date.now) {}

  add(login: Omit<PendingLogin, 'expiresAt'>): string {
    this.#sweep();
    const id = randomBytes(24).toString('base64url');
    this.#byId.set(id, {
      ...login,
      expiresAt: this.now() + PENDING_LOGIN_TTL_MS,
    });
    while (this.#byId.size > MAX_PENDING_LOGINS) {
      const oldest = this.#byId.keys().next().value;
      if (oldest === undefined) {
        break;
      }
      this.#byId.delete(oldest);
    }
    return id;
  }

  /** Removes and returns the login, if it exists and has not expired. */
  take(id: string | undefined): PendingLogin | undefined {
    if (!id) {
      return undefined;
    }
    const login = this.#byId.get(id);
    this.#byId.delete(id);
    if (!login || login.expiresAt <= this.now()) {
      return undefined;
    }
    return login;
  }

  get size() {
    return this.#byId.size;
  }

  #sweep() {
    const now = this.now();
    for (const [id, login] of this.#byId) {
      if (login.expiresAt <= now) {
        this.#byId.delete(id);
      }
    }
  }
}

/** Constant-time string comparison. */
export function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

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

/** A short, secret-free description of an error thrown by openid-client or fetch. */
export function describeOidcError(error: unknown): string {
  if (error instanceof client.AuthorizationResponseError) {
    return `authorization error ${error.error}`;
  }
  if (error instanceof client.ResponseBodyError) {
    return `IdP answered ${error.status} ${error.error}`;
  }
  if (error instanceof client.WWWAuthenticateChallengeError) {
    const challenge = error.cause?.[0];
    const code = challenge?.parameters?.error;
    return `IdP answered ${error.status}${
      typeof code === 'string' ? ` ${code}` : ''
    } (${challenge?.scheme ?? 'challenge'})`;
  }
  const e = error as {
    name?: string;
    message?: string;
    code?: string;
    cause?: any;
  };
  const cause = e?.cause?.code ?? e?.cause?.name;
  const parts = [
    e?.code ?? e?.name ?? 'Error',
    (e?.message ?? String(error)).slice(0, 200),
    cause ? `(${cause})` : '',
  ];
  return parts.filter(Boolean).join(': ').replace(/: \(/, ' (');
}

function getPath(claims: Record<string, unknown>, path: string): unknown {
  if (path in claims) {
    return claims[path];
  }
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * Groups from the groups claim: a list of names, a list of `{ name, id?, email? }` objects (or
 * `{ id }` / `{ display }` shapes), or a single name. Anything else is dropped.
 */
export function groupsFromClaim(value: unknown): Array<string | EmulatorGroup> {
  let list: unknown[] = [];
  if (Array.isArray(value)) {
    list = value;
  } else if (typeof value === 'string') {
    list = [value];
  }
  const groups: Array<string | EmulatorGroup> = [];
  const seen = new Set<string>();
  for (const item of list.slice(0, MAX_GROUPS)) {
    let group: string | EmulatorGroup | undefined;
    if (typeof item === 'string' && item.trim()) {
      group = item.trim().slice(0, MAX_GROUP_NAME);
    } else if (item && typeof item === 'object' && !Array.isArray(item)) {
      const g = item as Record<string, unknown>;
      const str = (v: unknown) =>
        typeof v === 'string' && v.trim()
          ? v.trim().slice(0, MAX_GROUP_NAME)
          : undefined;
      const name = str(g.name) ?? str(g.display) ?? str(g.id);
      if (name) {
        const email = str(g.email);
        group = {
          name,
          id: str(g.id),
          email: email && isValidEmail(email) ? email : undefined,
        };
      }
    }
    if (group) {
      const key = typeof group === 'string' ? group : group.name;
      if (!seen.has(key)) {
        seen.add(key);
        groups.push(group);
      }
    }
  }
  return groups;
}

/** Turns IdP claims (id token, plus userinfo) into the identity Access would carry on. */
export function identityFromClaims(
  config: OidcProviderConfig,
  claims: Record<string, unknown>,
): OidcIdentity {
  const rawEmail = claims.email;
  const email =
    typeof rawEmail === 'string' ? rawEmail.trim().toLowerCase() : '';
  if (!email) {
    throw new OidcLoginError(
      403,
      'No email address',
      `${
        config.name
      } did not send an email address for this account. Request the "email" scope (scopes: ${config.scopes.join(
        ' ',
      )}) and give the account an email address at the identity provider.`,
      'no email claim',
    );
  }
  if (!isValidEmail(email)) {
    throw new OidcLoginError(
      403,
      'Invalid email address',
      `${config.name} sent an email claim that is not an email address.`,
      'invalid email claim',
    );
  }
  if (
    config.requireVerifiedEmail &&
    (claims.email_verified === false || claims.email_verified === 'false')
  ) {
    throw new OidcLoginError(
      403,
      'Email address not verified',
      `${config.name} reports that ${email} is not verified (email_verified: false). Verify it at the identity provider, or set requireVerifiedEmail: false for this provider.`,
      'email not verified',
    );
  }
  const str = (v: unknown) =>
    typeof v === 'string' && v.trim() ? v.trim() : undefined;
  const joined = [str(claims.given_name), str(claims.family_name)]
    .filter(Boolean)
    .join(' ');
  const name =
    str(claims.name) ?? (joined || undefined) ?? str(claims.preferred_username);
  const groups = groupsFromClaim(getPath(claims, config.groupsClaim));
  let custom: Record<string, unknown> | undefined;
  for (const claim of config.claims) {
    const value = getPath(claims, claim);
    if (value !== undefined) {
      custom = { ...custom, [claim]: value };
    }
  }
  return { email, name, groups, ...(custom ? { custom } : {}) };
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
        throw new OidcLoginError(
          502,
          'Identity provider unreachable',
          `Could not load the OpenID Connect configuration of ${
            this.config.name
          } from ${this.config.issuer.href}${
            this.config.issuer.href.endsWith('/') ? '' : '/'
          }.well-known/openid-configuration (${describeOidcError(
            error,
          )}). Is it running, and is the issuer URL right? Try again.`,
          `discovery failed: ${describeOidcError(error)}`,
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
      throw new OidcLoginError(
        502,
        'Sign-in failed at the token exchange',
        `${this.config.name} did not complete the sign-in (${describeOidcError(
          error,
        )}). Check the client id and secret, the redirect URI registered there (${
          this.redirectUri
        }) and the PKCE setting, then try again.`,
        `token exchange failed: ${describeOidcError(error)}`,
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
        throw new OidcLoginError(
          502,
          'Userinfo failed',
          `${this.config.name}'s userinfo endpoint failed (${describeOidcError(
            error,
          )}). Try again, or set userinfo: false if the id token carries the claims.`,
          `userinfo failed: ${describeOidcError(error)}`,
        );
      }
    }
    return identityFromClaims(this.config, claims);
  }
}

/** The error page for an `error=` answer from the IdP (e.g. the user cancelled: access_denied). */
export function idpError(
  providerName: string,
  error: unknown,
  description: unknown,
): OidcLoginError {
  const code =
    typeof error === 'string' && /^[\x20-\x7e]{1,64}$/.test(error)
      ? error
      : 'unknown_error';
  const detail =
    typeof description === 'string' && description.trim()
      ? `: ${description.trim().slice(0, 300)}`
      : '';
  const denied = code === 'access_denied';
  return new OidcLoginError(
    denied ? 403 : 400,
    denied ? 'Access denied' : 'Sign-in failed',
    `${providerName} answered "${code}"${detail}.`,
    `IdP error ${code}`,
  );
}
