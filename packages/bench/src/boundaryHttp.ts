/*
 * 10. Boundary HTTP: GET /api/catalog/entities?limit=1 through two real backends of our module, each in
 * its own child process (src/boundaryBackend.ts), identical except `auth.providers.cfaccess.boundary.mode`
 * (`enforce` and `off`), both with `rootHttpRouterServiceFactory({ configure:
 * withCloudflareAccessBoundary() })`. Requests carry what a browser through Access sends: the Access
 * token (header and cookie) and the Backstage token from /refresh of the same session, to both
 * backends. Loaded by autocannon here, in alternating slices (the other backend idle, the order
 * flipping every slice), as benchmark 4 does.
 */
import { LoadStats, loadInAlternatingSlices } from './alternatingLoad';
import { BenchContext } from './context';
import type { BoundaryMode } from './boundaryBackend';
import {
  backstageTokenOf,
  BENCH_PATH,
  BoundaryBackend,
  browserHeaders,
  machineLoad,
  startBoundaryBackend,
  writeUsersFile,
} from './boundaryShared';
import {
  accessLatencySetting,
  fmtInt,
  fmtRatio,
  note,
  printTable,
  progress,
  ratio,
  setting,
  writeResult,
} from './report';

const MODES: BoundaryMode[] = ['enforce', 'off'];

type Stats = {
  mode: BoundaryMode;
  startupSeconds: number;
} & LoadStats;

export async function runBoundaryHttp(ctx: BenchContext) {
  const durationS = setting('BENCH_BOUNDARY_HTTP_SECONDS', 20, 4);
  const sliceS = setting('BENCH_HTTP_SLICE_SECONDS', 2, 2);
  const connections = setting('BENCH_HTTP_CONNECTIONS', 10, 10);
  const users = setting('BENCH_BOUNDARY_USERS', 20, 20);
  const latencyMs = accessLatencySetting();
  const slices = Math.max(1, Math.round(durationS / sliceS));
  // BENCH_BOUNDARY_HTTP_AA=1: both backends `off` (an A/A run): the spread between two identical
  // backends on this machine, against which to read the enforce/off ratios.
  const aa = process.env.BENCH_BOUNDARY_HTTP_AA === '1';
  progress(
    `boundary HTTP: enforce vs off, ${slices} alternating slices of ${sliceS} s each, ${connections} connections, ${users} users`,
  );
  const loadBefore = machineLoad();
  const usersFile = writeUsersFile(users);
  const tokens = ctx.tokens.slice(0, users);
  const url = (b: BoundaryBackend) => `${b.base}${BENCH_PATH}`;

  const backends = {} as Record<BoundaryMode, BoundaryBackend>;
  const requests = {} as Record<
    BoundaryMode,
    Array<{ method: 'GET'; headers: Record<string, string> }>
  >;
  const stats = {} as Record<BoundaryMode, Stats>;
  try {
    // Both start at once (each waits on its catalog's ingestion for a while).
    const started = await Promise.allSettled(
      MODES.map(mode =>
        startBoundaryBackend(ctx, {
          mode: aa ? 'off' : mode,
          usersFile: usersFile.file,
          users,
          instrument: false,
          accessLatencyMs: latencyMs,
          signInToken: tokens[0],
          cpuProfDir: process.env.BENCH_HTTP_CPU_PROF,
        }),
      ),
    );
    started.forEach((s, i) => {
      if (s.status === 'fulfilled') {
        backends[MODES[i]] = s.value;
      }
    });
    const failed = started.find(s => s.status === 'rejected');
    if (failed) {
      throw (failed as PromiseRejectedResult).reason;
    }
    for (const mode of MODES) {
      const backend = backends[mode];
      progress(
        `boundary HTTP: ${mode} backend ready in ${backend.startupSeconds} s`,
      );
      // Every session signed in through /refresh of this backend: the frontend's Backstage token.
      const headers = [];
      for (let i = 0; i < tokens.length; i++) {
        const backstageToken = await backstageTokenOf(backend.base, tokens[i]);
        headers.push(browserHeaders(tokens[i], backstageToken, i));
      }
      requests[mode] = headers.map(h => ({
        method: 'GET' as const,
        headers: h,
      }));
      for (const request of requests[mode]) {
        const res = await fetch(url(backend), { headers: request.headers });
        await res.arrayBuffer();
        if (res.status !== 200) {
          throw new Error(`${mode}: ${BENCH_PATH} answered ${res.status}`);
        }
      }
    }
    const load = await loadInAlternatingSlices(
      MODES,
      mode => ({
        process: backends[mode].process,
        url: url(backends[mode]),
        requests: requests[mode],
      }),
      { slices, sliceSeconds: sliceS, connections },
    );
    for (const mode of MODES) {
      stats[mode] = {
        mode,
        startupSeconds: backends[mode].startupSeconds,
        ...load[mode],
      };
    }
  } finally {
    for (const backend of Object.values(backends)) {
      await backend.process.stop();
    }
    usersFile.remove();
  }

  const loadAfter = machineLoad();
  const on = stats.enforce;
  const off = stats.off;
  const sliceRatios = on.sliceReqPerSec.map((v, i) =>
    ratio(v, off.sliceReqPerSec[i]),
  );
  const cpuSliceRatios = on.sliceCpuMicrosPerRequest.map((v, i) =>
    ratio(v, off.sliceCpuMicrosPerRequest[i]),
  );
  const median = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
  const comparison = {
    reqPerSecEnforceVsOff: ratio(on.reqPerSec, off.reqPerSec),
    p50EnforceVsOff: ratio(on.p50Ms, off.p50Ms),
    p99EnforceVsOff: ratio(on.p99Ms, off.p99Ms),
    cpuPerRequestEnforceVsOff: ratio(
      on.cpuMicrosPerRequest,
      off.cpuMicrosPerRequest,
    ),
    /** Backend CPU per request with the boundary minus without: its cost end to end (noisy). */
    cpuMicrosPerRequestAdded: on.cpuMicrosPerRequest - off.cpuMicrosPerRequest,
    reqPerSecEnforceVsOffPerSlice: sliceRatios,
    /** The median slice: less moved by a slice that another process on the machine slowed down. */
    reqPerSecEnforceVsOffMedianSlice: median(sliceRatios),
    cpuPerRequestEnforceVsOffPerSlice: cpuSliceRatios,
    cpuPerRequestEnforceVsOffMedianSlice: median(cpuSliceRatios),
  };
  const noAccess =
    on.accessRequestsWhileMeasuring.certs +
      on.accessRequestsWhileMeasuring.identity +
      off.accessRequestsWhileMeasuring.certs +
      off.accessRequestsWhileMeasuring.identity ===
    0;
  const targets = {
    throughput: comparison.reqPerSecEnforceVsOff >= 0.95,
    p99: comparison.p99EnforceVsOff <= 1.05,
    noAccessRequests: noAccess,
    all2xx: on.non2xx + off.non2xx + on.errors + off.errors === 0,
  };
  printTable(
    `10. Boundary HTTP${
      aa ? ' (A/A: both backends off)' : ''
    }: GET ${BENCH_PATH}, real backend + catalog, browser requests through Access, boundary enforce vs off, ${connections} connections, ${
      slices * sliceS
    } s each in alternating ${sliceS} s slices`,
    [
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
          ['boundary enforce', on],
          ['boundary off', off],
        ] as const
      ).map(([label, a]) => [
        aa ? `${label} (A/A: runs off)` : label,
        fmtInt(a.reqPerSec),
        String(a.p50Ms),
        String(a.p99Ms),
        fmtInt(a.cpuMicrosPerRequest),
        String(a.non2xx),
        String(a.errors + a.timeouts),
        fmtInt(a.requests),
      ]),
      [
        'enforce/off',
        fmtRatio(comparison.reqPerSecEnforceVsOff),
        fmtRatio(comparison.p50EnforceVsOff),
        fmtRatio(comparison.p99EnforceVsOff),
        fmtRatio(comparison.cpuPerRequestEnforceVsOff),
        '',
        '',
        '',
      ],
    ],
  );
  note(
    `req/s enforce/off per slice: ${sliceRatios
      .map(fmtRatio)
      .join(', ')} (median ${fmtRatio(
      comparison.reqPerSecEnforceVsOffMedianSlice,
    )}); backend CPU/req enforce/off per slice: ${cpuSliceRatios
      .map(fmtRatio)
      .join(', ')} (median ${fmtRatio(
      comparison.cpuPerRequestEnforceVsOffMedianSlice,
    )}). Backend CPU per request, enforce - off: ${
      comparison.cpuMicrosPerRequestAdded
    } µs. Access requests while measuring: enforce ${
      on.accessRequestsWhileMeasuring.certs
    }+${on.accessRequestsWhileMeasuring.identity}, off ${
      off.accessRequestsWhileMeasuring.certs
    }+${off.accessRequestsWhileMeasuring.identity} (certs+get-identity).`,
  );
  note(
    `targets: throughput >= 0.95x: ${
      targets.throughput ? 'met' : 'NOT met'
    }; p99 <= 1.05x: ${targets.p99 ? 'met' : 'NOT met'}; no Access request: ${
      noAccess ? 'met' : 'NOT met'
    }. Machine load (1 min, 2 cores): ${loadBefore} before, ${loadAfter} after.`,
  );
  const result = {
    path: BENCH_PATH,
    secondsPerMode: slices * sliceS,
    sliceSeconds: sliceS,
    slices,
    connections,
    users,
    accessLatencyMs: latencyMs,
    machineLoad: { before: loadBefore, after: loadAfter },
    enforce: on,
    off,
    ...comparison,
    targets,
  };
  writeResult(aa ? 'boundary-http-aa' : 'boundary-http', { aa, ...result });
  return result;
}
