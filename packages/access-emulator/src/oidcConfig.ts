/*
 * Configuration of upstream OpenID Connect identity providers: what Cloudflare Access calls an
 * "OpenID Connect" identity provider (Zero Trust -> Settings -> Authentication). Loaded from a YAML file
 * (`--idp-config`) or from CLI flags, validated with errors that name the field. Client secrets can come
 * from an environment variable and are never printed.
 */
import { promises as fs } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  NO_VALUE,
  nonEmptyString,
  optionalBoolean,
  optionalString,
  parseWithSchema,
  strictObject,
} from './schemas';
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

const AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'none',
] as const;
const PROVIDER_ID = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const REQUIRED = 'required, a non-empty string';
const STRING_LIST =
  'expected a list of strings (or one space-separated string)';

/** Lower-case, URL-safe id from a provider name. */
export function slugifyProviderId(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
}

/** A list of strings, or one string of space- or comma-separated items; trimmed, without repeats. */
const stringList = z.preprocess(
  v => (typeof v === 'string' ? v.split(/[\s,]+/) : v),
  z
    .array(z.string({ invalid_type_error: STRING_LIST }), {
      invalid_type_error: STRING_LIST,
    })
    .nullish()
    .transform(list =>
      list ? [...new Set(list.map(v => v.trim()).filter(Boolean))] : undefined,
    ),
);

const issuerUrl = nonEmptyString(REQUIRED).transform((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'not a URL' });
    return z.NEVER;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: 'must be an http(s) URL',
    });
  } else if (url.search || url.hash || url.username || url.password) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: 'no query, fragment or credentials allowed',
    });
  }
  return url;
});

const providerFields = strictObject(
  {
    name: nonEmptyString(REQUIRED),
    id: optionalString(REQUIRED),
    issuer: issuerUrl,
    clientId: nonEmptyString(REQUIRED),
    clientSecret: z
      .string({ invalid_type_error: 'expected a non-empty string' })
      .min(1, 'expected a non-empty string')
      .optional(),
    clientSecretEnv: optionalString(REQUIRED),
    tokenEndpointAuthMethod: z
      .enum(AUTH_METHODS, {
        errorMap: () => ({
          message: `expected one of ${AUTH_METHODS.join(', ')}`,
        }),
      })
      .default('client_secret_basic'),
    scopes: stringList,
    groupsClaim: optionalString(REQUIRED),
    pkce: optionalBoolean(true),
    userinfo: optionalBoolean(false),
    claims: stringList,
    requireVerifiedEmail: optionalBoolean(true),
    idpUuid: optionalString(REQUIRED),
  },
  'expected a mapping with name, issuer and clientId',
);

/** One provider's schema; `clientSecretEnv` is looked up in `env`. */
function providerSchema(env: NodeJS.ProcessEnv) {
  return providerFields.transform((p, ctx): OidcProviderConfig => {
    const fail = (message: string, path: string[] = [], value?: unknown) => {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path,
        message,
        params: value === undefined ? NO_VALUE : { value },
      });
      return z.NEVER;
    };
    const id = p.id ?? slugifyProviderId(p.name);
    if (!PROVIDER_ID.test(id)) {
      return fail(
        'expected lower-case letters, digits, "-" or "_" (at most 40)',
        ['id'],
        id,
      );
    }
    if (p.clientSecret !== undefined && p.clientSecretEnv !== undefined) {
      return fail('give either clientSecret or clientSecretEnv, not both');
    }
    let clientSecret = p.clientSecret;
    if (p.clientSecretEnv !== undefined) {
      clientSecret = env[p.clientSecretEnv];
      if (!clientSecret) {
        return fail(
          `environment variable ${p.clientSecretEnv} is not set or empty`,
          ['clientSecretEnv'],
        );
      }
    }
    const method = p.tokenEndpointAuthMethod;
    if (method !== 'none' && !clientSecret) {
      return fail(
        'a confidential client needs clientSecret or clientSecretEnv (or tokenEndpointAuthMethod: none for a public client)',
      );
    }
    const scopes = p.scopes ?? [...DEFAULT_OIDC_SCOPES];
    if (!scopes.includes('openid')) {
      return fail('must include "openid"', ['scopes'], scopes);
    }
    if (method === 'none' && !p.pkce) {
      return fail('a public client must use PKCE', ['pkce']);
    }
    return {
      id,
      name: p.name,
      issuer: p.issuer,
      clientId: p.clientId,
      clientSecret,
      tokenEndpointAuthMethod: method,
      scopes,
      groupsClaim: p.groupsClaim ?? DEFAULT_GROUPS_CLAIM,
      pkce: p.pkce,
      userinfo: p.userinfo,
      claims: p.claims ?? [],
      requireVerifiedEmail: p.requireVerifiedEmail,
      idpUuid: p.idpUuid ?? stableUuid('idp', `oidc:${id}`),
    };
  });
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
  return parseWithSchema(providerSchema(env), value, where, { entry: true });
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

const loginSwitch = z
  .boolean({ invalid_type_error: 'expected true or false' })
  .nullish()
  .transform(v => v ?? undefined);

/** Validates a parsed identity-provider config file. */
export function validateIdentityProvidersConfig(
  value: unknown,
  source = 'identity providers',
  env: NodeJS.ProcessEnv = process.env,
): IdentityProvidersConfig {
  const schema = strictObject(
    {
      identityProviders: z
        .array(providerSchema(env), { invalid_type_error: 'expected a list' })
        .default([]),
      oneTimePin: loginSwitch,
      instantAuth: loginSwitch,
    },
    'expected a mapping with "identityProviders" (and optionally "oneTimePin", "instantAuth")',
  )
    .nullish()
    .transform(v => v ?? { identityProviders: [] });
  const { identityProviders, oneTimePin, instantAuth } = parseWithSchema(
    schema,
    value,
    source,
  );
  checkUniqueProviderIds(source, identityProviders);
  return {
    identityProviders,
    ...(oneTimePin === undefined ? {} : { oneTimePin }),
    ...(instantAuth === undefined ? {} : { instantAuth }),
  };
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

/** The emulator path that starts a login at provider `id`, then returns to `redirectUrl`. */
export function oidcLoginPath(id: string, redirectUrl: string): string {
  return `/cdn-cgi/access/oidc/${encodeURIComponent(
    id,
  )}/login?redirect_url=${encodeURIComponent(redirectUrl)}`;
}
