/*
 * Claim 3: killing one replica mid-run loses no signed-in user. N sessions refresh continuously through
 * the emulator (round-robin over A and B); replica A is killed with SIGKILL a third of the way in. Every
 * request must still succeed with the right identity, every session must keep refreshing (on B, the only
 * one left), and the Backstage tokens A issued before it died must still be accepted by B.
 */
import fs from 'node:fs';
import type { AccessEmulator } from '@cfaccess/access-emulator';
import type { Replica } from '../processes/backend';
import { getCatalogUser, refresh } from '../processes/http';
import type { Report } from '@cfaccess/harness';

const USERS = ['alice', 'bob', 'carol'];

/** Refreshes a replica has logged (its request log), to show it took its share before the kill. */
function loggedRefreshes(replica: Replica): number {
  const log = fs.readFileSync(replica.child.logFile, 'utf8');
  return log.split('GET /api/auth/cfaccess/refresh').length - 1;
}

interface Session {
  user: string;
  token: string;
  okBeforeKill: number;
  okAfterKill: number;
  failures: string[];
}

export async function checkFailover(
  report: Report,
  emulator: AccessEmulator,
  [a, b]: Replica[],
  options: { sessions: number; seconds: number },
) {
  const sessions: Session[] = [];
  for (let i = 0; i < options.sessions; i++) {
    const user = USERS[i % USERS.length];
    sessions.push({
      user,
      token: await emulator.mintUserToken(`${user}@example.com`),
      okBeforeKill: 0,
      okAfterKill: 0,
      failures: [],
    });
  }
  // Backstage tokens issued by A, to use on B once A is gone.
  const issuedByA = await Promise.all(
    sessions.map(s => refresh(a.url, { header: s.token })),
  );

  const servedByABefore = loggedRefreshes(a);
  let killed = false;
  const end = Date.now() + options.seconds * 1000;
  const loop = async (session: Session) => {
    while (Date.now() < end) {
      const afterKill = killed;
      const res = await refresh(emulator.listenUrl, { cookie: session.token });
      if (
        res.status === 200 &&
        res.userEntityRef === `user:default/${session.user}`
      ) {
        if (afterKill) {
          session.okAfterKill += 1;
        } else {
          session.okBeforeKill += 1;
        }
      } else {
        session.failures.push(`${res.status} ${res.text.slice(0, 120)}`);
      }
    }
  };
  const kill = (async () => {
    await new Promise(r => setTimeout(r, (options.seconds * 1000) / 3));
    await a.child.stop('SIGKILL');
    killed = true;
  })();
  await Promise.all([...sessions.map(loop), kill]);

  const total = sessions.reduce(
    (n, s) => n + s.okBeforeKill + s.okAfterKill + s.failures.length,
    0,
  );
  const failures = sessions.flatMap(s => s.failures);
  report.check(
    'no failed refresh while replica A was killed',
    failures.length === 0 && total > 0,
    `${total} refreshes by ${sessions.length} sessions in ${
      options.seconds
    }s through the emulator, ${failures.length} failed${
      failures.length ? ` (first: ${failures[0]})` : ''
    }; A exited: ${!a.child.isRunning()}`,
  );
  const servedByA = loggedRefreshes(a) - servedByABefore;
  const minAfter = Math.min(...sessions.map(s => s.okAfterKill));
  const beforeKill = sessions.reduce((n, s) => n + s.okBeforeKill, 0);
  const afterKill = sessions.reduce((n, s) => n + s.okAfterKill, 0);
  report.check(
    'every session kept refreshing on B',
    !a.child.isRunning() && servedByA > 0 && minAfter >= 3,
    `${beforeKill} refreshes before the kill (${servedByA} answered by A), ${afterKill} after; fewest after the kill for one session: ${minAfter}`,
  );
  const statuses = await Promise.all(
    issuedByA.map((r, i) =>
      r.backstageToken
        ? getCatalogUser(b.url, r.backstageToken, sessions[i].user)
        : Promise.resolve(r.status),
    ),
  );
  const accepted = statuses.filter(s => s === 200).length;
  report.check(
    'B accepts the Backstage tokens A issued before it died',
    accepted === sessions.length,
    `${accepted}/${sessions.length} accepted by B's catalog`,
  );
}
