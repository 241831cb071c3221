/*
 * 9. Boundary sign-in: the first request of a new Access session through the boundary, from a client
 * that has only Access (no Backstage token), on a real backend in enforce mode (src/boundaryBackend.ts)
 * with Access answering after 80 ms. Counts what it costs (get-identity requests, certs requests, the
 * sequential round trips, the auth backend's catalog lookups, which is one per sign-in resolution)
 * and what a /refresh of the same session adds afterwards (nothing: the session's sign-in is shared);
 * and the other way round: /refresh of a new session first (the sign-in page), then an Access-only
 * request of that session. One request at a time, median of 7, new people every time.
 */
import { BenchContext } from './context';
import {
  accessOnlyHeaders,
  BENCH_PATH,
  machineLoad,
  refreshSession,
  sharedBoundaryBackend,
  SHARED_USERS,
} from './boundaryShared';
import { performance } from 'node:perf_hooks';
import {
  accessLatencySetting,
  fmtRatio,
  median,
  note,
  printTable,
  progress,
  ratio,
  round,
  setting,
  writeResult,
} from './report';

type Sample = {
  ms: number;
  status: number;
  identity: number;
  certs: number;
  roundTrips: number;
  catalogLookups: number;
};

type CaseResult = {
  case: string;
  medianMs: number;
  /** Max over the repeats. */
  identity: number;
  certs: number;
  roundTrips: number;
  catalogLookups: number;
  errors: number;
  /** The statuses other than 200, if any. */
  errorStatuses: number[];
  samples: number;
};

const CASES = [
  'first Access-only API request of a new session',
  '  then /refresh of the same session',
  '  then the next Access-only API request',
  'first /refresh of a new session (sign-in page)',
  '  then an Access-only API request of the same session',
] as const;

export async function runBoundarySignIn(ctx: BenchContext) {
  const latencyMs = accessLatencySetting();
  const repeats = setting('BENCH_BOUNDARY_SIGNIN_REPEATS', 7, 3);
  // New people: sessions 20 and up (benchmark 8 signs 0-19 in on the shared backend).
  const firstNew = 20;
  if (firstNew + 2 * repeats > SHARED_USERS) {
    throw new Error(
      `BENCH_BOUNDARY_SIGNIN_REPEATS: at most ${(SHARED_USERS - firstNew) / 2}`,
    );
  }
  progress(
    `boundary sign-in: real backend (enforce), Access latency ${latencyMs} ms, ${repeats} new sessions per case`,
  );
  const { tokens } = ctx;
  const samples = CASES.map(() => [] as Sample[]);
  const loadBefore = machineLoad();
  // The backend benchmark 8 uses too, when both run; the run stops it at the end.
  const backend = await sharedBoundaryBackend(ctx);
  progress(`boundary sign-in: backend ready in ${backend.startupSeconds} s`);
  const { base, process: proc } = backend;
  await proc.request({ type: 'latency', ms: latencyMs }, 'latency');
  const measure = async (
    send: () => Promise<number>,
    into: Sample[],
  ): Promise<void> => {
    await proc.request({ type: 'reset' }, 'reset');
    const t0 = performance.now();
    const status = await send();
    const ms = performance.now() - t0;
    const { counts, catalogLookups, roundTrips } = await proc.request(
      { type: 'counts' },
      'counts',
    );
    into.push({
      ms,
      status,
      identity: counts.identity,
      certs: counts.certs,
      roundTrips,
      catalogLookups,
    });
  };
  const apiRequest = (i: number) => async () => {
    const res = await fetch(`${base}${BENCH_PATH}`, {
      headers: accessOnlyHeaders(tokens[i], i),
    });
    await res.arrayBuffer();
    return res.status;
  };
  const refresh = (i: number) => async () =>
    (await refreshSession(base, tokens[i])).status;

  try {
    for (let r = 0; r < repeats; r++) {
      // New to this backend: new people, each with their own identity_nonce.
      const accessFirst = firstNew + 2 * r;
      const refreshFirst = firstNew + 1 + 2 * r;
      // Each a list of (request, case) run in order; alternating which list goes first.
      const pairs: Array<Array<[() => Promise<number>, Sample[]]>> = [
        [
          [apiRequest(accessFirst), samples[0]],
          [refresh(accessFirst), samples[1]],
          [apiRequest(accessFirst), samples[2]],
        ],
        [
          [refresh(refreshFirst), samples[3]],
          [apiRequest(refreshFirst), samples[4]],
        ],
      ];
      for (const pair of r % 2 === 0 ? pairs : [...pairs].reverse()) {
        for (const [send, into] of pair) {
          await measure(send, into);
        }
      }
    }
  } finally {
    await proc.request({ type: 'latency', ms: 0 }, 'latency');
  }
  const loadAfter = machineLoad();

  const results: CaseResult[] = CASES.map((c, i) => {
    const s = samples[i];
    return {
      case: c.trim(),
      medianMs: round(median(s.map(x => x.ms)), 1),
      identity: Math.max(...s.map(x => x.identity)),
      certs: Math.max(...s.map(x => x.certs)),
      roundTrips: Math.max(...s.map(x => x.roundTrips)),
      catalogLookups: Math.max(...s.map(x => x.catalogLookups)),
      errors: s.filter(x => x.status !== 200).length,
      errorStatuses: s.filter(x => x.status !== 200).map(x => x.status),
      samples: s.length,
    };
  });
  const [first, thenRefresh, thenNext, refreshFirst, thenApi] = results;
  const targets = {
    firstRequest:
      first.identity <= 1 &&
      first.roundTrips <= 1 &&
      first.catalogLookups <= 1 &&
      first.errors === 0,
    refreshAddsNothing:
      thenRefresh.identity === 0 &&
      thenRefresh.certs === 0 &&
      thenRefresh.catalogLookups === 0 &&
      thenRefresh.errors === 0,
    apiAfterRefreshAddsNothing:
      thenApi.identity === 0 &&
      thenApi.certs === 0 &&
      thenApi.catalogLookups === 0 &&
      thenApi.errors === 0 &&
      thenNext.identity + thenNext.catalogLookups === 0,
  };
  printTable(
    `9. Boundary sign-in: new Access sessions through the boundary (enforce), Access answers after ${latencyMs} ms, one request at a time (median of ${repeats})`,
    [
      [
        'request',
        'ms',
        'get-identity',
        'certs',
        'round trips',
        'catalog lookups',
        'non-200',
      ],
      ...results.map((r, i) => [
        CASES[i],
        String(r.medianMs),
        String(r.identity),
        String(r.certs),
        String(r.roundTrips),
        String(r.catalogLookups),
        r.errors ? `${r.errors} (${r.errorStatuses.join(', ')})` : '0',
      ]),
    ],
  );
  note(
    `counts are the max over the repeats; catalog lookups are the auth backend's requests to the catalog (one per sign-in resolution). First Access-only request / first /refresh: ${fmtRatio(
      ratio(first.medianMs, refreshFirst.medianMs),
    )}. Targets: first Access-only request at most 1 get-identity round trip and 1 resolution: ${
      targets.firstRequest ? 'met' : 'NOT met'
    }; /refresh of that session adds 0 get-identity and 0 resolutions: ${
      targets.refreshAddsNothing ? 'met' : 'NOT met'
    }; an Access-only request after /refresh adds none either: ${
      targets.apiAfterRefreshAddsNothing ? 'met' : 'NOT met'
    }.`,
  );
  const result = {
    path: BENCH_PATH,
    accessLatencyMs: latencyMs,
    machineLoad: { before: loadBefore, after: loadAfter },
    repeats,
    cases: results,
    targets,
  };
  writeResult('boundary-sign-in', result);
  return result;
}
