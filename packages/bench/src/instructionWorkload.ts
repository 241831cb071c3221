/*
 * The program `yarn bench:instructions` runs under callgrind: one contender, one kind of first
 * verification (a forged token, or a new session), `warmup` calls and then `count` calls, one at a
 * time, through the contender's public authenticator (as the auth backend calls it), on the key and
 * tokens of the workload file. It prints how many calls succeeded and failed, so the driver can check
 * the workload did what it claims.
 *
 *   node -r @backstage/cli/config/nodeTransform.cjs src/instructionWorkload.ts \
 *     <workload.json> <cfaccess|upstream|upstreamOnOurJose|floor> <forged|session> <warmup> <count>
 */
import { readFileSync } from 'node:fs';
import {
  BenchKey,
  AnyContenderName,
  createFloor,
  HEADER,
  createContender,
  forgeToken,
  makeRequest,
  startAccessDouble,
} from './fixtures';

/** What the driver writes: the public keys and tokens both contenders get. */
export type InstructionWorkloadFile = {
  jwks: { keys: object[] };
  /** A valid token; the forged ones are it with a wrong signature. */
  template: string;
  /** Distinct sessions (own sub, email, nonce): warm-up first, then the measured ones. */
  sessions: string[];
};

export type WorkloadKind = 'forged' | 'session';

/** jose.jwtVerify alone, called as the contenders are (a request in, a promise out). */
function floorContender(workload: InstructionWorkloadFile) {
  const verify = createFloor({ jwks: workload.jwks } as BenchKey);
  return {
    authenticate: (req: { header(name: string): string | undefined }) =>
      verify(req.header(HEADER)!),
    dispose: async () => {},
  };
}

async function main() {
  const [file, contender, kind, warmupArg, countArg] = process.argv.slice(2);
  const workload: InstructionWorkloadFile = JSON.parse(
    readFileSync(file, 'utf8'),
  );
  const warmup = Number(warmupArg);
  const count = Number(countArg);
  const access = startAccessDouble(workload.jwks as any);
  if (
    !['cfaccess', 'upstream', 'upstreamOnOurJose', 'floor'].includes(contender)
  ) {
    throw new Error(`unknown contender ${contender}`);
  }
  const c =
    contender === 'floor'
      ? floorContender(workload)
      : await createContender(contender as AnyContenderName);
  // Keys fetched, one session signed in: the steady state of a running backend.
  await c.authenticate(makeRequest(workload.template));

  const tokenFor = (i: number) =>
    (kind as WorkloadKind) === 'forged'
      ? forgeToken(workload.template, i)
      : workload.sessions[i];
  if (kind === 'session' && workload.sessions.length < warmup + count) {
    throw new Error(
      `the workload has ${workload.sessions.length} sessions, ${
        warmup + count
      } needed`,
    );
  }
  let ok = 0;
  let failed = 0;
  for (let i = 0; i < warmup + count; i++) {
    try {
      await c.authenticate(makeRequest(tokenFor(i)));
      ok++;
    } catch {
      failed++;
    }
  }
  await c.dispose();
  access.close();
  process.stdout.write(`${JSON.stringify({ ok, failed, ...access.counts })}\n`);
}

main().then(
  () => process.exit(0),
  error => {
    process.stderr.write(`workload failed: ${error?.stack ?? error}\n`);
    process.exit(1);
  },
);
