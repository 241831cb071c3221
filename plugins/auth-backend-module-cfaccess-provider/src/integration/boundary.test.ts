/*
 * The Access boundary in a real backend: createBackend() from
 * @backstage/backend-defaults (real auth, httpAuth, discovery, database on
 * in-memory better-sqlite3, the real root HTTP router on a real port) with
 * `rootHttpRouterServiceFactory({ configure: withCloudflareAccessBoundary() })`,
 * the auth backend with the cfaccess module (or a custom module through
 * cloudflareAccessServiceRef), the real catalog backend reading Users from a
 * file, and two small plugins: `echo` answers with the principal
 * httpAuth.credentials() sees, `caller` calls other plugins with
 * auth.getPluginRequestToken(). Cloudflare Access (certs, get-identity) is
 * msw; everything on 127.0.0.1 is real HTTP. Ports 7610-7629 are this
 * suite's.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import type { JsonObject } from '@backstage/types';
import authPlugin from '@backstage/plugin-auth-backend';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { createNoopMeter, Meter, metrics } from '@opentelemetry/api';
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
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
import { authModuleCfAccessProvider as cfaccessModule } from '../module';
import { withCloudflareAccessBoundary } from '../boundary';

jest.setTimeout(60_000);

// ---------------------------------------------------------------------------
// Cloudflare Access (msw): certs and get-identity, counted

const access = {
  key: undefined as unknown as TestKey,
  identityHits: 0,
  certsHits: 0,
};

const people: Record<string, { id: string; name: string }> = {
  'jane@example.com': { id: 'jane-idp-id', name: 'Jane Doe' },
  'bob@example.com': { id: 'bob-idp-id', name: 'Bob Builder' },
  'nobody@example.com': { id: 'nobody-idp-id', name: 'No Body' },
};

const accessServer = setupServer(
  http.get(CERTS_URL, () => {
    access.certsHits += 1;
    return HttpResponse.json({ keys: [access.key.publicJwk] });
  }),
  http.get(IDENTITY_URL, ({ request: req }) => {
    access.identityHits += 1;
    const token = /CF_Authorization=([^;]+)/.exec(
      req.headers.get('cookie') ?? '',
    )?.[1];
    const email = token ? String(decodeJwt(token).email) : '';
    const person = people[email];
    if (!person) {
      return new HttpResponse(null, { status: 401 });
    }
    return HttpResponse.json({
      ...person,
      email,
      groups: [],
      idp: { id: 'idp1', type: 'oidc' },
    });
  }),
);

// Tokens use the real clock: the backends do.
const clock = new TestClock();

/** An Access application token of a person: a new assertion on every call. */
function personToken(email: string, nonce: string, extra: object = {}) {
  clock.ms = Date.now();
  return mintToken(
    access.key,
    userClaims(clock, {
      email,
      sub: `sub-${email}`,
      identity_nonce: nonce,
      jti: randomUUID(),
      ...extra,
    }),
  );
}

/** An Access application token of the service token: a new assertion on every call. */
function serviceToken(extra: object = {}) {
  clock.ms = Date.now();
  return mintToken(
    access.key,
    serviceClaims(clock, { jti: randomUUID(), ...extra }),
  );
}

// ---------------------------------------------------------------------------
// What the backends log and count

/** The boundary's counter, read through a meter provider of our own. */
const measurements: Array<{ value: number; attributes: object }> = [];
function recordingMeter(): Meter {
  const noop = createNoopMeter();
  return new Proxy(noop, {
    get(target, property) {
      if (property === 'createCounter') {
        return (name: string, options?: object) => {
          const counter = target.createCounter(name, options);
          return name === 'cfaccess.boundary.requests'
            ? {
                add(value: number, attributes: object = {}) {
                  measurements.push({ value, attributes });
                },
              }
            : counter;
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
const counted = (attributes: object) =>
  measurements.filter(m =>
    Object.entries(attributes).every(
      ([k, v]) => (m.attributes as Record<string, unknown>)[k] === v,
    ),
  ).length;

// ---------------------------------------------------------------------------
// The test plugins

/** The principal, and a digest of the Authorization header the route got (never a token). */
function describePrincipal(principal: any) {
  if (principal.type === 'user') {
    return {
      type: 'user',
      userEntityRef: principal.userEntityRef,
      ...(principal.actor && { actor: principal.actor.subject }),
    };
  }
  if (principal.type === 'service') {
    return { type: 'service', subject: principal.subject };
  }
  return { type: principal.type };
}

const digest = (value: unknown) =>
  typeof value === 'string'
    ? createHash('sha256').update(value).digest('hex')
    : null;

const echoPlugin = createBackendPlugin({
  pluginId: 'echo',
  register(env) {
    env.registerInit({
      deps: {
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        userInfo: coreServices.userInfo,
      },
      async init({ httpRouter, httpAuth, userInfo }) {
        httpRouter.use(async (req, res, next) => {
          try {
            if (req.method === 'GET' && req.path === '/whoami') {
              const { principal } = await httpAuth.credentials(req);
              res.json({
                ...describePrincipal(principal),
                authorization: digest(req.headers.authorization),
              });
              return;
            }
            if (req.method === 'GET' && req.path === '/ownership') {
              const credentials = await httpAuth.credentials(req, {
                allow: ['user'],
              });
              const info = await userInfo.getUserInfo(credentials);
              res.json(info);
              return;
            }
            if (req.path === '/open' || req.path.startsWith('/hooks/')) {
              res.json({ open: req.path });
              return;
            }
            next();
          } catch (error) {
            next(error);
          }
        });
        httpRouter.addAuthPolicy({ path: '/open', allow: 'unauthenticated' });
        httpRouter.addAuthPolicy({ path: '/hooks', allow: 'unauthenticated' });
      },
    });
  },
});

/**
 * `GET /api/caller/call?as=own|user&aud=<plugin>&to=<plugin>&path=<path>&forwardAccess=1`:
 * calls `to` with a plugin token addressed to `aud`, on its own or on behalf
 * of the user calling it; answers with the status and body it got.
 */
const callerPlugin = createBackendPlugin({
  pluginId: 'caller',
  register(env) {
    env.registerInit({
      deps: {
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        auth: coreServices.auth,
        discovery: coreServices.discovery,
      },
      async init({ httpRouter, httpAuth, auth, discovery }) {
        httpRouter.use(async (req, res, next) => {
          if (req.method !== 'GET' || req.path !== '/call') {
            next();
            return;
          }
          try {
            const query = req.query as Record<string, string | undefined>;
            const onBehalfOf =
              query.as === 'user'
                ? await httpAuth.credentials(req, { allow: ['user'] })
                : await auth.getOwnServiceCredentials();
            const { token } = await auth.getPluginRequestToken({
              onBehalfOf,
              targetPluginId: query.aud ?? 'echo',
            });
            const headers: Record<string, string> = {
              authorization: `Bearer ${token}`,
            };
            const assertion = req.headers['cf-access-jwt-assertion'];
            if (query.forwardAccess && typeof assertion === 'string') {
              headers['cf-access-jwt-assertion'] = assertion;
            }
            const inner = await fetch(
              `${await discovery.getBaseUrl(query.to ?? 'echo')}${
                query.path ?? '/whoami'
              }`,
              { headers },
            );
            const text = await inner.text();
            res.json({
              status: inner.status,
              body: text ? JSON.parse(text) : null,
              // The inner answer must not carry the token either.
              leaked: text.includes(token),
            });
          } catch (error) {
            next(error);
          }
        });
      },
    });
  },
});

/** A custom module registering the cfaccess provider through cloudflareAccessServiceRef, counting sign-in resolutions. */
const resolutions: string[] = [];
const countingCfaccessModule = localPartCfaccessModule(ref =>
  resolutions.push(ref),
);

// ---------------------------------------------------------------------------
// Backends

const STATIC_LISTED = 'listed-static-token-0123456789';
const STATIC_UNLISTED = 'unlisted-static-token-0123456789';
const STATIC_RESTRICTED = 'restricted-static-token-0123456789';
const STATIC_CATALOG_ONLY = 'catalog-only-static-token-0123456789';

let usersDir: string;
let usersFile: string;

/** The config of a test backend; `cfaccess` overrides the provider's settings (`undefined` removes one). */
function backendConfig(
  port: number,
  cfaccess: Record<string, unknown> = {},
): JsonObject {
  const config = {
    app: { baseUrl: 'http://localhost:3000' },
    backend: {
      baseUrl: `http://127.0.0.1:${port}`,
      listen: { host: '127.0.0.1', port },
      database: { client: 'better-sqlite3', connection: ':memory:' },
      cors: { origin: 'http://localhost:3000', credentials: true },
      auth: {
        externalAccess: [
          {
            type: 'static',
            options: { token: STATIC_LISTED, subject: 'listed-robot' },
          },
          {
            type: 'static',
            options: { token: STATIC_UNLISTED, subject: 'unlisted-robot' },
          },
          {
            type: 'static',
            options: { token: STATIC_RESTRICTED, subject: 'restricted-robot' },
            accessRestrictions: [{ plugin: 'echo' }],
          },
          {
            type: 'static',
            options: {
              token: STATIC_CATALOG_ONLY,
              subject: 'catalog-only-robot',
            },
            accessRestrictions: [{ plugin: 'catalog' }],
          },
        ],
      },
    },
    auth: {
      providers: {
        cfaccess: {
          teamName: 'testteam',
          audience: AUD,
          serviceTokens: [
            { token: SERVICE_CLIENT_ID, subject: 'user:default/ci-bot' },
          ],
          signIn: {
            resolvers: [
              { resolver: 'serviceTokenSubject' },
              { resolver: 'emailMatchingUserEntityProfileEmail' },
            ],
          },
          ...cfaccess,
        },
      },
    },
    catalog: {
      rules: [{ allow: ['User', 'Group', 'Location'] }],
      locations: [{ type: 'file', target: usersFile }],
    },
  };
  return JSON.parse(JSON.stringify(config));
}

// ---------------------------------------------------------------------------
// Requests, each answer checked: no 5xx but boundary_unavailable, no token
// in any body, refusals in Backstage's error shape

const JWT_PATTERN = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/;

function checkAnswer(
  res: { status: number; text: string; headers: Record<string, any> },
  sent: string[],
  path: string,
) {
  for (const value of sent) {
    expect(res.text).not.toContain(value);
  }
  if (res.status >= 500) {
    expect(JSON.parse(res.text).error.reason).toBe('boundary_unavailable');
  }
  const body = res.text.startsWith('{') ? JSON.parse(res.text) : undefined;
  if (body?.error?.reason) {
    // The boundary's refusal, or the provider's own: Backstage's error body,
    // never a token, never cached, no WWW-Authenticate.
    expect(body.response.statusCode).toBe(res.status);
    expect(body.error.message).toContain(`(${body.error.reason})`);
    expect(res.text).not.toMatch(JWT_PATTERN);
    expect(res.headers['www-authenticate']).toBeUndefined();
    if (body.error.message.startsWith('Cloudflare Access boundary')) {
      expect(res.headers['cache-control']).toBe('no-store');
      expect(body.request.url).toBe(path.split('?')[0]);
    }
  }
  if (!path.startsWith('/api/auth/cfaccess/refresh')) {
    // Only the sign-in route hands a token out.
    expect(res.text).not.toMatch(JWT_PATTERN);
  }
}

async function get(
  backend: TestBackend,
  path: string,
  headers: Record<string, string> = {},
  method: 'get' | 'post' | 'options' = 'get',
) {
  const res = await request(backend.base)[method](path).set(headers);
  const sent = Object.values(headers).flatMap(value =>
    value.split(/[\s,;=]+/).filter(part => part.length >= 16),
  );
  checkAnswer(res, sent, path);
  return res;
}

/** A request written on a plain socket: repeated headers and unnormalised paths go out as written. */
function raw(
  backend: TestBackend,
  path: string,
  headers: Array<[string, string]>,
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const socket = connect(backend.port, '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', chunk => {
      text += chunk;
    });
    socket.on('error', reject);
    socket.on('end', () => {
      const split = text.indexOf('\r\n\r\n');
      const head = text.slice(0, split);
      let body = text.slice(split + 4);
      if (/\r\ntransfer-encoding: chunked/i.test(head)) {
        let chunked = body;
        body = '';
        for (;;) {
          const end = chunked.indexOf('\r\n');
          const size = parseInt(chunked.slice(0, end), 16);
          if (!size) {
            break;
          }
          body += chunked.slice(end + 2, end + 2 + size);
          chunked = chunked.slice(end + 2 + size + 2);
        }
      }
      const status = Number(head.split(' ')[1]);
      const sent = headers
        .map(([, value]) => value)
        .flatMap(v => v.split(/[\s,;=]+/).filter(p => p.length >= 16));
      const lines = head.split('\r\n');
      const headerValues = Object.fromEntries(
        lines.slice(1).map(line => {
          const colon = line.indexOf(':');
          return [
            line.slice(0, colon).toLowerCase(),
            line.slice(colon + 1).trim(),
          ];
        }),
      );
      checkAnswer({ status, text: body, headers: headerValues }, sent, path);
      resolve({
        status,
        body: body.startsWith('{') ? JSON.parse(body) : body,
      });
    });
    socket.end(
      [
        `GET ${path} HTTP/1.1`,
        `Host: 127.0.0.1:${backend.port}`,
        ...headers.map(([name, value]) => `${name}: ${value}`),
        'Connection: close',
        '',
        '',
      ].join('\r\n'),
    );
  });
}

const assertion = (token: string) => ({ 'cf-access-jwt-assertion': token });

/** A Backstage token of the Access session, as the sign-in page gets it. */
async function backstageTokenOf(backend: TestBackend, accessToken: string) {
  const res = await get(
    backend,
    '/api/auth/cfaccess/refresh',
    assertion(accessToken),
  );
  expect(res.status).toBe(200);
  return res.body.backstageIdentity.token as string;
}

function expectRefusal(
  res: { status: number; body: any },
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
}

// ---------------------------------------------------------------------------

beforeAll(async () => {
  accessServer.listen({ onUnhandledRequest: errorUnlessLoopback });
  access.key = await createTestKey('kid-a');
  metrics.setGlobalMeterProvider({ getMeter: () => recordingMeter() });
  usersDir = mkdtempSync(join(tmpdir(), 'cfaccess-boundary-'));
  usersFile = join(usersDir, 'users.yaml');
  const user = (name: string, email: string) =>
    JSON.stringify({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: { name, namespace: 'default' },
      spec: { profile: { email }, memberOf: ['team-a'] },
    });
  writeFileSync(
    usersFile,
    [
      user('jane', 'jane@example.com'),
      user('bob', 'bob@example.com'),
      user('ci-bot', 'ci-bot@example.com'),
      JSON.stringify({
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Group',
        metadata: { name: 'team-a', namespace: 'default' },
        spec: { type: 'team', children: [] },
      }),
    ].join('\n---\n'),
  );
});

afterAll(() => {
  accessServer.close();
  metrics.disable();
  rmSync(usersDir, { recursive: true, force: true });
});

describe('a backend with the boundary in enforce mode, the cfaccess module and the catalog', () => {
  let backend: TestBackend;

  beforeAll(async () => {
    backend = await startBoundaryBackend({
      port: 7610,
      config: backendConfig(7610, {
        boundary: {
          exemptPaths: ['/api/echo/hooks/*'],
          dangerouslyAllowExternalAccessWithoutAccess: [
            'listed-robot',
            'restricted-robot',
          ],
        },
      }),
      features: [
        authPlugin,
        cfaccessModule,
        catalogPlugin,
        echoPlugin,
        callerPlugin,
        ...closeDatabasesOnShutdown(['auth', 'catalog', 'echo', 'caller']),
      ],
    });
    // The catalog reads the users file in the background: wait for its users.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await request(backend.base)
        .get('/api/catalog/entities/by-name/user/default/ci-bot')
        .set('authorization', `Bearer ${STATIC_LISTED}`);
      if (res.status === 200) {
        break;
      }
      if (Date.now() > deadline) {
        throw new Error(`the catalog has no users: ${res.status} ${res.text}`);
      }
      await new Promise(r => setTimeout(r, 250));
    }
  });

  afterAll(() => backend?.stop());

  beforeEach(() => {
    measurements.splice(0);
  });

  it('refuses a request without any credential with 401 missing_token, and logs and counts it', async () => {
    const res = await get(backend, '/api/echo/whoami');
    expectRefusal(res, 401, 'missing_token');
    expect(res.body).toEqual({
      error: {
        name: 'AuthenticationError',
        message:
          'Cloudflare Access boundary refused the request (missing_token): No Cloudflare Access application token was sent.',
        reason: 'missing_token',
      },
      request: { method: 'GET', url: '/api/echo/whoami' },
      response: { statusCode: 401 },
    });
    expect(counted({ outcome: 'refused', reason: 'missing_token' })).toBe(1);
    expect(backend.logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: expect.stringMatching(
          /^Cloudflare Access boundary refused GET "\/api\/echo\/whoami" \(missing_token\): "no Access application token and no Backstage token"; make sure the request passes through Cloudflare Access/,
        ),
        meta: expect.objectContaining({
          service: 'cfaccess-boundary',
          reason: 'missing_token',
        }),
      }),
    );
  });

  it('refuses even routes that allow unauthenticated access, and every plugin', async () => {
    expectRefusal(await get(backend, '/api/echo/open'), 401, 'missing_token');
    expectRefusal(
      await get(backend, '/api/catalog/entities'),
      401,
      'missing_token',
    );
    expectRefusal(
      await get(backend, '/api/auth/cfaccess/refresh'),
      401,
      'missing_token',
    );
    // An OPTIONS that is not a CORS preflight is a request like any other.
    expectRefusal(
      await get(backend, '/api/echo/whoami', {}, 'options'),
      401,
      'missing_token',
    );
  });

  it('signs an Access-only person in: the plugin sees user:default/jane', async () => {
    const token = await personToken('jane@example.com', 'jane-1');
    const res = await get(backend, '/api/echo/whoami', assertion(token));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      type: 'user',
      userEntityRef: 'user:default/jane',
    });
    expect(res.body.actor).toBeUndefined();
    expect(res.body.authorization).not.toBeNull();
    expect(counted({ outcome: 'passed', via: 'access_signed_in' })).toBe(1);

    // The same through the CF_Authorization cookie, as a browser sends it.
    const viaCookie = await get(backend, '/api/echo/whoami', {
      cookie: `CF_Authorization=${await personToken(
        'jane@example.com',
        'jane-1',
      )}`,
    });
    expect(viaCookie.status).toBe(200);
    expect(viaCookie.body.userEntityRef).toBe('user:default/jane');

    // and Backstage's user-info service reaches the auth backend through the boundary
    const ownership = await get(
      backend,
      '/api/echo/ownership',
      assertion(token),
    );
    expect(ownership.status).toBe(200);
    expect(ownership.body.userEntityRef).toBe('user:default/jane');
    expect(ownership.body.ownershipEntityRefs).toEqual(
      expect.arrayContaining(['user:default/jane', 'group:default/team-a']),
    );
    // over loopback, with Jane's token and no Access token
    expect(counted({ outcome: 'passed', via: 'user_info' })).toBe(1);
  });

  it('signs an Access-only service token in as its configured subject', async () => {
    const res = await get(
      backend,
      '/api/echo/whoami',
      assertion(await serviceToken()),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      type: 'user',
      userEntityRef: 'user:default/ci-bot',
    });
  });

  it('answers a person Backstage has no user for with 403 user_not_found', async () => {
    const res = await get(
      backend,
      '/api/echo/whoami',
      assertion(await personToken('nobody@example.com', 'nobody-1')),
    );
    expectRefusal(res, 403, 'user_not_found');
  });

  it.each(['/API/echo/whoami', '/Api/echo/whoami', '/aPI/Echo/whoami?x=/api/'])(
    'reads %s as the plugin route the router takes it for: no user, no pass',
    async path => {
      expectRefusal(
        await get(
          backend,
          path,
          assertion(await personToken('nobody@example.com', 'nobody-1')),
        ),
        403,
        'user_not_found',
      );
      const janeToken = await backstageTokenOf(
        backend,
        await personToken('jane@example.com', 'jane-1'),
      );
      expectRefusal(
        await get(backend, path, {
          ...assertion(await personToken('bob@example.com', 'bob-1')),
          authorization: `Bearer ${janeToken}`,
        }),
        403,
        'identity_mismatch',
      );
    },
  );

  it.each([
    ['expired', { exp: Math.floor(Date.now() / 1000) - 3600 }],
    ['wrong_audience', { aud: ['another-application'] }],
  ])(
    'refuses an Access token that fails verification (%s) with the reason',
    async (reason, claims) => {
      const res = await get(
        backend,
        '/api/echo/whoami',
        assertion(await personToken('jane@example.com', 'jane-1', claims)),
      );
      expectRefusal(res, 401, reason);
    },
  );

  it('refuses a forged Access token with bad_signature or unknown_kid', async () => {
    const forger = await createTestKey('kid-a');
    clock.ms = Date.now();
    const forged = await mintToken(forger, userClaims(clock));
    expectRefusal(
      await get(backend, '/api/echo/whoami', assertion(forged)),
      401,
      'bad_signature',
    );
    const unknownKid = await mintToken(
      await createTestKey('kid-z'),
      userClaims(clock),
    );
    expectRefusal(
      await get(backend, '/api/echo/whoami', assertion(unknownKid)),
      401,
      'unknown_kid',
    );
  });

  describe('exempt paths', () => {
    it('lets a configured prefix through without Access', async () => {
      const res = await get(backend, '/api/echo/hooks/github');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ open: '/hooks/github' });
      expect(counted({ outcome: 'passed', via: 'exempt' })).toBe(1);
      expect(
        (await get(backend, '/api/echo/hooks/github/push', {}, 'post')).status,
      ).toBe(200);
    });

    it.each([
      '/api/echo/hooks',
      '/api/echo/hooks/',
      '/api/echo/hooks/../whoami',
      '/api/echo/hooks/%2e%2e/whoami',
      '/api/echo/hooks/..%2fwhoami',
      '/api/echo/hooks//github',
      '/api/echo/HOOKS/github',
      '/api/echo/hooks/./github',
      '/api/echo/hooks/github/',
    ])('does not exempt %s', async path => {
      const res = await raw(backend, path, []);
      expectRefusal(res, 401, 'missing_token');
    });
  });

  describe("Backstage's public keys", () => {
    it.each([
      '/api/echo/.backstage/auth/v1/jwks.json',
      '/api/catalog/.backstage/auth/v1/jwks.json',
      '/api/auth/.backstage/auth/v1/jwks.json',
      '/api/auth/.well-known/jwks.json',
    ])('serves %s without credentials', async path => {
      const res = await get(backend, path);
      expect(res.status).toBe(200);
      expect(Array.isArray(res.body.keys)).toBe(true);
    });

    it('does not pass other paths that merely end like them', async () => {
      expectRefusal(
        await raw(backend, '/api/echo/whoami/.backstage/auth/v1/jwks.json', []),
        401,
        'missing_token',
      );
      expectRefusal(
        await raw(
          backend,
          '/api/echo/.backstage/auth/v1/jwks.json/../../../whoami',
          [],
        ),
        401,
        'missing_token',
      );
      expectRefusal(
        await get(backend, '/api/auth/.well-known/openid-configuration'),
        401,
        'missing_token',
      );
    });
  });

  describe('CORS preflight', () => {
    it("is answered by Backstage's CORS middleware before the boundary for an allowed origin", async () => {
      const res = await get(
        backend,
        '/api/echo/whoami',
        {
          origin: 'http://localhost:3000',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
        'options',
      );
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(
        'http://localhost:3000',
      );
      expect(res.headers['access-control-allow-credentials']).toBe('true');
    });

    it('gives another origin nothing', async () => {
      const res = await get(
        backend,
        '/api/echo/whoami',
        {
          origin: 'https://evil.example',
          'access-control-request-method': 'GET',
        },
        'options',
      );
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.status).not.toBe(200);
      expect(res.status).toBeLessThan(500);
    });
  });

  describe('a Backstage token', () => {
    it('alone, without Access, is refused with 401 missing_token', async () => {
      const token = await backstageTokenOf(
        backend,
        await personToken('jane@example.com', 'jane-1'),
      );
      expectRefusal(
        await get(backend, '/api/echo/whoami', {
          authorization: `Bearer ${token}`,
        }),
        401,
        'missing_token',
      );
      expectRefusal(
        await get(backend, '/api/catalog/entities', {
          authorization: `Bearer ${token}`,
        }),
        401,
        'missing_token',
      );
      expectRefusal(
        await get(backend, '/api/echo/whoami', {
          cookie: `backstage-auth=${token}`,
        }),
        401,
        'missing_token',
      );
      // Only the user-info route takes it without Access: Backstage's own loopback call.
      const userInfo = await get(backend, '/api/auth/v1/userinfo', {
        authorization: `Bearer ${token}`,
      });
      expect(userInfo.status).toBe(200);
      expect(userInfo.body.claims.sub).toBe('user:default/jane');
      expect(counted({ outcome: 'passed', via: 'user_info' })).toBe(1);
      expectRefusal(
        await get(
          backend,
          '/api/auth/v1/userinfo',
          { authorization: `Bearer ${token}` },
          'post',
        ),
        401,
        'missing_token',
      );
      expectRefusal(
        await get(backend, '/api/auth/v1/userinfo'),
        401,
        'missing_token',
      );
    });

    it('of the same user as the Access session passes, and is not replaced', async () => {
      const jane = await personToken('jane@example.com', 'jane-1');
      const token = await backstageTokenOf(backend, jane);
      measurements.splice(0);
      const res = await get(backend, '/api/echo/whoami', {
        ...assertion(await personToken('jane@example.com', 'jane-1')),
        authorization: `Bearer ${token}`,
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        type: 'user',
        userEntityRef: 'user:default/jane',
        // the very header the client sent
        authorization: digest(`Bearer ${token}`),
      });
      expect(counted({ outcome: 'passed', via: 'access' })).toBe(1);

      // A new Access login of the same person still matches.
      const relogin = await get(backend, '/api/echo/whoami', {
        ...assertion(await personToken('jane@example.com', 'jane-2')),
        authorization: `Bearer ${token}`,
      });
      expect(relogin.status).toBe(200);
      expect(relogin.body.authorization).toBe(digest(`Bearer ${token}`));
    });

    it("of another user than the Access session's is refused with 403 identity_mismatch", async () => {
      const janeToken = await backstageTokenOf(
        backend,
        await personToken('jane@example.com', 'jane-1'),
      );
      const res = await get(backend, '/api/echo/whoami', {
        ...assertion(await personToken('bob@example.com', 'bob-1')),
        authorization: `Bearer ${janeToken}`,
      });
      expectRefusal(res, 403, 'identity_mismatch');
      expect(res.body.error.name).toBe('NotAllowedError');
      expect(backend.logs).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          message: expect.stringMatching(
            /\(identity_mismatch\) for "bob@example\.com": "the Backstage token is user:default\/jane's, the Access session signs in as user:default\/bob"; /,
          ),
        }),
      );
      // The service token's session is not Jane either.
      expectRefusal(
        await get(backend, '/api/echo/whoami', {
          ...assertion(await serviceToken()),
          authorization: `Bearer ${janeToken}`,
        }),
        403,
        'identity_mismatch',
      );
    });

    it("in Backstage's cookie is bound the same way", async () => {
      const jane = await personToken('jane@example.com', 'jane-1');
      // The cookie as Backstage issues it, through the boundary.
      const issued = await get(
        backend,
        '/api/echo/.backstage/auth/v1/cookie',
        assertion(jane),
      );
      expect(issued.status).toBe(200);
      const setCookie = ([] as string[])
        .concat(issued.headers['set-cookie'] ?? [])
        .find(c => c.startsWith('backstage-auth='));
      expect(setCookie).toBeDefined();
      const cookie = setCookie!.split(';')[0];

      const same = await get(backend, '/api/echo/open', {
        ...assertion(await personToken('jane@example.com', 'jane-1')),
        cookie,
      });
      expect(same.status).toBe(200);
      // A route that reads no cookie sees the session's user too.
      const whoami = await get(backend, '/api/echo/whoami', {
        ...assertion(await personToken('jane@example.com', 'jane-1')),
        cookie,
      });
      expect(whoami.status).toBe(200);
      expect(whoami.body).toMatchObject({
        type: 'user',
        userEntityRef: 'user:default/jane',
      });
      expectRefusal(
        await get(backend, '/api/echo/open', {
          ...assertion(await personToken('bob@example.com', 'bob-1')),
          cookie,
        }),
        403,
        'identity_mismatch',
      );
    });

    it('from a plugin passes with Access, and the plugin sees the plugin', async () => {
      const res = await get(
        backend,
        '/api/caller/call?as=own&forwardAccess=1',
        assertion(await personToken('jane@example.com', 'jane-1')),
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        status: 200,
        body: { type: 'service', subject: 'plugin:caller' },
        leaked: false,
      });
    });
  });

  describe('an Authorization header that is not a Backstage token', () => {
    it.each([
      ['Bearer oauth:abc'],
      ['Basic dXNlcjpwYXNzd29yZA=='],
      ['Bearer not-a-backstage-token'],
      ['Token xyz'],
    ])('%s with Access: served as the Access user', async value => {
      const res = await get(backend, '/api/echo/whoami', {
        ...assertion(await personToken('jane@example.com', 'jane-1')),
        authorization: value,
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        type: 'user',
        userEntityRef: 'user:default/jane',
      });
      expect(res.body.authorization).not.toBe(digest(value));
    });

    it('without Access: refused with 401 missing_token', async () => {
      for (const value of ['Bearer oauth:abc', 'Basic dXNlcjpwYXNzd29yZA==']) {
        expectRefusal(
          await get(backend, '/api/echo/whoami', { authorization: value }),
          401,
          'missing_token',
        );
      }
    });
  });

  describe('conflicting credentials', () => {
    it('refuses two Access headers, or a header and a cookie that differ, with 401 conflicting_tokens', async () => {
      const jane = await personToken('jane@example.com', 'jane-1');
      const bob = await personToken('bob@example.com', 'bob-1');
      for (const headers of [
        [
          ['Cf-Access-Jwt-Assertion', jane],
          ['Cf-Access-Jwt-Assertion', jane],
        ],
        [
          ['Cf-Access-Jwt-Assertion', jane],
          ['cf-access-jwt-assertion', bob],
        ],
        [
          ['Cf-Access-Jwt-Assertion', jane],
          ['Cookie', `CF_Authorization=${bob}`],
        ],
        [['Cookie', `CF_Authorization=${jane}; CF_Authorization=${bob}`]],
      ] as Array<Array<[string, string]>>) {
        expectRefusal(
          await raw(backend, '/api/echo/whoami', headers),
          401,
          'conflicting_tokens',
        );
      }
    });

    it('refuses two Authorization credentials with 401 conflicting_credentials', async () => {
      const jane = await personToken('jane@example.com', 'jane-1');
      const janeToken = await backstageTokenOf(backend, jane);
      for (const headers of [
        [
          ['Authorization', `Bearer ${janeToken}`],
          ['Authorization', `Bearer ${janeToken}`],
        ],
        [['Authorization', `Bearer ${janeToken}, Basic dXNlcjpwYXNz`]],
        [['Authorization', `Bearer ${janeToken} ${janeToken}`]],
        [
          [
            'Cookie',
            `backstage-auth=${janeToken}; backstage-auth=${janeToken}`,
          ],
        ],
      ] as Array<Array<[string, string]>>) {
        expectRefusal(
          await raw(backend, '/api/echo/whoami', [
            ['Cf-Access-Jwt-Assertion', jane],
            ...headers,
          ]),
          401,
          'conflicting_credentials',
        );
      }
    });
  });

  describe('plugin to plugin', () => {
    it('passes without Access, for the plugin on its own', async () => {
      const res = await get(
        backend,
        '/api/caller/call?as=own',
        assertion(await personToken('jane@example.com', 'jane-1')),
      );
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        status: 200,
        body: {
          type: 'service',
          subject: 'plugin:caller',
          authorization: expect.any(String),
        },
        leaked: false,
      });
      expect(
        counted({ outcome: 'passed', via: 'plugin' }),
      ).toBeGreaterThanOrEqual(1);
    });

    it('passes without Access, on behalf of the user', async () => {
      const res = await get(
        backend,
        '/api/caller/call?as=user',
        assertion(await personToken('jane@example.com', 'jane-1')),
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        status: 200,
        body: {
          type: 'user',
          userEntityRef: 'user:default/jane',
          actor: 'plugin:caller',
        },
        leaked: false,
      });
    });

    it('reaches the real catalog', async () => {
      const res = await get(
        backend,
        '/api/caller/call?as=own&aud=catalog&to=catalog&path=/entities/by-name/user/default/jane',
        assertion(await personToken('jane@example.com', 'jane-1')),
      );
      expect(res.body).toMatchObject({
        status: 200,
        body: { kind: 'User', metadata: { name: 'jane' } },
      });
    });

    it('refuses a plugin token addressed to another plugin with 401', async () => {
      const res = await get(
        backend,
        '/api/caller/call?as=own&aud=catalog&to=echo',
        assertion(await personToken('jane@example.com', 'jane-1')),
      );
      expect(res.status).toBe(200);
      expect(res.body.leaked).toBe(false);
      expect(res.body.status).toBe(401);
      expect(res.body.body.error.reason).toBe('missing_token');
    });

    it('refuses a plugin token signed by another key with 401', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      const now = Math.floor(Date.now() / 1000);
      for (const sub of ['caller', 'auth', 'no-such-plugin', '../catalog']) {
        const forged = await new SignJWT({})
          .setProtectedHeader({
            alg: 'ES256',
            typ: 'vnd.backstage.plugin',
            kid: 'forged',
          })
          .setSubject(sub)
          .setAudience('echo')
          .setIssuedAt(now)
          .setExpirationTime(now + 600)
          .sign(privateKey);
        expectRefusal(
          await get(backend, '/api/echo/whoami', {
            authorization: `Bearer ${forged}`,
          }),
          401,
          'missing_token',
        );
      }
    });
  });

  describe('backend.auth.externalAccess', () => {
    it('refuses a static token without Access unless its subject is listed', async () => {
      expectRefusal(
        await get(backend, '/api/echo/whoami', {
          authorization: `Bearer ${STATIC_UNLISTED}`,
        }),
        401,
        'missing_token',
      );
      const listed = await get(backend, '/api/echo/whoami', {
        authorization: `Bearer ${STATIC_LISTED}`,
      });
      expect(listed.status).toBe(200);
      expect(listed.body).toMatchObject({
        type: 'service',
        subject: 'listed-robot',
      });
      expect(counted({ outcome: 'passed', via: 'external' })).toBe(1);
    });

    it('passes a static token with Access, not replaced by the Access user', async () => {
      const res = await get(backend, '/api/echo/whoami', {
        ...assertion(await personToken('jane@example.com', 'jane-1')),
        authorization: `Bearer ${STATIC_UNLISTED}`,
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        type: 'service',
        subject: 'unlisted-robot',
        authorization: digest(`Bearer ${STATIC_UNLISTED}`),
      });
    });

    it('passes a listed static token restricted to the plugin it calls', async () => {
      const res = await get(backend, '/api/echo/whoami', {
        authorization: `Bearer ${STATIC_RESTRICTED}`,
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        type: 'service',
        subject: 'restricted-robot',
      });
    });

    it('refuses a static token restricted to some plugin without Access unless its subject is listed', async () => {
      expectRefusal(
        await get(backend, '/api/catalog/entities', {
          authorization: `Bearer ${STATIC_CATALOG_ONLY}`,
        }),
        401,
        'missing_token',
      );
    });

    it('leaves a static token restricted to another plugin to that plugin, with Access', async () => {
      // Not replaced by the Access user's token: the plugin refuses it itself.
      const res = await get(backend, '/api/echo/whoami', {
        ...assertion(await personToken('jane@example.com', 'jane-1')),
        authorization: `Bearer ${STATIC_CATALOG_ONLY}`,
      });
      expect(res.status).toBe(403);
      expect(res.body.error.name).toBe('NotAllowedError');
      expect(res.body.error.reason).toBeUndefined();
      expect(res.body.error.message).toContain('restricted');
    });

    it('passes a static token restricted to the plugin it calls with Access, not replaced by the Access user', async () => {
      const res = await get(backend, '/api/echo/whoami', {
        ...assertion(await personToken('jane@example.com', 'jane-1')),
        authorization: `Bearer ${STATIC_RESTRICTED}`,
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        type: 'service',
        subject: 'restricted-robot',
      });
    });
  });
});

describe('one sign-in per Access session (a custom module through cloudflareAccessServiceRef)', () => {
  let backend: TestBackend;
  let certsBefore: number;

  beforeAll(async () => {
    certsBefore = access.certsHits;
    backend = await startBoundaryBackend({
      port: 7611,
      config: backendConfig(7611, { signIn: undefined }),
      features: [
        authPlugin,
        countingCfaccessModule,
        echoPlugin,
        ...closeDatabasesOnShutdown(['auth', 'echo']),
      ],
    });
  });

  afterAll(() => backend?.stop());

  beforeEach(() => {
    resolutions.splice(0);
    access.identityHits = 0;
  });

  it('resolves a service token sending a new assertion on every request once, with no get-identity', async () => {
    const sent = new Set<string>();
    for (let i = 0; i < 5; i += 1) {
      const token = await serviceToken();
      sent.add(token);
      const res = await get(backend, '/api/echo/whoami', assertion(token));
      expect(res.status).toBe(200);
      expect(res.body.userEntityRef).toBe('user:default/ci-bot');
    }
    expect(sent.size).toBe(5);
    expect(resolutions).toEqual(['user:default/ci-bot']);
    // A service token has no identity to fetch.
    expect(access.identityHits).toBe(0);
  });

  it('resolves a person sending a new assertion on every request once, with one get-identity', async () => {
    for (let i = 0; i < 4; i += 1) {
      const res = await get(
        backend,
        '/api/echo/whoami',
        assertion(await personToken('jane@example.com', 'session-a')),
      );
      expect(res.status).toBe(200);
      expect(res.body.userEntityRef).toBe('user:default/jane');
    }
    expect(resolutions).toEqual(['user:default/jane']);
    expect(access.identityHits).toBe(1);
  });

  it('resolves concurrent first requests of one session once', async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, async () =>
        get(
          backend,
          '/api/echo/whoami',
          assertion(await personToken('bob@example.com', 'session-concurrent')),
        ),
      ),
    );
    expect(answers.map(a => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(resolutions).toEqual(['user:default/bob']);
    expect(access.identityHits).toBe(1);
  });

  it('shares the sign-in of an Access-only request with /refresh of the same session', async () => {
    const first = await get(
      backend,
      '/api/echo/whoami',
      assertion(await personToken('jane@example.com', 'session-b')),
    );
    expect(first.status).toBe(200);
    const refreshed = await get(
      backend,
      '/api/auth/cfaccess/refresh',
      assertion(await personToken('jane@example.com', 'session-b')),
    );
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/jane',
    );
    expect(resolutions).toEqual(['user:default/jane']);
    expect(access.identityHits).toBe(1);
    // The token /refresh hands out is the one the request was served with.
    expect(first.body.authorization).toBe(
      digest(`Bearer ${refreshed.body.backstageIdentity.token}`),
    );
  });

  it('shares the sign-in of /refresh with the Access-only requests that follow', async () => {
    const refreshed = await get(
      backend,
      '/api/auth/cfaccess/refresh',
      assertion(await personToken('bob@example.com', 'session-c')),
    );
    expect(refreshed.status).toBe(200);
    const next = await get(
      backend,
      '/api/echo/whoami',
      assertion(await personToken('bob@example.com', 'session-c')),
    );
    expect(next.body.userEntityRef).toBe('user:default/bob');
    expect(resolutions).toEqual(['user:default/bob']);
    expect(access.identityHits).toBe(1);
  });

  it('signs a new Access login (a new identity_nonce) in again', async () => {
    await get(
      backend,
      '/api/echo/whoami',
      assertion(await personToken('jane@example.com', 'session-d')),
    );
    await get(
      backend,
      '/api/echo/whoami',
      assertion(await personToken('jane@example.com', 'session-e')),
    );
    expect(resolutions).toEqual(['user:default/jane', 'user:default/jane']);
    expect(access.identityHits).toBe(2);
  });

  it('fetched the certs once for the boundary and the sign-in route together', () => {
    expect(access.certsHits - certsBefore).toBe(1);
  });
});

describe('a backend with the boundary in report mode', () => {
  let backend: TestBackend;

  beforeAll(async () => {
    backend = await startBoundaryBackend({
      port: 7612,
      config: backendConfig(7612, {
        signIn: undefined,
        boundary: { mode: 'report' },
      }),
      features: [
        authPlugin,
        countingCfaccessModule,
        echoPlugin,
        ...closeDatabasesOnShutdown(['auth', 'echo']),
      ],
    });
  });

  afterAll(() => backend?.stop());

  beforeEach(() => {
    measurements.splice(0);
  });

  it('passes a request enforce refuses, and logs and counts it', async () => {
    const res = await get(backend, '/api/echo/open');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ open: '/open' });
    expect(counted({ outcome: 'reported', reason: 'missing_token' })).toBe(1);
    expect(counted({ outcome: 'refused' })).toBe(0);
    expect(backend.logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: expect.stringMatching(
          /^Cloudflare Access boundary would refuse \(report mode\) GET "\/api\/echo\/open" \(missing_token\): "no Access application token and no Backstage token"; /,
        ),
      }),
    );
    expect(backend.logs).toContainEqual(
      expect.objectContaining({
        level: 'info',
        message: expect.stringMatching(
          /^Cloudflare Access boundary in report mode in front of every plugin route/,
        ),
      }),
    );
  });

  it('leaves a Backstage token alone to the plugin, which takes it', async () => {
    const token = await backstageTokenOf(
      backend,
      await personToken('jane@example.com', 'report-1'),
    );
    const res = await get(backend, '/api/echo/whoami', {
      authorization: `Bearer ${token}`,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      type: 'user',
      userEntityRef: 'user:default/jane',
    });
    expect(counted({ outcome: 'reported', reason: 'missing_token' })).toBe(1);
  });

  it('passes an identity mismatch and conflicting tokens as they came', async () => {
    const janeToken = await backstageTokenOf(
      backend,
      await personToken('jane@example.com', 'report-1'),
    );
    const mismatch = await get(backend, '/api/echo/whoami', {
      ...assertion(await personToken('bob@example.com', 'report-2')),
      authorization: `Bearer ${janeToken}`,
    });
    expect(mismatch.status).toBe(200);
    expect(mismatch.body.userEntityRef).toBe('user:default/jane');
    expect(counted({ outcome: 'reported', reason: 'identity_mismatch' })).toBe(
      1,
    );
    const jane = await personToken('jane@example.com', 'report-1');
    const conflicting = await raw(backend, '/api/echo/open', [
      ['Cf-Access-Jwt-Assertion', jane],
      ['Cf-Access-Jwt-Assertion', jane],
    ]);
    expect(conflicting.status).toBe(200);
    expect(counted({ outcome: 'reported', reason: 'conflicting_tokens' })).toBe(
      1,
    );
  });

  it('still signs an Access-only caller in', async () => {
    const res = await get(
      backend,
      '/api/echo/whoami',
      assertion(await personToken('bob@example.com', 'report-3')),
    );
    expect(res.status).toBe(200);
    expect(res.body.userEntityRef).toBe('user:default/bob');
    expect(counted({ outcome: 'passed', via: 'access_signed_in' })).toBe(1);
  });
});

describe('a backend with the boundary off', () => {
  it('lets requests through without Access, and warns at startup', async () => {
    const backend = await startBoundaryBackend({
      port: 7613,
      config: backendConfig(7613, {
        signIn: undefined,
        boundary: { mode: 'off' },
      }),
      features: [
        authPlugin,
        countingCfaccessModule,
        echoPlugin,
        ...closeDatabasesOnShutdown(['auth', 'echo']),
      ],
    });
    try {
      const res = await get(backend, '/api/echo/open');
      expect(res.status).toBe(200);
      expect(backend.logs).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          message: expect.stringMatching(
            /^Cloudflare Access boundary is off \(auth\.providers\.cfaccess\.boundary\.mode\)/,
          ),
        }),
      );
    } finally {
      await backend.stop();
    }
  });
});

describe('a backend with the boundary but no cfaccess provider', () => {
  let backend: TestBackend;

  beforeAll(async () => {
    backend = await startBoundaryBackend({
      port: 7614,
      config: backendConfig(7614, { signIn: undefined }),
      features: [
        authPlugin,
        echoPlugin,
        callerPlugin,
        ...closeDatabasesOnShutdown(['auth', 'echo', 'caller']),
      ],
    });
  });

  afterAll(() => backend?.stop());

  it('logs the error at startup', () => {
    expect(backend.logs).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: expect.stringMatching(
          /^Cloudflare Access boundary: no cfaccess sign-in provider was registered through cloudflareAccessServiceRef; every request except the exempt ones is refused with 503 boundary_unavailable/,
        ),
      }),
    );
  });

  it('answers every request with 503 boundary_unavailable', async () => {
    const requests: Array<Record<string, string>> = [
      {},
      assertion(await personToken('jane@example.com', 'none-1')),
      { authorization: `Bearer ${STATIC_LISTED}` },
    ];
    for (const headers of requests) {
      const res = await get(backend, '/api/echo/whoami', headers);
      expectRefusal(res, 503, 'boundary_unavailable');
      expect(res.body.error.name).toBe('ServiceUnavailableError');
    }
  });

  it("still serves Backstage's public keys", async () => {
    const res = await get(backend, '/api/echo/.backstage/auth/v1/jwks.json');
    expect(res.status).toBe(200);
  });
});

describe('startup', () => {
  it('fails when the configure mounts no plugin routes', async () => {
    await expect(
      startBoundaryBackend({
        port: 7615,
        config: backendConfig(7615, { signIn: undefined }),
        features: [authPlugin, countingCfaccessModule],
        configure: withCloudflareAccessBoundary(ctx => {
          ctx.app.use(ctx.healthRouter);
        }),
      }),
    ).rejects.toThrow(
      /The Cloudflare Access boundary found no plugin routes to go in front of: the configure passed to withCloudflareAccessBoundary must call applyDefaults\(\) or app\.use\(routes\)/,
    );
  });

  it('starts with a configure of its own that mounts the routes', async () => {
    const backend = await startBoundaryBackend({
      port: 7616,
      config: backendConfig(7616, { signIn: undefined }),
      features: [
        authPlugin,
        countingCfaccessModule,
        echoPlugin,
        ...closeDatabasesOnShutdown(['auth', 'echo']),
      ],
      configure: withCloudflareAccessBoundary(ctx => {
        ctx.app.use(ctx.healthRouter);
        ctx.app.use(ctx.routes);
        ctx.app.use(ctx.middleware.notFound());
        ctx.app.use(ctx.middleware.error());
      }),
    });
    try {
      expectRefusal(await get(backend, '/api/echo/open'), 401, 'missing_token');
      const res = await get(
        backend,
        '/api/echo/whoami',
        assertion(await personToken('jane@example.com', 'own-configure')),
      );
      expect(res.status).toBe(200);
      expect(res.body.userEntityRef).toBe('user:default/jane');
    } finally {
      await backend.stop();
    }
  });

  it.each([
    [{ mode: 'block' }, /auth\.providers\.cfaccess\.boundary\.mode /],
    [
      { exemptPaths: ['/api/events/../catalog/*'] },
      /auth\.providers\.cfaccess\.boundary\.exemptPaths\[0\] must be a plain path/,
    ],
    [
      { exemptPath: ['/api/webhook'] },
      /auth\.providers\.cfaccess\.boundary\.exemptPath is not a boundary setting/,
    ],
  ])(
    'fails with boundary config %j naming the key',
    async (boundary, message) => {
      await expect(
        startBoundaryBackend({
          port: 7617,
          config: backendConfig(7617, { signIn: undefined, boundary }),
          features: [authPlugin, countingCfaccessModule],
        }),
      ).rejects.toThrow(message);
    },
  );
});
