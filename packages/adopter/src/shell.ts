/*
 * One-shot commands for the test: each in its own process group with its output in a log file (through
 * the harness), a timeout, and the log's tail in the error when it fails.
 */
import { startChild } from '@cfaccess/harness';

export interface CommandOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  timeoutMs?: number;
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly exit: number | string,
    readonly logFile: string,
    readonly tail: string,
  ) {
    super(
      `\`${command}\` failed (exit ${exit}); log: ${logFile}\n${tail
        .split('\n')
        .map(line => `    ${line}`)
        .join('\n')}`,
    );
  }
}

/** Runs a bash command line; resolves with the log's text, rejects with a CommandError. */
export async function runCommand(
  command: string,
  options: CommandOptions,
): Promise<void> {
  const child = startChild(command.slice(0, 60), 'bash', ['-c', command], {
    cwd: options.cwd,
    env: options.env,
    logFile: options.logFile,
  });
  const timeoutMs = options.timeoutMs ?? 15 * 60_000;
  const timer = setTimeout(() => child.stop('SIGKILL'), timeoutMs);
  const exit = await child.exited;
  clearTimeout(timer);
  if (exit !== 0) {
    throw new CommandError(command, exit, options.logFile, child.tail(25));
  }
}
