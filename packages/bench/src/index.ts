/*
 * `yarn bench`: the cfaccess provider against upstream's
 * @backstage/plugin-auth-backend-module-cloudflare-access-provider and against bare jose.jwtVerify
 * with a local key (the signature-check floor), in one process on the same tokens and keys.
 * Prints one table per benchmark (ratios first: the machines are noisy) and writes
 * packages/bench/results/<name>.json.
 *
 *   yarn bench                       everything (full lengths)
 *   yarn bench --quick               short runs (or BENCH_QUICK=1)
 *   yarn bench --only=hot,http       a subset: hot, cold, signin, http, first, memory, rsa,
 *                                    boundary-cpu, boundary-signin, boundary (HTTP), rules
 */
import { performance } from 'node:perf_hooks';
import { runBoundaryCpu } from './boundaryCpu';
import { runBoundaryHttp } from './boundaryHttp';
import { runBoundarySignIn } from './boundarySignIn';
import { stopSharedBoundaryBackend } from './boundaryShared';
import { runColdStart } from './coldStart';
import { runFirstVerification } from './firstVerification';
import { createBenchContext } from './context';
import { runHttp } from './http';
import { runHotPath } from './hotPath';
import { runMemory } from './memory';
import { runRsaCheck } from './rsaCheck';
import { runRulesCpu } from './rulesCpu';
import { hasGc, note, progress, QUICK, round, writeResult } from './report';
import { runSignInLatency } from './signInLatency';

const BENCHMARKS = {
  hot: runHotPath,
  cold: runColdStart,
  signin: runSignInLatency,
  http: runHttp,
  first: runFirstVerification,
  memory: runMemory,
  rsa: runRsaCheck,
  'boundary-cpu': runBoundaryCpu,
  'boundary-signin': runBoundarySignIn,
  boundary: runBoundaryHttp,
  rules: runRulesCpu,
} as const;
type BenchName = keyof typeof BENCHMARKS;

/** The benchmarks that share one boundary backend (stopped once none of them is left to run). */
const SHARE_BOUNDARY_BACKEND: BenchName[] = ['boundary-cpu', 'boundary-signin'];

function selected(): BenchName[] {
  const only = process.argv
    .find(a => a.startsWith('--only='))
    ?.slice('--only='.length);
  const all = Object.keys(BENCHMARKS) as BenchName[];
  if (!only) {
    return all;
  }
  const names = only.split(',').map(s => s.trim()) as BenchName[];
  for (const name of names) {
    if (!all.includes(name)) {
      throw new Error(
        `unknown benchmark ${name}; choose from ${all.join(', ')}`,
      );
    }
  }
  return names;
}

async function main() {
  const started = performance.now();
  if (!hasGc()) {
    note('warning: run with node --expose-gc for meaningful heap numbers');
  }
  const names = selected();
  progress(
    `benchmarks: ${names.join(', ')}${QUICK ? ' (quick)' : ''}; node ${
      process.version
    }`,
  );
  const ctx = await createBenchContext(1000);
  const summary: Record<string, unknown> = {};
  for (const [i, name] of names.entries()) {
    const t0 = performance.now();
    summary[name] = await BENCHMARKS[name](ctx);
    if (!names.slice(i + 1).some(n => SHARE_BOUNDARY_BACKEND.includes(n))) {
      await stopSharedBoundaryBackend();
    }
    progress(`${name} done in ${round((performance.now() - t0) / 1000, 1)} s`);
  }
  await stopSharedBoundaryBackend();
  ctx.access.close();
  const seconds = round((performance.now() - started) / 1000, 1);
  if (names.length === Object.keys(BENCHMARKS).length) {
    writeResult('summary', { totalSeconds: seconds, ...summary });
  }
  note(`\nall done in ${seconds} s; results in packages/bench/results/`);
}

main().then(
  () => process.exit(0),
  error => {
    process.stderr.write(`bench failed: ${error?.stack ?? error}\n`);
    process.exit(1);
  },
);
