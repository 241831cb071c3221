/*
 * The Access boundary's rules in a real backend: createBackend() with the
 * real root HTTP router and withCloudflareAccessBoundary(), the auth backend
 * with a custom cfaccess module (through cloudflareAccessServiceRef), and a
 * `work` plugin whose routes the rules protect and which reads the Access
 * context through cloudflareAccessContextServiceRef. Cloudflare Access
 * (certs, get-identity with device facts the tests change) is msw;
 * everything on 127.0.0.1 is real HTTP. Ports 7630-7639 are this suite's.
 */
import { randomUUID } from 'node:crypto';
import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import authPlugin from '@backstage/plugin-auth-backend';
import type { JsonObject } from '@backstage/types';
import { decodeJwt } from 'jose';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import request from 'supertest';
import {
  AUD,
  CERTS_URL,
  closeDatabasesOnShutdown,
  createTestKey,
  errorUnlessLoopback,
  IDENTITY_URL,
  mintToken,
  OTHER_AUD,
  SERVICE_CLIENT_ID,
  serviceClaims,
  TestClock,
  TestKey,
  userClaims,
} from '../__testUtils__/fixtures';
import {
  localPartCfaccessModule,
  startBoundaryBackend,
  TestBackend,
} from '../__testUtils__/boundaryBackend';
import { cloudflareAccessContextServiceRef } from '../context';
import { MAX_POSTURE_RESULTS } from '../context/devicePosture';

jest.setTimeout(60_000);

// ---------------------------------------------------------------------------
// Cloudflare Access (msw): certs, and get-identity answering each person's
// current device facts

const DISK = 'disk-encryption-rule-id';
const FIREWALL = 'firewall-rule-id';

const access = { key: undefined as unknown as TestKey };

/** What get-identity adds to each person's answer; `'down'`: HTTP 500. */
const devices: Record<string, JsonObject | 'down'> = {};
const identityHits: Record<string, number> = {};

const posture = (ruleId: string, success: boolean, ageSeconds = 0) => ({
  id: ruleId,
  rule_name: ruleId === DISK ? 'Disk encryption (Access)' : 'Firewall',
  type: ruleId === DISK ? 'disk_encryption' : 'firewall',
  success,
  timestamp: new Date(Date.now() - ageSeconds * 1000).toISOString(),
  description: '',
  error: '',
  check: {},
  data: {},
});

/** A managed laptop: WARP on, both checks passed just now, signed in through Okta. */
const managedDevice = (): JsonObject => ({
  is_warp: true,
  is_gateway: true,
  device_id: 'laptop-1',
  idp: { id: 'okta-id', type: 'okta' },
  devicePosture: {
    [DISK]: posture(DISK, true),
    [FIREWALL]: posture(FIREWALL, true),
  },
});

const accessServer = setupServer(
  http.get(CERTS_URL, () =>
    HttpResponse.json({ keys: [access.key.publicJwk] }),
  ),
  http.get(IDENTITY_URL, ({ request: req }) => {
    const token = /CF_Authorization=([^;]+)/.exec(
      req.headers.get('cookie') ?? '',
    )?.[1];
    const email = token ? String(decodeJwt(token).email) : '';
    identityHits[email] = (identityHits[email] ?? 0) + 1;
    const device = devices[email];
    if (device === 'down') {
      return new HttpResponse(null, { status: 500 });
    }
    return HttpResponse.json({
      id: `id-${email}`,
      name: email,
      email,
      groups: [],
      ...device,
    });
  }),
);

const clock = new TestClock();

/** A person's application token; each email is its own Access session. */
function personToken(email: string, extra: object = {}) {
  clock.ms = Date.now();
  return mintToken(
    access.key,
    userClaims(clock, {
      email,
      sub: `sub-${email}`,
      identity_nonce: `nonce-${email}`,
      jti: randomUUID(),
      country: 'DE',
      ...extra,
    }),
  );
}

function serviceToken(extra: object = {}) {
  clock.ms = Date.now();
  return mintToken(
    access.key,
    serviceClaims(clock, { jti: randomUUID(), country: 'DE', ...extra }),
  );
}

let people = 0;
/** A new person (a new Access session) with the given device facts. */
function person(device: JsonObject | 'down' = managedDevice()) {
  people += 1;
  const email = `person-${people}@example.com`;
  devices[email] = device;
  return email;
}

// ---------------------------------------------------------------------------
// The backend

const cfaccessModule = localPartCfaccessModule();

/**
 * `POST /tasks`, `GET /geo`, `/idp`, `/strict`, `/quick`: the routes rules
 * protect, answering with the caller's Access context. `GET /context`: the
 * context, unprotected. `POST /run`: calls `POST /tasks` with the plugin's
 * own token, as the scaffolder calls the catalog.
 */
const workPlugin = createBackendPlugin({
  pluginId: 'work',
  register(env) {
    env.registerInit({
      deps: {
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        auth: coreServices.auth,
        discovery: coreServices.discovery,
        accessContext: cloudflareAccessContextServiceRef,
      },
      async init({ httpRouter, httpAuth, auth, discovery, accessContext }) {
        httpRouter.use(async (req, res, next) => {
          try {
            if (req.method === 'POST' && req.path.startsWith('/run')) {
              // /run: on its own; /run-for-user: on behalf of the person calling.
              const onBehalfOf =
                req.path === '/run-for-user'
                  ? await httpAuth.credentials(req, { allow: ['user'] })
                  : await auth.getOwnServiceCredentials();
              const { token } = await auth.getPluginRequestToken({
                onBehalfOf,
                targetPluginId: 'work',
              });
              const inner = await fetch(
                `${await discovery.getBaseUrl('work')}${
                  req.query.to ?? '/tasks'
                }`,
                {
                  method: 'POST',
                  headers: { authorization: `Bearer ${token}` },
                },
              );
              res.json({ status: inner.status, body: await inner.json() });
              return;
            }
            const maxAge = req.query.maxAge;
            let context;
            try {
              context = await accessContext.forRequest(
                req,
                typeof maxAge === 'string'
                  ? { maxIdentityAgeSeconds: Number(maxAge) }
                  : {},
              );
            } catch (error) {
              if (error instanceof TypeError) {
                res.status(400).json({ misuse: error.message });
                return;
              }
              throw error;
            }
            const { principal } = (await httpAuth.credentials(req)) as {
              principal: { type: string };
            };
            res.status(req.method === 'POST' ? 201 : 200).json({
              path: req.path,
              principal: principal.type,
              context: context ?? null,
            });
          } catch (error) {
            next(error);
          }
        });
        httpRouter.addAuthPolicy({ path: '/', allow: 'unauthenticated' });
      },
    });
  },
});

const RULES = [
  {
    name: 'Run tasks',
    match: ['POST /api/work/tasks', '/api/work/admin/*'],
    require: {
      peopleOnly: true,
      warp: true,
      devicePosture: [{ rule: DISK, name: 'Disk encryption', maxAge: '10m' }],
    },
    identityMaxAge: '2s',
  },
  {
    match: 'GET /api/work/quick',
    require: { devicePosture: [{ rule: FIREWALL, maxAge: '2s' }] },
    identityMaxAge: '1s',
  },
  { match: 'GET /api/work/geo', require: { countries: ['de', 'FR'] } },
  { match: 'GET /api/work/idp', require: { identityProviders: ['okta-id'] } },
  {
    match: 'GET /api/work/idp-type',
    require: { identityProviders: ['onetimepin'] },
  },
  { match: 'GET /api/work/strict', require: { accessApplication: OTHER_AUD } },
  {
    name: 'Deploy',
    match: 'POST /api/work/deploy',
    require: { warp: true },
    refuseCallsOnBehalfOfPeople: true,
  },
  {
    name: 'Agents',
    match: 'POST /api/work/agents',
    appliesTo: 'people',
    require: { warp: true },
  },
  {
    name: 'CI',
    match: 'POST /api/work/ci',
    appliesTo: 'serviceTokens',
    require: { countries: ['FR'] },
  },
];

function backendConfig(port: number, boundary: JsonObject): JsonObject {
  return {
    app: { baseUrl: 'http://localhost:3000' },
    backend: {
      baseUrl: `http://127.0.0.1:${port}`,
      listen: { host: '127.0.0.1', port },
      database: { client: 'better-sqlite3', connection: ':memory:' },
    },
    auth: {
      providers: {
        cfaccess: {
          teamName: 'testteam',
          audience: [AUD, OTHER_AUD],
          serviceTokens: [
            { token: SERVICE_CLIENT_ID, subject: 'user:default/ci-bot' },
          ],
          boundary,
        },
      },
    },
  };
}

const features = () => [
  authPlugin,
  cfaccessModule,
  workPlugin,
  ...closeDatabasesOnShutdown(['auth', 'work']),
];

async function send(
  backend: TestBackend,
  method: 'get' | 'post',
  path: string,
  token?: string,
) {
  const req = request(backend.base)[method](path);
  return token ? req.set('cf-access-jwt-assertion', token) : req;
}

function expectRefusal(
  res: { status: number; body: any; text: string },
  status: number,
  reason: string,
) {
  expect({ status: res.status, reason: res.body?.error?.reason }).toEqual({
    status,
    reason,
  });
  expect(res.body.error.message).toMatch(
    new RegExp(
      `^Cloudflare Access boundary refused the request \\(${reason}\\): `,
    ),
  );
  expect(res.text).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\./);
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

beforeAll(async () => {
  access.key = await createTestKey('rules-key');
  accessServer.listen({ onUnhandledRequest: errorUnlessLoopback });
});

afterAll(() => accessServer.close());

describe('boundary rules in enforce mode', () => {
  let backend: TestBackend;

  beforeAll(async () => {
    backend = await startBoundaryBackend({
      port: 7630,
      config: backendConfig(7630, { rules: RULES }),
      features: features(),
    });
  });

  afterAll(() => backend?.stop());

  describe('WARP and device posture', () => {
    it('lets a managed device run a task, and the route sees its Access context', async () => {
      const email = person();
      const res = await send(
        backend,
        'post',
        '/api/work/tasks',
        await personToken(email),
      );
      expect(res.status).toBe(201);
      const { context } = res.body;
      expect(context).toMatchObject({
        tokenType: 'user',
        email,
        country: 'DE',
        audiences: [AUD],
        identity: {
          available: true,
          identityProvider: { id: 'okta-id', type: 'okta' },
          device: { id: 'laptop-1', warp: true, gateway: true },
        },
      });
      expect(context.identity.device.posture).toContainEqual(
        expect.objectContaining({
          ruleId: DISK,
          name: 'Disk encryption (Access)',
          success: true,
        }),
      );
      expect(Date.now() - context.identity.fetchedAt).toBeLessThan(10_000);
      expect(identityHits[email]).toBe(1);
    });

    it('refuses a device without WARP with 403 warp_required', async () => {
      const email = person({ ...managedDevice(), is_warp: false });
      const res = await send(
        backend,
        'post',
        '/api/work/tasks',
        await personToken(email),
      );
      expectRefusal(res, 403, 'warp_required');
      expect(res.body).toEqual({
        error: {
          name: 'NotAllowedError',
          message:
            'Cloudflare Access boundary refused the request (warp_required): This needs the Cloudflare WARP client: turn WARP on, connect, and try again.',
          reason: 'warp_required',
        },
        request: { method: 'POST', url: '/api/work/tasks' },
        response: { statusCode: 403 },
      });
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('refuses a failed posture check with 403 posture_required, naming the check', async () => {
      const email = person({
        ...managedDevice(),
        devicePosture: { [DISK]: posture(DISK, false) },
      });
      const res = await send(
        backend,
        'post',
        '/api/work/tasks',
        await personToken(email),
      );
      expectRefusal(res, 403, 'posture_required');
      expect(res.body.error.requirement).toEqual({
        postureCheck: 'Disk encryption',
      });
      expect(res.body.error.message).toMatch(
        / Posture check: "Disk encryption"\.$/,
      );
      const logged = backend.logs.find(
        line =>
          line.meta.reason === 'posture_required' &&
          line.message.includes(email),
      );
      expect(logged?.message).toContain(
        `boundary rule \\"Run tasks\\": posture rule ${DISK} did not pass`,
      );
    });

    it('refuses a device with no result for the check, and a result older than maxAge', async () => {
      const missing = person({
        ...managedDevice(),
        devicePosture: { [FIREWALL]: posture(FIREWALL, true) },
      });
      expectRefusal(
        await send(
          backend,
          'post',
          '/api/work/tasks',
          await personToken(missing),
        ),
        403,
        'posture_required',
      );
      const old = person({
        ...managedDevice(),
        devicePosture: { [DISK]: posture(DISK, true, 11 * 60) },
      });
      const res = await send(
        backend,
        'post',
        '/api/work/tasks',
        await personToken(old),
      );
      expectRefusal(res, 403, 'posture_stale');
      expect(res.body.error.requirement).toEqual({
        postureCheck: 'Disk encryption',
      });
    });

    it('refuses a result that ages past the limit during the session', async () => {
      // Checked once, at a fixed time; the rule allows 2 s and reads get-identity again after 1 s.
      const email = person({
        ...managedDevice(),
        devicePosture: { [FIREWALL]: posture(FIREWALL, true) },
      });
      const token = await personToken(email);
      expect(
        (await send(backend, 'get', '/api/work/quick', token)).status,
      ).toBe(200);
      await sleep(2_300);
      expectRefusal(
        await send(backend, 'get', '/api/work/quick', token),
        403,
        'posture_stale',
      );
    });

    it('sees posture and WARP that change mid-session once identityMaxAge has passed, with one fetch', async () => {
      const email = person();
      const token = await personToken(email);
      expect(
        (await send(backend, 'post', '/api/work/tasks', token)).status,
      ).toBe(201);
      devices[email] = {
        ...managedDevice(),
        devicePosture: { [DISK]: posture(DISK, false) },
      };
      await sleep(2_200);
      const [first, second] = await Promise.all([
        send(backend, 'post', '/api/work/tasks', token),
        send(backend, 'post', '/api/work/tasks', token),
      ]);
      expectRefusal(first, 403, 'posture_required');
      expectRefusal(second, 403, 'posture_required');
      // The first request, and one fetch for the two that found it too old.
      expect(identityHits[email]).toBe(2);

      devices[email] = managedDevice();
      await sleep(2_200);
      expect(
        (await send(backend, 'post', '/api/work/tasks', token)).status,
      ).toBe(201);
      devices[email] = { ...managedDevice(), is_warp: false };
      await sleep(2_200);
      expectRefusal(
        await send(backend, 'post', '/api/work/tasks', token),
        403,
        'warp_required',
      );
    });

    it('answers 503 access_context_unavailable when get-identity fails, and passes once it answers', async () => {
      const email = person('down');
      const token = await personToken(email);
      expectRefusal(
        await send(backend, 'post', '/api/work/tasks', token),
        503,
        'access_context_unavailable',
      );
      devices[email] = managedDevice();
      expect(
        (await send(backend, 'post', '/api/work/tasks', token)).status,
      ).toBe(201);
    });

    it('protects every spelling of the path that could reach the route', async () => {
      const token = await personToken(
        person({ ...managedDevice(), is_warp: false }),
      );
      for (const path of [
        '/api/work/tasks/',
        '/api/WORK/Tasks',
        '/api/work//tasks',
        '/api/work/./tasks',
        '/api/work/x/../tasks',
        '/api/work/%74asks',
        '/api/work/admin/anything/below',
      ]) {
        const res = await send(backend, 'post', path, token);
        expect({ path, status: res.status }).toEqual({ path, status: 403 });
        expect(res.body.error.reason).toBe('warp_required');
      }
      // Another method, or a path the rule does not name, is not the rule's.
      expect(
        (await send(backend, 'get', '/api/work/tasks', token)).status,
      ).toBe(200);
      expect(
        (await send(backend, 'post', '/api/work/tasks-report', token)).status,
      ).toBe(201);
    });
  });

  describe('malformed posture data from get-identity', () => {
    const cases: Array<[string, unknown, string]> = [
      [
        'a result without timestamp',
        { [DISK]: { ...posture(DISK, true), timestamp: undefined } },
        'posture_stale',
      ],
      [
        'a timestamp without time zone',
        {
          [DISK]: { ...posture(DISK, true), timestamp: '2026-12-07T10:00:00' },
        },
        'posture_stale',
      ],
      [
        'a timestamp far in the future',
        {
          [DISK]: {
            ...posture(DISK, true),
            timestamp: new Date(Date.now() + 3_600_000).toISOString(),
          },
        },
        'posture_stale',
      ],
      [
        'success as the string "true"',
        { [DISK]: { ...posture(DISK, true), success: 'true' } },
        'posture_required',
      ],
      ['a result that is a string', { [DISK]: 'passed' }, 'posture_required'],
      ['devicePosture as a list', [posture(DISK, true)], 'posture_required'],
      ['devicePosture as a string', 'ok', 'posture_required'],
      ['devicePosture null', null, 'posture_required'],
      [
        'the result past thousands of others',
        Object.fromEntries([
          ...Array.from({ length: 5000 }, (_, i) => [
            `rule-${i}`,
            posture(`rule-${i}`, true),
          ]),
          [DISK, posture(DISK, true)],
        ]),
        'posture_required',
      ],
    ];
    it.each(cases)('%s: refused, never a 5xx', async (_, value, reason) => {
      const email = person({ ...managedDevice(), devicePosture: value as any });
      const res = await send(
        backend,
        'post',
        '/api/work/tasks',
        await personToken(email),
      );
      expectRefusal(res, 403, reason);
    });

    it('keeps the first results of a long list', async () => {
      const email = person({
        ...managedDevice(),
        devicePosture: Object.fromEntries([
          [DISK, posture(DISK, true)],
          ...Array.from({ length: MAX_POSTURE_RESULTS * 4 }, (_, i) => [
            `rule-${i}`,
            posture(`rule-${i}`, false),
          ]),
        ]),
      });
      const res = await send(
        backend,
        'post',
        '/api/work/tasks',
        await personToken(email),
      );
      expect(res.status).toBe(201);
      expect(res.body.context.identity.device.posture).toHaveLength(
        MAX_POSTURE_RESULTS,
      );
    });

    it('reads is_warp only as the boolean true', async () => {
      const email = person({ ...managedDevice(), is_warp: 'true' });
      expectRefusal(
        await send(
          backend,
          'post',
          '/api/work/tasks',
          await personToken(email),
        ),
        403,
        'warp_required',
      );
    });
  });

  describe('country, identity provider, Access application', () => {
    it('allows the listed countries, in any case, and refuses others and none', async () => {
      const email = person();
      expect(
        (await send(backend, 'get', '/api/work/geo', await personToken(email)))
          .status,
      ).toBe(200);
      expect(
        (
          await send(
            backend,
            'get',
            '/api/work/geo',
            await personToken(email, { country: 'fr' }),
          )
        ).status,
      ).toBe(200);
      for (const country of ['US', '', undefined]) {
        expectRefusal(
          await send(
            backend,
            'get',
            '/api/work/geo',
            await personToken(email, { country }),
          ),
          403,
          'country_not_allowed',
        );
      }
    });

    it('allows the listed identity provider by id or type, and refuses another', async () => {
      const okta = await personToken(person());
      expect((await send(backend, 'get', '/api/work/idp', okta)).status).toBe(
        200,
      );
      expectRefusal(
        await send(backend, 'get', '/api/work/idp-type', okta),
        403,
        'identity_provider_not_allowed',
      );
      const pin = await personToken(
        person({
          ...managedDevice(),
          idp: { id: 'pin-id', type: 'onetimepin' },
        }),
      );
      expect(
        (await send(backend, 'get', '/api/work/idp-type', pin)).status,
      ).toBe(200);
      expectRefusal(
        await send(backend, 'get', '/api/work/idp', pin),
        403,
        'identity_provider_not_allowed',
      );
    });

    it('requires a token of the stricter Access application', async () => {
      const email = person();
      expectRefusal(
        await send(
          backend,
          'get',
          '/api/work/strict',
          await personToken(email),
        ),
        403,
        'access_application_required',
      );
      expect(
        (
          await send(
            backend,
            'get',
            '/api/work/strict',
            await personToken(email, { aud: [OTHER_AUD] }),
          )
        ).status,
      ).toBe(200);
    });
  });

  describe('service tokens and Backstage’s own calls', () => {
    it('refuses a service token on a rule for people, without asking get-identity', async () => {
      const before = identityHits[''] ?? 0;
      expectRefusal(
        await send(backend, 'post', '/api/work/tasks', await serviceToken()),
        403,
        'people_only',
      );
      expectRefusal(
        await send(backend, 'get', '/api/work/idp', await serviceToken()),
        403,
        'identity_provider_not_allowed',
      );
      expect(identityHits[''] ?? 0).toBe(before);
    });

    it('lets a service token through a rule it meets, and shows its context', async () => {
      const res = await send(
        backend,
        'get',
        '/api/work/geo',
        await serviceToken(),
      );
      expect(res.status).toBe(200);
      expect(res.body.context).toMatchObject({
        tokenType: 'service',
        email: '',
        serviceTokenClientId: SERVICE_CLIENT_ID,
        identity: { available: false },
      });
    });

    it("passes a plugin's own call to a protected route (the scaffolder calling the catalog)", async () => {
      const email = person({ ...managedDevice(), is_warp: false });
      const res = await send(
        backend,
        'post',
        '/api/work/run',
        await personToken(email),
      );
      expect(res.status).toBe(200);
      // The inner call carries a plugin token and no Access token: no context, no rule.
      expect(res.body).toEqual({
        status: 201,
        body: { path: '/tasks', principal: 'service', context: null },
      });
    });

    it("passes a plugin's call on behalf of the person, unless the rule refuses such calls", async () => {
      const token = await personToken(
        person({ ...managedDevice(), is_warp: false }),
      );
      // As the scaffolder calls the catalog for the person running a template.
      const forPerson = await send(
        backend,
        'post',
        '/api/work/run-for-user',
        token,
      );
      expect(forPerson.body).toMatchObject({
        status: 201,
        body: { path: '/tasks', principal: 'user', context: null },
      });
      // A rule with refuseCallsOnBehalfOfPeople: the device was never checked for this call.
      const refused = await send(
        backend,
        'post',
        '/api/work/run-for-user?to=/deploy',
        token,
      );
      expect(refused.body).toMatchObject({
        status: 401,
        body: { error: { reason: 'missing_token' } },
      });
      // The plugin's own call (no person behind it) still passes.
      const own = await send(
        backend,
        'post',
        '/api/work/run?to=/deploy',
        token,
      );
      expect(own.body).toMatchObject({ status: 201 });
      expect(
        backend.logs.some(line =>
          line.message.includes(
            'boundary rule \\"Deploy\\" refuses plugin calls on behalf of a person',
          ),
        ),
      ).toBe(true);
    });
  });

  describe('rules for some callers (appliesTo)', () => {
    it('holds people to a rule for people, and lets service tokens pass it', async () => {
      const noWarp = await personToken(
        person({ ...managedDevice(), is_warp: false }),
      );
      expectRefusal(
        await send(backend, 'post', '/api/work/agents', noWarp),
        403,
        'warp_required',
      );
      const managed = await personToken(person());
      expect(
        (await send(backend, 'post', '/api/work/agents', managed)).status,
      ).toBe(201);
      const ci = await send(
        backend,
        'post',
        '/api/work/agents',
        await serviceToken(),
      );
      expect(ci.status).toBe(201);
      expect(ci.body.context).toMatchObject({ tokenType: 'service' });
    });

    it('holds service tokens to a rule for service tokens, and lets people pass it', async () => {
      expectRefusal(
        await send(backend, 'post', '/api/work/ci', await serviceToken()),
        403,
        'country_not_allowed',
      );
      expect(
        (
          await send(
            backend,
            'post',
            '/api/work/ci',
            await serviceToken({ country: 'FR' }),
          )
        ).status,
      ).toBe(201);
      expect(
        (
          await send(
            backend,
            'post',
            '/api/work/ci',
            await personToken(person()),
          )
        ).status,
      ).toBe(201);
    });

    it('still refuses a caller without an Access token on a rule for people', async () => {
      expectRefusal(
        await send(backend, 'post', '/api/work/agents'),
        401,
        'missing_token',
      );
    });
  });

  describe('the Access context service', () => {
    it('fetches get-identity again when asked for a fresher answer than the cached one', async () => {
      const email = person();
      const token = await personToken(email);
      const first = await send(backend, 'get', '/api/work/context', token);
      expect(first.body.context.identity.device.warp).toBe(true);
      devices[email] = { ...managedDevice(), is_warp: false };
      // Cached: the same answer, no new fetch.
      const cached = await send(backend, 'get', '/api/work/context', token);
      expect(cached.body.context.identity.device.warp).toBe(true);
      expect(identityHits[email]).toBe(1);
      await sleep(1_100);
      const fresh = await send(
        backend,
        'get',
        '/api/work/context?maxAge=1',
        token,
      );
      expect(fresh.body.context.identity.device.warp).toBe(false);
      expect(fresh.body.context.identity.fetchedAt).toBeGreaterThan(
        first.body.context.identity.fetchedAt,
      );
      expect(identityHits[email]).toBe(2);
    });

    it('refuses a maximum age that is not a finite number, rather than reading it as 1 s', async () => {
      const token = await personToken(person());
      const res = await send(
        backend,
        'get',
        '/api/work/context?maxAge=Infinity',
        token,
      );
      expect(res.status).toBe(400);
      expect(res.body.misuse).toBe(
        'maxIdentityAgeSeconds must be a finite number of seconds, got Infinity',
      );
    });

    it('rejects a forged Access token with 401', async () => {
      const token = await personToken(person());
      const [head, payload] = token.split('.');
      const forged = `${head}.${payload}.${'A'.repeat(342)}`;
      const res = await request(backend.base)
        .get('/api/work/context')
        .set('cf-access-jwt-assertion', forged);
      expect(res.status).toBe(401);
    });
  });
});

describe('boundary rules in report mode', () => {
  let backend: TestBackend;

  beforeAll(async () => {
    backend = await startBoundaryBackend({
      port: 7631,
      config: backendConfig(7631, { mode: 'report', rules: RULES }),
      features: features(),
    });
  });

  afterAll(() => backend?.stop());

  it('passes a request that fails a rule, and logs what enforce would refuse', async () => {
    const email = person({ ...managedDevice(), is_warp: false });
    const res = await send(
      backend,
      'post',
      '/api/work/tasks',
      await personToken(email),
    );
    expect(res.status).toBe(201);
    // As it would have passed: signed in with the session's Backstage token.
    expect(res.body.principal).toBe('user');
    expect(backend.logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: expect.stringContaining(
          'would refuse (report mode) POST "/api/work/tasks" (warp_required)',
        ),
      }),
    );
  });
});

describe('a rule that cannot be met', () => {
  it('stops the backend from starting, naming the key', async () => {
    await expect(
      startBoundaryBackend({
        port: 7632,
        config: backendConfig(7632, {
          rules: [
            {
              match: 'POST /api/work/tasks',
              require: { devicePosture: [{ rule: DISK, maxAge: '0s' }] },
            },
          ],
        }),
        features: features(),
      }),
    ).rejects.toThrow(
      'auth.providers.cfaccess.boundary.rules[0].require.devicePosture[0].maxAge must be between 1 second and 30 days',
    );
  });
});
