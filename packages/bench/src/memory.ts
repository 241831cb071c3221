/*
 * 5. Memory: heap (after forced GC) before and after 100,000 distinct invalid tokens (well formed, known
 * kid, wrong signature), then after 100,000 distinct valid sessions (each its own sub, email and
 * identity_nonce; Access answers at once). Valid sessions also fill the Backstage cache service (the
 * backend-defaults in-memory store, which is not bounded by either module): the heap is measured with
 * those entries, and again after deleting them, which leaves the module's own in-process state.
 */
import { performance } from 'node:perf_hooks';
import { BenchContext } from './context';
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

/** Runs fn(0..count-1) with `concurrency` calls in flight; returns how many threw. */
async function pool(
  count: number,
  concurrency: number,
  fn: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  let failures = 0;
  async function worker() {
    while (next < count) {
      const i = next++;
      try {
        await fn(i);
      } catch {
        failures++;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failures;
}

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
  const rows: string[][] = [
    ['', 'cfaccess (ours)', 'upstream', 'ours/upstream'],
    [
      `${fmtInt(invalidCount)} invalid tokens: rejected`,
      fmtInt(ours.invalid.rejected),
      fmtInt(up.invalid.rejected),
      '',
    ],
    [
      'µs per invalid token',
      String(ours.invalid.usPerToken),
      String(up.invalid.usPerToken),
      fmtRatio(ratio(ours.invalid.usPerToken, up.invalid.usPerToken)),
    ],
    [
      'CPU µs per invalid token',
      String(ours.invalid.cpuUsPerToken),
      String(up.invalid.cpuUsPerToken),
      fmtRatio(ratio(ours.invalid.cpuUsPerToken, up.invalid.cpuUsPerToken)),
    ],
    [
      'heap growth after invalid tokens (MB)',
      String(ours.invalid.heapGrowthMb),
      String(up.invalid.heapGrowthMb),
      '',
    ],
    [
      `${fmtInt(validCount)} valid sessions: failed`,
      fmtInt(ours.valid.failed),
      fmtInt(up.valid.failed),
      '',
    ],
    [
      'µs per new session (Access answers at once)',
      String(ours.valid.usPerSession),
      String(up.valid.usPerSession),
      fmtRatio(ratio(ours.valid.usPerSession, up.valid.usPerSession)),
    ],
    [
      'CPU µs per new session',
      String(ours.valid.cpuUsPerSession),
      String(up.valid.cpuUsPerSession),
      fmtRatio(ratio(ours.valid.cpuUsPerSession, up.valid.cpuUsPerSession)),
    ],
    [
      'get-identity requests',
      fmtInt(ours.valid.identityFetches),
      fmtInt(up.valid.identityFetches),
      '',
    ],
    [
      'heap growth after valid sessions (MB)',
      String(ours.valid.heapGrowthMb),
      String(up.valid.heapGrowthMb),
      '',
    ],
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
    [
      'heap growth without the cache service entries (MB)',
      String(ours.valid.heapGrowthWithoutCacheServiceMb),
      String(up.valid.heapGrowthWithoutCacheServiceMb),
      '',
    ],
  ];
  printTable(
    `5. Memory: heap after ${fmtInt(invalidCount)} invalid tokens and ${fmtInt(
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
