/*
 * The Access boundary of the module README's step 5, in enforce mode, from the outside: the catalog's
 * entities straight to the backend without Access are refused with 401 and the reason code, and so is a
 * person's own Backstage token sent there without Access; the same request through the emulator passes
 * for a signed-in person (the CF_Authorization cookie, as a browser sends it) and for the README's
 * service token; the health check needs no Access.
 */
import type { Report } from '@cfaccess/harness';
import type { AppFacts } from './appFacts';
import { BACKEND_URL, EMULATOR_URL } from './ports';
import { loginThroughEmulator } from './signIn';

const ENTITIES = '/api/catalog/entities';
const USERS = `${ENTITIES}?filter=kind=user`;
const READINESS = '/.backstage/health/v1/readiness';

interface Answer {
  status: number;
  text: string;
  body?: any;
}

async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(url, {
    headers,
    redirect: 'manual',
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, text, body };
}

/** The reason code of a refusal: the body's `error.reason`, else the one in its message. */
function reasonOf(answer: Answer): string {
  return (
    answer.body?.error?.reason ??
    /\(([a-z_]+)\)/.exec(answer.body?.error?.message ?? '')?.[1] ??
    ''
  );
}

function describe(answer: Answer): string {
  const reason = reasonOf(answer);
  return `${answer.status}${
    reason ? `, reason ${reason}` : `: ${answer.text.slice(0, 200)}`
  }`;
}

function entityRefs(answer: Answer): string[] {
  return Array.isArray(answer.body)
    ? answer.body.map(
        (e: any) =>
          `${String(e.kind).toLocaleLowerCase('en-US')}:${
            e.metadata?.namespace ?? 'default'
          }/${e.metadata?.name}`,
      )
    : [];
}

/** `where` names the running app in each check: `yarn start` or the production build. */
export async function checkBoundary(
  report: Report,
  facts: AppFacts,
  where: string,
) {
  const direct = await get(`${BACKEND_URL}${ENTITIES}`);
  report.check(
    `boundary (${where}): ${ENTITIES} straight to the backend without Access gets 401 missing_token`,
    direct.status === 401 && reasonOf(direct) === 'missing_token',
    describe(direct),
  );

  const token = await loginThroughEmulator(facts.person.email);
  const person = await get(`${EMULATOR_URL}${USERS}`, {
    cookie: `CF_Authorization=${token}`,
  });
  const personRefs = entityRefs(person);
  report.check(
    `boundary (${where}): ${ENTITIES} through the emulator as a signed-in person gets 200`,
    person.status === 200 && personRefs.includes(facts.person.entityRef),
    person.status === 200
      ? `${facts.person.email}: 200, ${
          personRefs.length
        } users (${personRefs.join(', ')}; expected ${
          facts.person.entityRef
        } among them)`
      : `${facts.person.email}: ${describe(person)}`,
  );

  if (facts.serviceToken) {
    const { clientId, clientSecret } = facts.serviceToken;
    const service = await get(`${EMULATOR_URL}${USERS}`, {
      'cf-access-client-id': clientId,
      'cf-access-client-secret': clientSecret,
    });
    report.check(
      `boundary (${where}): ${ENTITIES} through the emulator with the service token gets 200`,
      service.status === 200 && Array.isArray(service.body),
      `${clientId}: ${
        service.status === 200
          ? `200, ${entityRefs(service).length} users`
          : describe(service)
      }`,
    );
  }

  // The person's Backstage token, as a script would copy it out of the browser, without Access.
  const refreshed = await get(`${EMULATOR_URL}/api/auth/cfaccess/refresh`, {
    cookie: `CF_Authorization=${token}`,
    'x-requested-with': 'XMLHttpRequest',
  });
  const backstageToken: string | undefined =
    refreshed.body?.backstageIdentity?.token;
  if (!backstageToken) {
    report.check(
      `boundary (${where}): a person's Backstage token straight to the backend without Access gets 401 missing_token`,
      false,
      `no Backstage token from /refresh through the emulator: ${describe(
        refreshed,
      )}`,
    );
  } else {
    const stolen = await get(`${BACKEND_URL}${ENTITIES}`, {
      authorization: `Bearer ${backstageToken}`,
    });
    report.check(
      `boundary (${where}): a person's Backstage token straight to the backend without Access gets 401 missing_token`,
      stolen.status === 401 && reasonOf(stolen) === 'missing_token',
      describe(stolen),
    );
  }

  const health = await get(`${BACKEND_URL}${READINESS}`);
  report.check(
    `boundary (${where}): the health check straight to the backend without Access gets 200`,
    health.status === 200,
    `${READINESS}: ${health.status} ${health.text
      .replace(/\s+/g, '')
      .slice(0, 100)}`,
  );
}
