/*
 * 1. Hot path: authenticate() with keys and identity cached, one call at a time, on the same tokens:
 * ours, upstream, and bare jose.jwtVerify with a local key (the signature-check floor). The three are
 * timed in short slices, in a rotating order, so that machine noise hits all of them alike.
 */
import { performance } from 'node:perf_hooks';
import { BenchContext } from './context';
import {
  CONTENDERS,
  Contender,
  ContenderName,
  createContender,
  createFloor,
  makeRequest,
} from './fixtures';
import {
  fmtInt,
  fmtRatio,
  note,
  percentile,
  printTable,
  progress,
  ratio,
  round,
  setting,
  writeResult,
} from './report';

type Name = ContenderName | 'floor';
/** Calls, wall time, and the process's CPU time (all threads: jose 6 verifies on libuv's pool). */
type Totals = { ops: number; ms: number; cpuUs: number };

async function timeLoop(
  durationMs: number,
  count: number,
  fn: (i: number) => Promise<unknown>,
): Promise<Totals> {
  let ops = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < durationMs) {
    // 64 calls between clock reads keep the clock out of the measurement.
    for (let j = 0; j < 64; j++) {
      await fn(ops % count);
      ops++;
    }
    elapsed = performance.now() - started;
  }
  const cpu = process.cpuUsage(cpu0);
  return { ops, ms: elapsed, cpuUs: cpu.user + cpu.system };
}

export async function runHotPath(ctx: BenchContext) {
  const sessions = setting('BENCH_HOT_SESSIONS', 200, 200);
  // Total time per contender, run in short slices that rotate between the three, so that the
  // load of a busy machine falls on all of them alike.
  const totalMs = setting('BENCH_HOT_MS', 6000, 1200);
  const durationMs = setting('BENCH_HOT_SLICE_MS', 100, 100);
  const rounds = Math.max(1, Math.round(totalMs / durationMs));
  progress(
    `hot path: ${sessions} sessions, ${rounds} slices x ${durationMs} ms per contender`,
  );
  const { access } = ctx;
  access.latencyMs = 0;
  const reqs = ctx.tokens.slice(0, sessions).map(makeRequest);
  const tokens = ctx.tokens.slice(0, sessions);

  const contenders = {} as Record<ContenderName, Contender>;
  const warmup = {} as Record<ContenderName, typeof access.counts>;
  for (const name of CONTENDERS) {
    access.reset();
    const c = await createContender(name);
    for (const req of reqs) {
      await c.authenticate(req);
    }
    contenders[name] = c;
    warmup[name] = { ...access.counts };
  }

  const floor = createFloor(ctx.key);
  const fns: Record<Name, (i: number) => Promise<unknown>> = {
    cfaccess: i => contenders.cfaccess.authenticate(reqs[i]),
    upstream: i => contenders.upstream.authenticate(reqs[i]),
    floor: i => floor(tokens[i]),
  };
  const names: Name[] = ['cfaccess', 'upstream', 'floor'];
  for (const name of names) {
    await timeLoop(Math.min(300, durationMs), sessions, fns[name]); // JIT warm-up
  }

  access.reset();
  const totals = Object.fromEntries(
    names.map(n => [n, { ops: 0, ms: 0, cpuUs: 0 }]),
  ) as Record<Name, Totals>;
  const roundRatios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    const perRound = {} as Record<Name, number>;
    for (const name of order) {
      const t = await timeLoop(durationMs, sessions, fns[name]);
      totals[name].ops += t.ops;
      totals[name].ms += t.ms;
      totals[name].cpuUs += t.cpuUs;
      perRound[name] = t.ops / t.ms;
    }
    roundRatios.push(ratio(perRound.cfaccess, perRound.upstream));
  }
  const during = { ...access.counts };
  for (const c of Object.values(contenders)) {
    await c.dispose();
  }

  const sortedRatios = [...roundRatios].sort((a, b) => a - b);
  const stats = Object.fromEntries(
    names.map(n => {
      const opsPerSec = (totals[n].ops / totals[n].ms) * 1000;
      return [
        n,
        {
          ops: totals[n].ops,
          opsPerSec: Math.round(opsPerSec),
          usPerOp: round(1e6 / opsPerSec, 1),
          cpuUsPerOp: round(totals[n].cpuUs / totals[n].ops, 1),
        },
      ];
    }),
  ) as Record<
    Name,
    { ops: number; opsPerSec: number; usPerOp: number; cpuUsPerOp: number }
  >;
  const result = {
    sessions,
    slices: rounds,
    sliceMs: durationMs,
    ...stats,
    oursVsUpstream: ratio(stats.cfaccess.opsPerSec, stats.upstream.opsPerSec),
    oursVsFloor: ratio(stats.cfaccess.opsPerSec, stats.floor.opsPerSec),
    upstreamVsFloor: ratio(stats.upstream.opsPerSec, stats.floor.opsPerSec),
    /** Upstream's CPU per call over ours: the same comparison, less disturbed by other processes. */
    oursVsUpstreamByCpu: ratio(
      stats.upstream.cpuUsPerOp,
      stats.cfaccess.cpuUsPerOp,
    ),
    oursVsUpstreamPerSlice: {
      p10: percentile(sortedRatios, 10),
      median: percentile(sortedRatios, 50),
      p90: percentile(sortedRatios, 90),
    },
    accessRequestsDuringWarmup: warmup,
    accessRequestsDuringMeasurement: during,
    target: 'cfaccess ops/s >= 5x upstream',
    targetMet: stats.cfaccess.opsPerSec >= 5 * stats.upstream.opsPerSec,
  };

  printTable(
    `1. Hot path: authenticate(), keys and identity cached (${sessions} sessions, ${
      (rounds * durationMs) / 1000
    } s each in ${durationMs} ms slices)`,
    [
      [
        '',
        'ops/s',
        'µs/op',
        'CPU µs/op',
        'vs upstream',
        'vs upstream (CPU)',
        'vs floor',
      ],
      [
        'cfaccess (ours)',
        fmtInt(stats.cfaccess.opsPerSec),
        String(stats.cfaccess.usPerOp),
        String(stats.cfaccess.cpuUsPerOp),
        fmtRatio(result.oursVsUpstream),
        fmtRatio(result.oursVsUpstreamByCpu),
        fmtRatio(result.oursVsFloor),
      ],
      [
        'upstream',
        fmtInt(stats.upstream.opsPerSec),
        String(stats.upstream.usPerOp),
        String(stats.upstream.cpuUsPerOp),
        '1.00x',
        '1.00x',
        fmtRatio(result.upstreamVsFloor),
      ],
      [
        'jose.jwtVerify, local key (floor)',
        fmtInt(stats.floor.opsPerSec),
        String(stats.floor.usPerOp),
        String(stats.floor.cpuUsPerOp),
        fmtRatio(ratio(stats.floor.opsPerSec, stats.upstream.opsPerSec)),
        fmtRatio(ratio(stats.upstream.cpuUsPerOp, stats.floor.cpuUsPerOp)),
        '1.00x',
      ],
    ],
  );
  note(
    `ours/upstream over ${rounds} slices: p10 ${fmtRatio(
      result.oursVsUpstreamPerSlice.p10,
    )}, median ${fmtRatio(
      result.oursVsUpstreamPerSlice.median,
    )}, p90 ${fmtRatio(result.oursVsUpstreamPerSlice.p90)}; target >= 5x: ${
      result.targetMet ? 'met' : 'NOT met'
    }. Access requests while measuring: certs ${during.certs}, get-identity ${
      during.identity
    }.`,
  );
  writeResult('hot-path', result);
  return result;
}
