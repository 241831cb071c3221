/*
 * The checks an adopter's CI would run on the wired app, before anything starts: the type check, the
 * production build, and the config files (ours included) against every installed package's config schema.
 */
import { runCommand } from './shell';

export const APP_COMMANDS = {
  tsc: 'yarn tsc',
  build: 'yarn build:backend',
  /** --lax: the production config's ${POSTGRES_*} are not set here. */
  configCheckProduction:
    'yarn backstage-cli config:check --lax --config app-config.yaml --config app-config.production.yaml',
};

export function runAppCommand(
  command: string,
  options: { appDir: string; env: NodeJS.ProcessEnv; logFile: string },
) {
  return runCommand(command, {
    cwd: options.appDir,
    env: options.env,
    logFile: options.logFile,
    timeoutMs: 20 * 60_000,
  });
}
