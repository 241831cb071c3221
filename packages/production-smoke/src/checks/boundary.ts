/*
 * The Access boundary of the production build (enforce): straight to the backend port, only what carries a
 * valid Access application token gets in; a Backstage token alone does not; a Backstage token is only good
 * with its own person's Access session; a service token through the HTTPS edge calls the catalog itself.
 */
import type { AccessEmulator } from '@cfaccess/access-emulator';
import type { Report } from '@cfaccess/harness';
import { request } from '../https';
import { BACKEND_URL, EDGE_URL } from '../ports';

const ENTITIES = '/api/catalog/entities?limit=1';
const REFRESH = '/api/auth/cfaccess/refresh';

function json(body: string): any {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

const summary = (res: { status: number; body: string }) =>
  `${res.status} ${json(res.body)?.error?.reason ?? ''}`.trim();

export async function checkBoundary(
  report: Report,
  options: {
    emulator: AccessEmulator;
    caCertPem: string;
    serviceToken: { clientId: string; clientSecret: string };
  },
) {
  const direct = await request(`${BACKEND_URL}${ENTITIES}`);
  report.check(
    'the catalog straight from the backend port, without Access, gets 401 missing_token',
    direct.status === 401 &&
      json(direct.body)?.error?.reason === 'missing_token',
    summary(direct),
  );

  const viaEdge = await request(`${EDGE_URL}${ENTITIES}`, {
    ca: options.caCertPem,
    headers: {
      'CF-Access-Client-Id': options.serviceToken.clientId,
      'CF-Access-Client-Secret': options.serviceToken.clientSecret,
    },
  });
  report.check(
    'a service token calls the catalog through the HTTPS edge, with no sign-in step of its own',
    viaEdge.status === 200 && Array.isArray(json(viaEdge.body)),
    summary(viaEdge),
  );

  const alice = await options.emulator.mintUserToken('alice@example.com');
  const bob = await options.emulator.mintUserToken('bob@example.com');
  const signIn = await request(`${BACKEND_URL}${REFRESH}`, {
    headers: { 'Cf-Access-Jwt-Assertion': alice },
  });
  const backstageToken: string | undefined = json(signIn.body)
    ?.backstageIdentity?.token;
  report.check(
    'a person signs in at /refresh through the boundary',
    signIn.status === 200 && typeof backstageToken === 'string',
    summary(signIn),
  );
  if (!backstageToken) {
    return;
  }
  const alone = await request(`${BACKEND_URL}${ENTITIES}`, {
    headers: { Authorization: `Bearer ${backstageToken}` },
  });
  report.check(
    'a Backstage token alone, without Access, gets 401',
    alone.status === 401 && !alone.body.includes(backstageToken),
    summary(alone),
  );
  const own = await request(`${BACKEND_URL}${ENTITIES}`, {
    headers: {
      Authorization: `Bearer ${backstageToken}`,
      'Cf-Access-Jwt-Assertion': alice,
    },
  });
  report.check(
    "a Backstage token with its own person's Access token passes",
    own.status === 200,
    summary(own),
  );
  const other = await request(`${BACKEND_URL}${ENTITIES}`, {
    headers: {
      Authorization: `Bearer ${backstageToken}`,
      'Cf-Access-Jwt-Assertion': bob,
    },
  });
  report.check(
    "a Backstage token with another person's Access token gets 403 identity_mismatch",
    other.status === 403 &&
      json(other.body)?.error?.reason === 'identity_mismatch',
    summary(other),
  );
}
