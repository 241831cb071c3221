/*
 * Configuration of upstream OpenID Connect identity providers: what Cloudflare Access calls an
 * "OpenID Connect" identity provider (Zero Trust -> Settings -> Authentication). Loaded from a YAML file
 * (`--idp-config`) or from CLI flags, validated with errors that name the field. Client secrets can come
 * from an environment variable and are never printed.
 */
import { promises as fs } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { stableUuid } from './tokens';

export type TokenEndpointAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'none';

/** One OpenID Connect identity provider, as written in the config file or passed to the API. */
export interface OidcProviderInput {
  /** Label on the login page ("Sign in with <name>"), e.g. `PocketID`. */
  name: string;
  /** URL-safe id used in the login URL; default: the name, slugified. */
  id?: string;
  /** Issuer URL; `<issuer>/.well-known/openid-configuration` is fetched at the first login. */
  issuer: string;
  clientId: string;
  /** The client secret itself (local IdPs only; prefer clientSecretEnv). */
  clientSecret?: string;
  /** Name of an environment variable holding the client secret. */
  clientSecretEnv?: string;
  /** Default `client_secret_basic`; `none` for a public client (no secret, PKCE required). */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** Scopes to request; default `openid email profile groups`. Must include `openid`. */
  scopes?: string[] | string;
  /** Claim holding the groups (a dotted path is allowed, e.g. `realm_access.roles`); default `groups`. */
  groupsClaim?: string;
  /** Send a PKCE code challenge (S256); default true. */
  pkce?: boolean;
  /** Also call the userinfo endpoint and merge its claims (for IdPs that keep claims out of the id token). */
  userinfo?: boolean;
  /** Extra claims to copy into `custom` (application token and get-identity), like Access's "OIDC Claims". */
  claims?: string[];
  /** Refuse logins whose `email_verified` claim is `false`; default true. */
  requireVerifiedEmail?: boolean;
  /** The IdP's id in get-identity `idp.id`; default a stable UUID derived from the id. */
  idpUuid?: string;
}

/** A validated provider: every default filled in, the secret resolved. */
export interface OidcProviderConfig {
  id: string;
  name: string;
  issuer: URL;
  clientId: string;
  clientSecret?: string;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  scopes: string[];
  groupsClaim: string;
  pkce: boolean;
  userinfo: boolean;
  claims: string[];
  requireVerifiedEmail: boolean;
  idpUuid: string;
}

/** The whole identity-provider configuration of one emulator. */
export interface IdentityProvidersConfig {
  identityProviders: OidcProviderConfig[];
  /** Keep the built-in user list and email form ("One-time PIN") on the login page. Default true. */
  oneTimePin?: boolean;
  /**
   * With exactly one login method, skip the login page and go straight to the identity provider
   * (Access's "Apply instant authentication" / "Skip identity provider selection").
   */
  instantAuth?: boolean;
}

export const DEFAULT_OIDC_SCOPES = ['openid', 'email', 'profile', 'groups'];
export const DEFAULT_GROUPS_CLAIM = 'groups';
export const OIDC_CALLBACK_PATH = '/cdn-cgi/access/callback';

const PROVIDER_FIELDS = [
  'name',
  'id',
  'issuer',
  'clientId',
  'clientSecret',
  'clientSecretEnv',
  'tokenEndpointAuthMethod',
  'scopes',
  'groupsClaim',
  'pkce',
  'userinfo',
  'claims',
  'requireVerifiedEmail',
  'idpUuid',
];
const AUTH_METHODS: TokenEndpointAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'none',
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

function requiredString(where: string, value: unknown): string {
  if (typeof value !== 'string' || !value.trim()) {
    throw new Error(`${where}: required, a non-empty string`);
  }
  return value.trim();
}

function optionalString(where: string, value: unknown): string | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  return requiredString(where, value);
}

function optionalBoolean(
  where: string,
  value: unknown,
  fallback: boolean,
): boolean {
  if (value === undefined || value === null) {
    return fallback;
  }
  if (typeof value !== 'boolean') {
    throw new Error(`${where}: expected true or false, got ${describe(value)}`);
  }
  return value;
}

function stringList(where: string, value: unknown): string[] | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  let list: unknown[] | undefined;
  if (typeof value === 'string') {
    list = value.split(/[\s,]+/);
  } else if (Array.isArray(value)) {
    list = value;
  }
  if (!list || list.some(v => typeof v !== 'string')) {
    throw new Error(
      `${where}: expected a list of strings (or one space-separated string), got ${describe(
        value,
      )}`,
    );
  }
  return [...new Set(list.map(v => (v as string).trim()).filter(Boolean))];
}

/** Lower-case, URL-safe id from a provider name. */
export function slugifyProviderId(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
}

/**
 * Validates one provider. `env` is where `clientSecretEnv` is looked up (process.env by default).
 * Throws an Error naming the field; never includes the secret in a message.
 */
export function validateOidcProvider(
  where: string,
  value: unknown,
  env: NodeJS.ProcessEnv = process.env,
): OidcProviderConfig {
  if (!isRecord(value)) {
    throw new Error(
      `${where}: expected a mapping with name, issuer and clientId, got ${describe(
        value,
      )}`,
    );
  }
  for (const key of Object.keys(value)) {
    if (!PROVIDER_FIELDS.includes(key)) {
      throw new Error(
        `${where}: unknown field "${key}" (allowed: ${PROVIDER_FIELDS.join(
          ', ',
        )})`,
      );
    }
  }
  const name = requiredString(`${where}.name`, value.name);
  const id = optionalString(`${where}.id`, value.id) ?? slugifyProviderId(name);
  if (!/^[a-z0-9][a-z0-9_-]{0,39}$/.test(id)) {
    throw new Error(
      `${where}.id: expected lower-case letters, digits, "-" or "_" (at most 40), got ${describe(
        id,
      )}`,
    );
  }
  const issuerText = requiredString(`${where}.issuer`, value.issuer);
  let issuer: URL;
  try {
    issuer = new URL(issuerText);
  } catch {
    throw new Error(`${where}.issuer: not a URL: ${describe(issuerText)}`);
  }
  if (issuer.protocol !== 'https:' && issuer.protocol !== 'http:') {
    throw new Error(
      `${where}.issuer: must be an http(s) URL, got ${describe(issuerText)}`,
    );
  }
  if (issuer.search || issuer.hash || issuer.username || issuer.password) {
    throw new Error(
      `${where}.issuer: no query, fragment or credentials allowed, got ${describe(
        issuerText,
      )}`,
    );
  }
  const clientId = requiredString(`${where}.clientId`, value.clientId);

  if (value.clientSecret !== undefined && value.clientSecretEnv !== undefined) {
    throw new Error(
      `${where}: give either clientSecret or clientSecretEnv, not both`,
    );
  }
  let clientSecret: string | undefined;
  if (value.clientSecret !== undefined) {
    if (typeof value.clientSecret !== 'string' || !value.clientSecret) {
      throw new Error(`${where}.clientSecret: expected a non-empty string`);
    }
    clientSecret = value.clientSecret;
  }
  const secretEnv = optionalString(
    `${where}.clientSecretEnv`,
    value.clientSecretEnv,
  );
  if (secretEnv !== undefined) {
    const fromEnv = env[secretEnv];
    if (!fromEnv) {
      throw new Error(
        `${where}.clientSecretEnv: environment variable ${secretEnv} is not set or empty`,
      );
    }
    clientSecret = fromEnv;
  }

  const method = value.tokenEndpointAuthMethod ?? 'client_secret_basic';
  if (!AUTH_METHODS.includes(method as TokenEndpointAuthMethod)) {
    throw new Error(
      `${where}.tokenEndpointAuthMethod: expected one of ${AUTH_METHODS.join(
        ', ',
      )}, got ${describe(method)}`,
    );
  }
  if (method !== 'none' && !clientSecret) {
    throw new Error(
      `${where}: a confidential client needs clientSecret or clientSecretEnv (or tokenEndpointAuthMethod: none for a public client)`,
    );
  }

  const scopes = stringList(`${where}.scopes`, value.scopes) ?? [
    ...DEFAULT_OIDC_SCOPES,
  ];
  if (!scopes.includes('openid')) {
    throw new Error(
      `${where}.scopes: must include "openid", got ${describe(scopes)}`,
    );
  }
  const groupsClaim =
    optionalString(`${where}.groupsClaim`, value.groupsClaim) ??
    DEFAULT_GROUPS_CLAIM;
  const pkce = optionalBoolean(`${where}.pkce`, value.pkce, true);
  if (method === 'none' && !pkce) {
    throw new Error(`${where}.pkce: a public client must use PKCE`);
  }
  return {
    id,
    name,
    issuer,
    clientId,
    clientSecret,
    tokenEndpointAuthMethod: method as TokenEndpointAuthMethod,
    scopes,
    groupsClaim,
    pkce,
    userinfo: optionalBoolean(`${where}.userinfo`, value.userinfo, false),
    claims: stringList(`${where}.claims`, value.claims) ?? [],
    requireVerifiedEmail: optionalBoolean(
      `${where}.requireVerifiedEmail`,
      value.requireVerifiedEmail,
      true,
    ),
    idpUuid:
      optionalString(`${where}.idpUuid`, value.idpUuid) ??
      stableUuid('idp', `oidc:${id}`),
  };
}

/** Checks that provider ids are unique. */
export function checkUniqueProviderIds(
  where: string,
  providers: OidcProviderConfig[],
) {
  const ids = new Set<string>();
  providers.forEach((p, i) => {
    if (ids.has(p.id)) {
      throw new Error(
        `${where}: identityProviders[${i}].id: duplicate "${p.id}" (set a distinct id or name)`,
      );
    }
    ids.add(p.id);
  });
}

/** Validates a parsed identity-provider config file. */
export function validateIdentityProvidersConfig(
  value: unknown,
  source = 'identity providers',
  env: NodeJS.ProcessEnv = process.env,
): IdentityProvidersConfig {
  if (value === null || value === undefined) {
    return { identityProviders: [] };
  }
  if (!isRecord(value)) {
    throw new Error(
      `${source}: expected a mapping with "identityProviders" (and optionally "oneTimePin", "instantAuth")`,
    );
  }
  const allowed = ['identityProviders', 'oneTimePin', 'instantAuth'];
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new Error(
        `${source}: unknown field "${key}" (allowed: ${allowed.join(', ')})`,
      );
    }
  }
  const list = value.identityProviders ?? [];
  if (!Array.isArray(list)) {
    throw new Error(`${source}: "identityProviders" must be a list`);
  }
  const identityProviders = list.map((p, i) =>
    validateOidcProvider(`${source}: identityProviders[${i}]`, p, env),
  );
  checkUniqueProviderIds(source, identityProviders);
  const config: IdentityProvidersConfig = { identityProviders };
  if (value.oneTimePin !== undefined) {
    config.oneTimePin = optionalBoolean(
      `${source}: oneTimePin`,
      value.oneTimePin,
      true,
    );
  }
  if (value.instantAuth !== undefined) {
    config.instantAuth = optionalBoolean(
      `${source}: instantAuth`,
      value.instantAuth,
      false,
    );
  }
  return config;
}

/** Reads, parses and validates an identity-provider config file (YAML). */
export async function loadIdentityProvidersFile(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<IdentityProvidersConfig> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error: any) {
    throw new Error(
      `Cannot read identity provider config ${file}: ${error.message}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error: any) {
    throw new Error(`${file}: invalid YAML: ${error.message}`);
  }
  return validateIdentityProvidersConfig(parsed, file, env);
}

/** A one-line description for logs and the CLI banner: never includes the secret. */
export function describeProvider(p: OidcProviderConfig): string {
  return `${p.name} [${p.id}]: issuer ${p.issuer.href}, client ${p.clientId} (${
    p.tokenEndpointAuthMethod
  }${p.pkce ? ', PKCE' : ''}), scopes "${p.scopes.join(' ')}", groups claim "${
    p.groupsClaim
  }"`;
}

/** The emulator path that starts a login at provider `id`, then returns to `redirectUrl`. */
export function oidcLoginPath(id: string, redirectUrl: string): string {
  return `/cdn-cgi/access/oidc/${encodeURIComponent(
    id,
  )}/login?redirect_url=${encodeURIComponent(redirectUrl)}`;
}
