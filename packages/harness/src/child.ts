/*
 * One child process in its own process group, its output in a log file, stopped by signal to the whole
 * group (a backend started through a wrapper dies with its children).
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import { onCleanup } from './cleanup';

export interface Child {
  name: string;
  pid: number;
  logFile: string;
  /** Resolves with the exit code (or signal name) when the process exits. */
  exited: Promise<number | string>;
  isRunning(): boolean;
  /** Signals the process group and waits for the exit (SIGKILL after timeoutMs). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
  /** The last lines of the log, for failure reports. */
  tail(lines?: number): string;
}

export function startChild(
  name: string,
  command: string,
  args: string[],
  options: SpawnOptions & { logFile: string },
): Child {
  const { logFile, ...spawnOptions } = options;
  const out = fs.openSync(logFile, 'a');
  const child = spawn(command, args, {
    ...spawnOptions,
    stdio: ['ignore', out, out],
    detached: true,
  });
  fs.closeSync(out);
  if (child.pid === undefined) {
    throw new Error(`${name}: could not start ${command}`);
  }
  const pid = child.pid;
  let running = true;
  const exited = new Promise<number | string>(resolve => {
    child.once('exit', (code, signal) => {
      running = false;
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', error => {
      running = false;
      resolve(`error: ${error.message}`);
    });
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  const stop = async (
    signal: NodeJS.Signals = 'SIGTERM',
    timeoutMs = 10000,
  ) => {
    if (!running) {
      return;
    }
    signalGroup(signal);
    const timer = setTimeout(() => signalGroup('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
    // Children the leader left behind, right away (the group id is still ours).
    signalGroup('SIGKILL');
  };
  onCleanup(name, () => stop());
  return {
    name,
    pid,
    logFile,
    exited,
    isRunning: () => running,
    stop,
    tail(lines = 30) {
      try {
        return fs
          .readFileSync(logFile, 'utf8')
          .trimEnd()
          .split('\n')
          .slice(-lines)
          .join('\n');
      } catch {
        return '';
      }
    },
  };
}
