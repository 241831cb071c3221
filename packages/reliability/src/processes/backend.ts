/*
 * One replica of the example backend (packages/backend), run from source the way `yarn start` runs it,
 * but without the file watcher: node with Backstage's transform, the development config stack
 * (app-config.yaml, app-config.development.yaml) plus the reliability config, its own port. The node process is the direct child, so its pid is the backend's (for RSS).
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Child, startChild } from '@cfaccess/harness';
import { repoRoot } from './paths';

export interface Replica {
  name: string;
  port: number;
  /** Direct URL of the replica, bypassing the emulator. */
  url: string;
  child: Child;
}

export interface ReplicaOptions {
  name: string;
  port: number;
  runDir: string;
  /** Environment for the config: public URL, PostgreSQL port, Redis URL. */
  env: Record<string, string>;
}

export function startReplica(options: ReplicaOptions): Replica {
  const backendDir = path.join(repoRoot, 'packages/backend');
  const child = startChild(
    `backend ${options.name}`,
    process.execPath,
    [
      '--enable-source-maps',
      '--require',
      require.resolve('@backstage/cli/config/nodeTransform.cjs'),
      'src/index.ts',
      '--config',
      path.join(repoRoot, 'app-config.yaml'),
      '--config',
      path.join(repoRoot, 'app-config.development.yaml'),
      '--config',
      path.join(repoRoot, 'packages/reliability/app-config.scale.yaml'),
    ],
    {
      cwd: backendDir,
      env: {
        ...process.env,
        NODE_ENV: 'development',
        BACKSTAGE_ENV: 'development',
        ...options.env,
        APP_CONFIG_backend_listen_port: String(options.port),
      },
      logFile: path.join(options.runDir, `backend-${options.name}.log`),
    },
  );
  return {
    name: options.name,
    port: options.port,
    url: `http://127.0.0.1:${options.port}`,
    child,
  };
}

/** Waits until the replica answers its readiness check. */
export async function waitReplicaReady(replica: Replica, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${replica.url}/.backstage/health/v1/readiness`, {
        signal: AbortSignal.timeout(2000),
      });
      if (res.status === 200) {
        return;
      }
    } catch {
      // not listening yet
    }
    if (!replica.child.isRunning() || Date.now() > deadline) {
      throw new Error(
        `backend ${
          replica.name
        } did not become ready:\n${replica.child.tail()}`,
      );
    }
    await new Promise(r => setTimeout(r, 250));
  }
}

/** Resident set size of a process in MB, from /proc (Linux); undefined when unavailable. */
export function rssMb(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = status.match(/^VmRSS:\s+(\d+)\s+kB/m);
    return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : undefined;
  } catch {
    return undefined;
  }
}
