// `yarn dev`: the example app behind the local Cloudflare Access emulator. Starts the emulator (:7000), the
// backend (:7007) and the frontend dev server (:3000), prints the URL to open and the demo users once
// everything answers, and stops all three on Ctrl-C or when any of them exits.
//
// Identity providers (docs/identity-providers.md): by default the emulator's login page lists the demo
// users of examples/access-users.yaml. Two switches put an OpenID Connect provider behind it, as
// Cloudflare Access does with PocketID or Authentik:
//   CFACCESS_IDP_CONFIG=examples/identity-provider.pocketid.yaml yarn dev   a real IdP (see that file)
//   CFACCESS_IDP=local yarn dev      a local one (oidc-provider on :7300, accounts alice/alice, ...)
import concurrently from 'concurrently';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';

const EMULATOR_URL = 'http://localhost:7000';
const BACKEND_READY = 'http://localhost:7007/.backstage/health/v1/readiness';
const FRONTEND_URL = 'http://localhost:3000';
const USERS_FILE = 'examples/access-users.yaml';
// The emulator signs for the AUD tag the development backend expects.
const AUD_TAG = parse(readFileSync('app-config.development.yaml', 'utf8')).auth
  .providers.cfaccess.audience;
const LOCAL_IDP_CONFIG = 'examples/identity-provider.local-idp.yaml';

const localIdp = process.env.CFACCESS_IDP === 'local';
if (process.env.CFACCESS_IDP && !localIdp) {
  console.error(
    `CFACCESS_IDP=${process.env.CFACCESS_IDP}: only "local" is known; for a real IdP set CFACCESS_IDP_CONFIG=<file>`,
  );
  process.exit(1);
}
const IDP_CONFIG = localIdp
  ? LOCAL_IDP_CONFIG
  : process.env.CFACCESS_IDP_CONFIG || undefined;
if (IDP_CONFIG && !existsSync(IDP_CONFIG)) {
  console.error(`CFACCESS_IDP_CONFIG: no such file: ${IDP_CONFIG}`);
  process.exit(1);
}

const { result } = concurrently(
  [
    {
      name: 'access',
      prefixColor: 'yellow',
      command: [
        'node packages/access-emulator/bin/cfaccess-emulator',
        '--port 7000',
        `--frontend-url ${FRONTEND_URL}`,
        '--backend-url http://localhost:7007',
        `--users ${USERS_FILE}`,
        `--aud ${AUD_TAG}`,
        // Managed OAuth: MCP clients (agents) sign in through the emulator (README: "AI agents and MCP clients").
        '--managed-oauth',
        ...(IDP_CONFIG ? [`--idp-config '${IDP_CONFIG}'`] : []),
      ].join(' '),
    },
    ...(localIdp
      ? [
          {
            name: 'idp',
            prefixColor: 'green',
            command: `node packages/access-emulator/scripts/dev-oidc-provider.cjs --port 7300 --users ${USERS_FILE} --config ${LOCAL_IDP_CONFIG}`,
          },
        ]
      : []),
    {
      name: 'backend',
      prefixColor: 'blue',
      command: 'yarn workspace backend start',
    },
    {
      name: 'app',
      prefixColor: 'magenta',
      command: 'yarn workspace app start',
      env: { BROWSER: 'none' },
    },
  ],
  { killOthersOn: ['failure', 'success'], handleInput: false },
);

async function answers(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.status < 500;
  } catch {
    return false;
  }
}

async function announceWhenReady() {
  const deadline = Date.now() + 5 * 60_000;
  while (Date.now() < deadline) {
    if ((await answers(BACKEND_READY)) && (await answers(FRONTEND_URL))) {
      const { users = [] } = parse(readFileSync(USERS_FILE, 'utf8')) ?? {};
      const lines = users.map(
        u =>
          `    ${u.email.padEnd(22)} ${u.name} (${(u.groups ?? [])
            .map(g => (typeof g === 'string' ? g : g.name))
            .join(', ')})`,
      );
      const { identityProviders = [], oneTimePin = true } = IDP_CONFIG
        ? parse(readFileSync(IDP_CONFIG, 'utf8')) ?? {}
        : {};
      const idpLines = identityProviders.length
        ? [
            `  Identity providers (${IDP_CONFIG}):`,
            ...identityProviders.map(
              p =>
                `    Sign in with ${p.name}: ${p.issuer}, client ${p.clientId}`,
            ),
            `    Redirect URI to register at the IdP: ${EMULATOR_URL}/cdn-cgi/access/callback`,
            ...(localIdp
              ? [
                  '    Local IdP accounts: alice / alice, bob / bob, carol / carol',
                ]
              : []),
          ]
        : [];
      console.log(
        [
          '',
          `  Backstage behind Cloudflare Access is ready: open ${EMULATOR_URL}`,
          ...(oneTimePin
            ? ['  Demo users (one click on the Access login page):', ...lines]
            : []),
          ...idpLines,
          '  Ctrl-C stops the emulator, the backend and the frontend.',
          '',
        ].join('\n'),
      );
      return;
    }
    await new Promise(resolve => setTimeout(resolve, 2000));
  }
}

announceWhenReady();
result.then(
  () => process.exit(0),
  () => process.exit(1),
);
