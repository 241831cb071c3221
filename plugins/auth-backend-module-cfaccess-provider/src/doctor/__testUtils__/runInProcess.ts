/*
 * The command run in this process, as the bin runs it, with its output
 * captured: faster than spawning it, and every stream inspectable.
 */
import { Readable } from 'node:stream';
import { runCli } from '../cli';

export type CliRun = { code: number; stdout: string; stderr: string };

export async function runInProcess(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; stdin?: string },
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const stdin = Object.assign(Readable.from([options.stdin ?? '']), {
    isTTY: options.stdin === undefined,
  });
  const code = await runCli(['node', 'cfaccess', ...args], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin,
    env: options.env ?? {},
    cwd: options.cwd,
  });
  return { code, stdout, stderr };
}
