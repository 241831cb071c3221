/*
 * The topology both suites run against: PostgreSQL and Redis, N replicas of the example backend sharing
 * them, and the Access emulator in front, balancing the replicas round-robin. Everything is started in
 * parallel where it can be, and registered for cleanup.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  type AccessEmulator,
  startAccessEmulator,
} from '@cfaccess/access-emulator';
import type { Command, OptionValues } from 'commander';
import { parse } from 'yaml';
import { type Replica, startReplica, waitReplicaReady } from './backend';
import {
  onCleanup,
  assertPortsFree,
  type Postgres,
  startPostgres,
  type Redis,
  startRedis,
} from '@cfaccess/harness';
import { refresh } from './http';
import { makeRunDir, repoRoot } from './paths';

export interface TopologyOptions {
  suite: string;
  replicas: number;
  /** Emulator on basePort; replica i on basePort + 7 + 100 * i; PostgreSQL and Redis on their own. */
  basePort: number;
  postgresPort: number;
  redisPort: number;
  log: (line: string) => void;
}

/** Adds the options both suites take for their ports: --base-port, --postgres-port, --redis-port. */
export function withPortOptions(command: Command): Command {
  return command
    .option('--base-port <port>', 'emulator port; replicas on +7, +107', '7100')
    .option('--postgres-port <port>', 'PostgreSQL port', '5433')
    .option('--redis-port <port>', 'Redis port', '6380');
}

/** The ports from those options, for startTopology. */
export function portsFromOptions(
  opts: OptionValues,
): Pick<TopologyOptions, 'basePort' | 'postgresPort' | 'redisPort'> {
  return {
    basePort: Number(opts.basePort),
    postgresPort: Number(opts.postgresPort),
    redisPort: Number(opts.redisPort),
  };
}

export interface Topology {
  runDir: string;
  emulator: AccessEmulator;
  replicas: Replica[];
  postgres: Postgres;
  redis: Redis;
  /** Seconds from start until every replica signed a user in. */
  startupSeconds: number;
}

/** The AUD tag the example backend expects (app-config.development.yaml), so the emulator signs for it. */
export function configuredAudience(): string {
  const config = parse(
    fs.readFileSync(path.join(repoRoot, 'app-config.development.yaml'), 'utf8'),
  );
  return config.auth.providers.cfaccess.audience;
}

const REPLICA_NAMES = ['a', 'b', 'c', 'd'];

/** Retries a sign-in on the replica until its catalog has the example users (a fresh database is empty). */
async function waitSignIn(
  emulator: AccessEmulator,
  replica: Replica,
  timeoutMs: number,
) {
  const token = await emulator.mintUserToken('alice@example.com');
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const res = await refresh(replica.url, { header: token });
    if (res.status === 200) {
      return;
    }
    last = `${res.status} ${res.text.slice(0, 200)}`;
    await new Promise(r => setTimeout(r, 500));
  }
  throw new Error(`backend ${replica.name} never signed alice in: ${last}`);
}

export async function startTopology(
  options: TopologyOptions,
): Promise<Topology> {
  const started = Date.now();
  const { log } = options;
  const replicaPorts = Array.from(
    { length: options.replicas },
    (_, i) => options.basePort + 7 + 100 * i,
  );
  await assertPortsFree({
    emulator: options.basePort,
    postgres: options.postgresPort,
    redis: options.redisPort,
    ...Object.fromEntries(
      replicaPorts.map((port, i) => [`backend ${REPLICA_NAMES[i]}`, port]),
    ),
  });
  const runDir = makeRunDir(options.suite);
  log(`run directory (logs): ${runDir}`);
  onCleanup('run directory', () => {
    // Kept for a look at the logs unless the run passed.
    if (process.exitCode === 0) {
      fs.rmSync(runDir, { recursive: true, force: true });
    }
  });
  const publicUrl = `http://localhost:${options.basePort}`;

  const [postgres, redis] = await Promise.all([
    startPostgres({ port: options.postgresPort, runDir }),
    startRedis({ port: options.redisPort, runDir }),
  ]);
  log(
    `postgres on ${postgres.port}, redis on ${redis.port} (${(
      (Date.now() - started) /
      1000
    ).toFixed(1)}s)`,
  );

  const emulator = await startAccessEmulator({
    port: options.basePort,
    publicUrl,
    backendUrl: replicaPorts.map(port => `http://127.0.0.1:${port}`),
    usersFile: path.join(repoRoot, 'examples/access-users.yaml'),
    audience: configuredAudience(),
  });
  onCleanup('emulator', () => emulator.close());

  const start = async (port: number, i: number) => {
    const replica = startReplica({
      name: REPLICA_NAMES[i],
      port,
      runDir,
      env: {
        RELIABILITY_PUBLIC_URL: publicUrl,
        RELIABILITY_POSTGRES_PORT: String(postgres.port),
        RELIABILITY_REDIS_URL: redis.url,
      },
    });
    await waitReplicaReady(replica, 120000);
    return replica;
  };
  // The first replica alone: it creates the schema. Backstage's migrations fail instead of waiting when
  // another process holds the migration lock, so replicas must not start together on a fresh database.
  const first = await start(replicaPorts[0], 0);
  log(
    `backend a ready, schema migrated (${(
      (Date.now() - started) /
      1000
    ).toFixed(1)}s)`,
  );
  const replicas = [
    first,
    ...(await Promise.all(
      replicaPorts.slice(1).map((port, i) => start(port, i + 1)),
    )),
  ];
  await Promise.all(replicas.map(r => waitSignIn(emulator, r, 60000)));
  const startupSeconds = (Date.now() - started) / 1000;
  log(
    `${replicas.length} replica(s) ready on ${replicaPorts.join(
      ', ',
    )}, emulator on ${options.basePort} (${startupSeconds.toFixed(1)}s)`,
  );
  return { runDir, emulator, replicas, postgres, redis, startupSeconds };
}
