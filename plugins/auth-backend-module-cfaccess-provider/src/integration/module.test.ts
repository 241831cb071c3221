import supertest from 'supertest';
import type { JsonObject } from '@backstage/types';
import {
  AUD,
  createAccessServer,
  createTestKey,
  errorUnlessLoopback,
  mintToken,
  SERVICE_CLIENT_ID,
  serviceClaims,
  TestClock,
  TestKey,
  userClaims,
} from '../__testUtils__/fixtures';
import { refresh, startAuthBackend } from '../__testUtils__/authBackend';
import cfaccessModule from '../index';
import { KeyRefresher } from '../keys/keyRefresher';

const { server, state } = createAccessServer();

/** The refresher's pending timer: private state, read here rather than exposed for tests. */
const scheduledTimer = (refresher: KeyRefresher) =>
  (refresher as unknown as { timer?: unknown }).timer;

const emailResolver = {
  signIn: {
    resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }],
  },
};

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

  function start(features: any[], providerConfig = {}) {
    return startAuthBackend({
      features,
      cfaccess: {
        teamName: 'testteam',
        audience: AUD,
        serviceTokens: [
          { token: SERVICE_CLIENT_ID, subject: 'user:default/ci-bot' },
        ],
        ...providerConfig,
      },
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

      const viaCookie = await supertest(backend.server)
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
      expect(
        scheduledTimer(stops.mock.contexts[0] as KeyRefresher),
      ).toBeUndefined();
    });

    it('starts when certs is unreachable, and stops its retries on shutdown', async () => {
      state.certsStatus = 500;
      const backend = await start([cfaccessModule], emailResolver);
      try {
        await starts.mock.results[0].value;
        expect(state.certsRequests).toBe(1);
        const refresher = starts.mock.contexts[0] as KeyRefresher;
        expect(scheduledTimer(refresher)).toBeDefined();
      } finally {
        await backend.stop();
      }
      expect(
        scheduledTimer(starts.mock.contexts[0] as KeyRefresher),
      ).toBeUndefined();
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

    // An entity-ref subject is not an email: the email resolver alone finds no user for it.
    const userOnly = await start([cfaccessModule], emailResolver);
    try {
      const res = await refresh(
        userOnly,
        await mintToken(key, serviceClaims(clock)),
      );
      expect(res.status).toBe(403);
      expect(res.body.error).toEqual({
        name: 'NotAllowedError',
        reason: 'user_not_found',
        message: `Cloudflare Access signed in the service token ${SERVICE_CLIENT_ID}, but Backstage has no user for its subject; ask your Backstage admin (sign-in resolvers tried: emailMatchingUserEntityProfileEmail)`,
      });
    } finally {
      await userOnly.stop();
    }
  });

  describe('startup', () => {
    function startWith(auth: JsonObject) {
      return startAuthBackend({ features: [cfaccessModule], auth });
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

  it('adds mapped Access groups as ownership refs with signInWithCatalogUserAndAccessGroups', async () => {
    const backend = await start([cfaccessModule], {
      signIn: {
        resolvers: [
          {
            resolver: 'signInWithCatalogUserAndAccessGroups',
            accessGroups: [
              { id: 'g1', entityRef: 'group:default/platform-team' },
              { name: 'SRE', entityRef: 'group:ops/sre' },
            ],
          },
        ],
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
          'group:ops/sre',
        ]),
      );

      state.identityStatus = 500;
      const degraded = await refresh(
        backend,
        await mintToken(key, userClaims(clock, { identity_nonce: 'other' })),
      );
      expect(degraded.status).toBe(503);
      expect(degraded.body.error).toMatchObject({
        name: 'ServiceUnavailableError',
        reason: 'identity_unavailable',
      });
    } finally {
      await backend.stop();
    }
  });

  it('answers 403 user_not_found naming the email and every resolver tried when none finds a user', async () => {
    const backend = await start([cfaccessModule], {
      signIn: {
        resolvers: [
          { resolver: 'serviceTokenSubject' },
          {
            resolver: 'emailLocalPartMatchingUserEntityName',
            allowedDomains: ['example.com'],
          },
          { resolver: 'emailMatchingUserEntityProfileEmail' },
        ],
      },
    });
    try {
      const res = await refresh(
        backend,
        await mintToken(
          key,
          userClaims(clock, { email: 'nobody@example.com', sub: 'nobody' }),
        ),
      );
      expect(res.status).toBe(403);
      expect(res.body.error).toEqual({
        name: 'NotAllowedError',
        reason: 'user_not_found',
        message:
          'Cloudflare Access signed you in as nobody@example.com, but Backstage has no user for that email; ask your Backstage admin (sign-in resolvers tried: serviceTokenSubject, emailLocalPartMatchingUserEntityName, emailMatchingUserEntityProfileEmail)',
      });
    } finally {
      await backend.stop();
    }
  });

  it.each([
    [
      [{ resolver: 'emailLocalPartMatchingUserEntityName' }],
      /auth\.providers\.cfaccess\.signIn\.resolvers\[0\] \(emailLocalPartMatchingUserEntityName\): emailLocalPartMatchingUserEntityName requires allowedDomains/,
    ],
    [
      [
        { resolver: 'emailMatchingUserEntityProfileEmail' },
        { resolver: 'signInWithCatalogUserAndAccessGroups', namespace: 'x' },
      ],
      /auth\.providers\.cfaccess\.signIn\.resolvers\[1\] \(signInWithCatalogUserAndAccessGroups\): accessGroups must list/,
    ],
    [
      [{ resolver: 'emailMatchingUserEntityProfileEmial' }],
      /auth\.providers\.cfaccess\.signIn\.resolvers\[0\]\.resolver must name a sign-in resolver \(.*emailMatchingUserEntityProfileEmail.*\), got "emailMatchingUserEntityProfileEmial"/,
    ],
    [
      [
        {
          resolver: 'emailMatchingUserEntityProfileEmail',
          allowedDomains: 'example.com',
        },
      ],
      /auth\.providers\.cfaccess\.signIn\.resolvers\[0\] \(emailMatchingUserEntityProfileEmail\): Invalid sign-in resolver options.*allowedDomains/,
    ],
    [
      [
        {
          resolver: 'emailMatchingUserEntityProfileEmail',
          dangerouslyAllowSignInWithoutUserInCatalog: 'yes',
        },
      ],
      /auth\.providers\.cfaccess\.signIn\.resolvers\[0\] \(emailMatchingUserEntityProfileEmail\): Invalid sign-in resolver options.*dangerouslyAllowSignInWithoutUserInCatalog/,
    ],
    [
      [
        {
          resolver: 'emailMatchingUserEntityProfileEmail',
          allowedDomains: ['example.com', '@example.org'],
        },
      ],
      /auth\.providers\.cfaccess\.signIn\.resolvers\[0\] \(emailMatchingUserEntityProfileEmail\): allowedDomains\[1\] must be a domain/,
    ],
    [[], /auth\.providers\.cfaccess\.signIn\.resolvers is required/],
  ])('does not start with signIn.resolvers %j', async (resolvers, message) => {
    await expect(
      start([cfaccessModule], { signIn: { resolvers } }),
    ).rejects.toThrow(message);
  });

  describe('under NODE_ENV=development', () => {
    // Where the auth backend only logs a provider factory's error and skips the provider.
    const nodeEnv = process.env.NODE_ENV;
    beforeEach(() => {
      process.env.NODE_ENV = 'development';
    });
    afterEach(() => {
      process.env.NODE_ENV = nodeEnv;
    });

    it.each([
      [
        { signIn: { resolvers: [{ resolver: 'noSuchResolver' }] } },
        /auth\.providers\.cfaccess\.signIn\.resolvers\[0\]\.resolver must name a sign-in resolver/,
      ],
      [
        {
          signIn: {
            resolvers: [
              {
                resolver: 'emailMatchingUserEntityProfileEmail',
                allowedDomain: ['example.com'],
              },
            ],
          },
        },
        /auth\.providers\.cfaccess\.signIn\.resolvers\[0\] \(emailMatchingUserEntityProfileEmail\): Invalid sign-in resolver options/,
      ],
      [{}, /auth\.providers\.cfaccess\.signIn\.resolvers is required/],
    ])('still does not start with %j', async (providerConfig, message) => {
      await expect(start([cfaccessModule], providerConfig)).rejects.toThrow(
        message,
      );
    });
  });

  it('maps lower-case group names into the access namespace only with dangerouslyMapGroupNames', async () => {
    const defaultIdentity = state.identity;
    state.identity = () => ({
      ...defaultIdentity(),
      groups: ['platform-team', 'Platform Team', { id: 'g9', name: 'sre' }],
    });
    const backend = await start([cfaccessModule], {
      signIn: {
        resolvers: [
          {
            resolver: 'signInWithCatalogUserAndAccessGroups',
            dangerouslyMapGroupNames: true,
          },
        ],
      },
    });
    try {
      const res = await refresh(
        backend,
        await mintToken(key, userClaims(clock, { identity_nonce: 'names' })),
      );
      expect(res.status).toBe(200);
      expect(
        res.body.backstageIdentity.identity.ownershipEntityRefs.sort(),
      ).toEqual([
        'group:access/platform-team',
        'group:access/sre',
        'user:default/jane',
      ]);
    } finally {
      state.identity = defaultIdentity;
      await backend.stop();
    }
  });
});
