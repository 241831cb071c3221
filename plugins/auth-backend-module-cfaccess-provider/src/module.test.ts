import request from 'supertest';
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import {
  authProvidersExtensionPoint,
  createProxyAuthProviderFactory,
} from '@backstage/plugin-auth-node';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import type { JsonObject } from '@backstage/types';
import {
  AUD,
  closeAuthDatabaseOnShutdown,
  createAccessServer,
  createTestKey,
  errorUnlessLoopback,
  mintToken,
  SERVICE_CLIENT_ID,
  serviceClaims,
  TestClock,
  TestKey,
  userClaims,
} from './__testUtils__/fixtures';
import authPlugin from '@backstage/plugin-auth-backend';
import cfaccessModule, { createCloudflareAccessAuthenticator } from './index';
import { KeyRefresher } from './keyRefresher';

const { server, state } = createAccessServer();

const entities = [
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name: 'jane', namespace: 'default' },
    spec: { profile: { email: 'jane@example.com' }, memberOf: ['team-a'] },
  },
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name: 'ci-bot', namespace: 'default' },
    spec: { profile: { email: 'ci-bot@example.com' } },
  },
];

function baseConfig(providerConfig: Record<string, unknown>) {
  return mockServices.rootConfig.factory({
    data: {
      app: { baseUrl: 'http://localhost:3000' },
      backend: { baseUrl: 'http://localhost:7007' },
      auth: {
        providers: {
          cfaccess: {
            teamName: 'testteam',
            audience: AUD,
            serviceTokens: [
              { token: SERVICE_CLIENT_ID, subject: 'user:default/ci-bot' },
            ],
            ...providerConfig,
          },
        },
      },
    },
  });
}

const emailResolver = {
  signIn: {
    resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }],
  },
};

/** GET /refresh as Cloudflare forwards it: the token in the assertion header (none when omitted). */
function refresh(backend: { server: any }, token?: string) {
  const req = request(backend.server).get('/api/auth/cfaccess/refresh');
  return token ? req.set('cf-access-jwt-assertion', token) : req;
}

describe('auth backend with the cfaccess module', () => {
  let key: TestKey;
  // Tokens are minted against real time here: the backend uses the real clock.
  const clock = new TestClock();

  beforeAll(async () => {
    // supertest talks to the local test backend; everything else is mocked.
    server.listen({ onUnhandledRequest: errorUnlessLoopback });
    key = await createTestKey('kid-a');
  });
  afterAll(() => server.close());
  beforeEach(() => {
    clock.ms = Date.now();
    state.jwks = [key.publicJwk];
    state.certsStatus = 200;
    state.identityStatus = 200;
  });

  async function start(features: any[], providerConfig = {}) {
    return startTestBackend({
      features: [
        authPlugin,
        closeAuthDatabaseOnShutdown,
        baseConfig(providerConfig),
        catalogServiceMock.factory({ entities }),
        ...features,
      ],
    });
  }

  it('signs a user in through /api/auth/cfaccess/refresh', async () => {
    const backend = await start([cfaccessModule], emailResolver);
    try {
      const token = await mintToken(key, userClaims(clock));
      const res = await refresh(backend, token);
      expect(res.status).toBe(200);
      expect(res.body.backstageIdentity.identity).toMatchObject({
        userEntityRef: 'user:default/jane',
      });
      expect(res.body.profile).toEqual({
        email: 'jane@example.com',
        displayName: 'Jane Doe',
      });
      expect(res.body.providerInfo).toMatchObject({
        email: 'jane@example.com',
        groups: ['Platform Team', 'SRE'],
      });
      expect(JSON.stringify(res.body)).not.toContain(token);

      const viaCookie = await request(backend.server)
        .post('/api/auth/cfaccess/refresh')
        .set('cookie', `CF_Authorization=${token}`);
      expect(viaCookie.status).toBe(200);
    } finally {
      await backend.stop();
    }
  });

  describe('keys fetched at startup and refreshed in the background', () => {
    let starts: jest.SpyInstance;
    let stops: jest.SpyInstance;

    beforeEach(() => {
      starts = jest.spyOn(KeyRefresher.prototype, 'start');
      stops = jest.spyOn(KeyRefresher.prototype, 'stop');
      state.certsRequests = 0;
      state.identityRequests = 0;
    });
    afterEach(() => {
      starts.mockRestore();
      stops.mockRestore();
    });

    it('costs a new session one get-identity request, a known session none, a forged token none', async () => {
      const backend = await start([cfaccessModule], emailResolver);
      try {
        // The startup fetch runs without holding startup up; wait for it here.
        expect(starts).toHaveBeenCalledTimes(1);
        await starts.mock.results[0].value;
        expect(state.certsRequests).toBe(1);
        state.certsRequests = 0;

        const token = await mintToken(key, userClaims(clock));
        expect((await refresh(backend, token)).status).toBe(200);
        expect(state.certsRequests).toBe(0);
        expect(state.identityRequests).toBe(1);

        expect((await refresh(backend, token)).status).toBe(200);
        expect(state.certsRequests).toBe(0);
        expect(state.identityRequests).toBe(1);

        const forged = await mintToken(
          await createTestKey('kid-a'),
          userClaims(clock, { identity_nonce: 'forged' }),
        );
        expect((await refresh(backend, forged)).status).toBe(401);
        expect(state.certsRequests).toBe(0);
        expect(state.identityRequests).toBe(1);
      } finally {
        await backend.stop();
      }
      // The shutdown hook stopped the background refresh.
      expect(stops).toHaveBeenCalledTimes(1);
      expect((stops.mock.contexts[0] as KeyRefresher).isScheduled).toBe(false);
    });

    it('starts when certs is unreachable, and stops its retries on shutdown', async () => {
      state.certsStatus = 500;
      const backend = await start([cfaccessModule], emailResolver);
      try {
        await starts.mock.results[0].value;
        expect(state.certsRequests).toBe(1);
        const refresher = starts.mock.contexts[0] as KeyRefresher;
        expect(refresher.isScheduled).toBe(true);
      } finally {
        await backend.stop();
      }
      expect((starts.mock.contexts[0] as KeyRefresher).isScheduled).toBe(false);
    });
  });

  it('answers 401 with the reason code for bad tokens and 503 without keys', async () => {
    const backend = await start([cfaccessModule], emailResolver);
    try {
      const missing = await refresh(backend);
      expect(missing.status).toBe(401);
      expect(missing.body.error.message).toContain('(missing_token)');

      const expired = await refresh(
        backend,
        await mintToken(key, userClaims(clock, { exp: clock.seconds - 600 })),
      );
      expect(expired.status).toBe(401);
      expect(expired.body.error.message).toContain('(expired)');

      const wrongAud = await refresh(
        backend,
        await mintToken(key, userClaims(clock, { aud: ['nope'] })),
      );
      expect(wrongAud.status).toBe(401);
      expect(wrongAud.body.error.message).toContain('(wrong_audience)');
    } finally {
      await backend.stop();
    }
  });

  it('answers 503 keys_unavailable when certs cannot be fetched', async () => {
    state.certsStatus = 500;
    const backend = await start([cfaccessModule], emailResolver);
    try {
      const res = await refresh(
        backend,
        await mintToken(key, userClaims(clock)),
      );
      expect(res.status).toBe(503);
      expect(res.body.error.message).toContain('(keys_unavailable)');
    } finally {
      await backend.stop();
    }
  });

  it('signs service tokens in with serviceTokenSubject, and not with the user resolver', async () => {
    const backend = await start([cfaccessModule], {
      signIn: {
        resolvers: [
          { resolver: 'emailMatchingUserEntityProfileEmail' },
          { resolver: 'serviceTokenSubject' },
        ],
      },
    });
    try {
      const token = await mintToken(key, serviceClaims(clock));
      const res = await refresh(backend, token);
      expect(res.status).toBe(200);
      expect(res.body.backstageIdentity.identity.userEntityRef).toBe(
        'user:default/ci-bot',
      );
      const unknown = await refresh(
        backend,
        await mintToken(key, serviceClaims(clock, { common_name: 'x.access' })),
      );
      expect(unknown.status).toBe(401);
      expect(unknown.body.error.message).toContain('(unknown_service_token)');
    } finally {
      await backend.stop();
    }

    const userOnly = await start([cfaccessModule], emailResolver);
    try {
      const res = await refresh(
        userOnly,
        await mintToken(key, serviceClaims(clock)),
      );
      expect(res.status).not.toBe(200);
      expect(res.body.backstageIdentity).toBeUndefined();
    } finally {
      await userOnly.stop();
    }
  });

  describe('startup', () => {
    function startWith(auth: JsonObject) {
      return startTestBackend({
        features: [
          authPlugin,
          closeAuthDatabaseOnShutdown,
          cfaccessModule,
          catalogServiceMock.factory({ entities }),
          mockServices.rootConfig.factory({
            data: {
              app: { baseUrl: 'http://localhost:3000' },
              backend: { baseUrl: 'http://localhost:7007' },
              auth,
            },
          }),
        ],
      });
    }
    // Port 1 refuses connections: the startup key fetch reaches nothing on this machine.
    const local = {
      teamDomain: 'http://127.0.0.1:1',
      audience: AUD,
      ...emailResolver,
    };

    it('fails naming the key when a required value is missing', async () => {
      await expect(
        startWith({ providers: { cfaccess: { teamName: 'testteam' } } }),
      ).rejects.toThrow(/auth.providers.cfaccess.audience is required/);
    });

    it('fails when the module is installed but auth.providers.cfaccess is absent', async () => {
      await expect(startWith({ providers: {} })).rejects.toThrow(
        /auth.providers.cfaccess is required: the Cloudflare Access provider is installed but not configured/,
      );
    });

    it('refuses a loopback team domain unless auth.environment is development', async () => {
      await expect(
        startWith({ providers: { cfaccess: local } }),
      ).rejects.toThrow(
        /auth.providers.cfaccess.teamDomain must be https outside development, got http:\/\/127.0.0.1:1 \(auth.environment is not set\)/,
      );
      await expect(
        startWith({
          environment: 'production',
          providers: { cfaccess: local },
        }),
      ).rejects.toThrow(/\(auth.environment is "production"\)/);

      const backend = await startWith({
        environment: 'development',
        providers: { cfaccess: local },
      });
      await backend.stop();
    });
  });

  it('works with the seed-004 custom resolver pattern', async () => {
    const customAuth = createBackendModule({
      pluginId: 'auth',
      moduleId: 'custom-auth-provider',
      register(reg) {
        reg.registerInit({
          deps: {
            providers: authProvidersExtensionPoint,
            cache: coreServices.cache,
          },
          async init({ providers, cache }) {
            providers.registerProvider({
              providerId: 'cfaccess',
              factory: createProxyAuthProviderFactory({
                authenticator: createCloudflareAccessAuthenticator({ cache }),
                async signInResolver(info, ctx) {
                  const { profile } = info;
                  if (!profile.email) {
                    throw new Error(
                      'Login failed, user profile does not contain an email',
                    );
                  }
                  return ctx.signInWithCatalogUser({
                    filter: {
                      'spec.profile.email': profile.email,
                    },
                  });
                },
              }),
            });
          },
        });
      },
    });
    const backend = await start([customAuth]);
    try {
      const res = await refresh(
        backend,
        await mintToken(key, userClaims(clock)),
      );
      expect(res.status).toBe(200);
      expect(res.body.backstageIdentity.identity.userEntityRef).toBe(
        'user:default/jane',
      );
    } finally {
      await backend.stop();
    }
  });

  it('adds Access groups as ownership refs with signInWithCatalogUserAndAccessGroups', async () => {
    const backend = await start([cfaccessModule], {
      signIn: {
        resolvers: [{ resolver: 'signInWithCatalogUserAndAccessGroups' }],
      },
    });
    try {
      const res = await refresh(
        backend,
        await mintToken(key, userClaims(clock)),
      );
      expect(res.status).toBe(200);
      expect(res.body.backstageIdentity.identity.ownershipEntityRefs).toEqual(
        expect.arrayContaining([
          'user:default/jane',
          'group:default/platform-team',
          'group:default/sre',
        ]),
      );

      state.identityStatus = 500;
      const degraded = await refresh(
        backend,
        await mintToken(key, userClaims(clock, { identity_nonce: 'other' })),
      );
      expect(degraded.status).toBe(503);
    } finally {
      await backend.stop();
    }
  });
});
