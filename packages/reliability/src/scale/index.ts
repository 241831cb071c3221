/*
 * The scale suite: two replicas of the example backend behind the emulator (round-robin), sharing
 * PostgreSQL (auth signing keys, catalog) and Redis (CacheService). Proves that a session signed in on A
 * refreshes on B, that a session's identity is fetched once across replicas, and that killing a replica
 * mid-run loses no signed-in user. Prints PASS/FAIL lines; exits non-zero on any failure.
 *
 *   yarn workspace @cfaccess/reliability scale [--sessions 12] [--failover-seconds 12]
 */
import { Command } from 'commander';
import { runMain, Report } from '@cfaccess/harness';
import { writeResult } from '../processes/paths';
import {
  portsFromOptions,
  startTopology,
  withPortOptions,
} from '../processes/topology';
import { checkCrossReplica } from './crossReplica';
import { checkFailover } from './failover';
import { checkIdentityOnce } from './identityOnce';

const out = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<number> {
  const opts = withPortOptions(new Command('scale'))
    .option('--sessions <n>', 'sessions refreshing during the failover', '12')
    .option('--failover-seconds <s>', 'length of the failover run', '12')
    .parse(process.argv)
    .opts();
  const started = Date.now();
  const report = new Report(out);
  const topology = await startTopology({
    suite: 'scale',
    replicas: 2,
    ...portsFromOptions(opts),
    log: line => out(`scale: ${line}`),
  });
  const { emulator, replicas } = topology;
  await checkCrossReplica(report, emulator, replicas);
  await checkIdentityOnce(report, emulator, replicas);
  await checkFailover(report, emulator, replicas, {
    sessions: Number(opts.sessions),
    seconds: Number(opts.failoverSeconds),
  });
  if (report.failed > 0) {
    out(`logs: ${topology.runDir}`);
    for (const replica of replicas) {
      out(
        `--- backend ${replica.name} (last lines)\n${replica.child.tail(15)}`,
      );
    }
  }
  const seconds = (Date.now() - started) / 1000;
  out(
    `scale: startup ${topology.startupSeconds.toFixed(
      1,
    )}s, total ${seconds.toFixed(1)}s`,
  );
  writeResult('scale.json', {
    date: new Date().toISOString(),
    node: process.version,
    replicas: replicas.length,
    startupSeconds: Math.round(topology.startupSeconds * 10) / 10,
    totalSeconds: Math.round(seconds * 10) / 10,
    checks: report.toJSON(),
  });
  return report.summary('scale');
}

runMain(main);
