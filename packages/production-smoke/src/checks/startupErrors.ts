/*
 * The production stack refuses to start when it should: a required variable missing, an http team domain.
 * The built backend runs the README's start step with one variable changed and must exit with the module's
 * message; both run at once.
 */
import type { Report } from '@cfaccess/harness';
import { PORTS } from '../ports';
import { startStep } from '../shell';

export type StartupErrorCase = {
  name: string;
  port: number;
  env(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Every one must appear in the backend's output. */
  expected: string[];
};

export const STARTUP_ERROR_CASES: StartupErrorCase[] = [
  {
    name: 'CF_ACCESS_AUD not set',
    port: PORTS.missingVariable,
    env: ({ CF_ACCESS_AUD: _, ...rest }) => rest,
    expected: [
      'auth.providers.cfaccess.audience is required',
      'auth.providers.cfaccess.audience comes from the environment variable substitution ${CF_ACCESS_AUD} in app-config.production.yaml, and the environment variable CF_ACCESS_AUD is not set',
    ],
  },
  {
    name: 'an http team domain',
    port: PORTS.httpTeamDomain,
    env: base => ({
      ...base,
      CF_ACCESS_TEAM_DOMAIN: `http://localhost:${PORTS.edge}`,
    }),
    expected: [
      `auth.providers.cfaccess.teamDomain must be https outside development, got http://localhost:${PORTS.edge} (auth.environment is "production")`,
    ],
  },
];

export async function checkStartupErrors(
  report: Report,
  options: {
    startScript: string;
    appDir: string;
    runDir: string;
    productionEnv(port: number): NodeJS.ProcessEnv;
    timeoutMs: number;
  },
) {
  await Promise.all(
    STARTUP_ERROR_CASES.map(async c => {
      const started = Date.now();
      const child = startStep(`backend-${c.port}`, options.startScript, {
        cwd: options.appDir,
        env: c.env(options.productionEnv(c.port)),
        runDir: options.runDir,
      });
      const timer = setTimeout(() => child.stop(), options.timeoutMs);
      const code = await child.exited;
      clearTimeout(timer);
      const log = child.tail(400);
      const missing = c.expected.filter(text => !log.includes(text));
      report.check(
        `the production stack refuses to start with ${c.name}`,
        code !== 0 && typeof code === 'number' && missing.length === 0,
        `exit ${code} after ${((Date.now() - started) / 1000).toFixed(1)} s, ${
          missing.length === 0
            ? 'with the expected message'
            : `message missing: ${JSON.stringify(missing)} (log ${
                child.logFile
              })`
        }`,
      );
    }),
  );
}
