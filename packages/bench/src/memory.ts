/*
 * 6. Memory: heap (after forced GC) before and after 100,000 distinct invalid tokens (well formed, known
 * kid, wrong signature), then after 100,000 distinct valid sessions (each its own sub, email and
 * identity_nonce; Access answers at once). Valid sessions also fill the Backstage cache service (the
 * backend-defaults in-memory store, which is not bounded by either module): the heap is measured with
 * those entries, and again after deleting them, which leaves the module's own in-process state.
 */
import { performance } from 'node:perf_hooks';
import { BenchContext } from './context';
import { pool } from './pool';
import {
  CONTENDERS,
  ContenderName,
  createContender,
  forgeToken,
  makeRequest,
  mintTokens,
} from './fixtures';
import {
  fmtInt,
  fmtRatio,
  note,
  printTable,
  progress,
  ratio,
  round,
  setting,
  settledHeapMb,
  writeResult,
} from './report';

type MemoryRun = {
  contender: ContenderName;
  heapBaselineMb: number;
  invalid: {
    count: number;
    rejected: number;
    usPerToken: number;
    cpuUsPerToken: number;
    heapGrowthMb: number;
  };
  valid: {
    count: number;
    failed: number;
    usPerSession: number;
    cpuUsPerSession: number;
    identityFetches: number;
    heapGrowthMb: number;
    cacheServiceEntries: number;
    cacheServiceMbWritten: number;
    heapGrowthWithoutCacheServiceMb: number;
  };
};

export async function runMemory(ctx: BenchContext) {
  const invalidCount = setting('BENCH_INVALID_TOKENS', 100_000, 10_000);
  const validCount = setting('BENCH_VALID_SESSIONS', 100_000, 10_000);
  const concurrency = setting('BENCH_MEMORY_CONCURRENCY', 32, 32);
  progress(
    `memory: minting ${fmtInt(
      validCount,
    )} session tokens (RSA signing takes a while)`,
  );
  const { access } = ctx;
  access.latencyMs = 0;
  const t0 = performance.now();
  let sessions: string[] | undefined = await mintTokens(ctx.key, validCount, {
    prefix: 'mem',
    from: 1_000_000,
  });
  const mintSeconds = round((performance.now() - t0) / 1000, 1);
  const template = ctx.tokens[0];

  const runs: MemoryRun[] = [];
  for (const name of CONTENDERS) {
    progress(`memory: ${name}`);
    let c: Awaited<ReturnType<typeof createContender>> | undefined =
      await createContender(name, { recordKeys: true });
    // Keys fetched, one session signed in: the steady state before the flood.
    await c.authenticate(makeRequest(ctx.tokens[0]));
    const heap0 = await settledHeapMb();

    let cpu = process.cpuUsage();
    let started = performance.now();
    const rejected = await pool(invalidCount, concurrency, i =>
      c!.authenticate(makeRequest(forgeToken(template, i))),
    );
    const invalidUs = ((performance.now() - started) * 1000) / invalidCount;
    let cpuDelta = process.cpuUsage(cpu);
    const invalidCpuUs = (cpuDelta.user + cpuDelta.system) / invalidCount;
    const heap1 = await settledHeapMb();

    access.reset();
    const tokens = sessions!;
    cpu = process.cpuUsage();
    started = performance.now();
    const failed = await pool(validCount, concurrency, i =>
      c!.authenticate(makeRequest(tokens[i])),
    );
    const validUs = ((performance.now() - started) * 1000) / validCount;
    cpuDelta = process.cpuUsage(cpu);
    const validCpuUs = (cpuDelta.user + cpuDelta.system) / validCount;
    const identityFetches = access.counts.identity;
    const heap2 = await settledHeapMb();
    const { sets } = c.cache.stats;
    // Size of what was written, as JSON, read back outside the timed part.
    let bytes = 0;
    for (const key of c.cache.keys ?? []) {
      bytes +=
        key.length + JSON.stringify((await c.cache.get(key)) ?? '').length;
    }
    for (const key of c.cache.keys ?? []) {
      await c.cache.delete(key);
    }
    c.cache.keys?.clear();
    const heap3 = await settledHeapMb();
    runs.push({
      contender: name,
      heapBaselineMb: heap0,
      invalid: {
        count: invalidCount,
        rejected,
        usPerToken: round(invalidUs),
        cpuUsPerToken: round(invalidCpuUs),
        heapGrowthMb: round(heap1 - heap0),
      },
      valid: {
        count: validCount,
        failed,
        usPerSession: round(validUs),
        cpuUsPerSession: round(validCpuUs),
        identityFetches,
        heapGrowthMb: round(heap2 - heap1),
        cacheServiceEntries: sets,
        cacheServiceMbWritten: round(bytes / 1024 / 1024),
        heapGrowthWithoutCacheServiceMb: round(heap3 - heap1),
      },
    });
    await c.dispose();
    c = undefined;
  }
  sessions = undefined;

  const [ours, up] = CONTENDERS.map(n => runs.find(r => r.contender === n)!);
  /** A row of the table: one figure of ours and of upstream, and ours/upstream when `compare`. */
  const row = (
    label: string,
    figure: (r: MemoryRun) => number,
    {
      format = String,
      compare = false,
    }: { format?: (value: number) => string; compare?: boolean } = {},
  ): string[] => [
    label,
    format(figure(ours)),
    format(figure(up)),
    compare ? fmtRatio(ratio(figure(ours), figure(up))) : '',
  ];
  const rows: string[][] = [
    ['', 'cfaccess (ours)', 'upstream', 'ours/upstream'],
    row(
      `${fmtInt(invalidCount)} invalid tokens: rejected`,
      r => r.invalid.rejected,
      { format: fmtInt },
    ),
    row('µs per invalid token', r => r.invalid.usPerToken, { compare: true }),
    row('CPU µs per invalid token', r => r.invalid.cpuUsPerToken, {
      compare: true,
    }),
    row('heap growth after invalid tokens (MB)', r => r.invalid.heapGrowthMb),
    row(`${fmtInt(validCount)} valid sessions: failed`, r => r.valid.failed, {
      format: fmtInt,
    }),
    row(
      'µs per new session (Access answers at once)',
      r => r.valid.usPerSession,
      { compare: true },
    ),
    row('CPU µs per new session', r => r.valid.cpuUsPerSession, {
      compare: true,
    }),
    row('get-identity requests', r => r.valid.identityFetches, {
      format: fmtInt,
    }),
    row('heap growth after valid sessions (MB)', r => r.valid.heapGrowthMb),
    [
      'Backstage cache service entries written (MB of JSON)',
      `${fmtInt(ours.valid.cacheServiceEntries)} (${
        ours.valid.cacheServiceMbWritten
      })`,
      `${fmtInt(up.valid.cacheServiceEntries)} (${
        up.valid.cacheServiceMbWritten
      })`,
      '',
    ],
    row(
      'heap growth without the cache service entries (MB)',
      r => r.valid.heapGrowthWithoutCacheServiceMb,
    ),
  ];
  printTable(
    `6. Memory: heap after ${fmtInt(invalidCount)} invalid tokens and ${fmtInt(
      validCount,
    )} valid sessions`,
    rows,
  );
  note(
    `target: heap growth < 10 MB after ${fmtInt(
      invalidCount,
    )} invalid tokens: ${
      ours.invalid.heapGrowthMb < 10 ? 'met' : 'NOT met'
    }. The cache service is Backstage's in-memory store (no default TTL, no size bound); a production backend usually points it at Redis/Valkey/memcache. Minting the sessions took ${mintSeconds} s.`,
  );
  const result = {
    invalidTokens: invalidCount,
    validSessions: validCount,
    concurrency,
    mintSeconds,
    runs,
    targetInvalidHeapGrowthUnder10Mb: ours.invalid.heapGrowthMb < 10,
  };
  writeResult('memory', result);
  return result;
}
