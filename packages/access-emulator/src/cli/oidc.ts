/*
 * CLI flags for identity providers: `--idp-config <file>` and, for one provider without a file, `--oidc-*`.
 */
import type { Command } from 'commander';
import type { LoginMethodOptions } from '../loginMethods';

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
  const provider = {
    name: opts.oidcName,
    issuer: opts.oidcIssuer,
    clientId: opts.oidcClientId,
    clientSecret: opts.oidcClientSecret,
    clientSecretEnv: opts.oidcClientSecretEnv,
    id: opts.oidcId,
    scopes: opts.oidcScopes,
    groupsClaim: opts.oidcGroupsClaim,
    pkce: opts.oidcPkce !== false,
    userinfo: Boolean(opts.oidcUserinfo),
  };
  // The --oidc-* flags that have no default (name, pkce and userinfo have one).
  const stray = Object.keys(opts).filter(
    name =>
      /^oidc(?!Name|Pkce|Userinfo)/.test(name) && opts[name] !== undefined,
  );
  if (!provider.issuer && stray.length > 0) {
    const flags = stray.map(
      name => `--${name.replace(/[A-Z]/g, c => `-${c.toLowerCase()}`)}`,
    );
    fail(`--oidc-* flags need --oidc-issuer (got ${flags.join(', ')})`);
  }
  return {
    identityProvidersFile: opts.idpConfig,
    ...(provider.issuer ? { identityProviders: [provider] } : {}),
    ...(source('oneTimePin') === 'cli' ? { oneTimePin: opts.oneTimePin } : {}),
    ...(source('instantAuth') === 'cli' ? { instantAuth: true } : {}),
  };
}
