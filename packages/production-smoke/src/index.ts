/*
 * The production smoke test: the README's "Deploying to production" steps, run as written. Builds the app
 * and the backend with backstage-cli (host build), installs the bundle for production, starts it with
 * NODE_ENV=production and the documented config stack (values from the environment), behind the Access
 * emulator serving the team domain over HTTPS; PostgreSQL and Redis as in the replicas suite. Prints
 * PASS/FAIL lines with numbers and the duration of each phase; exits non-zero on any failure.
 *
 *   yarn workspace @cfaccess/production-smoke smoke [--skip-build] [--app-dir <dir> --skip-install]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { assertPortsFree, Report, runMain } from '@cfaccess/harness';
import { Command } from 'commander';
import { checkBoundary } from './checks/boundary';
import { checkBrowserSignIn } from './checks/browserSignIn';
import { checkBuiltApp } from './checks/builtApp';
import { checkStartupErrors } from './checks/startupErrors';
import {
  checkForgedTokens,
  checkMcpActions,
  checkServiceToken,
} from './checks/tokens';
import { BACKEND_URL, PORTS } from './ports';
import { readmeStep } from './readmeSteps';
import { runStep } from './shell';
import { startStack, waitReady } from './stack';

const out = (line: string) => process.stdout.write(`${line}\n`);
const repoRoot = path.resolve(
  resolvePackagePath('@cfaccess/production-smoke'),
  '../..',
);

/** An operator's shell: no development config environment leaks into the steps. */
function operatorEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { BACKSTAGE_ENV: _, ...env } = process.env;
  return { ...env, ...extra };
}

async function main(): Promise<number> {
  const opts = new Command('production-smoke')
    .option('--skip-build', 'use the bundle already in packages/backend/dist')
    .option('--app-dir <dir>', 'install into this directory')
    .option('--skip-install', 'reuse the install in --app-dir')
    .parse(process.argv)
    .opts();
  if (opts.skipInstall && !opts.appDir) {
    throw new Error('--skip-install needs --app-dir');
  }
  const phases: Record<string, number> = {};
  const timed = async <T>(phase: string, fn: () => Promise<T>) => {
    const started = Date.now();
    try {
      return await fn();
    } finally {
      phases[phase] = (Date.now() - started) / 1000;
      out(`smoke: ${phase} ${phases[phase].toFixed(1)}s`);
    }
  };

  await assertPortsFree({
    edge: PORTS.edge,
    backend: PORTS.backend,
    'refused backend': PORTS.missingVariable,
    'refused backend (http)': PORTS.httpTeamDomain,
    postgres: PORTS.postgres,
    redis: PORTS.redis,
  });
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfaccess-smoke-'));
  // PostgreSQL runs as the postgres user when we are root.
  fs.chmodSync(runDir, 0o755);
  const appDir = path.resolve(opts.appDir ?? path.join(runDir, 'app'));
  const readme = path.join(repoRoot, 'README.md');
  const steps = {
    build: readmeStep(readme, 'build'),
    install: readmeStep(readme, 'install'),
    start: readmeStep(readme, 'start'),
  };
  out(`smoke: logs in ${runDir}, app in ${appDir}`);

  if (!opts.skipBuild) {
    await timed('build', () =>
      runStep('build', steps.build, {
        cwd: repoRoot,
        env: operatorEnv(),
        runDir,
      }),
    );
  }
  if (!opts.skipInstall) {
    await timed('install', () =>
      runStep('install', steps.install, {
        cwd: repoRoot,
        env: operatorEnv({ APP_DIR: appDir }),
        runDir,
      }),
    );
  }

  const stack = await timed('startup', async () => {
    const started = await startStack({
      repoRoot,
      appDir,
      runDir,
      startScript: steps.start,
      log: line => out(`smoke: ${line}`),
    });
    await waitReady(started.backend, BACKEND_URL, 180_000);
    return started;
  });

  const report = new Report(out);
  await timed('checks', async () => {
    await checkBuiltApp(
      report,
      appDir,
      await stack.emulator.mintUserToken('alice@example.com'),
    );
    await checkBrowserSignIn(report, {
      spkiSha256: stack.spkiSha256,
      screenshotDir: runDir,
    });
    await checkServiceToken(report, stack);
    await checkMcpActions(report, stack);
    await checkForgedTokens(report, stack.emulator);
    await checkBoundary(report, stack);
    const { certsRequests } = stack.emulator.stats();
    report.check(
      'the backend fetches the team keys over HTTPS, trusting the CA through NODE_EXTRA_CA_CERTS',
      certsRequests >= 1,
      `${certsRequests} certs request(s) to ${stack.emulator.certsUrl}`,
    );
    await checkStartupErrors(report, {
      startScript: steps.start,
      appDir,
      runDir,
      productionEnv: port => operatorEnv(stack.productionEnv(port)),
      timeoutMs: 90_000,
    });
  });

  if (report.failed > 0) {
    out(`logs: ${runDir}`);
    out(`--- backend (last lines)\n${stack.backend.tail(30)}`);
  }
  out(
    `smoke: ${Object.entries(phases)
      .map(([phase, s]) => `${phase} ${s.toFixed(1)}s`)
      .join(', ')}, total ${Object.values(phases)
      .reduce((a, b) => a + b, 0)
      .toFixed(1)}s`,
  );
  return report.summary('production-smoke');
}

runMain(main);
