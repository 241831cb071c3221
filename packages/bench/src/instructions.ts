/*
 * `yarn bench:instructions`: CPU instructions per first verification, ours against upstream's, counted
 * by valgrind's callgrind, which other processes on the machine cannot disturb (unlike CPU time).
 *
 * For each contender and each kind of first verification (a forged token: well formed, known kid,
 * wrong signature; a new session: a valid token of a person not seen before, get-identity answered at
 * once by the Access double) the workload program (instructionWorkload.ts) runs twice under callgrind,
 * with the same warm-up and then 0 or N measured calls. The difference of the two totals over N is the
 * instructions per call: startup, module loading, JIT warm-up and exit cancel out. Both contenders get
 * the same key, the same tokens and the same N. Threads count too (callgrind counts every thread).
 * The floor, bare jose.jwtVerify with the team's keys in hand, runs the forged tokens too: what jose
 * alone costs, below which no module can go.
 * V8 runs with --predictable and fixed seeds, so that repeated runs agree to a few thousand
 * instructions; both contenders run under the same flags.
 *
 * Needs valgrind (Debian/Ubuntu: `apt-get install valgrind`). Takes a few minutes; writes
 * results/instructions.json.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { AnyContenderName, createBenchKey, mintTokens } from './fixtures';
import type {
  InstructionWorkloadFile,
  WorkloadKind,
} from './instructionWorkload';
import {
  fmtInt,
  fmtRatio,
  note,
  printTable,
  progress,
  ratio,
  setting,
  writeResult,
} from './report';

/** Upstream twice, as in benchmark 5: on its own jose 5, and on the project's jose 6 (the same-major row). */
const CONTENDERS: AnyContenderName[] = [
  'cfaccess',
  'upstream',
  'upstreamOnOurJose',
];

const KINDS: { kind: WorkloadKind; label: string }[] = [
  { kind: 'forged', label: 'forged token (rejected at the RSA check)' },
  { kind: 'session', label: 'new session (verify + get-identity)' },
];

/**
 * Calls per kind: a long warm-up first, so that V8 has compiled the path with its optimising tiers
 * as in a backend that has been running (a short one counts the baseline tiers' slower code), then
 * enough measured calls to spread garbage collections evenly.
 */
function callsFor(kind: WorkloadKind) {
  return kind === 'forged'
    ? {
        warmup: setting('BENCH_INSTR_FORGED_WARMUP', 4000, 300),
        calls: setting('BENCH_INSTR_FORGED_CALLS', 4000, 100),
      }
    : {
        warmup: setting('BENCH_INSTR_SESSION_WARMUP', 2000, 200),
        calls: setting('BENCH_INSTR_SESSION_CALLS', 2000, 100),
      };
}

type Run = {
  instructions: number;
  ok: number;
  failed: number;
  identity: number;
};

function runUnderCallgrind(args: string[]): Promise<Run> {
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn(
      'valgrind',
      [
        '--tool=callgrind',
        // V8 writes and rewrites machine code: callgrind must notice it.
        '--smc-check=all-non-file',
        '--callgrind-out-file=/dev/null',
        process.execPath,
        // Deterministic V8 (no concurrent JIT or GC threads, fixed seeds): two runs of the same
        // workload then differ by a few thousand instructions, not millions.
        '--predictable',
        '--hash-seed=1',
        '--random-seed=1',
        '-r',
        require.resolve('@backstage/cli/config/nodeTransform.cjs'),
        resolvePackagePath('@cfaccess/bench', 'src/instructionWorkload.ts'),
        ...args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => (stdout += d));
    child.stderr.on('data', d => (stderr += d));
    child.on('error', error =>
      rejectRun(
        new Error(
          `could not start valgrind (${error.message}); install it, e.g. apt-get install valgrind`,
        ),
      ),
    );
    child.on('close', code => {
      const collected = /Collected : (\d+)/.exec(stderr);
      if (code !== 0 || !collected) {
        rejectRun(
          new Error(
            `workload ${args
              .slice(1)
              .join(' ')} failed (exit ${code}):\n${stderr.slice(-2000)}`,
          ),
        );
        return;
      }
      const counts = JSON.parse(stdout.trim().split('\n').pop()!);
      resolveRun({ instructions: Number(collected[1]), ...counts });
    });
  });
}

/** Runs the tasks, `parallel` at a time (each callgrind run is single-threaded at heart). */
async function inTurn<T>(tasks: (() => Promise<T>)[], parallel: number) {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  async function worker() {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  return results;
}

async function main() {
  const parallel = setting('BENCH_INSTR_PARALLEL', 2, 2);
  const sessionCalls = callsFor('session');
  const dir = mkdtempSync(join(tmpdir(), 'cfaccess-bench-instructions-'));
  try {
    progress(
      `instructions: minting ${
        sessionCalls.warmup + sessionCalls.calls
      } session tokens; ${KINDS.map(({ kind }) => {
        const { warmup, calls } = callsFor(kind);
        return `${kind}: ${warmup} warm-up + ${calls} measured calls`;
      }).join(', ')}; ${parallel} callgrind runs at a time`,
    );
    const key = await createBenchKey();
    const sessions = await mintTokens(
      key,
      sessionCalls.warmup + sessionCalls.calls,
      { prefix: 'instr', from: 2_000_000 },
    );
    const [template] = await mintTokens(key, 1);
    const file = join(dir, 'workload.json');
    const workload: InstructionWorkloadFile = {
      jwks: key.jwks,
      template,
      sessions,
    };
    writeFileSync(file, JSON.stringify(workload));

    // The floor (bare jose.jwtVerify, the key in hand) shows what jose alone costs per forged token.
    const pairs: {
      kind: WorkloadKind;
      contender: AnyContenderName | 'floor';
      warmup: number;
      calls: number;
    }[] = [
      ...KINDS.flatMap(({ kind }) =>
        CONTENDERS.map(contender => ({ kind, contender, ...callsFor(kind) })),
      ),
      { kind: 'forged', contender: 'floor', ...callsFor('forged') },
    ];
    // Every pair is run with the warm-up alone and with the measured calls after it.
    const runs = await inTurn(
      pairs.flatMap(({ kind, contender, warmup, calls }) =>
        [0, calls].map(measured => async () => {
          progress(
            `instructions: ${contender}, ${kind}, ${warmup} + ${measured} calls`,
          );
          return runUnderCallgrind([
            file,
            contender,
            kind,
            String(warmup),
            String(measured),
          ]);
        }),
      ),
      parallel,
    );

    const perCall = {} as Record<
      WorkloadKind,
      Record<AnyContenderName, number> & { floor?: number }
    >;
    /** Both totals of every pair of runs. */
    const totals: Record<string, { base: number; full: number }> = {};
    pairs.forEach(({ kind, contender, warmup, calls }, i) => {
      const [base, full] = [runs[2 * i], runs[2 * i + 1]];
      // The workload must have done what it claims: forged tokens all rejected, sessions all signed
      // in, each with its own get-identity request (plus the first session's).
      const total = warmup + calls;
      const expected =
        kind === 'session'
          ? { ok: total, failed: 0, identity: 1 + total }
          : { ok: 0, failed: total, identity: contender === 'floor' ? 0 : 1 };
      if (
        full.ok !== expected.ok ||
        full.failed !== expected.failed ||
        full.identity !== expected.identity
      ) {
        throw new Error(
          `${contender} ${kind}: expected ${JSON.stringify(
            expected,
          )}, got ${JSON.stringify(full)}`,
        );
      }
      totals[`${contender} ${kind}`] = {
        base: base.instructions,
        full: full.instructions,
      };
      perCall[kind] ??= {} as Record<AnyContenderName, number>;
      perCall[kind][contender] = Math.round(
        (full.instructions - base.instructions) / calls,
      );
    });

    const rows = [
      [
        '',
        'cfaccess (ours)',
        'upstream (jose 5 / our jose 6)',
        'ours/upstream',
        'same jose',
      ],
      ...KINDS.map(({ kind, label }) => [
        `instructions per ${label}`,
        fmtInt(perCall[kind].cfaccess),
        `${fmtInt(perCall[kind].upstream)} / ${fmtInt(
          perCall[kind].upstreamOnOurJose,
        )}`,
        fmtRatio(ratio(perCall[kind].cfaccess, perCall[kind].upstream)),
        fmtRatio(
          ratio(perCall[kind].cfaccess, perCall[kind].upstreamOnOurJose),
        ),
      ]),
    ];
    printTable(
      `CPU instructions per first verification (callgrind, one call at a time after a warm-up)`,
      rows,
    );
    printTable(`The floor: what jose alone costs per forged token`, [
      ['', 'instructions', 'vs upstream', 'ours vs it'],
      [
        'bare jose.jwtVerify, the keys in hand',
        fmtInt(perCall.forged.floor!),
        fmtRatio(ratio(perCall.forged.floor!, perCall.forged.upstream)),
        fmtRatio(ratio(perCall.forged.cfaccess, perCall.forged.floor!)),
      ],
    ]);
    const result = {
      calls: Object.fromEntries(
        KINDS.map(({ kind }) => [kind, callsFor(kind)]),
      ),
      valgrind: 'callgrind --smc-check=all-non-file',
      instructionsPerCall: perCall,
      totals,
      floorVsUpstream: {
        forged: ratio(perCall.forged.floor!, perCall.forged.upstream),
      },
      oursVsFloor: {
        forged: ratio(perCall.forged.cfaccess, perCall.forged.floor!),
      },
      oursVsUpstream: Object.fromEntries(
        KINDS.map(({ kind }) => [
          kind,
          ratio(perCall[kind].cfaccess, perCall[kind].upstream),
        ]),
      ),
      oursVsUpstreamSameJose: Object.fromEntries(
        KINDS.map(({ kind }) => [
          kind,
          ratio(perCall[kind].cfaccess, perCall[kind].upstreamOnOurJose),
        ]),
      ),
      target: 'ours/upstream <= 1.00 for both, on jose 5 and on the same jose',
      targetMet: KINDS.every(
        ({ kind }) => perCall[kind].cfaccess <= perCall[kind].upstream,
      ),
      targetMetSameJose: KINDS.every(
        ({ kind }) => perCall[kind].cfaccess <= perCall[kind].upstreamOnOurJose,
      ),
    };
    note(
      `target: ours/upstream <= 1.00x for both: ${
        result.targetMet ? 'met' : 'NOT met'
      }; on the same jose major: ${
        result.targetMetSameJose ? 'met' : 'NOT met'
      }.`,
    );
    writeResult('instructions', result);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  error => {
    process.stderr.write(
      `bench:instructions failed: ${error?.stack ?? error}\n`,
    );
    process.exit(1);
  },
);
