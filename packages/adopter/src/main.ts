/*
 * The adopter test: the published packages, packed as `yarn npm publish` would pack them, installed into
 * an app freshly made by the pinned @backstage/create-app by following their READMEs (the marked blocks,
 * as written), then type-checked, built, started behind the Access emulator run as the README says, and
 * signed in to over HTTP and from Chromium, with the Access boundary checked from outside; then the
 * boundary and Chromium again against the production build (the backend's bundle serving the built
 * frontend). Prints PASS/FAIL lines and each phase's duration; exits non-zero on any failure. Ports
 * 7500-7599 only.
 *
 *   yarn workspace @cfaccess/adopter-test adopter [--keep] [--skip-build]
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import {
  type Child,
  Report,
  assertPortsFree,
  onCleanup,
  runMain,
} from '@cfaccess/harness';
import { APP_COMMANDS, runAppCommand } from './appChecks';
import { type AppFacts, emulatorUsersFile, readAppFacts } from './appFacts';
import { checkBoundary } from './boundary';
import { checkBrowser } from './browser';
import {
  dependentWorkspaces,
  type EntryPoint,
  entryPointsOf,
  runtimeProblems,
  writeEntryPointImports,
} from './entryPoints';
import { adopterEnv } from './environment';
import { startLocalRegistry } from './localRegistry';
import { packPublishedPackages } from './pack';
import { makeRunDir } from './paths';
import { Phases } from './phases';
import { BACKEND_URL, EMULATOR_URL, PORTS } from './ports';
import { checkBuiltApp, startProductionBuild } from './production';
import { CREATE_APP_VERSION, scaffoldApp } from './scaffold';
import { checkSignIns } from './signIn';
import { readTarballFile, tarballProblems } from './tarballs';
import { walkReadme } from './walk';
import { WORKAROUNDS, prepareScaffold, readmeCommandEnv } from './workarounds';

const GUIDE = '@cfaccess/plugin-auth-backend-module-cfaccess-provider';
const out = (line: string) => process.stdout.write(`${line}\n`);

async function waitFor(
  what: string,
  child: Child,
  timeoutMs: number,
  ok: () => Promise<boolean>,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok().catch(() => false))) {
    if (!child.isRunning()) {
      throw new Error(`${what}: the process exited:\n${child.tail(30)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${what}: not ready after ${timeoutMs / 1000}s:\n${child.tail(30)}`,
      );
    }
    await new Promise(r => setTimeout(r, 1000));
  }
}

const serves = (url: string) => async () =>
  (await fetch(url, { signal: AbortSignal.timeout(5000) })).status === 200;

/** What "ready" means for each `start` step of the README. */
async function waitReady(name: string, child: Child) {
  if (name === 'emulator') {
    await waitFor(
      'the emulator',
      child,
      180_000,
      serves(`${EMULATOR_URL}/cdn-cgi/access/certs`),
    );
  } else if (name === 'app') {
    await waitFor(
      'the backend',
      child,
      300_000,
      serves(`${BACKEND_URL}/.backstage/health/v1/readiness`),
    );
    await waitFor(
      'the frontend dev server',
      child,
      300_000,
      serves(`http://localhost:${PORTS.frontend}/`),
    );
  } else {
    throw new Error(`no readiness check for "start ${name}"`);
  }
}

async function main(): Promise<number> {
  const opts = new Command('adopter')
    .option(
      '--keep',
      'keep the run directory (the app, logs) even when the run passes',
    )
    .option('--skip-build', 'skip the production build (local iterations only)')
    .parse(process.argv)
    .opts();
  const report = new Report(out);
  const phases = new Phases(out);
  await assertPortsFree({ ...PORTS });
  const run = makeRunDir();
  out(`adopter: run directory ${run.root}`);
  onCleanup('run directory', () => {
    if (process.exitCode === 0 && !opts.keep) {
      fs.rmSync(run.root, { recursive: true, force: true });
    } else {
      out(`adopter: kept ${run.root} (app in app/, logs in logs/)`);
    }
  });
  out(
    `adopter: @backstage/create-app ${CREATE_APP_VERSION}; workarounds (none is in the READMEs):`,
  );
  for (const w of WORKAROUNDS) {
    out(`  - ${w.id} (${w.owner}): ${w.why}`);
  }
  const env = adopterEnv();

  const packed = await phases.time('pack the published packages', () =>
    packPublishedPackages({ outDir: run.tarballs, env, log: run.log }),
  );
  for (const pkg of packed) {
    const problems = tarballProblems(pkg);
    report.check(
      `tarball ${pkg.name}@${pkg.version}`,
      problems.length === 0,
      problems.length
        ? problems.join('; ')
        : `${pkg.files.length} files, ${path.basename(pkg.file)}`,
    );
  }
  const readmes = new Map(
    packed.map(p => [p.name, readTarballFile(p.file, 'README.md')]),
  );

  const registry = await startLocalRegistry(packed, PORTS.registry);
  onCleanup('local registry', () => registry.close());

  await phases.time(
    `scaffold with @backstage/create-app ${CREATE_APP_VERSION}`,
    () =>
      scaffoldApp({
        appDir: run.app,
        runDir: run.root,
        env,
        logFile: run.log('create-app'),
      }),
  );
  prepareScaffold(run.app);

  const appEnv = readmeCommandEnv(env, run.root);
  const command = (name: string, cmd: string) =>
    phases.time(name, () =>
      runAppCommand(cmd, {
        appDir: run.app,
        env: appEnv,
        logFile: run.log(name),
      }),
    );
  const appCheck = async (name: string, fn: () => Promise<string>) => {
    try {
      report.check(name, true, await fn());
    } catch (error: any) {
      report.check(name, false, error.message);
    }
  };

  let emulatorCommand = '';
  const staticChecks = async () => {
    const entries: EntryPoint[] = packed.flatMap(pkg =>
      dependentWorkspaces(run.app, pkg.name).flatMap(ws =>
        entryPointsOf(pkg, ws),
      ),
    );
    await appCheck('every entry point loads in the app', async () => {
      const problems = entries.flatMap(e =>
        runtimeProblems(e, appEnv).map(p => `${e.specifier}: ${p}`),
      );
      if (problems.length > 0) {
        throw new Error(problems.join('; '));
      }
      return entries
        .map(
          e =>
            `${e.specifier} (${e.web ? 'resolved' : 'required and imported'})`,
        )
        .join(', ');
    });
    await appCheck(
      'the app type-checks with an import of every entry point (yarn tsc)',
      async () => {
        const files = writeEntryPointImports(entries);
        await command('app: yarn tsc', APP_COMMANDS.tsc);
        return `no errors, ${files.length} entry point files included`;
      },
    );
    await appCheck(
      'the production config passes the config schemas',
      async () => {
        await command(
          'app: config:check production',
          APP_COMMANDS.configCheckProduction,
        );
        return 'app-config.yaml with app-config.production.yaml (the backend checks the local config at startup)';
      },
    );
    if (!opts.skipBuild) {
      await appCheck('the app builds (yarn build:backend)', async () => {
        await command('app: yarn build:backend', APP_COMMANDS.build);
        return 'backend bundle and frontend built';
      });
    }
  };

  const boundaryChecks = async (signedUp: AppFacts, where: string) => {
    try {
      await checkBoundary(report, signedUp, where);
    } catch (error: any) {
      report.check(`boundary (${where})`, false, error.message);
    }
  };

  let walked = false;
  let readmeProcesses: Child[] = [];
  await appCheck('the READMEs apply as written', async () => {
    const result = await walkReadme(GUIDE, {
      appDir: run.app,
      env: appEnv,
      readmes,
      phases,
      log: run.log,
      out,
      beforeFirstStart: staticChecks,
      waitReady: async (name, child, started) => {
        if (name === 'emulator') {
          emulatorCommand = started;
        }
        await waitReady(name, child);
      },
    });
    walked = true;
    readmeProcesses = result.started;
    return `${result.steps} steps from the ${GUIDE} README and the READMEs it includes`;
  });
  if (walked && report.failed === 0) {
    let facts: AppFacts | undefined;
    await appCheck(
      'the README set up a person and a service token',
      async () => {
        facts = readAppFacts(
          run.app,
          emulatorUsersFile(run.app, emulatorCommand),
        );
        return `${facts.person.email} as ${facts.person.entityRef}${
          facts.serviceToken
            ? `, ${facts.serviceToken.clientId} as ${facts.serviceToken.entityRef}`
            : ''
        }`;
      },
    );
    if (facts) {
      const signedUp = facts;
      await phases.time('sign in over HTTP', () =>
        checkSignIns(report, signedUp),
      );
      await phases.time('the Access boundary over HTTP', () =>
        boundaryChecks(signedUp, 'yarn start'),
      );
      await phases.time('sign in from Chromium', () =>
        checkBrowser(report, signedUp, run.logs),
      );
      if (!opts.skipBuild) {
        await phases.time('stop yarn start and the emulator', () =>
          Promise.all(readmeProcesses.map(child => child.stop())),
        );
        let productionUp = false;
        await appCheck(
          'the production build starts behind the emulator',
          async () => {
            const description = await phases.time(
              'production build: start it behind the emulator',
              () =>
                startProductionBuild({
                  appDir: run.app,
                  env: appEnv,
                  emulatorCommand,
                  facts: signedUp,
                  log: run.log,
                }),
            );
            productionUp = true;
            return description;
          },
        );
        if (productionUp) {
          await phases.time('production build: over HTTP', async () => {
            await checkBuiltApp(report, signedUp).catch(error =>
              report.check(
                'the production build: the emulator serves the built frontend from the backend',
                false,
                error.message,
              ),
            );
            await boundaryChecks(signedUp, 'production build');
          });
          await phases.time('production build: Chromium', () =>
            checkBrowser(report, signedUp, run.logs, ' (production build)'),
          );
        }
      }
    }
  }
  out(
    `adopter: the local registry served ${registry.requests.length} requests`,
  );
  out('adopter: phases');
  phases.summary().forEach(out);
  return report.summary('adopter');
}

runMain(main);
