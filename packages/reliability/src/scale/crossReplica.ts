/*
 * Claim 1: a session signed in on replica A refreshes on replica B. The same Access token refreshes on
 * both replicas to the same Backstage identity, and the Backstage token each one issues is accepted by
 * the other (the auth signing keys live in the shared database).
 */
import type { AccessEmulator } from '@cfaccess/access-emulator';
import type { Replica } from '../processes/backend';
import { getCatalogUser, refresh } from '../processes/http';
import type { Report } from '@cfaccess/harness';

export async function checkCrossReplica(
  report: Report,
  emulator: AccessEmulator,
  [a, b]: Replica[],
) {
  const token = await emulator.mintUserToken('bob@example.com');
  const onA = await refresh(a.url, { header: token });
  const onB = await refresh(b.url, { header: token });
  const sameIdentity =
    onA.status === 200 &&
    onB.status === 200 &&
    onA.userEntityRef === 'user:default/bob' &&
    onA.userEntityRef === onB.userEntityRef &&
    JSON.stringify([...(onA.ownershipEntityRefs ?? [])].sort()) ===
      JSON.stringify([...(onB.ownershipEntityRefs ?? [])].sort());
  report.check(
    'session refreshes on both replicas',
    sameIdentity,
    `A ${onA.status} ${onA.userEntityRef ?? '-'}, B ${onB.status} ${
      onB.userEntityRef ?? '-'
    }, ownership A [${onA.ownershipEntityRefs?.join(', ') ?? ''}] B [${
      onB.ownershipEntityRefs?.join(', ') ?? ''
    }]`,
  );
  const aTokenOnB = onA.backstageToken
    ? await getCatalogUser(b.url, onA.backstageToken, 'bob', token)
    : 0;
  const bTokenOnA = onB.backstageToken
    ? await getCatalogUser(a.url, onB.backstageToken, 'bob', token)
    : 0;
  report.check(
    "each replica accepts the other's Backstage token",
    aTokenOnB === 200 && bTokenOnA === 200,
    `A's token on B's catalog: ${aTokenOnB}, B's token on A's catalog: ${bTokenOnA}`,
  );
}
