/*
 * The soak: autocannon through the emulator against /api/auth/cfaccess/refresh, 90% valid sessions and
 * 10% invalid tokens (see kinds.ts for how each travels and what it must get), against the scale
 * topology (replicas on PostgreSQL and Redis). Alongside, a slower stream of forged tokens goes straight
 * to the replicas. Fails on any 5xx, any unexpected status, any socket error, a get-identity call under
 * load, a backend above the RSS ceiling, or (runs of 180 s or more) RSS growth after the first minute
 * beyond the limit. Prints a summary and writes results/soak-<seconds>s.json.
 *
 *   yarn workspace @cfaccess/reliability soak [--duration 300] [--connections 16] [--replicas 2]
 */
import path from 'node:path';
import { Command } from 'commander';
import { runMain, Report } from '@cfaccess/harness';
import { writeResult } from '../processes/paths';
import { refresh } from '../processes/http';
import {
  portsFromOptions,
  startTopology,
  withPortOptions,
} from '../processes/topology';
import { forgedAtOrigin, invalidAtEdge, validSession } from './kinds';
import { type LoadResult, runLoad } from './load';
import { sampleRss, summarize } from './memory';
import { invalidTokens, signInSessions } from './tokens';

const out = (line: string) => process.stdout.write(`${line}\n`);

function describe(name: string, r: LoadResult) {
  out(
    `soak: ${name}: ${r.requests} requests, ${r.rps} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, socket errors ${r.errors}, timeouts ${r.timeouts}`,
  );
  for (const [kind, c] of Object.entries(r.kinds)) {
    out(
      `soak:   ${kind}: ${c.responses} responses, ${
        c.expected
      } as expected, 5xx ${c.serverErrors}, unexpected ${JSON.stringify(
        c.unexpected,
      )}`,
    );
  }
}

async function main(): Promise<number> {
  const opts = withPortOptions(
    new Command('soak')
      .option('--duration <s>', 'seconds of load', '300')
      .option('--connections <n>', 'connections through the emulator', '16')
      .option('--sessions <n>', 'signed-in sessions', '30')
      .option('--replicas <n>', 'backend replicas (1 or 2)', '2')
      .option(
        '--bypass-rate <n>',
        'req/s of forged tokens straight to the replicas (0: none)',
        '20',
      )
      .option(
        '--max-rss-growth <fraction>',
        'allowed RSS growth from the end of the warm-up (60s) to the end, for runs of 180s or more',
        '0.1',
      )
      .option('--max-rss-mb <mb>', 'RSS ceiling for each backend', '1200'),
  )
    .parse(process.argv)
    .opts();
  const seconds = Number(opts.duration);
  const warmupSeconds = Math.min(60, Math.round(seconds / 3));
  const report = new Report(out);
  const topology = await startTopology({
    suite: 'soak',
    replicas: Number(opts.replicas),
    ...portsFromOptions(opts),
    log: line => out(`soak: ${line}`),
  });
  const { emulator, replicas } = topology;
  const sessions = await signInSessions(emulator, Number(opts.sessions));
  // Each session refreshes once before the load, so its identity is in the shared cache: under load,
  // get-identity must not be called at all.
  const firstRefresh = await Promise.all(
    sessions.map(s => refresh(emulator.listenUrl, { cookie: s.token })),
  );
  const invalid = await invalidTokens(emulator);
  const valid = validSession(sessions);
  const mix = [...Array(9).fill(valid), invalidAtEdge(invalid)];
  emulator.resetStats();
  const rss = sampleRss(
    replicas.map(r => ({ name: `backend ${r.name}`, pid: r.child.pid })),
    5000,
  );
  out(
    `soak: ${seconds}s through the emulator, ${opts.connections} connections, ${sessions.length} sessions, mix 9 valid : 1 invalid (${invalid.length} kinds of invalid token); forged tokens straight to the replicas at ${opts.bypassRate} req/s`,
  );
  const bypassRate = Number(opts.bypassRate);
  const [edge, ...bypass] = await Promise.all([
    runLoad({
      url: emulator.listenUrl,
      seconds,
      connections: Number(opts.connections),
      mix,
    }),
    ...(bypassRate > 0
      ? replicas.map(r =>
          runLoad({
            url: r.url,
            seconds,
            connections: 1,
            overallRate: Math.max(1, Math.round(bypassRate / replicas.length)),
            mix: [forgedAtOrigin(invalid)],
          }),
        )
      : []),
  ]);
  await new Promise(r => setTimeout(r, 2000));
  const series = rss.stop();
  const memory = series.map(s => summarize(s, warmupSeconds));
  const stats = emulator.stats();

  describe('through the emulator', edge);
  bypass.forEach((b, i) => describe(`straight to ${replicas[i].name}`, b));
  const all = [edge, ...bypass];
  const kinds = all.flatMap(r => Object.values(r.kinds));
  const serverErrors = kinds.reduce((n, c) => n + c.serverErrors, 0);
  const unexpected = kinds.reduce(
    (n, c) => n + Object.values(c.unexpected).reduce((a, b) => a + b, 0),
    0,
  );
  const socketErrors = all.reduce((n, r) => n + r.errors + r.timeouts, 0);
  const validCounts = edge.kinds.valid;
  const invalidCounts = edge.kinds['invalid-at-edge'];
  const share = invalidCounts.responses / Math.max(1, edge.requests);
  report.check(
    'no 5xx',
    serverErrors === 0 && edge.requests > 0,
    `${serverErrors} 5xx in ${all.reduce(
      (n, r) => n + r.requests,
      0,
    )} requests`,
  );
  report.check(
    'no unexpected status',
    unexpected === 0 && socketErrors === 0,
    `${unexpected} unexpected, ${socketErrors} socket errors/timeouts; valid ${
      validCounts.expected
    }/${validCounts.responses} 200 with the right user, invalid ${
      invalidCounts.expected
    }/${invalidCounts.responses} 302 to login (${(share * 100).toFixed(
      1,
    )}% of requests)${
      bypass.length
        ? `, forged at origin ${bypass.reduce(
            (n, b) => n + b.kinds['forged-at-origin'].expected,
            0,
          )}/${bypass.reduce(
            (n, b) => n + b.kinds['forged-at-origin'].responses,
            0,
          )} 401`
        : ''
    }`,
  );
  report.check(
    'no get-identity under load',
    firstRefresh.every(r => r.status === 200) && stats.identityRequests === 0,
    `${firstRefresh.filter(r => r.status === 200).length}/${
      sessions.length
    } sessions signed in before the load; get-identity during the load: ${
      stats.identityRequests
    } (expected 0, identities come from Redis); certs: ${
      stats.certsRequests
    } (refetches for unknown key ids, rate-limited)`,
  );
  const maxGrowth = Number(opts.maxRssGrowth);
  const maxRssMb = Number(opts.maxRssMb);
  for (const m of memory) {
    const growth = (m.endMb - m.warmMb) / m.warmMb;
    const figures = `RSS ${m.startMb} MB before load, ${m.warmMb} MB after ${warmupSeconds}s, peak ${m.peakMb} MB, ${m.endMb} MB at the end`;
    report.check(
      `memory ceiling, ${m.name}`,
      m.peakMb <= maxRssMb,
      `${figures} (limit ${maxRssMb} MB)`,
    );
    if (seconds >= 180) {
      report.check(
        `stable memory after warm-up, ${m.name}`,
        growth <= maxGrowth,
        `${(growth * 100).toFixed(
          1,
        )}% from ${warmupSeconds}s to the end (limit ${maxGrowth * 100}%)`,
      );
    }
  }
  if (seconds < 180) {
    out(
      `soak: runs under 180s check the RSS ceiling only: the heap grows to its working size in the first minute`,
    );
  }
  global.gc?.();
  const runnerMb = Math.round(process.memoryUsage().rss / 1024 / 1024);
  out(`soak: load generator + emulator RSS ${runnerMb} MB`);

  const file = writeResult(`soak-${seconds}s.json`, {
    date: new Date().toISOString(),
    node: process.version,
    seconds,
    connections: Number(opts.connections),
    replicas: replicas.length,
    sessions: sessions.length,
    bypassRate,
    throughEmulator: edge,
    straightToReplicas: bypass,
    emulatorStats: stats,
    memory,
    // MB by second of the run, per backend.
    rssSamples: Object.fromEntries(
      series.map(s => [
        s.name,
        Object.fromEntries(s.samples.map(x => [String(x.t), x.mb])),
      ]),
    ),
    checks: report.toJSON(),
  });
  out(`soak: results in ${path.relative(process.cwd(), file)}`);
  return report.summary('soak');
}

runMain(main);
