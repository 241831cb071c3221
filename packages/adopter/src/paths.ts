/*
 * Where things are: the repository, and a run directory outside it (the scaffold, the tarballs, the logs),
 * so that nothing the test installs touches this repository's lockfile.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const packageDir = path.dirname(
  require.resolve('@cfaccess/adopter-test/package.json'),
);
export const repoRoot = path.resolve(packageDir, '../..');

export interface RunDir {
  root: string;
  /** The scaffolded app. */
  app: string;
  /** The packed tarballs. */
  tarballs: string;
  logs: string;
  /** A log file path for a step. */
  log(name: string): string;
}

export function makeRunDir(): RunDir {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cfaccess-adopter-'));
  const tarballs = path.join(root, 'tarballs');
  const logs = path.join(root, 'logs');
  fs.mkdirSync(tarballs);
  fs.mkdirSync(logs);
  let n = 0;
  return {
    root,
    app: path.join(root, 'app'),
    tarballs,
    logs,
    log: name =>
      path.join(
        logs,
        `${String(++n).padStart(2, '0')}-${name.replace(/[^\w.-]+/g, '_')}.log`,
      ),
  };
}
