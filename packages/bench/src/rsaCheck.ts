/*
 * 7. One RSA check by each Node API: what a first verification cannot avoid, and where jose's majors
 * differ. jose 6 (this module) verifies through Node's Web Crypto (`crypto.subtle.verify`); jose 5
 * (upstream's module) through `crypto.verify` with a callback; the synchronous `crypto.verify` is the
 * check alone, without handing it to libuv's thread pool. Same key, same signed bytes (a real token's
 * signing input), `concurrency` calls in flight as in benchmark 5, the three taking turns in slices, the
 * order flipping each round. CPU time counts every thread.
 */
import { createPublicKey, verify, webcrypto } from 'node:crypto';
import { BenchContext } from './context';
import { pool } from './pool';
import {
  fmtRatio,
  note,
  printTable,
  progress,
  ratio,
  round,
  setting,
  writeResult,
} from './report';

type Api = 'sync' | 'callback' | 'webCrypto';
const APIS: Api[] = ['sync', 'callback', 'webCrypto'];

async function cpuPerCall(
  count: number,
  concurrency: number,
  check: () => Promise<boolean>,
): Promise<number> {
  const cpu0 = process.cpuUsage();
  // A check that answers false counts as a failure, like one that throws.
  const failed = await pool(count, concurrency, async () => {
    if (!(await check())) {
      throw new Error('signature did not verify');
    }
  });
  const cpu = process.cpuUsage(cpu0);
  if (failed > 0) {
    throw new Error(`${failed} RSA checks of a valid signature failed`);
  }
  return (cpu.user + cpu.system) / count;
}

export async function runRsaCheck(ctx: BenchContext) {
  const rounds = setting('BENCH_RSA_ROUNDS', 10, 3);
  const perSlice = setting('BENCH_RSA_SLICE', 3000, 1000);
  const concurrency = setting('BENCH_MEMORY_CONCURRENCY', 32, 32);
  progress(
    `rsa check: ${rounds} rounds of ${perSlice} checks per API, ${concurrency} in flight`,
  );
  // A real token's signing input and signature, as jose checks them.
  const [header, payload, signature] = ctx.tokens[0].split('.');
  const data = Buffer.from(`${header}.${payload}`);
  const sig = Buffer.from(signature, 'base64url');
  const keyObject = createPublicKey({ key: ctx.key.publicJwk, format: 'jwk' });
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const cryptoKey = await webcrypto.subtle.importKey(
    'jwk',
    ctx.key.publicJwk as webcrypto.JsonWebKey,
    algorithm,
    false,
    ['verify'],
  );
  const checks: Record<Api, () => Promise<boolean>> = {
    sync: async () => verify('sha256', data, keyObject, sig),
    callback: () =>
      new Promise((resolve, reject) =>
        verify('sha256', data, keyObject, sig, (error, ok) =>
          error ? reject(error) : resolve(ok),
        ),
      ),
    webCrypto: () => webcrypto.subtle.verify(algorithm, cryptoKey, sig, data),
  };

  for (const api of APIS) {
    await cpuPerCall(perSlice, concurrency, checks[api]); // warm-up
  }
  const samples: Record<Api, number[]> = {
    sync: [],
    callback: [],
    webCrypto: [],
  };
  for (let r = 0; r < rounds; r++) {
    for (const api of r % 2 === 0 ? APIS : [...APIS].reverse()) {
      samples[api].push(await cpuPerCall(perSlice, concurrency, checks[api]));
    }
  }
  const cpuUs = Object.fromEntries(
    APIS.map(api => [
      api,
      round(samples[api].reduce((a, b) => a + b, 0) / rounds),
    ]),
  ) as Record<Api, number>;

  const label: Record<Api, string> = {
    sync: '`crypto.verify`, synchronous (the check alone)',
    callback: "`crypto.verify` with a callback (jose 5's path, upstream)",
    webCrypto: "`crypto.subtle.verify` (jose 6's path, ours)",
  };
  printTable(
    `7. One RSA-2048 check by Node API: CPU per call, ${concurrency} in flight, ${rounds} alternating rounds`,
    [
      ['', 'CPU µs', 'vs synchronous'],
      ...APIS.map(api => [
        label[api],
        String(cpuUs[api]),
        fmtRatio(ratio(cpuUs[api], cpuUs.sync)),
      ]),
    ],
  );
  note(
    `Web Crypto costs ${round(
      cpuUs.webCrypto - cpuUs.callback,
    )} µs more CPU per check than jose 5's callback path.`,
  );
  const result = { rounds, perSlice, concurrency, cpuUsPerCall: cpuUs };
  writeResult('rsa-check', result);
  return result;
}
