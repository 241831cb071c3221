/*
 * The backend for benchmarks 8-10 (the Access boundary), run as a child process: a real Backstage
 * backend (createBackend from @backstage/backend-defaults) with the auth backend, our module (its
 * default export), the catalog backend on in-memory better-sqlite3 with User entities from a file, the
 * root HTTP router as an adopter sets it up, `rootHttpRouterServiceFactory({ configure:
 * withCloudflareAccessBoundary() })`, `auth.providers.cfaccess.boundary.mode` from the parent, and
 * the Access double (msw) in this process. A small plugin (`benchprobe`) only hands out its auth
 * service, for a real plugin-to-plugin token.
 *
 * With `instrument` (benchmarks 8 and 9), the configure also (a) counts the requests reaching the
 * backend that the auth backend makes to the catalog (its sign-in lookups), with one middleware in
 * front of Backstage's own, (b) keeps a reference to the boundary middleware it installs and to the
 * real request objects of chosen requests, so that `cpuBench` and `coldBench` can call that very
 * middleware on them in a loop (the boundary's own work, nothing else of the HTTP stack), and (c)
 * installs it wrapped, so that `inSitu` can time it per request in the running server. Without it
 * (benchmark 10), the configure is exactly `withCloudflareAccessBoundary()`.
 *
 * Only the parent imports this file's types; it is never imported for its values (it registers IPC
 * handlers).
 *
 * IPC: `start`, `counts`, `reset`, `cpu`, `latency`, `pluginToken`, `capture`, `cpuBench`, `inSitu`,
 * `coldBench`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import {
  AuthService,
  coreServices,
  createBackendPlugin,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { createBackend } from '@backstage/backend-defaults';
import {
  RootHttpRouterConfigureContext,
  rootHttpRouterServiceFactory,
} from '@backstage/backend-defaults/rootHttpRouter';
import { ConfigReader } from '@backstage/config';
import { withCloudflareAccessBoundary } from '@cfaccess/plugin-auth-backend-module-cfaccess-provider';
import { JWK } from 'jose';
import { BENCH_PATH } from './boundaryShared';
import { AUD, sequentialRoundTrips, startAccessDouble, TEAM } from './fixtures';

export type BoundaryMode = 'enforce' | 'off';

export type BoundaryStartMessage = {
  type: 'start';
  mode: BoundaryMode;
  port: number;
  jwks: { keys: JWK[] };
  usersFile: string;
  accessLatencyMs: number;
  instrument: boolean;
};

/** One kind of request for `cpuBench`: one header set per session (cycled through). */
export type CpuCase = {
  name: string;
  path: string;
  headers: Array<Record<string, string>>;
  /** What the boundary must do with it: pass it on, or answer with this status. */
  expect: 'pass' | number;
};

export type CpuCaseResult = {
  name: string;
  ops: number;
  wallMs: number;
  cpuUs: number;
  passed: number;
  refused: number;
  /** Refusal statuses seen (must be the expected one). */
  statuses: number[];
};

export type CpuBenchResult = {
  results: CpuCaseResult[];
  accessRequests: { certs: number; identity: number };
  catalogLookups: number;
};

type Message =
  | BoundaryStartMessage
  | { type: 'counts' }
  | { type: 'reset' }
  | { type: 'cpu' }
  | { type: 'latency'; ms: number }
  | { type: 'pluginToken' }
  | { type: 'inSitu'; on: boolean }
  | { type: 'coldBench'; calls: number }
  | { type: 'capture'; base: string; cases: CpuCase[] }
  | { type: 'cpuBench'; totalMs: number; sliceMs: number };

type Middleware = (req: any, res: any, next: (error?: unknown) => void) => void;

let access: ReturnType<typeof startAccessDouble> | undefined;
let probeAuth: AuthService | undefined;
let boundary: Middleware | undefined;
let catalogLookups = 0;
/** While set, the next request to this URL is kept (its real, Express-prepared request object). */
let captureUrl: string | undefined;
let captured: IncomingMessage | undefined;
const cases: Array<{ spec: CpuCase; reqs: IncomingMessage[] }> = [];

function send(message: unknown) {
  process.send?.(message);
}

/** A plugin that only keeps its AuthService: a real plugin token for the catalog. */
const benchProbe = createBackendPlugin({
  pluginId: 'benchprobe',
  register(env) {
    env.registerInit({
      // The HTTP router gives it the routes every plugin has, its JWKS among them.
      deps: { auth: coreServices.auth, httpRouter: coreServices.httpRouter },
      async init({ auth }) {
        probeAuth = auth;
      },
    });
  },
});

/** Per-request boundary time in the running server (`inSitu`), while `inSitu.on`. */
const inSitu = { on: false, wallUs: [] as number[] };

/**
 * The boundary middleware as installed in the instrumented backends: when `inSitu.on`, the time from
 * the call to `next()` (the request passes on), by `performance.now()` (a clock read, no system
 * call: `process.cpuUsage()` is a system call that costs more than the boundary on cold caches, and
 * counts other threads; Linux updates `process.threadCpuUsage()` only at scheduler ticks). The
 * known-session path awaits nothing but promises that are already settled, so nothing else runs on
 * this thread in between; the time is CPU time unless the thread is preempted (the median is not).
 */
function timedBoundary(mw: Middleware): Middleware {
  return function timedCloudflareAccessBoundary(req, res, next) {
    if (!inSitu.on) {
      mw(req, res, next);
      return;
    }
    const t0 = performance.now();
    mw(req, res, error => {
      inSitu.wallUs.push((performance.now() - t0) * 1000);
      next(error);
    });
  };
}

/** p10/p50/p90 (and the mean) of a list of µs, rounded. */
function spread(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    Math.round(
      sorted[
        Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))
      ] * 10,
    ) / 10;
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return {
    p10: at(10),
    p50: at(50),
    p90: at(90),
    p99: at(99),
    mean: Math.round(mean * 10) / 10,
  };
}

export type TimeSpread = ReturnType<typeof spread>;

/**
 * The configure of the instrumented backends: a counting and capturing middleware in front, then
 * exactly what `withCloudflareAccessBoundary()` does, with `app.use` watched while it runs to keep
 * the boundary middleware it installs (a function named `cloudflareAccessBoundary`).
 */
function instrumentedConfigure(context: RootHttpRouterConfigureContext) {
  const { app } = context;
  app.use((req: IncomingMessage, _res: ServerResponse, next: () => void) => {
    const url = req.url ?? '';
    if (url.startsWith('/api/catalog/') && url !== BENCH_PATH) {
      catalogLookups++;
    }
    if (captureUrl !== undefined && url === captureUrl && !captured) {
      captured = req;
    }
    next();
  });
  const use = app.use;
  app.use = function watchedUse(this: unknown, ...args: unknown[]) {
    const installed = args.map(arg => {
      if (
        typeof arg === 'function' &&
        arg.name === 'cloudflareAccessBoundary'
      ) {
        boundary = arg as Middleware;
        return timedBoundary(boundary);
      }
      return arg;
    });
    return (use as (...a: unknown[]) => unknown).apply(app, installed);
  } as typeof app.use;
  try {
    withCloudflareAccessBoundary()(context);
  } finally {
    app.use = use;
  }
}

async function start(msg: BoundaryStartMessage) {
  access = startAccessDouble(msg.jwks);
  access.latencyMs = msg.accessLatencyMs;
  const config = new ConfigReader({
    app: { baseUrl: 'http://localhost:3000' },
    backend: {
      baseUrl: `http://127.0.0.1:${msg.port}`,
      listen: { port: msg.port, host: '127.0.0.1' },
      database: { client: 'better-sqlite3', connection: ':memory:' },
    },
    auth: {
      providers: {
        cfaccess: {
          teamName: TEAM,
          audience: AUD,
          signIn: {
            resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }],
          },
          boundary: { mode: msg.mode },
        },
      },
    },
    catalog: {
      rules: [{ allow: ['User', 'Group', 'Location'] }],
      locations: [{ type: 'file', target: msg.usersFile }],
    },
  });

  const backend = createBackend();
  backend.add(
    createServiceFactory({
      service: coreServices.rootConfig,
      deps: {},
      factory: () => config,
    }),
  );
  backend.add(
    rootHttpRouterServiceFactory({
      configure: msg.instrument
        ? instrumentedConfigure
        : withCloudflareAccessBoundary(),
    }),
  );
  backend.add(import('@backstage/plugin-auth-backend'));
  backend.add(import('@cfaccess/plugin-auth-backend-module-cfaccess-provider'));
  backend.add(import('@backstage/plugin-catalog-backend'));
  backend.add(benchProbe);
  await backend.start();
  if (msg.instrument && msg.mode === 'enforce' && !boundary) {
    throw new Error('the boundary middleware was not installed');
  }
  send({ type: 'started' });
}

/** A plugin-to-plugin token: benchprobe calling the catalog, as Backstage issues one. */
async function pluginToken(): Promise<string> {
  if (!probeAuth) {
    throw new Error('benchprobe did not start');
  }
  const { token } = await probeAuth.getPluginRequestToken({
    onBehalfOf: await probeAuth.getOwnServiceCredentials(),
    targetPluginId: 'catalog',
  });
  return token;
}

/**
 * Sends each case's requests through the real backend (each must get the expected answer) and keeps
 * their request objects, as Express hands them to the boundary.
 */
async function capture(base: string, specs: CpuCase[]) {
  cases.splice(0);
  for (const spec of specs) {
    const reqs: IncomingMessage[] = [];
    for (const headers of spec.headers) {
      captured = undefined;
      captureUrl = spec.path;
      const res = await fetch(`${base}${spec.path}`, { headers });
      await res.arrayBuffer();
      captureUrl = undefined;
      const want = spec.expect === 'pass' ? 200 : spec.expect;
      if (res.status !== want || !captured) {
        throw new Error(
          `${spec.name}: answered ${res.status}, expected ${want}${
            captured ? '' : ' (request not captured)'
          }`,
        );
      }
      // Express strips the mount path from `url` on the way to a plugin's router and leaves it so
      // when the route answers: put back what the boundary saw.
      (captured as IncomingMessage).url = spec.path;
      reqs.push(captured);
    }
    cases.push({ spec, reqs });
  }
}

/**
 * Calls a middleware once and settles when it passes the request on (`next()`) or answers (a
 * refusal, on a response that only records its status).
 */
function middlewareCaller() {
  let done: () => void = () => {};
  const state = { passed: 0, status: 0 };
  const res = {
    statusCode: 0,
    setHeader() {},
    end() {
      state.status = res.statusCode;
      done();
    },
  };
  const next = () => {
    state.passed++;
    done();
  };
  const call = (fn: Middleware, req: IncomingMessage) =>
    new Promise<void>(resolve => {
      done = resolve;
      fn(req, res, next);
    });
  return { call, state };
}

/**
 * The boundary middleware on the captured requests, one call at a time, next to an empty middleware
 * (`next()` at once: the loop's own cost), in rotating slices. CPU time is the process's
 * (`process.cpuUsage()`, all threads); the event loop runs between slices, not during them.
 */
async function cpuBench(
  totalMs: number,
  sliceMs: number,
): Promise<CpuBenchResult> {
  if (!boundary) {
    throw new Error(
      'no boundary middleware (not an instrumented enforce backend)',
    );
  }
  const mw = boundary;
  const { call, state } = middlewareCaller();
  type Runner = {
    name: string;
    mw: Middleware;
    reqs: IncomingMessage[];
    result: CpuCaseResult;
  };
  const empty: Middleware = (_req, _res, next) => next();
  const runners: Runner[] = [
    { name: 'empty middleware (the loop)', mw: empty, reqs: cases[0].reqs },
    ...cases.map(c => ({ name: c.spec.name, mw, reqs: c.reqs })),
  ].map(r => ({
    ...r,
    result: {
      name: r.name,
      ops: 0,
      wallMs: 0,
      cpuUs: 0,
      passed: 0,
      refused: 0,
      statuses: [],
    },
  }));

  async function slice(runner: Runner, ms: number, record: boolean) {
    const { reqs, result } = runner;
    const fn = runner.mw;
    state.passed = 0;
    let ops = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let elapsed = 0;
    while (elapsed < ms) {
      // 64 calls between clock reads keep the clock out of the measurement.
      for (let j = 0; j < 64; j++) {
        await call(fn, reqs[ops % reqs.length]);
        ops++;
      }
      elapsed = performance.now() - t0;
    }
    const cpu = process.cpuUsage(cpu0);
    const refused = ops - state.passed;
    if (record) {
      result.ops += ops;
      result.wallMs += elapsed;
      result.cpuUs += cpu.user + cpu.system;
      result.passed += state.passed;
      result.refused += refused;
      if (refused > 0 && !result.statuses.includes(state.status)) {
        result.statuses.push(state.status);
      }
    }
  }

  // Warm-up (the JIT), then the Access double's and the catalog counters start from 0.
  for (const runner of runners) {
    await slice(runner, Math.min(300, sliceMs * 3), false);
    await yieldToLoop();
  }
  access?.reset();
  catalogLookups = 0;
  const rounds = Math.max(1, Math.round(totalMs / sliceMs));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < runners.length; k++) {
      await slice(runners[(k + r) % runners.length], sliceMs, true);
      // Timers, IPC and the catalog's own background work run here, outside the slices.
      await yieldToLoop();
    }
  }
  return {
    results: runners.map(r => r.result),
    accessRequests: { ...access!.counts },
    catalogLookups,
  };
}

/** 32 MB: walked between calls of `coldBench`, more than the CPU caches hold. */
let flushBuffer: Float64Array | undefined;

export type ColdCaseResult = {
  name: string;
  calls: number;
  wallUs: TimeSpread;
};

/**
 * The boundary middleware on the captured requests with the CPU caches flushed before every call
 * (one write per cache line of a 32 MB buffer): the other extreme from `cpuBench`, where everything
 * the boundary touches stays in the caches. Time per call by `performance.now()` (see
 * timedBoundary).
 */
async function coldBench(calls: number): Promise<ColdCaseResult[]> {
  const mw = boundary!;
  flushBuffer ??= new Float64Array(4 * 1024 * 1024);
  const buffer = flushBuffer;
  const { call } = middlewareCaller();
  const results: ColdCaseResult[] = [];
  for (const c of cases.filter(x => x.spec.expect === 'pass')) {
    const wall: number[] = [];
    for (let i = 0; i < calls; i++) {
      for (let k = 0; k < buffer.length; k += 8) {
        buffer[k] += 1;
      }
      const req = c.reqs[i % c.reqs.length];
      const t0 = performance.now();
      await call(mw, req);
      wall.push((performance.now() - t0) * 1000);
      if (i % 50 === 49) {
        await yieldToLoop();
      }
    }
    results.push({ name: c.spec.name, calls, wallUs: spread(wall) });
  }
  return results;
}

function handle(msg: Message): Promise<unknown> | unknown {
  switch (msg.type) {
    case 'start':
      return start(msg).then(() => undefined);
    case 'counts':
      return {
        type: 'counts',
        counts: { ...access?.counts },
        catalogLookups,
        roundTrips: sequentialRoundTrips(access?.log ?? []),
      };
    case 'cpu': {
      // CPU time of this backend process, user + system, in µs.
      const { user, system } = process.cpuUsage();
      return { type: 'cpu', micros: user + system };
    }
    case 'reset':
      access?.reset();
      if (access) {
        access.recording = true;
      }
      catalogLookups = 0;
      return { type: 'reset' };
    case 'latency':
      if (access) {
        access.latencyMs = msg.ms;
      }
      return { type: 'latency' };
    case 'inSitu':
      if (msg.on) {
        inSitu.wallUs = [];
        inSitu.on = true;
        return { type: 'inSitu' };
      }
      inSitu.on = false;
      return {
        type: 'inSitu',
        wallUs: spread(inSitu.wallUs),
        requests: inSitu.wallUs.length,
      };
    case 'coldBench':
      return coldBench(msg.calls).then(results => ({
        type: 'coldBench',
        results,
      }));
    case 'pluginToken':
      return pluginToken().then(token => ({ type: 'pluginToken', token }));
    case 'capture':
      return capture(msg.base, msg.cases).then(() => ({ type: 'capture' }));
    case 'cpuBench':
      return cpuBench(msg.totalMs, msg.sliceMs).then(result => ({
        type: 'cpuBench',
        ...result,
      }));
    default:
      return undefined;
  }
}

process.on('message', (msg: Message) => {
  Promise.resolve()
    .then(() => handle(msg))
    .then(
      reply => {
        if (reply) {
          send(reply);
        }
      },
      error => {
        send({ type: 'error', error: String(error?.stack ?? error) });
        if (msg.type === 'start') {
          process.exit(1);
        }
      },
    );
});
process.on('disconnect', () => process.exit(0));
