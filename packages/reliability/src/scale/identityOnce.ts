/*
 * Claim 2: the identity of one session is fetched once across both replicas. A new session refreshes on
 * A, then on B, then twice through the emulator (round-robin over both): get-identity is called exactly
 * once, because the identity cache is Backstage's CacheService, backed by the shared Redis.
 */
import type { AccessEmulator } from '@cfaccess/access-emulator';
import type { Replica } from '../processes/backend';
import { refresh } from '../processes/http';
import type { Report } from '@cfaccess/harness';

export async function checkIdentityOnce(
  report: Report,
  emulator: AccessEmulator,
  [a, b]: Replica[],
) {
  const token = await emulator.mintUserToken('carol@example.com');
  const before = emulator.stats().identityRequests;
  const statuses = [
    (await refresh(a.url, { header: token })).status,
    (await refresh(b.url, { header: token })).status,
    (await refresh(emulator.listenUrl, { cookie: token })).status,
    (await refresh(emulator.listenUrl, { cookie: token })).status,
  ];
  const fetches = emulator.stats().identityRequests - before;
  report.check(
    'identity fetched once across replicas',
    statuses.every(s => s === 200) && fetches === 1,
    `4 refreshes (A, B, emulator x2) -> ${statuses.join(
      ' ',
    )}; get-identity requests: ${fetches} (expected 1)`,
  );
}
