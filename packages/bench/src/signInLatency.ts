/*
 * 3. Sign-in latency with Access answering after a simulated 80 ms, one request at a time: the first
 * request after startup, a new session on a warm process, a new login of a person already seen, and the
 * next request of an established session. Counts the sequential round trips to Access each one waited
 * for. Every case is repeated (fresh authenticators for the startup cases) and the median reported.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { BenchContext } from './context';
import {
  CONTENDERS,
  Contender,
  ContenderName,
  createContender,
  makeRequest,
  mintToken,
  sequentialRoundTrips,
} from './fixtures';
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
  settleSetting,
  writeResult,
} from './report';

type Sample = {
  ms: number;
  accessRequests: number;
  roundTrips: number;
  ok: boolean;
};
type CaseResult = {
  medianMs: number;
  accessRequests: number;
  roundTrips: number;
  errors: number;
};

export async function runSignInLatency(ctx: BenchContext) {
  const latencyMs = accessLatencySetting();
  const repeats = setting('BENCH_SIGNIN_REPEATS', 7, 3);
  const settleMs = settleSetting();
  progress(
    `sign-in latency: Access latency ${latencyMs} ms, ${repeats} repeats per case`,
  );
  const { access, key, tokens } = ctx;
  access.latencyMs = latencyMs;

  async function measure(c: Contender, token: string): Promise<Sample> {
    access.reset();
    access.recording = true;
    const t0 = performance.now();
    let ok = true;
    try {
      await c.authenticate(makeRequest(token));
    } catch {
      ok = false;
    }
    const ms = performance.now() - t0;
    access.recording = false;
    return {
      ms,
      accessRequests: access.log.length,
      roundTrips: sequentialRoundTrips(access.log),
      ok,
    };
  }
  const summarize = (samples: Sample[]): CaseResult => ({
    medianMs: round(median(samples.map(s => s.ms)), 2),
    accessRequests: Math.max(...samples.map(s => s.accessRequests)),
    roundTrips: Math.max(...samples.map(s => s.roundTrips)),
    errors: samples.filter(s => !s.ok).length,
  });

  const cases = [
    'first request, at init',
    `first request, ${settleMs} ms after init`,
    'new session (new person), warm process',
    'new login of a known person (new identity_nonce)',
    'next request of an established session',
  ];
  const all = new Map<string, Sample[]>(); // `${case}|${contender}` -> samples
  const samplesOf = (c: string, name: ContenderName) => {
    const k = `${c}|${name}`;
    if (!all.has(k)) {
      all.set(k, []);
    }
    return all.get(k)!;
  };
  const relogins = await Promise.all(
    Array.from({ length: 2 * repeats }, (_, i) =>
      mintToken(key, 1 + i, { prefix: 'relogin' }),
    ),
  );

  for (let rep = 0; rep < 2; rep++) {
    // Interleave: each contender's samples are split over two passes in alternating order.
    const order = rep === 0 ? CONTENDERS : [...CONTENDERS].reverse();
    const n = rep === 0 ? Math.ceil(repeats / 2) : Math.floor(repeats / 2);
    for (const name of order) {
      const samples = cases.map(c => samplesOf(c, name));
      for (let i = 0; i < n; i++) {
        const atInit = await createContender(name);
        samples[0].push(await measure(atInit, tokens[0]));
        await atInit.dispose();
        const settled = await createContender(name);
        await sleep(settleMs);
        samples[1].push(await measure(settled, tokens[0]));
        await settled.dispose();
      }
      // One warm process: session 0 signed in; then new people, re-logins, repeats.
      const warm = await createContender(name);
      await warm.authenticate(makeRequest(tokens[0]));
      const offset = rep * repeats;
      for (let i = 0; i < n; i++) {
        samples[2].push(await measure(warm, tokens[100 + offset + i]));
        // relogins[i] is person 1+i with a new nonce; sign that person's first session in first.
        await warm.authenticate(makeRequest(tokens[1 + i + offset]));
        samples[3].push(await measure(warm, relogins[i + offset]));
        samples[4].push(await measure(warm, tokens[0]));
      }
      await warm.dispose();
    }
  }
  access.latencyMs = 0;

  const rows: string[][] = [
    [
      'case',
      'ours ms',
      'upstream ms',
      'ours/upstream',
      'ours round trips',
      'upstream round trips',
      'Access requests (ours / upstream)',
    ],
  ];
  const table = cases.map(c => {
    const ours = summarize(samplesOf(c, 'cfaccess'));
    const up = summarize(samplesOf(c, 'upstream'));
    const r = ratio(ours.medianMs, up.medianMs);
    rows.push([
      c,
      String(ours.medianMs),
      String(up.medianMs),
      fmtRatio(r),
      String(ours.roundTrips),
      String(up.roundTrips),
      `${ours.accessRequests} / ${up.accessRequests}`,
    ]);
    return { case: c, cfaccess: ours, upstream: up, oursVsUpstream: r };
  });
  printTable(
    `3. Sign-in latency, Access answers after ${latencyMs} ms (median of ${repeats})`,
    rows,
  );
  note(
    "round trips: sequential requests to Access the sign-in waited for (max over repeats). Upstream caches identity by sub alone, so a new login of a known person reuses the earlier login's identity (groups included) without asking Access. Sub-millisecond rows are single calls, dominated by scheduling; benchmark 1 has the steady-state cost.",
  );
  const result = {
    accessLatencyMs: latencyMs,
    repeats,
    settleMs,
    cases: table,
  };
  writeResult('sign-in-latency', result);
  return result;
}
