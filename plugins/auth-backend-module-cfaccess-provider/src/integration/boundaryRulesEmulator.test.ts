/*
 * The Access boundary's rules against the Access emulator instead of msw: a
 * real backend whose team domain is an in-process emulator (real RS256
 * tokens, real get-identity over HTTP with the people's device facts), so
 * every requirement that Access's answers decide is seen allowed and refused
 * the way `yarn dev` shows it, and device changes made through the
 * emulator's admin API reach the rules. Ports 7634-7635 are this suite's;
 * the emulator takes a free one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import authPlugin from '@backstage/plugin-auth-backend';
import {
  startAccessEmulator,
  type AccessEmulator,
} from '@cfaccess/access-emulator';
import request from 'supertest';
import { closeDatabasesOnShutdown } from '../__testUtils__/fixtures';
import {
  localPartCfaccessModule,
  startBoundaryBackend,
  TestBackend,
} from '../__testUtils__/boundaryBackend';

jest.setTimeout(60_000);

const DISK = 'disk-encryption';
const SERVICE_TOKEN = {
  name: 'ci',
  clientId: 'emulator-rules-ci.access',
  clientSecret: 'emulator-rules-test-secret-0123456789',
};

/** `POST /tasks`, `GET /geo`, `GET /idp`: routes the rules protect, each answering who passed. */
const workPlugin = createBackendPlugin({
  pluginId: 'work',
  register(env) {
    env.registerInit({
      deps: { httpRouter: coreServices.httpRouter },
      async init({ httpRouter }) {
        httpRouter.use((req, res) => {
          res.status(req.method === 'POST' ? 201 : 200).json({ ok: req.path });
        });
        httpRouter.addAuthPolicy({ path: '/', allow: 'unauthenticated' });
      },
    });
  },
});

let emulator: AccessEmulator;
let stateDir: string;
let backend: TestBackend;

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'cfaccess-rules-emulator-'));
  emulator = await startAccessEmulator({
    port: 0,
    stateDir,
    users: [
      {
        email: 'alice@example.com',
        name: 'Alice',
        country: 'DE',
        identityProvider: { id: 'okta-id', type: 'okta' },
        device: {
          id: 'alice-laptop',
          warp: true,
          posture: [
            {
              id: DISK,
              name: 'Disk encryption',
              type: 'disk_encryption',
              success: true,
              ageSeconds: 60,
            },
          ],
        },
      },
      {
        email: 'bob@example.com',
        name: 'Bob',
        country: 'DE',
        identityProvider: { id: 'okta-id', type: 'okta' },
        device: {
          warp: true,
          posture: [
            {
              id: DISK,
              name: 'Disk encryption',
              type: 'disk_encryption',
              success: false,
            },
          ],
        },
      },
      {
        email: 'carol@example.com',
        name: 'Carol',
        country: 'US',
        identityProvider: { id: 'pin-id', type: 'onetimepin' },
      },
    ],
    serviceTokens: [SERVICE_TOKEN],
  });
  backend = await startBoundaryBackend({
    port: 7634,
    config: {
      app: { baseUrl: 'http://localhost:3000' },
      backend: {
        baseUrl: 'http://127.0.0.1:7634',
        listen: { host: '127.0.0.1', port: 7634 },
        database: { client: 'better-sqlite3', connection: ':memory:' },
      },
      auth: {
        environment: 'development',
        providers: {
          cfaccess: {
            teamDomain: emulator.url,
            audience: emulator.audience[0],
            serviceTokens: [
              { token: SERVICE_TOKEN.clientId, subject: 'user:default/ci-bot' },
            ],
            boundary: {
              rules: [
                {
                  name: 'Run tasks',
                  match: 'POST /api/work/tasks',
                  require: {
                    peopleOnly: true,
                    warp: true,
                    devicePosture: [{ rule: DISK, maxAge: '10m' }],
                  },
                  identityMaxAge: '1s',
                },
                { match: 'GET /api/work/geo', require: { countries: ['DE'] } },
                {
                  match: 'GET /api/work/idp',
                  require: { identityProviders: ['okta'] },
                },
              ],
            },
          },
        },
      },
    },
    features: [
      authPlugin,
      localPartCfaccessModule(),
      workPlugin,
      ...closeDatabasesOnShutdown(['auth', 'work']),
    ],
  });
});

afterAll(async () => {
  await backend?.stop();
  await emulator?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

afterEach(() => emulator.resetDevices());

async function send(method: 'get' | 'post', path: string, token: string) {
  const res = await request(backend.base)
    [method](path)
    .set('cf-access-jwt-assertion', token);
  // Whatever Access answered, never a 5xx.
  expect(res.status).toBeLessThan(500);
  return { status: res.status, reason: res.body?.error?.reason };
}

const person = (email: string) => emulator.mintUserToken(email);
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

describe('boundary rules against the Access emulator', () => {
  it('lets a managed device through WARP, with a fresh posture check, from an allowed country and identity provider', async () => {
    const alice = await person('alice@example.com');
    expect(await send('post', '/api/work/tasks', alice)).toEqual({
      status: 201,
      reason: undefined,
    });
    expect((await send('get', '/api/work/geo', alice)).status).toBe(200);
    expect((await send('get', '/api/work/idp', alice)).status).toBe(200);
  });

  it('refuses each requirement the emulator says is not met', async () => {
    expect(
      await send('post', '/api/work/tasks', await person('bob@example.com')),
    ).toEqual({ status: 403, reason: 'posture_required' });
    const carol = await person('carol@example.com');
    expect(await send('post', '/api/work/tasks', carol)).toEqual({
      status: 403,
      reason: 'warp_required',
    });
    expect(await send('get', '/api/work/geo', carol)).toEqual({
      status: 403,
      reason: 'country_not_allowed',
    });
    expect(await send('get', '/api/work/idp', carol)).toEqual({
      status: 403,
      reason: 'identity_provider_not_allowed',
    });
    const service = await emulator.mintServiceToken(SERVICE_TOKEN.clientId);
    expect(await send('post', '/api/work/tasks', service)).toEqual({
      status: 403,
      reason: 'people_only',
    });
  });

  it('sees WARP turned off and a posture result grown too old during the session', async () => {
    const alice = await person('alice@example.com');
    expect((await send('post', '/api/work/tasks', alice)).status).toBe(201);

    emulator.updateDevice('alice@example.com', { warp: false });
    await sleep(1_100);
    expect(await send('post', '/api/work/tasks', alice)).toEqual({
      status: 403,
      reason: 'warp_required',
    });

    emulator.resetDevices('alice@example.com');
    emulator.updateDevice('alice@example.com', {
      posture: { [DISK]: { ageSeconds: 11 * 60 } },
    });
    await sleep(1_100);
    expect(await send('post', '/api/work/tasks', alice)).toEqual({
      status: 403,
      reason: 'posture_stale',
    });
  });

  it.each([
    ['missing timestamps', { [DISK]: { id: DISK, success: true } }],
    ['success as a string', { [DISK]: { success: 'true' } }],
    ['a list', [{ id: DISK, success: true }]],
    [
      'thousands of entries',
      Object.fromEntries(
        Array.from({ length: 3000 }, (_, i) => [
          `rule-${i}`,
          { success: true, timestamp: new Date().toISOString() },
        ]),
      ),
    ],
  ])(
    'refuses malformed posture data (%s) with a 403, never a 5xx',
    async (_, devicePosture) => {
      emulator.updateDevice('alice@example.com', { devicePosture });
      const res = await send(
        'post',
        '/api/work/tasks',
        await person('alice@example.com'),
      );
      expect(res.status).toBe(403);
      expect(['posture_required', 'posture_stale']).toContain(res.reason);
    },
  );
});
