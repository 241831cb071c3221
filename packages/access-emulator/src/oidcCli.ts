/*
 * CLI flags for identity providers: `--idp-config <file>` and, for a single provider without a file, the
 * `--oidc-*` flags. Kept apart from cli.ts so that file only wires them in.
 */
import type { Command } from 'commander';
import type { LoginMethodOptions } from './loginMethods';
import type { OidcProviderInput } from './oidcConfig';
import { OIDC_CALLBACK_PATH } from './oidcConfig';
import type { AccessEmulator } from './server';

export function addIdentityProviderOptions(program: Command): Command {
  return program
    .option(
      '--idp-config <file>',
      'YAML file with identityProviders (OpenID Connect), oneTimePin and instantAuth (see examples/identity-provider.yaml)',
    )
    .option(
      '--oidc-issuer <url>',
      'one OpenID Connect provider: issuer URL (discovered at the first login)',
    )
    .option('--oidc-client-id <id>', 'OpenID Connect client id')
    .option(
      '--oidc-client-secret-env <name>',
      'environment variable holding the OpenID Connect client secret',
    )
    .option(
      '--oidc-client-secret <secret>',
      'OpenID Connect client secret (visible in the process list: prefer --oidc-client-secret-env)',
    )
    .option(
      '--oidc-name <name>',
      'label of the login button ("Sign in with <name>")',
      'OpenID Connect',
    )
    .option(
      '--oidc-id <id>',
      'id in the login URL (default: the name, slugified)',
    )
    .option(
      '--oidc-scopes <scopes>',
      'scopes to request, space- or comma-separated (default: openid email profile groups)',
    )
    .option(
      '--oidc-groups-claim <claim>',
      'claim that holds the groups (default: groups)',
    )
    .option('--no-oidc-pkce', 'do not send a PKCE code challenge')
    .option(
      '--oidc-userinfo',
      'also read claims from the userinfo endpoint',
      false,
    )
    .option(
      '--no-one-time-pin',
      'hide the built-in user list and email form: sign in through an identity provider only',
    )
    .option(
      '--instant-auth',
      'with one identity provider and --no-one-time-pin, skip the login page',
    );
}

/** The emulator options for the identity-provider flags. */
export function loginOptionsFromCli(
  opts: Record<string, any>,
  source: (name: string) => string | undefined,
  fail: (message: string) => never = message => {
    throw new Error(message);
  },
): LoginMethodOptions {
  const options: LoginMethodOptions = {
    identityProvidersFile: opts.idpConfig,
  };
  const oidcFlags = [
    'oidcClientId',
    'oidcClientSecret',
    'oidcClientSecretEnv',
    'oidcId',
    'oidcScopes',
    'oidcGroupsClaim',
  ].filter(name => opts[name] !== undefined);
  if (opts.oidcIssuer) {
    const provider: OidcProviderInput = {
      name: opts.oidcName,
      issuer: opts.oidcIssuer,
      clientId: opts.oidcClientId,
      clientSecret: opts.oidcClientSecret,
      clientSecretEnv: opts.oidcClientSecretEnv,
      ...(opts.oidcId ? { id: opts.oidcId } : {}),
      ...(opts.oidcScopes ? { scopes: opts.oidcScopes } : {}),
      ...(opts.oidcGroupsClaim ? { groupsClaim: opts.oidcGroupsClaim } : {}),
      pkce: opts.oidcPkce !== false,
      userinfo: Boolean(opts.oidcUserinfo),
    };
    for (const key of Object.keys(provider) as Array<keyof OidcProviderInput>) {
      if (provider[key] === undefined) {
        delete provider[key];
      }
    }
    options.identityProviders = [provider];
  } else if (oidcFlags.length > 0) {
    const flags = oidcFlags.map(
      name => `--${name.replace(/[A-Z]/g, c => `-${c.toLowerCase()}`)}`,
    );
    fail(`--oidc-* flags need --oidc-issuer (got ${flags.join(', ')})`);
  }
  if (source('oneTimePin') === 'cli') {
    options.oneTimePin = opts.oneTimePin;
  }
  if (source('instantAuth') === 'cli') {
    options.instantAuth = true;
  }
  return options;
}

/** Banner lines for the configured identity providers (never the secret). */
export function describeIdentityProviders(emulator: AccessEmulator): string[] {
  if (emulator.identityProviders.length === 0) {
    return [];
  }
  return [
    '  Identity providers (OpenID Connect, discovered at the first login):',
    ...emulator.identityProviders.map(
      p =>
        `    ${p.name}: issuer ${p.issuer}, client ${
          p.clientId
        }, scopes "${p.scopes.join(' ')}", groups claim "${p.groupsClaim}"${
          p.pkce ? ', PKCE' : ''
        }`,
    ),
    `    Redirect URI to register at the IdP: ${emulator.url}${OIDC_CALLBACK_PATH}`,
  ];
}
