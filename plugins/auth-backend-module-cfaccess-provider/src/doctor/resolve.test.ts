/*
 * --resolve: the module's sign-in resolvers, run as the provider runs them,
 * against a catalog answering Backstage's catalog API over HTTP (msw).
 */
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import {
  developmentConfig,
  Fixture,
  SERVICE_TOKEN,
  startFixture,
} from './__testUtils__/doctorFixtures';
import { exitCodes } from './exitCodes';
import { renderHuman } from './render';
import { isSkipped, runDoctor } from './runDoctor';

const BACKEND = 'http://backstage.test:7007';
const BACKEND_TOKEN = 'static-backend-token-never-printed';

const alice = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'User',
  metadata: { name: 'alice', namespace: 'default' },
  spec: { profile: { email: 'alice@example.com' }, memberOf: ['engineering'] },
  relations: [{ type: 'memberOf', targetRef: 'group:default/engineering' }],
};

const seen: { authorization: string | null; url: string }[] = [];
const usersMatching = (request: Request) => {
  seen.push({
    authorization: request.headers.get('authorization'),
    url: request.url,
  });
  const filter = new URL(request.url).searchParams.getAll('filter');
  return filter.some(f => f.includes('spec.profile.email=alice@example.com'))
    ? [alice]
    : [];
};
// The catalog client's getEntities (GET /entities) and the newer by-query endpoint.
const server = setupServer(
  http.get(`${BACKEND}/api/catalog/entities`, ({ request }) =>
    HttpResponse.json(usersMatching(request)),
  ),
  http.get(`${BACKEND}/api/catalog/entities/by-query`, ({ request }) => {
    const items = usersMatching(request);
    return HttpResponse.json({
      items,
      totalItems: items.length,
      pageInfo: {},
    });
  }),
  http.get(`${BACKEND}/api/catalog/entities/by-name/:kind/:ns/:name`, () =>
    HttpResponse.json({ error: { name: 'NotFoundError' } }, { status: 404 }),
  ),
);

let fixture: Fixture;
let configFile: string;
beforeAll(async () => {
  server.listen({ onUnhandledRequest: 'bypass' });
  fixture = await startFixture();
  configFile = await fixture.writeConfig(
    'app-config.yaml',
    developmentConfig(fixture.emulator),
  );
});
afterAll(async () => {
  server.close();
  await fixture.close();
});

const resolve = async (token: string) => {
  const report = await runDoctor({
    configPaths: [configFile],
    tokenSource: { token },
    env: {},
    resolve: true,
    backendUrl: BACKEND,
    backendToken: BACKEND_TOKEN,
  });
  expect(renderHuman(report)).not.toContain(BACKEND_TOKEN);
  if (isSkipped(report.token)) {
    throw new Error(report.token.skipped);
  }
  return { report, diagnosis: report.token };
};

describe('--resolve', () => {
  it('says which resolver signs a person in as which entity', async () => {
    const { report, diagnosis } = await resolve(
      await fixture.emulator.mintUserToken('alice@example.com'),
    );
    expect(report.exitCode).toBe(exitCodes.ok);
    expect(diagnosis.resolve).toEqual({
      status: 'signed-in',
      resolver: 'emailMatchingUserEntityProfileEmail',
      entityRef: 'user:default/alice',
      ownershipEntityRefs: ['user:default/alice', 'group:default/engineering'],
    });
    expect(seen.at(-1)?.authorization).toBe(`Bearer ${BACKEND_TOKEN}`);
    expect(renderHuman(report)).toContain(
      'ok: sign-in: emailMatchingUserEntityProfileEmail signs them in as user:default/alice (ownership: user:default/alice, group:default/engineering)',
    );
  });

  it('says why nobody is signed in when the catalog has no user', async () => {
    const { report, diagnosis } = await resolve(
      await fixture.emulator.mintServiceToken(SERVICE_TOKEN.clientId),
    );
    expect(report.exitCode).toBe(exitCodes.problems);
    expect(diagnosis.resolve).toEqual({
      status: 'not-signed-in',
      reason: 'user_not_found',
      message: `Cloudflare Access signed in the service token ${SERVICE_TOKEN.clientId}, but Backstage has no user for its subject; ask your Backstage admin (sign-in resolvers tried: emailMatchingUserEntityProfileEmail, serviceTokenSubject)`,
    });
  });

  it('is skipped without --resolve', async () => {
    const report = await runDoctor({
      configPaths: [configFile],
      tokenSource: {
        token: await fixture.emulator.mintUserToken('alice@example.com'),
      },
      env: {},
    });
    expect(!isSkipped(report.token) && report.token.resolve).toEqual({
      status: 'skipped',
      message:
        'sign-in resolvers not run (add --resolve --backend-url <url> to run them against the catalog)',
    });
  });
});
