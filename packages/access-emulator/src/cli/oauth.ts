/*
 * CLI flags for Managed OAuth: `--managed-oauth` turns it on; the `--oauth-*` flags are its settings
 * (each mirrors a field of the Access application's `oauth_configuration`).
 */
import type { Command } from 'commander';
import type { ManagedOAuthOptions } from '../oauth/settings';
import { collect, durationFlag } from './values';

export function addManagedOAuthOptions(program: Command): Command {
  return program
    .option(
      '--managed-oauth',
      'Managed OAuth: Access as the OAuth authorization server of this application (MCP clients, agents)',
    )
    .option(
      '--oauth-redirect-uri <uri>',
      'allowed redirect URI of dynamically registered clients (http(s) may end in /*); repeat or comma-separate',
      collect(),
    )
    .option(
      '--oauth-access-token-lifetime <duration>',
      'Managed OAuth access token lifetime (default 15m)',
      durationFlag('--oauth-access-token-lifetime'),
    )
    .option(
      '--oauth-grant-session-duration <duration>',
      'Managed OAuth grant (refresh token) lifetime (default 24h)',
      durationFlag('--oauth-grant-session-duration'),
    )
    .option(
      '--no-oauth-localhost',
      'Managed OAuth: do not allow any http(s)://localhost redirect URI',
    )
    .option(
      '--no-oauth-loopback',
      'Managed OAuth: do not allow any http(s)://127.0.0.1 redirect URI',
    );
}

const kebab = (name: string) =>
  name.replace(/[A-Z]/g, c => `-${c.toLowerCase()}`);

/** The `managedOAuth` option for the flags; undefined without --managed-oauth. */
export function managedOAuthFromCli(
  opts: Record<string, any>,
  source: (name: string) => string | undefined,
  fail: (message: string) => never = message => {
    throw new Error(message);
  },
): ManagedOAuthOptions | undefined {
  const settings = [
    'oauthRedirectUri',
    'oauthAccessTokenLifetime',
    'oauthGrantSessionDuration',
    'oauthLocalhost',
    'oauthLoopback',
  ];
  if (!opts.managedOauth) {
    const stray = settings.filter(name => source(name) === 'cli');
    if (stray.length > 0) {
      const flags = stray.map(name =>
        name === 'oauthLocalhost' || name === 'oauthLoopback'
          ? `--no-${kebab(name)}`
          : `--${kebab(name)}`,
      );
      fail(`--oauth-* flags need --managed-oauth (got ${flags.join(', ')})`);
    }
    return undefined;
  }
  return {
    allowAnyOnLocalhost: opts.oauthLocalhost !== false,
    allowAnyOnLoopback: opts.oauthLoopback !== false,
    allowedRedirectUris: opts.oauthRedirectUri ?? [],
    ...(opts.oauthAccessTokenLifetime
      ? { accessTokenLifetime: opts.oauthAccessTokenLifetime }
      : {}),
    ...(opts.oauthGrantSessionDuration
      ? { grantSessionDuration: opts.oauthGrantSessionDuration }
      : {}),
  };
}
