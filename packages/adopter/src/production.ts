/*
 * The app as `yarn build:backend` built it, behind the emulator, once the README's `yarn start` has been
 * checked and stopped: the backend of the build's bundle (packages/backend/dist/bundle.tar.gz, the
 * `dist/index.cjs.js` that Backstage's Dockerfile runs), serving the built frontend through app-backend,
 * and the README's emulator command with the frontend sent to that backend too, as Access fronts the one
 * origin of a deployed Backstage.
 *
 * What differs from a deployment, and why:
 * - the bundle's backend is unpacked into the app, where the app's own install provides its dependencies
 *   (the production install of the Dockerfile would compile native modules for minutes and adds nothing
 *   the README asks for);
 * - it runs in packages/backend, as `yarn start` does, with the README's local config (app-config.yaml and
 *   app-config.local.yaml): create-app's catalog locations are relative to that directory, and the
 *   production config names PostgreSQL and a real team;
 * - NODE_ENV is not `production`: the emulator is an http: team domain, which the module accepts in
 *   development only. The production smoke test (packages/production-smoke) covers NODE_ENV=production
 *   over HTTPS for the example app.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Child, type Report, startChild } from '@cfaccess/harness';
import type { AppFacts } from './appFacts';
import { BACKEND_URL, EMULATOR_URL } from './ports';
import { runCommand } from './shell';
import { loginThroughEmulator } from './signIn';

const BUNDLE = 'packages/backend/dist/bundle.tar.gz';
const ENTRY = 'packages/backend/dist/index.cjs.js';

/** The README's emulator command (ports already moved), its frontend being the backend. */
export function productionEmulatorCommand(command: string): string {
  const frontend = /--frontend-url(?:\s+|=)\S+/;
  return frontend.test(command)
    ? command.replace(frontend, `--frontend-url ${BACKEND_URL}`)
    : `${command} --frontend-url ${BACKEND_URL}`;
}

async function waitUntil(
  what: string,
  children: Child[],
  timeoutMs: number,
  ok: () => Promise<boolean>,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok().catch(() => false))) {
    const exited = children.find(c => !c.isRunning());
    if (exited) {
      throw new Error(
        `${what}: ${exited.name} exited:\n${exited.tail(30)} (log ${
          exited.logFile
        })`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${what}: not after ${timeoutMs / 1000}s:\n${children
          .map(c => `${c.name} (log ${c.logFile}):\n${c.tail(15)}`)
          .join('\n')}`,
      );
    }
    await new Promise(r => setTimeout(r, 1000));
  }
}

const status = async (url: string, headers: Record<string, string> = {}) =>
  (
    await fetch(url, {
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    })
  ).status;

/**
 * Starts the production build behind the emulator and waits until the person of the README signs in
 * (the backend's in-memory catalog has read examples/org.yaml again). Returns a description.
 */
export async function startProductionBuild(options: {
  appDir: string;
  env: NodeJS.ProcessEnv;
  emulatorCommand: string;
  facts: AppFacts;
  log: (name: string) => string;
}): Promise<string> {
  const { appDir, facts } = options;
  if (!fs.existsSync(path.join(appDir, BUNDLE))) {
    throw new Error(`${BUNDLE} is missing: did yarn build:backend run?`);
  }
  await runCommand(`tar -xzf ${BUNDLE} ${ENTRY}`, {
    cwd: appDir,
    env: options.env,
    logFile: options.log('production: unpack the backend'),
  });
  const env = { ...options.env };
  delete env.NODE_ENV;
  delete env.BACKSTAGE_ENV;

  // The emulator first, as the README starts it: a backend that finds no certs at startup waits out the
  // module's retry cooldown (jwks.cooldownSeconds) with 503 keys_unavailable.
  const emulatorCommand = productionEmulatorCommand(options.emulatorCommand);
  const emulator = startChild(
    'emulator (production build)',
    'bash',
    ['-c', emulatorCommand],
    { cwd: appDir, env, logFile: options.log('production: emulator') },
  );
  await waitUntil(
    'the emulator',
    [emulator],
    120_000,
    async () => (await status(`${EMULATOR_URL}/cdn-cgi/access/certs`)) === 200,
  );
  const backendArgs = [
    '.',
    '--config',
    '../../app-config.yaml',
    '--config',
    '../../app-config.local.yaml',
  ];
  const backend = startChild(
    'backend (production build)',
    'node',
    backendArgs,
    {
      cwd: path.join(appDir, 'packages/backend'),
      env,
      logFile: options.log('production: backend'),
    },
  );
  const children = [emulator, backend];
  await waitUntil(
    'the production backend',
    children,
    300_000,
    async () =>
      (await status(`${BACKEND_URL}/.backstage/health/v1/readiness`)) === 200,
  );
  const token = await loginThroughEmulator(facts.person.email);
  await waitUntil(
    `${facts.person.email} signing in (the catalog reading examples/org.yaml)`,
    children,
    180_000,
    async () =>
      (await status(`${EMULATOR_URL}/api/auth/cfaccess/refresh`, {
        cookie: `CF_Authorization=${token}`,
        'x-requested-with': 'XMLHttpRequest',
      })) === 200,
  );
  return `\`cd packages/backend && node ${backendArgs.join(
    ' ',
  )}\` (${ENTRY} from ${BUNDLE}) behind \`${emulatorCommand}\``;
}

/** The emulator serves the built frontend from the backend: content-hashed scripts, no dev server. */
export async function checkBuiltApp(report: Report, facts: AppFacts) {
  const token = await loginThroughEmulator(facts.person.email);
  const res = await fetch(`${EMULATOR_URL}/`, {
    headers: { cookie: `CF_Authorization=${token}` },
    redirect: 'manual',
    signal: AbortSignal.timeout(30_000),
  });
  const html = await res.text();
  const scripts = [...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map(
    m => m[1],
  );
  const notBuilt = scripts.filter(
    src => !/^\/static\/[\w.-]+\.[0-9a-f]{8,}\.js$/.test(src),
  );
  report.check(
    'the production build: the emulator serves the built frontend from the backend',
    res.status === 200 && scripts.length > 0 && notBuilt.length === 0,
    `GET / as ${facts.person.email}: ${res.status}, ${
      scripts.length
        ? `${scripts.length} scripts, ${
            notBuilt.length
              ? `not content-hashed: ${notBuilt.join(', ')}`
              : `all content-hashed under /static/ (${scripts[0]}, …)`
          }`
        : `no scripts in ${html.slice(0, 200)}`
    }`,
  );
}
