// `yarn dev`: the example app behind the local Cloudflare Access emulator. Starts the emulator (:7000), the
// backend (:7007) and the frontend dev server (:3000), prints the URL to open and the demo users once
// everything answers, and stops all three on Ctrl-C or when any of them exits.
import concurrently from 'concurrently';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const EMULATOR_URL = 'http://localhost:7000';
const BACKEND_READY = 'http://localhost:7007/.backstage/health/v1/readiness';
const FRONTEND_URL = 'http://localhost:3000';
const USERS_FILE = 'examples/access-users.yaml';
// Must equal auth.providers.cfaccess.audience in app-config.yaml.
const AUD_TAG =
  '4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2';

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
      ].join(' '),
    },
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
          `    ${u.email.padEnd(22)} ${u.name} (${(u.groups ?? []).join(
            ', ',
          )})`,
      );
      console.log(
        [
          '',
          `  Backstage behind Cloudflare Access is ready: open ${EMULATOR_URL}`,
          '  Demo users (one click on the Access login page):',
          ...lines,
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
