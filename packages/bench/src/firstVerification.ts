/*
 * 5. First verification: CPU per forged token (well formed, known kid, wrong signature: rejected only at
 * the RSA check) and per new session (a valid token of a person not seen before; Access answers
 * get-identity at once), ours against upstream's, with `concurrency` calls in flight as in benchmark 6 (memory).
 * The two take turns in slices of `sliceCalls` calls, the order flipping each round, so that a busy
 * machine slows both alike; CPU time (all threads) per call is summed over the slices, and the per-slice
 * ratios show the spread. Both get the same tokens: each has its own caches, so a session is new to each.
 * Upstream runs twice: as published (on jose 5) and on the project's jose 6 (upstreamOnOurJose), so the
 * same-major row tells our own work around jose from the difference between jose majors.
 */
import { performance } from 'node:perf_hooks';
import { BenchContext } from './context';
import { pool } from './pool';
import {
  AnyContenderName,
  Contender,
  createContender,
  forgeToken,
  makeRequest,
  mintTokens,
} from './fixtures';
import {
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

type Kind = 'forged' | 'session';
const CONTENDERS: AnyContenderName[] = [
  'cfaccess',
  'upstream',
  'upstreamOnOurJose',
];
const UPSTREAMS = ['upstream', 'upstreamOnOurJose'] as const;
type Upstream = (typeof UPSTREAMS)[number];
type Totals = { calls: number; failed: number; cpuUs: number; ms: number };

/** `count` calls with `concurrency` in flight; CPU (all threads) and wall time. */
async function slice(
  count: number,
  concurrency: number,
  fn: (i: number) => Promise<unknown>,
): Promise<Totals> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const failed = await pool(count, concurrency, fn);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { calls: count, failed, cpuUs: cpu.user + cpu.system, ms };
}

export async function runFirstVerification(ctx: BenchContext) {
  const rounds = setting('BENCH_FIRST_ROUNDS', 12, 4);
  const forgedPerSlice = setting('BENCH_FIRST_FORGED_SLICE', 3000, 1000);
  const sessionsPerSlice = setting('BENCH_FIRST_SESSION_SLICE', 1000, 300);
  const concurrency = setting('BENCH_MEMORY_CONCURRENCY', 32, 32);
  const { access } = ctx;
  access.latencyMs = 0;
  progress(
    `first verification: minting ${
      (rounds + 1) * sessionsPerSlice
    } session tokens; ${rounds} rounds of ${forgedPerSlice} forged tokens and ${sessionsPerSlice} new sessions per contender`,
  );
  // One slice more than measured: the warm-up's.
  const sessions = await mintTokens(ctx.key, (rounds + 1) * sessionsPerSlice, {
    prefix: 'first',
    from: 3_000_000,
  });
  const template = ctx.tokens[0];

  const contenders = {} as Record<AnyContenderName, Contender>;
  for (const name of CONTENDERS) {
    const c = await createContender(name);
    // Keys fetched, one session signed in, the JIT warm: a running backend.
    await c.authenticate(makeRequest(template));
    await slice(forgedPerSlice, concurrency, i =>
      c.authenticate(makeRequest(forgeToken(template, 9_000_000 + i))),
    );
    await slice(sessionsPerSlice, concurrency, i =>
      c.authenticate(makeRequest(sessions[rounds * sessionsPerSlice + i])),
    );
    contenders[name] = c;
  }

  const kinds: Kind[] = ['forged', 'session'];
  const totals = Object.fromEntries(
    kinds.map(k => [
      k,
      Object.fromEntries(
        CONTENDERS.map(n => [n, { calls: 0, failed: 0, cpuUs: 0, ms: 0 }]),
      ),
    ]),
  ) as Record<Kind, Record<AnyContenderName, Totals>>;
  const sliceRatios: Record<Kind, Record<Upstream, number[]>> = {
    forged: { upstream: [], upstreamOnOurJose: [] },
    session: { upstream: [], upstreamOnOurJose: [] },
  };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? CONTENDERS : [...CONTENDERS].reverse();
    for (const kind of kinds) {
      const perSlice = {} as Record<AnyContenderName, number>;
      for (const name of order) {
        const c = contenders[name];
        const t =
          kind === 'forged'
            ? await slice(forgedPerSlice, concurrency, i =>
                c.authenticate(
                  makeRequest(forgeToken(template, r * forgedPerSlice + i)),
                ),
              )
            : await slice(sessionsPerSlice, concurrency, i =>
                c.authenticate(makeRequest(sessions[r * sessionsPerSlice + i])),
              );
        const sum = totals[kind][name];
        sum.calls += t.calls;
        sum.failed += t.failed;
        sum.cpuUs += t.cpuUs;
        sum.ms += t.ms;
        perSlice[name] = t.cpuUs / t.calls;
      }
      for (const upstream of UPSTREAMS) {
        sliceRatios[kind][upstream].push(
          ratio(perSlice.cfaccess, perSlice[upstream]),
        );
      }
    }
  }
  for (const c of Object.values(contenders)) {
    await c.dispose();
  }

  const stats = Object.fromEntries(
    kinds.map(kind => {
      const perContender = Object.fromEntries(
        CONTENDERS.map(n => {
          const t = totals[kind][n];
          return [
            n,
            {
              calls: t.calls,
              failed: t.failed,
              cpuUsPerCall: round(t.cpuUs / t.calls),
              usPerCall: round((t.ms * 1000) / t.calls),
            },
          ];
        }),
      ) as Record<
        AnyContenderName,
        {
          calls: number;
          failed: number;
          cpuUsPerCall: number;
          usPerCall: number;
        }
      >;
      const spread = (upstream: Upstream) => {
        const sorted = [...sliceRatios[kind][upstream]].sort((a, b) => a - b);
        return {
          p10: percentile(sorted, 10),
          median: percentile(sorted, 50),
          p90: percentile(sorted, 90),
        };
      };
      return [
        kind,
        {
          ...perContender,
          cpuOursVsUpstream: ratio(
            perContender.cfaccess.cpuUsPerCall,
            perContender.upstream.cpuUsPerCall,
          ),
          cpuOursVsUpstreamPerSlice: spread('upstream'),
          cpuOursVsUpstreamSameJose: ratio(
            perContender.cfaccess.cpuUsPerCall,
            perContender.upstreamOnOurJose.cpuUsPerCall,
          ),
          cpuOursVsUpstreamSameJosePerSlice: spread('upstreamOnOurJose'),
        },
      ];
    }),
  ) as Record<
    Kind,
    Record<
      AnyContenderName,
      { calls: number; failed: number; cpuUsPerCall: number; usPerCall: number }
    > & {
      cpuOursVsUpstream: number;
      cpuOursVsUpstreamPerSlice: { p10: number; median: number; p90: number };
      cpuOursVsUpstreamSameJose: number;
      cpuOursVsUpstreamSameJosePerSlice: {
        p10: number;
        median: number;
        p90: number;
      };
    }
  >;

  const label: Record<Kind, string> = {
    forged: 'forged token (rejected at the RSA check)',
    session: 'new session (Access answers at once)',
  };
  printTable(
    `5. First verification: CPU per call, ${concurrency} in flight, ${rounds} alternating rounds`,
    [
      [
        '',
        'ours CPU µs',
        'upstream CPU µs (jose 5 / our jose 6)',
        'ours/upstream',
        'per slice p10 / median / p90',
        'ours/upstream, same jose',
        'per slice p10 / median / p90',
      ],
      ...kinds.map(kind => {
        const s = stats[kind];
        const p = s.cpuOursVsUpstreamPerSlice;
        const q = s.cpuOursVsUpstreamSameJosePerSlice;
        return [
          label[kind],
          String(s.cfaccess.cpuUsPerCall),
          `${s.upstream.cpuUsPerCall} / ${s.upstreamOnOurJose.cpuUsPerCall}`,
          fmtRatio(s.cpuOursVsUpstream),
          `${fmtRatio(p.p10)} / ${fmtRatio(p.median)} / ${fmtRatio(p.p90)}`,
          fmtRatio(s.cpuOursVsUpstreamSameJose),
          `${fmtRatio(q.p10)} / ${fmtRatio(q.median)} / ${fmtRatio(q.p90)}`,
        ];
      }),
    ],
  );
  // The workload must have done what it claims, or the CPU figures mean nothing.
  for (const name of CONTENDERS) {
    const { forged, session } = totals;
    if (
      forged[name].failed !== forged[name].calls ||
      session[name].failed !== 0
    ) {
      throw new Error(
        `${name}: ${forged[name].failed} of ${forged[name].calls} forged tokens failed and ${session[name].failed} of ${session[name].calls} sessions failed; expected all and none`,
      );
    }
  }
  const targetMet = kinds.every(k => stats[k].cpuOursVsUpstream <= 1);
  const sameJoseTargetMet = kinds.every(
    k => stats[k].cpuOursVsUpstreamSameJose <= 1,
  );
  note(
    `target: ours/upstream CPU <= 1.00x for both: ${
      targetMet ? 'met' : 'NOT met'
    }; on the same jose major: ${
      sameJoseTargetMet ? 'met' : 'NOT met'
    }. Every forged token must fail and every session succeed.`,
  );
  const result = {
    rounds,
    concurrency,
    forgedPerSlice,
    sessionsPerSlice,
    ...stats,
    target: 'ours/upstream CPU per first verification <= 1.00x',
    targetMet,
    sameJoseTarget:
      'ours/upstream CPU per first verification <= 1.00x, upstream on our jose major',
    sameJoseTargetMet,
  };
  writeResult('first-verification', result);
  return result;
}
