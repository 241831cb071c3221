/*
 * 2. Cold start: a freshly initialised authenticator gets 1,000 concurrent first requests while Access
 * answers after a simulated 80 ms. Counts certs (JWKS) and get-identity requests, and measures each
 * request's latency (fastest, p50, p99; the fastest shows the sequential round trips, ~80 ms each). Two
 * arrival times: right at initialisation (the worst case for ours, whose key prefetch is still in flight) and once startup has
 * settled (a real backend takes seconds between the auth plugin's init and its first request); two
 * mixes: 1,000 distinct sessions, and 100 sessions with 10 concurrent requests each (a page load).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { BenchContext } from './context';
import {
  CONTENDERS,
  ContenderName,
  createContender,
  makeRequest,
} from './fixtures';
import {
  accessLatencySetting,
  fmtRatio,
  heapMb,
  note,
  percentile,
  printTable,
  progress,
  ratio,
  round,
  setting,
  settleSetting,
  writeResult,
} from './report';

type Run = {
  contender: ContenderName;
  arrival: 'at-init' | 'settled';
  sessions: number;
  requests: number;
  certsFetches: number;
  identityFetches: number;
  minMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
};

export async function runColdStart(ctx: BenchContext) {
  const requests = setting('BENCH_COLD_REQUESTS', 1000, 1000);
  const latencyMs = accessLatencySetting();
  const settleMs = settleSetting();
  const mixes = [Math.min(requests, ctx.tokens.length), 100];
  progress(
    `cold start: ${requests} concurrent first requests, Access latency ${latencyMs} ms`,
  );
  const { access } = ctx;
  const runs: Run[] = [];
  let flip = false;
  for (const arrival of ['at-init', 'settled'] as const) {
    for (const sessions of mixes) {
      const reqs = Array.from({ length: requests }, (_, i) =>
        makeRequest(ctx.tokens[i % sessions]),
      );
      // Alternate who goes first.
      const order = flip ? [...CONTENDERS].reverse() : CONTENDERS;
      flip = !flip;
      for (const name of order) {
        heapMb(); // collect garbage between runs
        access.latencyMs = latencyMs;
        access.reset();
        const c = await createContender(name);
        if (arrival === 'settled') {
          await sleep(settleMs);
        }
        let errors = 0;
        const latencies = await Promise.all(
          reqs.map(async req => {
            const t0 = performance.now();
            try {
              await c.authenticate(req);
            } catch {
              errors++;
            }
            return performance.now() - t0;
          }),
        );
        await c.dispose();
        latencies.sort((a, b) => a - b);
        runs.push({
          contender: name,
          arrival,
          sessions,
          requests,
          certsFetches: access.counts.certs,
          identityFetches: access.counts.identity,
          minMs: round(latencies[0]),
          p50Ms: round(percentile(latencies, 50)),
          p99Ms: round(percentile(latencies, 99)),
          maxMs: round(latencies[latencies.length - 1]),
          errors,
        });
      }
    }
  }
  access.latencyMs = 0;

  const find = (c: ContenderName, a: Run['arrival'], s: number) =>
    runs.find(r => r.contender === c && r.arrival === a && r.sessions === s)!;
  const rows: string[][] = [
    [
      'arrival',
      'sessions x requests',
      '',
      'certs',
      'get-identity',
      'fastest ms',
      'p50 ms',
      'p99 ms',
      'errors',
      'p50 ours/up',
      'p99 ours/up',
    ],
  ];
  const comparisons = [];
  for (const arrival of ['at-init', 'settled'] as const) {
    for (const sessions of mixes) {
      const ours = find('cfaccess', arrival, sessions);
      const up = find('upstream', arrival, sessions);
      const p50 = ratio(ours.p50Ms, up.p50Ms);
      const p99 = ratio(ours.p99Ms, up.p99Ms);
      comparisons.push({
        arrival,
        sessions,
        p50OursVsUpstream: p50,
        p99OursVsUpstream: p99,
      });
      const mix = `${sessions} x ${requests / sessions}`;
      const label = arrival === 'at-init' ? 'at init' : `after ${settleMs} ms`;
      for (const r of [ours, up]) {
        rows.push([
          label,
          mix,
          r.contender === 'cfaccess' ? 'cfaccess (ours)' : 'upstream',
          String(r.certsFetches),
          String(r.identityFetches),
          String(r.minMs),
          String(r.p50Ms),
          String(r.p99Ms),
          String(r.errors),
          r === ours ? fmtRatio(p50) : '',
          r === ours ? fmtRatio(p99) : '',
        ]);
      }
    }
  }
  printTable(
    `2. Cold start: ${requests} concurrent first requests, Access answers after ${latencyMs} ms`,
    rows,
  );
  note(
    `fastest ms: the quickest of the burst, about ${latencyMs} ms per sequential round trip to Access it waited for. Ratios < 1: ours is faster.`,
  );
  const result = {
    requests,
    accessLatencyMs: latencyMs,
    settleMs,
    runs,
    comparisons,
  };
  writeResult('cold-start', result);
  return result;
}
