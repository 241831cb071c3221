#!/usr/bin/env node
/*
 * A local OpenID Connect provider for `CFACCESS_IDP=local yarn dev`: oidc-provider (the same one the
 * tests use), standing in for PocketID or Authentik when neither is at hand.
 *
 *   node packages/access-emulator/scripts/dev-oidc-provider.cjs [--port 7300] [--users examples/access-users.yaml]
 *
 * Accounts: every user of the users file, username = the email's local part, password = the same
 * (alice / alice), with the file's name and groups. Client: examples/identity-provider.local-idp.yaml.
 * Development only: in-memory state, throwaway keys, listens on 127.0.0.1.
 */
const fs = require('node:fs');
const path = require('node:path');

require('@backstage/cli/config/nodeTransform.cjs');
const { parse } = require('yaml');
const { startTestOidcProvider } = require('../src/__testUtils__/oidcProvider');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : process.argv[i + 1];
}

async function main() {
  const port = Number(arg('--port', '7300'));
  const usersFile = arg('--users', 'examples/access-users.yaml');
  const idpConfig = arg(
    '--config',
    'examples/identity-provider.local-idp.yaml',
  );
  const emulatorUrl = arg('--emulator-url', 'http://localhost:7000');
  const { users = [] } = parse(fs.readFileSync(usersFile, 'utf8')) ?? {};
  const { identityProviders = [] } =
    parse(fs.readFileSync(idpConfig, 'utf8')) ?? {};
  const client = identityProviders[0];
  if (!client) {
    throw new Error(`${idpConfig}: no identity provider`);
  }
  const accounts = users.map(u => {
    const login = u.email.split('@')[0];
    return {
      login,
      password: login,
      email: u.email,
      email_verified: true,
      name: u.name,
      groups: (u.groups ?? []).map(g => (typeof g === 'string' ? g : g.name)),
    };
  });
  const idp = await startTestOidcProvider({
    port,
    issuer: `http://localhost:${port}`,
    title: client.name ?? 'Local IdP',
    accounts,
    clients: [
      {
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        redirectUris: [`${emulatorUrl}/cdn-cgi/access/callback`],
      },
    ],
  });
  const out = line => process.stdout.write(`${line}\n`);
  out(
    `Local OpenID Connect provider on ${idp.issuer} (${path.basename(
      idpConfig,
    )})`,
  );
  out(`  Discovery: ${idp.issuer}/.well-known/openid-configuration`);
  out(
    `  Client:    ${client.clientId}, redirect URI ${emulatorUrl}/cdn-cgi/access/callback`,
  );
  for (const a of accounts) {
    out(`  ${a.login} / ${a.password}  ${a.email} [${a.groups.join(', ')}]`);
  }
  const stop = () => idp.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch(error => {
  process.stderr.write(`dev-oidc-provider: ${error?.message ?? error}\n`);
  process.exit(1);
});
