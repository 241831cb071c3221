/*
 * A throwaway PostgreSQL from the Debian package: initdb into a temporary directory, trust auth on
 * loopback, one port, no durability (fsync off). PostgreSQL refuses to run as root, so as root the
 * server runs as the `postgres` user the package creates.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type Child, startChild } from './child';
import { onCleanup } from './cleanup';

export interface Postgres {
  port: number;
  user: string;
  child: Child;
}

function findBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter(v => fs.existsSync(path.join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      'PostgreSQL not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)',
    );
  }
  return path.join(root, versions[0], 'bin');
}

/** uid/gid of the postgres user when running as root, else nothing (run as ourselves). */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) {
    return undefined;
  }
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
  return { uid, gid };
}

/** Waits until pg_isready says the server accepts connections. */
async function waitReady(
  bin: string,
  port: number,
  child: Child,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await new Promise<boolean>(resolve =>
      execFile(
        path.join(bin, 'pg_isready'),
        ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-q'],
        error => resolve(!error),
      ),
    );
    if (ready) {
      return;
    }
    if (!child.isRunning() || Date.now() > deadline) {
      throw new Error(`PostgreSQL did not start:\n${child.tail()}`);
    }
    await new Promise(r => setTimeout(r, 200));
  }
}

export async function startPostgres(options: {
  port: number;
  runDir: string;
}): Promise<Postgres> {
  const bin = findBinDir();
  const owner = runAs();
  const dataDir = path.join(options.runDir, 'pgdata');
  fs.mkdirSync(dataDir, { mode: 0o700 });
  if (owner) {
    fs.chownSync(dataDir, owner.uid, owner.gid);
  }
  onCleanup('postgres data', () =>
    fs.rmSync(dataDir, { recursive: true, force: true }),
  );
  execFileSync(
    path.join(bin, 'initdb'),
    [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
    ],
    { ...owner, stdio: 'pipe', cwd: '/' },
  );
  const child = startChild(
    'postgres',
    path.join(bin, 'postgres'),
    [
      '-D',
      dataDir,
      '-p',
      String(options.port),
      '-k',
      dataDir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ],
    { ...owner, cwd: '/', logFile: path.join(options.runDir, 'postgres.log') },
  );
  await waitReady(bin, options.port, child, 30000);
  return { port: options.port, user: 'postgres', child };
}
