/*
 * The login methods of one emulator: the built-in user list ("One-time PIN") and any number of upstream
 * OpenID Connect providers, from a config file and/or programmatic options.
 */
import { OidcLoginProvider } from './oidc/client';
import {
  type IdentityProvidersConfig,
  type OidcProviderInput,
  checkUniqueProviderIds,
  loadIdentityProvidersFile,
  oidcLoginPath,
  oidcRedirectUri,
  validateOidcProvider,
} from './oidc/config';
import { PendingLogins } from './oidc/pendingLogins';

/** The emulator options that choose login methods (see AccessEmulatorOptions). */
export interface LoginMethodOptions {
  /** YAML file with `identityProviders` (and optionally `oneTimePin`, `instantAuth`). */
  identityProvidersFile?: string;
  /** OpenID Connect providers in addition to those of the file. */
  identityProviders?: OidcProviderInput[];
  /** Offer the built-in user list and email form; default true (or the file's `oneTimePin`). */
  oneTimePin?: boolean;
  /** With exactly one identity provider and no built-in login, skip the login page. */
  instantAuth?: boolean;
}

/** What the CLI and API report about a configured provider (no secret). */
export interface IdentityProviderSummary {
  id: string;
  name: string;
  issuer: string;
  clientId: string;
  scopes: string[];
  groupsClaim: string;
  pkce: boolean;
  /** The redirect URI to register at the identity provider. */
  redirectUri: string;
  /** The emulator URL that starts a login with this provider. */
  loginUrl: string;
}

/** Loads and validates the login methods; throws with a message naming the bad field. */
export async function resolveLoginMethods(
  options: LoginMethodOptions,
  env: NodeJS.ProcessEnv = process.env,
) {
  const file: IdentityProvidersConfig = options.identityProvidersFile
    ? await loadIdentityProvidersFile(options.identityProvidersFile, env)
    : { identityProviders: [] };
  const inline = (options.identityProviders ?? []).map((p, i) =>
    validateOidcProvider(`identityProviders[${i}]`, p, env),
  );
  const providers = [...file.identityProviders, ...inline];
  checkUniqueProviderIds('identity providers', providers);
  const oneTimePin = options.oneTimePin ?? file.oneTimePin ?? true;
  const instantAuth = options.instantAuth ?? file.instantAuth ?? false;
  if (!oneTimePin && providers.length === 0) {
    throw new Error(
      'oneTimePin is off but no identity provider is configured: nobody could sign in',
    );
  }
  return { providers, oneTimePin, instantAuth };
}

type LoginMethods = Awaited<ReturnType<typeof resolveLoginMethods>>;

/** The context fields for the login methods, once the public origin is known. */
export function loginContext(methods: LoginMethods, publicOrigin: string) {
  const redirectUri = oidcRedirectUri(publicOrigin);
  return {
    identityProviders: new Map(
      methods.providers.map(p => [p.id, new OidcLoginProvider(p, redirectUri)]),
    ),
    pendingLogins: new PendingLogins(),
    oneTimePin: methods.oneTimePin,
    instantAuth: methods.instantAuth,
  };
}

export function summarizeProviders(
  methods: LoginMethods,
  publicOrigin: string,
): IdentityProviderSummary[] {
  return methods.providers.map(p => ({
    id: p.id,
    name: p.name,
    issuer: p.issuer.href,
    clientId: p.clientId,
    scopes: [...p.scopes],
    groupsClaim: p.groupsClaim,
    pkce: p.pkce,
    redirectUri: oidcRedirectUri(publicOrigin),
    loginUrl: `${publicOrigin}${oidcLoginPath(p.id)}`,
  }));
}
