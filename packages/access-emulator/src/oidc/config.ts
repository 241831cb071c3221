/*
 * Upstream identity providers, as Cloudflare Access's "OpenID Connect" ones (Zero Trust -> Settings ->
 * Authentication), from a YAML file or options, with errors that name the field. A client secret can come
 * from an environment variable and is never printed.
 */
import { z } from 'zod';
import {
  NO_VALUE,
  nonEmptyString,
  optionalBoolean,
  optionalString,
  parseWithSchema,
  parseYamlText,
  readTextFile,
  strictObject,
} from '../schemas';
import { stableUuid } from '../tokens';

const AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'none',
] as const;
export type TokenEndpointAuthMethod = (typeof AUTH_METHODS)[number];

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

export const DEFAULT_OIDC_SCOPES = ['openid', 'email', 'profile', 'groups'];
export const DEFAULT_GROUPS_CLAIM = 'groups';
export const OIDC_CALLBACK_PATH = '/cdn-cgi/access/callback';

/** The redirect URI to register at every identity provider: the callback on the public origin. */
export function oidcRedirectUri(publicOrigin: string): string {
  return `${publicOrigin}${OIDC_CALLBACK_PATH}`;
}

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

// A failed check ends the checks that follow (zod runs none on a value already refused).
const issuerUrl = nonEmptyString(REQUIRED)
  .refine(URL.canParse, 'not a URL')
  .transform(text => new URL(text))
  .refine(u => /^https?:$/.test(u.protocol), 'must be an http(s) URL')
  .refine(
    u => !(u.search || u.hash || u.username || u.password),
    'no query, fragment or credentials allowed',
  );

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
  return providerFields.transform((p, ctx) => {
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
    const { clientSecretEnv, ...fields } = p;
    const clientSecret =
      clientSecretEnv === undefined ? p.clientSecret : env[clientSecretEnv];
    if (clientSecretEnv !== undefined && !clientSecret) {
      return fail(
        `environment variable ${clientSecretEnv} is not set or empty`,
        ['clientSecretEnv'],
      );
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
      ...fields,
      id,
      clientSecret,
      scopes,
      groupsClaim: p.groupsClaim ?? DEFAULT_GROUPS_CLAIM,
      claims: p.claims ?? [],
      idpUuid: p.idpUuid ?? stableUuid('idp', `oidc:${id}`),
    };
  });
}

/** A validated provider: every default filled in, the secret resolved. */
export type OidcProviderConfig = z.output<ReturnType<typeof providerSchema>>;

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

/** Throws when two providers share an id. */
export function checkUniqueProviderIds(
  where: string,
  providers: OidcProviderConfig[],
) {
  const ids = providers.map(p => p.id);
  const i = ids.findIndex((id, at) => ids.indexOf(id) !== at);
  if (i !== -1) {
    throw new Error(
      `${where}: identityProviders[${i}].id: duplicate "${ids[i]}" (set a distinct id or name)`,
    );
  }
}

function configSchema(env: NodeJS.ProcessEnv) {
  return z.preprocess(
    v => v ?? {},
    strictObject(
      {
        identityProviders: z
          .array(providerSchema(env), { invalid_type_error: 'expected a list' })
          .default([]),
        /** Keep the built-in user list and email form ("One-time PIN") on the login page. Default true. */
        oneTimePin: optionalBoolean(undefined),
        /** With exactly one login method, skip the login page (Access's "Apply instant authentication"). */
        instantAuth: optionalBoolean(undefined),
      },
      'expected a mapping with "identityProviders" (and optionally "oneTimePin", "instantAuth")',
    ),
  );
}

/** The whole identity-provider configuration of one emulator. */
export type IdentityProvidersConfig = z.output<ReturnType<typeof configSchema>>;

/** Validates a parsed identity-provider config file. */
export function validateIdentityProvidersConfig(
  value: unknown,
  source = 'identity providers',
  env: NodeJS.ProcessEnv = process.env,
): IdentityProvidersConfig {
  const config = parseWithSchema(configSchema(env), value, source);
  checkUniqueProviderIds(source, config.identityProviders);
  return config;
}

/** Reads, parses and validates an identity-provider config file (YAML). */
export async function loadIdentityProvidersFile(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<IdentityProvidersConfig> {
  const text = await readTextFile(file, 'identity provider config');
  return validateIdentityProvidersConfig(parseYamlText(text, file), file, env);
}

/** The emulator path that starts a login at provider `id`, then returns to `redirectUrl` (if given). */
export function oidcLoginPath(id: string, redirectUrl?: string): string {
  const path = `/cdn-cgi/access/oidc/${encodeURIComponent(id)}/login`;
  return redirectUrl === undefined
    ? path
    : `${path}?redirect_url=${encodeURIComponent(redirectUrl)}`;
}
