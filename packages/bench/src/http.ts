/*
 * 4. HTTP: GET /api/auth/cfaccess/refresh of a real backend (auth backend + catalog with User entities,
 * better-sqlite3 in memory, sign-in resolver emailMatchingUserEntityProfileEmail), once with our module
 * and once with upstream's, under autocannon for a fixed duration: req/s, p50, p99, non-2xx, errors.
 * Each backend runs in its own child process (src/httpBackend.ts) with the Access double; autocannon
 * runs here. Both backends run side by side and are loaded in alternating short slices (the other one
 * idle), so a busy machine slows both alike. Same connections, duration and tokens for both.
 */
import { ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { LoadStats, loadInAlternatingSlices } from './alternatingLoad';
import { BenchContext } from './context';
import { CONTENDERS, ContenderName, emailOf, HEADER } from './fixtures';
import type { BackendStartMessage } from './httpBackend';
import {
  accessLatencySetting,
  fmtInt,
  fmtRatio,
  note,
  printTable,
  progress,
  ratio,
  round,
  setting,
  writeResult,
} from './report';

type HttpStats = {
  contender: ContenderName;
  startupSeconds: number;
} & LoadStats;

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

export function usersYaml(users: number): string {
  const docs = [
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: { name: 'bench-team-a' },
      spec: { type: 'team', children: [] },
    },
    ...Array.from({ length: users }, (_, i) => ({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: { name: `user${i}` },
      spec: {
        profile: { email: emailOf(i), displayName: `User ${i}` },
        memberOf: ['bench-team-a'],
      },
    })),
  ];
  return docs.map(d => stringify(d)).join('---\n');
}

/** A backend child process (src/httpBackend.ts, or another script), driven over IPC. */
export class BackendProcess {
  private readonly child: ChildProcess;
  private readonly waiters = new Map<string, (msg: any) => void>();
  private stderr = '';
  private exited = false;

  constructor(
    script = 'src/httpBackend.ts',
    // BENCH_HTTP_CPU_PROF=<dir>: a CPU profile of each backend, for finding where time goes.
    cpuProfDir = process.env.BENCH_HTTP_CPU_PROF,
  ) {
    this.child = fork(resolvePackagePath('@cfaccess/bench', script), [], {
      execArgv: [
        '-r',
        require.resolve('@backstage/cli/config/nodeTransform.cjs'),
        ...(cpuProfDir
          ? [
              '--cpu-prof',
              `--cpu-prof-dir=${cpuProfDir}`,
              // BENCH_CPU_PROF_INTERVAL=<µs>: finer samples than the default 1000 µs.
              ...(process.env.BENCH_CPU_PROF_INTERVAL
                ? [`--cpu-prof-interval=${process.env.BENCH_CPU_PROF_INTERVAL}`]
                : []),
            ]
          : []),
      ],
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child.stderr?.on('data', chunk => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.child.on('message', (msg: any) => {
      const waiter = this.waiters.get(msg.type);
      if (msg.type === 'error') {
        for (const w of this.waiters.values()) {
          w(msg);
        }
      }
      if (waiter) {
        this.waiters.delete(msg.type);
        waiter(msg);
      }
    });
    this.child.on('exit', () => {
      this.exited = true;
    });
  }

  request(
    message: { type: string; [key: string]: unknown },
    reply: string,
    timeoutMs = 120_000,
  ) {
    return new Promise<any>((res, rej) => {
      const timer = setTimeout(
        () =>
          rej(
            new Error(
              `backend did not answer ${message.type} in ${timeoutMs} ms; stderr: ${this.stderr}`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.set(reply, msg => {
        clearTimeout(timer);
        if (msg.type === 'error') {
          rej(new Error(`backend failed: ${msg.error}\n${this.stderr}`));
        } else {
          res(msg);
        }
      });
      this.child.send(message);
    });
  }

  async stop() {
    if (this.exited) {
      return;
    }
    const exited = new Promise(res => this.child.once('exit', res));
    this.child.kill('SIGTERM');
    const timeout = sleep(10_000).then(() => 'timeout');
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      this.child.kill('SIGKILL');
      await exited;
    }
  }
}

async function refresh(base: string, token: string): Promise<number> {
  const res = await fetch(`${base}/api/auth/cfaccess/refresh`, {
    headers: { [HEADER]: token },
  });
  await res.arrayBuffer();
  return res.status;
}

type RunningBackend = {
  process: BackendProcess;
  base: string;
  startupSeconds: number;
};

async function startBackend(
  ctx: BenchContext,
  contender: ContenderName,
  usersFile: string,
  tokens: string[],
  accessLatencyMs: number,
): Promise<RunningBackend> {
  const t0 = Date.now();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const backend = new BackendProcess();
  try {
    const start: BackendStartMessage = {
      type: 'start',
      module: contender,
      port,
      jwks: ctx.key.jwks,
      usersFile,
      accessLatencyMs,
    };
    await backend.request(start, 'started');
    // The catalog ingests the users in the background: wait until sign-in works.
    const deadline = Date.now() + 120_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = await refresh(base, tokens[0]).catch(() => 0);
      if (status === 200) {
        break;
      }
      await sleep(250);
    }
    if (status !== 200) {
      throw new Error(`${contender} backend never signed in (last ${status})`);
    }
    const startupSeconds = round((Date.now() - t0) / 1000, 1);
    // Every session signed in once: keys and identities cached.
    for (const token of tokens) {
      const s = await refresh(base, token);
      if (s !== 200) {
        throw new Error(`${contender}: warm-up sign-in answered ${s}`);
      }
    }
    return { process: backend, base, startupSeconds };
  } catch (error) {
    await backend.stop();
    throw error;
  }
}

export async function runHttp(ctx: BenchContext) {
  const durationS = setting('BENCH_HTTP_SECONDS', 20, 4);
  const sliceS = setting('BENCH_HTTP_SLICE_SECONDS', 2, 2);
  const connections = setting('BENCH_HTTP_CONNECTIONS', 10, 10);
  const users = setting('BENCH_HTTP_USERS', 20, 20);
  const latencyMs = accessLatencySetting();
  const slices = Math.max(1, Math.round(durationS / sliceS));
  progress(
    `http: 2 backends, ${slices} alternating slices of ${sliceS} s each, ${connections} connections, ${users} users`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'cfaccess-bench-'));
  const usersFile = join(dir, 'users.yaml');
  writeFileSync(usersFile, usersYaml(users));
  const tokens = ctx.tokens.slice(0, users);
  const requests = tokens.map(token => ({
    method: 'GET' as const,
    headers: { [HEADER]: token },
  }));

  const backends = {} as Record<ContenderName, RunningBackend>;
  const stats = {} as Record<ContenderName, HttpStats>;
  try {
    for (const contender of CONTENDERS) {
      backends[contender] = await startBackend(
        ctx,
        contender,
        usersFile,
        tokens,
        latencyMs,
      );
      progress(
        `http: ${contender} backend ready in ${backends[contender].startupSeconds} s`,
      );
    }
    const load = await loadInAlternatingSlices(
      CONTENDERS,
      c => ({
        process: backends[c].process,
        url: `${backends[c].base}/api/auth/cfaccess/refresh`,
        requests: requests,
      }),
      { slices, sliceSeconds: sliceS, connections },
    );
    for (const contender of CONTENDERS) {
      stats[contender] = {
        contender,
        startupSeconds: backends[contender].startupSeconds,
        ...load[contender],
      };
    }
  } finally {
    for (const backend of Object.values(backends)) {
      await backend.process.stop();
    }
    rmSync(dir, { recursive: true, force: true });
  }

  const ours = stats.cfaccess;
  const up = stats.upstream;
  const sliceRatios = ours.sliceReqPerSec.map((v, i) =>
    ratio(v, up.sliceReqPerSec[i]),
  );
  const comparison = {
    reqPerSecOursVsUpstream: ratio(ours.reqPerSec, up.reqPerSec),
    p50OursVsUpstream: ratio(ours.p50Ms, up.p50Ms),
    p99OursVsUpstream: ratio(ours.p99Ms, up.p99Ms),
    cpuPerRequestOursVsUpstream: ratio(
      ours.cpuMicrosPerRequest,
      up.cpuMicrosPerRequest,
    ),
    reqPerSecOursVsUpstreamPerSlice: sliceRatios,
  };
  const rows: string[][] = [
    [
      '',
      'req/s',
      'p50 ms',
      'p99 ms',
      'backend CPU µs/req',
      'non-2xx',
      'errors',
      'requests',
    ],
    ...(
      [
        ['cfaccess (ours)', ours],
        ['upstream', up],
      ] as const
    ).map(([label, a]) => [
      label,
      fmtInt(a.reqPerSec),
      String(a.p50Ms),
      String(a.p99Ms),
      fmtInt(a.cpuMicrosPerRequest),
      String(a.non2xx),
      String(a.errors + a.timeouts),
      fmtInt(a.requests),
    ]),
    [
      'ours/upstream',
      fmtRatio(comparison.reqPerSecOursVsUpstream),
      fmtRatio(comparison.p50OursVsUpstream),
      fmtRatio(comparison.p99OursVsUpstream),
      fmtRatio(comparison.cpuPerRequestOursVsUpstream),
      '',
      '',
      '',
    ],
  ];
  printTable(
    `4. HTTP: GET /api/auth/cfaccess/refresh, real backend + catalog, ${connections} connections, ${
      slices * sliceS
    } s per module in alternating ${sliceS} s slices`,
    rows,
  );
  note(
    `req/s ours/upstream per slice: ${sliceRatios
      .map(fmtRatio)
      .join(', ')}. Access requests while measuring: ours ${
      ours.accessRequestsWhileMeasuring.certs
    }+${ours.accessRequestsWhileMeasuring.identity}, upstream ${
      up.accessRequestsWhileMeasuring.certs
    }+${up.accessRequestsWhileMeasuring.identity} (certs+get-identity).`,
  );
  note(
    `targets: p50 no worse than upstream: ${
      ours.p50Ms <= up.p50Ms ? 'met' : 'NOT met'
    }; p99 no worse than upstream: ${
      ours.p99Ms <= up.p99Ms ? 'met' : 'NOT met'
    }.`,
  );
  const result = {
    secondsPerModule: slices * sliceS,
    sliceSeconds: sliceS,
    slices,
    connections,
    users,
    accessLatencyMs: latencyMs,
    cfaccess: ours,
    upstream: up,
    ...comparison,
  };
  writeResult('http', result);
  return result;
}
