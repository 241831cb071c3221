/*
 * What the Access boundary benchmarks (8, 9, 10) share: starting a boundary backend child
 * (src/boundaryBackend.ts), signing a session in through /refresh, and the headers a request through
 * Cloudflare Access carries.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchContext } from './context';
import { emailOf, HEADER } from './fixtures';
import type { BoundaryMode, BoundaryStartMessage } from './boundaryBackend';
import { BackendProcess, freePort, usersYaml } from './http';
import { round } from './report';

/** The request the benchmarks send; other requests under /api/catalog are the auth backend's lookups. */
export const BENCH_PATH = '/api/catalog/entities?limit=1';

export type BoundaryBackend = {
  mode: BoundaryMode;
  process: BackendProcess;
  base: string;
  startupSeconds: number;
};

/** A catalog file with `users` User entities (user<i>@example.com), in a temporary directory. */
export function writeUsersFile(users: number): {
  file: string;
  remove(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'cfaccess-bench-boundary-'));
  const file = join(dir, 'users.yaml');
  writeFileSync(file, usersYaml(users));
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `GET /api/auth/cfaccess/refresh` with an Access token: status, Backstage token, time. */
export async function refreshSession(
  base: string,
  accessToken: string,
): Promise<{ status: number; token?: string; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`${base}/api/auth/cfaccess/refresh`, {
    headers: { [HEADER]: accessToken },
  });
  const body = (await res.json().catch(() => undefined)) as
    | { backstageIdentity?: { token?: string } }
    | undefined;
  return {
    status: res.status,
    token: body?.backstageIdentity?.token,
    ms: performance.now() - t0,
  };
}

/** The Backstage token of an Access session, from /refresh (as the sign-in page gets it). */
export async function backstageTokenOf(
  base: string,
  accessToken: string,
): Promise<string> {
  const { status, token } = await refreshSession(base, accessToken);
  if (status !== 200 || !token) {
    throw new Error(`/refresh answered ${status} without a Backstage token`);
  }
  return token;
}

/** What Cloudflare's edge adds to every request it forwards to the origin. */
function edgeHeaders(email: string): Record<string, string> {
  return {
    'cf-ray': '8f1e2d3c4b5a6978-ARN',
    'cf-connecting-ip': '203.0.113.7',
    'cf-ipcountry': 'SE',
    'cf-visitor': '{"scheme":"https"}',
    'x-forwarded-for': '203.0.113.7',
    'x-forwarded-proto': 'https',
    'cdn-loop': 'cloudflare',
    'cf-access-authenticated-user-email': email,
  };
}

/**
 * A Backstage frontend's API request through Access: the browser's CF_Authorization cookie (and
 * another Cloudflare cookie), the Cf-Access-Jwt-Assertion header the edge adds (the same token), the
 * frontend's `Authorization: Bearer <Backstage token>` from /refresh of the same session, and a
 * browser's usual headers.
 */
export function browserHeaders(
  accessToken: string,
  backstageToken: string,
  user: number,
): Record<string, string> {
  return {
    accept: '*/*',
    'accept-language': 'en-US,en;q=0.9',
    'user-agent':
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    referer: 'https://backstage.example.com/catalog',
    'sec-fetch-dest': 'empty',
    'sec-fetch-mode': 'cors',
    'sec-fetch-site': 'same-origin',
    authorization: `Bearer ${backstageToken}`,
    cookie: `CF_AppSession=n8e2f4a1c7d3b9e0; CF_Authorization=${accessToken}`,
    ...edgeHeaders(emailOf(user)),
    [HEADER]: accessToken,
  };
}

/** A client that has only Access (a CLI through `cloudflared access`, a script): no Backstage token. */
export function accessOnlyHeaders(
  accessToken: string,
  user: number,
): Record<string, string> {
  return {
    accept: '*/*',
    'user-agent': 'curl/8.5.0',
    ...edgeHeaders(emailOf(user)),
    [HEADER]: accessToken,
  };
}

/**
 * A boundary backend in its own process, started, with all `users` User entities in its catalog (the
 * catalog ingests them in the background, one by one: a new person's first sign-in must not race
 * it), and able to sign session `signInToken` in.
 */
export async function startBoundaryBackend(
  ctx: BenchContext,
  options: {
    mode: BoundaryMode;
    usersFile: string;
    users: number;
    instrument: boolean;
    accessLatencyMs: number;
    signInToken: string;
    cpuProfDir?: string;
  },
): Promise<BoundaryBackend> {
  const t0 = Date.now();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const backend = new BackendProcess(
    'src/boundaryBackend.ts',
    options.cpuProfDir,
  );
  try {
    const start: BoundaryStartMessage = {
      type: 'start',
      mode: options.mode,
      port,
      jwks: ctx.key.jwks,
      usersFile: options.usersFile,
      accessLatencyMs: options.accessLatencyMs,
      instrument: options.instrument,
    };
    await backend.request(start, 'started');
    const deadline = Date.now() + 120_000;
    let status = 0;
    let token: string | undefined;
    while (Date.now() < deadline) {
      const signedIn = await refreshSession(base, options.signInToken).catch(
        () => ({ status: 0, token: undefined }),
      );
      status = signedIn.status;
      token = signedIn.token;
      if (status === 200 && token) {
        break;
      }
      await sleep(250);
    }
    if (status !== 200 || !token) {
      throw new Error(
        `boundary backend (${options.mode}) never signed in (last ${status})`,
      );
    }
    let found = 0;
    while (Date.now() < deadline) {
      const res = await fetch(
        `${base}/api/catalog/entities?filter=kind=user&fields=metadata.name`,
        {
          headers: {
            [HEADER]: options.signInToken,
            authorization: `Bearer ${token}`,
          },
        },
      );
      found = res.ok ? ((await res.json()) as unknown[]).length : 0;
      if (found >= options.users) {
        break;
      }
      await sleep(250);
    }
    if (found < options.users) {
      throw new Error(
        `boundary backend (${options.mode}): ${found} of ${options.users} users in the catalog`,
      );
    }
    return {
      mode: options.mode,
      process: backend,
      base,
      startupSeconds: round((Date.now() - t0) / 1000, 1),
    };
  } catch (error) {
    await backend.stop();
    throw error;
  }
}

/** The machine's 1-minute load average (2 cores here: above 2, other processes wait for a CPU). */
export function machineLoad(): number {
  return round(loadavg()[0], 1);
}

/** Users in the shared backend's catalog: benchmark 8's sessions, then benchmark 9's new people. */
export const SHARED_USERS = 40;

let shared:
  | Promise<{ backend: BoundaryBackend; usersFile: { remove(): void } }>
  | undefined;

/**
 * The instrumented enforce backend benchmarks 8 and 9 share in one run (one startup fewer): users
 * 0-19 are benchmark 8's sessions, 20 and up are new to it for benchmark 9. Stopped by
 * `stopSharedBoundaryBackend` at the end of the run.
 */
export function sharedBoundaryBackend(
  ctx: BenchContext,
): Promise<BoundaryBackend> {
  if (!shared) {
    const usersFile = writeUsersFile(SHARED_USERS);
    shared = startBoundaryBackend(ctx, {
      mode: 'enforce',
      usersFile: usersFile.file,
      users: SHARED_USERS,
      instrument: true,
      accessLatencyMs: 0,
      signInToken: ctx.tokens[0],
      cpuProfDir: process.env.BENCH_BOUNDARY_CPU_PROF,
    }).then(
      backend => ({ backend, usersFile }),
      error => {
        usersFile.remove();
        shared = undefined;
        throw error;
      },
    );
  }
  return shared.then(s => s.backend);
}

export async function stopSharedBoundaryBackend(): Promise<void> {
  const s = await shared?.catch(() => undefined);
  shared = undefined;
  if (s) {
    await s.backend.process.stop();
    s.usersFile.remove();
  }
}
