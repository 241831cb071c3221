/*
 * Claim 3: killing one replica mid-run loses no signed-in user. N sessions refresh continuously through
 * the emulator (round-robin over A and B); replica A is killed with SIGKILL a third of the way in. Every
 * request must still succeed with the right identity, every session must keep refreshing (on B, the only
 * one left), and the Backstage tokens A issued before it died must still be accepted by B.
 *
 * One exception, as behind any proxy: a response A had begun sending when it died is cut short (the edge
 * cannot retry a response already under way). The sign-in page reloads once on such a network error, so
 * the user stays signed in; here the session's next refresh must succeed.
 */
import fs from 'node:fs';
import type { AccessEmulator } from '@cfaccess/access-emulator';
import type { Replica } from '../processes/backend';
import { getCatalogUser, refresh } from '../processes/http';
import type { Report } from '@cfaccess/harness';
import { SessionTally } from './sessionTally';

const USERS = ['alice', 'bob', 'carol'];

/** Refreshes a replica has logged (its request log), to show it took its share before the kill. */
function loggedRefreshes(replica: Replica): number {
  const log = fs.readFileSync(replica.child.logFile, 'utf8');
  return log.split('GET /api/auth/cfaccess/refresh').length - 1;
}

interface Session {
  user: string;
  token: string;
  tally: SessionTally;
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
      tally: new SessionTally(`user:default/${user}`),
    });
  }
  // Backstage tokens issued by A, to use on B once A is gone.
  const issuedByA = await Promise.all(
    sessions.map(s => refresh(a.url, { header: s.token })),
  );

  const servedByABefore = loggedRefreshes(a);
  let killed = false;
  let killSentAt = Infinity;
  const end = Date.now() + options.seconds * 1000;
  const loop = async (session: Session) => {
    while (Date.now() < end) {
      const sentAfterKill = killed;
      const res = await refresh(emulator.listenUrl, { cookie: session.token });
      session.tally.record(res, {
        sentAfterKill,
        inFlightAtKill: !sentAfterKill && Date.now() >= killSentAt,
      });
    }
  };
  const kill = (async () => {
    await new Promise(r => setTimeout(r, (options.seconds * 1000) / 3));
    killSentAt = Date.now();
    await a.child.stop('SIGKILL');
    killed = true;
  })();
  await Promise.all([...sessions.map(loop), kill]);

  const tallies = sessions.map(s => s.tally);
  const sum = (count: (t: SessionTally) => number) =>
    tallies.reduce((n, t) => n + count(t), 0);
  const total = sum(t => t.total);
  const failures = tallies.flatMap(t => t.failures);
  const cut = sum(t => t.cutByKill);
  const recovered = sum(t => t.recoveredAfterCut);
  report.check(
    'no failed refresh while replica A was killed',
    failures.length === 0 && total > 0 && recovered === cut,
    `${total} refreshes by ${sessions.length} sessions in ${
      options.seconds
    }s through the emulator, ${failures.length} failed${
      failures.length ? ` (first: ${failures[0]})` : ''
    }, ${cut} cut short as A died mid-response (${recovered} of them followed by a refresh that succeeded); A exited: ${!a.child.isRunning()}`,
  );
  const servedByA = loggedRefreshes(a) - servedByABefore;
  const minAfter = Math.min(...tallies.map(t => t.okAfterKill));
  const beforeKill = sum(t => t.okBeforeKill);
  const afterKill = sum(t => t.okAfterKill);
  report.check(
    'every session kept refreshing on B',
    !a.child.isRunning() && servedByA > 0 && minAfter >= 3,
    `${beforeKill} refreshes before the kill (${servedByA} answered by A), ${afterKill} after; fewest after the kill for one session: ${minAfter}`,
  );
  const statuses = await Promise.all(
    issuedByA.map((r, i) =>
      r.backstageToken
        ? getCatalogUser(
            b.url,
            r.backstageToken,
            sessions[i].user,
            sessions[i].token,
          )
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
