/*
 * `yarn bench`: how fast the cfaccess provider verifies Access application tokens, next to the floor of a
 * bare jose.jwtVerify with a local key, and how much memory invalid tokens leave behind. Prints a table and
 * writes packages/bench/results/hot-path.json. Ratios matter more than absolute numbers on a noisy machine.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ConfigReader } from '@backstage/config';
import { createCloudflareAccessAuthenticator } from '@cfaccess/plugin-auth-backend-module-cfaccess-provider';
import {
  createLocalJWKSet,
  decodeJwt,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
} from 'jose';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { createMemoryCache } from './memoryCache';

const TEAM = 'bench-team';
const ISSUER = `https://${TEAM}.cloudflareaccess.com`;
const AUD = 'bench-aud-tag';
const KID = 'bench-key';
const SESSIONS = 200;
const HOT_PATH_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const INVALID_TOKENS = Number(process.env.BENCH_INVALID_TOKENS ?? 100_000);

type Timing = { ops: number; opsPerSec: number; usPerOp: number };

async function timeLoop(
  durationMs: number,
  tokens: string[],
  fn: (token: string) => Promise<unknown>,
): Promise<Timing> {
  let ops = 0;
  const started = performance.now();
  while (performance.now() - started < durationMs) {
    await fn(tokens[ops % tokens.length]);
    ops++;
  }
  const elapsedMs = performance.now() - started;
  return {
    ops,
    opsPerSec: Math.round((ops / elapsedMs) * 1000),
    usPerOp: Number(((elapsedMs * 1000) / ops).toFixed(1)),
  };
}

function heapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return Number((process.memoryUsage().heapUsed / 1024 / 1024).toFixed(1));
}

async function main() {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: KID, alg: 'RS256' };
  const jwks = { keys: [jwk] };

  let certsRequests = 0;
  let identityRequests = 0;
  const server = setupServer(
    http.get(`${ISSUER}/cdn-cgi/access/certs`, () => {
      certsRequests++;
      return HttpResponse.json(jwks);
    }),
    http.get(`${ISSUER}/cdn-cgi/access/get-identity`, ({ request }) => {
      identityRequests++;
      const token = /CF_Authorization=([^;]+)/.exec(
        request.headers.get('cookie') ?? '',
      )?.[1];
      const claims = token ? decodeJwt(token) : {};
      return HttpResponse.json({
        id: claims.sub,
        name: 'Bench User',
        email: claims.email,
        groups: [{ id: 'g', name: 'bench', email: '' }],
      });
    }),
  );
  server.listen({ onUnhandledRequest: 'error' });

  const mint = (i: number) =>
    new SignJWT({
      email: `user${i}@example.com`,
      type: 'app',
      identity_nonce: `nonce-${i}`,
      country: 'SE',
    })
      .setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience([AUD])
      .setSubject(`sub-${i}`)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime('1h')
      .sign(privateKey);
  const tokens = await Promise.all(
    Array.from({ length: SESSIONS }, (_, i) => mint(i)),
  );

  const authenticator = createCloudflareAccessAuthenticator({
    cache: createMemoryCache(),
  });
  const ctx = await authenticator.initialize({
    config: new ConfigReader({ teamName: TEAM, audience: AUD }),
  });
  const authenticate = (token: string) =>
    authenticator.authenticate(
      { req: { headers: { 'cf-access-jwt-assertion': token } } as any },
      ctx,
    );

  // Warm every session once: keys and identities cached from here on.
  for (const token of tokens) {
    await authenticate(token);
  }
  const warmIdentityRequests = identityRequests;

  const localJwks = createLocalJWKSet(jwks);
  const floor = await timeLoop(HOT_PATH_MS, tokens, token =>
    jwtVerify(token, localJwks, {
      issuer: ISSUER,
      audience: AUD,
      algorithms: ['RS256'],
    }),
  );
  const ours = await timeLoop(HOT_PATH_MS, tokens, authenticate);

  // Invalid tokens: distinct, well formed, wrong signature (the expensive kind to reject).
  const heapBefore = heapMb();
  const [, payload, signature] = tokens[0].split('.');
  let rejected = 0;
  const invalidStarted = performance.now();
  for (let i = 0; i < INVALID_TOKENS; i++) {
    const forgedSig = `${signature.slice(0, -8)}${i
      .toString(36)
      .padStart(8, 'A')}`;
    const forged = `${tokens[0].split('.')[0]}.${payload}.${forgedSig}`;
    try {
      await authenticate(forged);
    } catch {
      rejected++;
    }
  }
  const invalidMs = performance.now() - invalidStarted;
  const heapAfter = heapMb();
  server.close();

  const results = {
    date: new Date().toISOString(),
    node: process.version,
    hotPath: {
      sessions: SESSIONS,
      durationMs: HOT_PATH_MS,
      cfaccess: ours,
      joseLocalKeyFloor: floor,
      ratioToFloor: Number((ours.opsPerSec / floor.opsPerSec).toFixed(2)),
    },
    roundTrips: {
      certsRequests,
      identityRequestsForWarmup: warmIdentityRequests,
      identityRequestsTotal: identityRequests,
    },
    invalidTokens: {
      count: INVALID_TOKENS,
      rejected,
      usPerRejection: Number(((invalidMs * 1000) / INVALID_TOKENS).toFixed(1)),
      heapBeforeMb: heapBefore,
      heapAfterMb: heapAfter,
      heapGrowthMb: Number((heapAfter - heapBefore).toFixed(1)),
    },
  };

  const table = [
    ['measure', 'value'],
    [
      'cfaccess authenticate() hot path',
      `${ours.opsPerSec} ops/s (${ours.usPerOp} µs/op)`,
    ],
    [
      'jose.jwtVerify, local key (floor)',
      `${floor.opsPerSec} ops/s (${floor.usPerOp} µs/op)`,
    ],
    ['cfaccess / floor', `${results.hotPath.ratioToFloor}x`],
    ['certs requests (whole run)', String(certsRequests)],
    [
      `get-identity requests for ${SESSIONS} sessions`,
      String(warmIdentityRequests),
    ],
    ['get-identity requests (whole run)', String(identityRequests)],
    [
      `invalid tokens rejected`,
      `${rejected} of ${INVALID_TOKENS} (${results.invalidTokens.usPerRejection} µs each)`,
    ],
    [
      'heap growth after invalid tokens',
      `${results.invalidTokens.heapGrowthMb} MB`,
    ],
  ];
  const width = Math.max(...table.map(r => r[0].length));
  for (const [k, v] of table) {
    process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
  }

  // `yarn bench` runs in packages/bench: results land in packages/bench/results.
  const outDir = resolve(process.cwd(), 'results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    resolve(outDir, 'hot-path.json'),
    `${JSON.stringify(results, null, 2)}\n`,
  );
  process.stdout.write(
    `results written to packages/bench/results/hot-path.json\n`,
  );
}

main().catch(error => {
  process.stderr.write(`bench failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});
