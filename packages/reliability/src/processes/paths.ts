/*
 * Where things are: this package, the repository root, the results directory, and a fresh directory for
 * one run's logs and data.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolvePackagePath } from '@backstage/backend-plugin-api';

export const packageDir = resolvePackagePath('@cfaccess/reliability');
export const repoRoot = path.resolve(packageDir, '../..');

/** Writes a result file to packages/reliability/results/; returns its path. */
export function writeResult(name: string, data: unknown): string {
  const dir = path.join(packageDir, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/** A new directory for a run's logs and database files, readable by the postgres user. */
export function makeRunDir(suite: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cfaccess-${suite}-`));
  fs.chmodSync(dir, 0o755);
  return dir;
}
