/*
 * A fresh app from the pinned @backstage/create-app (a dependency of this package, so yarn.lock fixes its
 * version), as `npx @backstage/create-app` makes one, into the run directory. The install is left to the
 * READMEs' first `yarn add`, which installs everything anyway.
 */
import path from 'node:path';
import { runCommand } from './shell';
import { createAppEnv } from './workarounds';

export const CREATE_APP_VERSION: string =
  require('@backstage/create-app/package.json').version;

export async function scaffoldApp(options: {
  appDir: string;
  runDir: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
}) {
  const bin = path.join(
    path.dirname(require.resolve('@backstage/create-app/package.json')),
    'bin/backstage-create-app',
  );
  await runCommand(`node ${bin} --skip-install --path ${options.appDir}`, {
    cwd: options.runDir,
    env: {
      ...createAppEnv(options.env, options.runDir),
      BACKSTAGE_APP_NAME: 'adopter-app',
    },
    logFile: options.logFile,
    timeoutMs: 120_000,
  });
}
