/*
 * Runs a README step with bash (errexit, nounset, pipefail) as a child process with a log file.
 */
import path from 'node:path';
import { type Child, startChild } from '@cfaccess/harness';

export type StepOptions = {
  cwd: string;
  env: NodeJS.ProcessEnv;
  runDir: string;
};

/** Starts the step; the caller waits for it or stops it (the backend's start step runs until stopped). */
export function startStep(
  name: string,
  script: string,
  options: StepOptions,
): Child {
  return startChild(name, 'bash', ['-euo', 'pipefail', '-c', script], {
    cwd: options.cwd,
    env: options.env,
    logFile: path.join(options.runDir, `${name}.log`),
  });
}

/** Runs the step to its end; returns its duration in seconds, throws with the log's tail on failure. */
export async function runStep(
  name: string,
  script: string,
  options: StepOptions,
): Promise<number> {
  const started = Date.now();
  const child = startStep(name, script, options);
  const code = await child.exited;
  if (code !== 0) {
    throw new Error(
      `${name} failed (exit ${code}); log ${child.logFile}:\n${child.tail(40)}`,
    );
  }
  return (Date.now() - started) / 1000;
}
