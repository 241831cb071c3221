import { ConfigReader } from '@backstage/config';
import { CloudflareAccessAuthenticatorOptions } from './authenticator';
import {
  authenticatorState,
  AuthenticatorTestHooks,
  createAuthenticator,
} from './internal';
import {
  AUD,
  createAccessServer,
  createTestKey,
  manualTimers,
  memoryCache,
  mintToken,
  mockMetrics,
  SERVICE_CLIENT_ID,
  serviceClaims,
  TestClock,
  TestKey,
  userClaims,
  entriesIn,
} from './__testUtils__/fixtures';

const { server, state } = createAccessServer();
const defaultIdentity = state.identity;

describe('createCloudflareAccessAuthenticator', () => {
  let key: TestKey;
  let clock: TestClock;
  let logger: {
    warn: jest.Mock;
    info: jest.Mock;
    error: jest.Mock;
    debug: jest.Mock;
    child: jest.Mock;
  };
  let metrics: ReturnType<typeof mockMetrics>;

  beforeAll(async () => {
    server.listen({ onUnhandledRequest: 'error' });
    key = await createTestKey('kid-a');
  });
  afterAll(() => server.close());
  beforeEach(() => {
    clock = new TestClock();
    state.jwks = [key.publicJwk];
    state.certsStatus = 200;
    state.certsRequests = 0;
    state.identityRequests = 0;
    state.identityStatus = 200;
    state.identity = defaultIdentity;
    logger = {
      warn: jest.fn(),
      info: jest.fn(),
      error: jest.fn(),
      debug: jest.fn(),
      child: jest.fn(),
    };
    metrics = mockMetrics();
  });

  function setup(
    extra: Record<string, unknown> = {},
    prefetchKeys = false,
    more: Partial<CloudflareAccessAuthenticatorOptions> &
      AuthenticatorTestHooks = {},
  ) {
    const { setTimer, ...options } = more;
    const authenticator = createAuthenticator(
      {
        cache: memoryCache().cache,
        logger: logger as any,
        prefetchKeys,
        ...options,
      },
      { now: clock.now, metrics, setTimer },
    );
    const ctx = authenticator.initialize({
      config: new ConfigReader({
        teamName: 'testteam',
        audience: AUD,
        serviceTokens: [
          { token: SERVICE_CLIENT_ID, subject: 'ci-bot@example.com' },
        ],
        ...extra,
      }),
    });
    const authenticate = (headers: Record<string, string>) =>
      authenticator.authenticate({ req: { headers } as any }, ctx);
    return { authenticator, ctx, state: authenticatorState(ctx), authenticate };
  }

  it('authenticates a user from the header, with identity from get-identity', async () => {
    const token = await mintToken(key, userClaims(clock));
    const { authenticate, authenticator } = setup();
    const { result, providerInfo } = await authenticate({
      'cf-access-jwt-assertion': token,
    });
    expect(result).toMatchObject({
      token,
      tokenType: 'user',
      identityAvailable: true,
      expiresInSeconds: 3600,
      cfIdentity: { name: 'Jane Doe', email: 'jane@example.com' },
    });
    expect(result.cfIdentity.groups).toHaveLength(2);
    expect(providerInfo).toEqual({
      email: 'jane@example.com',
      name: 'Jane Doe',
      groups: ['Platform Team', 'SRE'],
      expiresInSeconds: 3600,
    });
    expect(JSON.stringify(providerInfo)).not.toContain(token);
    const { profile } = await authenticator.defaultProfileTransform(
      result,
      {} as any,
    );
    expect(profile).toEqual({
      email: 'jane@example.com',
      displayName: 'Jane Doe',
    });
    expect(metrics.authentication).toHaveBeenCalledWith(
      { ok: true, tokenType: 'user' },
      expect.any(Number),
    );
  });

  it("takes the profile's email from the signed claim, as upstream does, and a service token's from its subject", async () => {
    const { authenticator } = setup();
    // Upstream's own authenticator test: the email only in the claims.
    const person = await authenticator.defaultProfileTransform(
      {
        claims: { email: 'jane@example.com' },
        cfIdentity: { id: 'u1', name: 'Jane', email: '', groups: [] },
        tokenType: 'user',
      } as any,
      {} as any,
    );
    expect(person.profile).toEqual({
      email: 'jane@example.com',
      displayName: 'Jane',
    });
    const service = await authenticator.defaultProfileTransform(
      {
        // An email claim on a service token is not who it signs in as.
        claims: { email: 'victim@example.com' },
        cfIdentity: {
          id: 'ci.access',
          name: 'ci@example.com',
          email: 'ci@example.com',
          groups: [],
        },
        tokenType: 'service',
      } as any,
      {} as any,
    );
    expect(service.profile.email).toBe('ci@example.com');
  });

  it('falls back to the CF_Authorization cookie', async () => {
    const token = await mintToken(key, userClaims(clock));
    const { authenticate } = setup();
    const { result } = await authenticate({
      cookie: `other=1; CF_Authorization=${token}; x=y`,
    });
    expect(result.claims.email).toBe('jane@example.com');
  });

  it('prefers the header over the cookie', async () => {
    const token = await mintToken(key, userClaims(clock));
    const { authenticate } = setup();
    await expect(
      authenticate({
        'cf-access-jwt-assertion': 'garbage',
        cookie: `CF_Authorization=${token}`,
      }),
    ).rejects.toMatchObject({ reason: 'malformed_token' });
  });

  it('honours custom header and cookie names', async () => {
    const token = await mintToken(key, userClaims(clock));
    const { authenticate } = setup({
      jwtHeaderName: 'X-Access-Token',
      authorizationCookieName: 'MyAccess',
    });
    await expect(
      authenticate({ 'x-access-token': token }),
    ).resolves.toBeDefined();
    await expect(
      authenticate({ cookie: `MyAccess=${token}` }),
    ).resolves.toBeDefined();
    await expect(
      authenticate({ 'cf-access-jwt-assertion': token }),
    ).rejects.toMatchObject({ reason: 'missing_token' });
    await expect(
      authenticate({ cookie: `CF_Authorization=${token}` }),
    ).rejects.toMatchObject({ reason: 'missing_token' });
  });

  it('continues without groups when get-identity fails', async () => {
    state.identityStatus = 502;
    const token = await mintToken(key, userClaims(clock));
    const { authenticate } = setup();
    const { result, providerInfo } = await authenticate({
      'cf-access-jwt-assertion': token,
    });
    expect(result.identityAvailable).toBe(false);
    expect(result.cfIdentity).toEqual({
      id: userClaims(clock).sub,
      name: 'jane@example.com',
      email: 'jane@example.com',
      groups: [],
    });
    expect(providerInfo).not.toHaveProperty('groups');
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringMatching(/get-identity failed/),
      undefined,
    );
  });

  it('does not call get-identity when disabled', async () => {
    const token = await mintToken(key, userClaims(clock));
    const { authenticate } = setup({ identity: { enabled: false } });
    const { result } = await authenticate({ 'cf-access-jwt-assertion': token });
    expect(result.identityAvailable).toBe(false);
    expect(state.identityRequests).toBe(0);
  });

  it('names each group to the browser by its name, or its id when it has no name', async () => {
    state.identity = () => ({
      ...defaultIdentity(),
      groups: [{ id: 'only-id' }, 'Only Name', { id: 'g1', name: 'Both' }],
    });
    const { authenticate } = setup();
    const { providerInfo } = await authenticate({
      'cf-access-jwt-assertion': await mintToken(key, userClaims(clock)),
    });
    expect(providerInfo?.groups).toEqual(['only-id', 'Only Name', 'Both']);
  });

  it('signs a listed service token in without get-identity', async () => {
    const token = await mintToken(key, serviceClaims(clock));
    const { authenticate } = setup();
    const { result, providerInfo } = await authenticate({
      'cf-access-jwt-assertion': token,
    });
    expect(state.identityRequests).toBe(0);
    expect(result).toMatchObject({
      tokenType: 'service',
      identityAvailable: false,
      serviceToken: {
        clientId: SERVICE_CLIENT_ID,
        subject: 'ci-bot@example.com',
      },
      cfIdentity: {
        id: SERVICE_CLIENT_ID,
        email: 'ci-bot@example.com',
        groups: [],
      },
    });
    expect(JSON.stringify(providerInfo)).not.toContain(token);
  });

  it('does not send a token to get-identity before it is verified', async () => {
    const { authenticate } = setup();
    const forged = await mintToken(
      { ...(await createTestKey('kid-a')) },
      userClaims(clock),
    );
    await expect(
      authenticate({ 'cf-access-jwt-assertion': forged }),
    ).rejects.toMatchObject({ reason: 'bad_signature' });
    expect(state.identityRequests).toBe(0);
  });

  it('logs one rate-limited warning per rejection, with reason and subject but no token', async () => {
    const token = await mintToken(
      key,
      userClaims(clock, { exp: clock.seconds - 3600 }),
    );
    const { authenticate } = setup();
    for (let i = 0; i < 3; i++) {
      await expect(
        authenticate({ 'cf-access-jwt-assertion': token }),
      ).rejects.toMatchObject({
        name: 'AuthenticationError',
        reason: 'expired',
      });
    }
    expect(logger.warn).toHaveBeenCalledTimes(1);
    const [message, meta] = logger.warn.mock.calls[0];
    expect(message).toMatch(/rejected \(expired\) for "jane@example.com"/);
    expect(meta).toEqual({ reason: 'expired', subject: 'jane@example.com' });
    expect(JSON.stringify(logger.warn.mock.calls)).not.toContain(token);
    expect(metrics.authentication).toHaveBeenCalledWith(
      { ok: false, reason: 'expired' },
      expect.any(Number),
    );
  });

  it('answers 503 when no keys can be had', async () => {
    state.certsStatus = 500;
    const token = await mintToken(key, userClaims(clock));
    const { authenticate } = setup();
    await expect(
      authenticate({ 'cf-access-jwt-assertion': token }),
    ).rejects.toMatchObject({
      name: 'ServiceUnavailableError',
      reason: 'keys_unavailable',
    });
  });

  it('throws at initialize for invalid config, naming the key', () => {
    expect(() =>
      setup({ teamDomain: 'http://example.com', teamName: undefined }),
    ).toThrow(
      'auth.providers.cfaccess.teamDomain must be https unless the host is loopback, got http://example.com',
    );
  });

  describe('deployment mode', () => {
    const emulator = {
      teamDomain: 'http://localhost:7000',
      teamName: undefined,
    };
    const nodeEnv = process.env.NODE_ENV;
    afterEach(() => {
      process.env.NODE_ENV = nodeEnv;
    });

    it.each(['development', 'test', undefined])(
      'applies the production rules without rootConfig, with NODE_ENV %s',
      env => {
        if (env === undefined) {
          delete process.env.NODE_ENV;
        } else {
          process.env.NODE_ENV = env;
        }
        expect(() => setup(emulator)).toThrow(
          'auth.providers.cfaccess.teamDomain must be https outside development, got http://localhost:7000 (auth.environment is unknown: the authenticator was created without rootConfig)',
        );
      },
    );

    it('allows the local emulator only with auth.environment: development in rootConfig and NODE_ENV not production', () => {
      const rootConfig = (environment?: string) =>
        new ConfigReader(environment ? { auth: { environment } } : {});
      process.env.NODE_ENV = 'development';
      expect(
        setup(emulator, false, { rootConfig: rootConfig('development') }).state
          .config.teamDomain,
      ).toBe('http://localhost:7000');
      expect(() =>
        setup(emulator, false, { rootConfig: rootConfig() }),
      ).toThrow(/\(auth\.environment is not set\)/);
      process.env.NODE_ENV = 'production';
      expect(() =>
        setup(emulator, false, { rootConfig: rootConfig('development') }),
      ).toThrow(
        /\(auth\.environment is development but NODE_ENV is production\)/,
      );
    });
  });

  describe('verified-token cache', () => {
    let signatureChecks: jest.SpyInstance;
    const header = (token: string) => ({ 'cf-access-jwt-assertion': token });

    beforeEach(() => {
      // The RSA checks themselves, as jose makes them.
      signatureChecks = jest.spyOn(crypto.subtle, 'verify');
    });
    afterEach(() => signatureChecks.mockRestore());

    it('skips the signature check when the same token comes again', async () => {
      const token = await mintToken(key, userClaims(clock));
      const { authenticate } = setup();
      const first = await authenticate(header(token));
      const second = await authenticate(header(token));
      expect(signatureChecks).toHaveBeenCalledTimes(1);
      expect(second).toEqual(first);
      expect(metrics.verifiedTokenCache.mock.calls).toEqual([
        ['miss'],
        ['hit'],
      ]);
      // Cached results are frozen: a resolver cannot change what the cache holds.
      expect(Object.isFrozen(second.result.claims)).toBe(true);
      expect(Object.isFrozen(second.result.claims.aud)).toBe(true);
      expect(() => {
        second.result.claims.email = 'mallory@example.com';
      }).toThrow(TypeError);
      expect(Object.isFrozen(first.result.claims)).toBe(true);
      const third = await authenticate(header(token));
      expect(third.result.claims.email).toBe('jane@example.com');
      expect(state.certsRequests).toBe(1);
    });

    it("answers a known session's identity from memory, frozen, without the cache service", async () => {
      const { cache } = memoryCache();
      const token = await mintToken(key, userClaims(clock));
      const { authenticate } = setup({}, false, { cache });
      const first = await authenticate(header(token));
      const second = await authenticate(header(token));
      expect(cache.get).toHaveBeenCalledTimes(1);
      expect(state.identityRequests).toBe(1);
      expect(second.result.cfIdentity).toBe(first.result.cfIdentity);
      expect(Object.isFrozen(second.result.cfIdentity.groups)).toBe(true);
      expect(second.providerInfo?.groups).toEqual(['Platform Team', 'SRE']);
    });

    it('memoises no identity with verifiedTokenCache.maxEntries 0', async () => {
      const { cache } = memoryCache();
      const token = await mintToken(key, userClaims(clock));
      const { authenticate } = setup(
        { verifiedTokenCache: { maxEntries: 0 } },
        false,
        { cache },
      );
      await authenticate(header(token));
      await authenticate(header(token));
      expect(cache.get).toHaveBeenCalledTimes(2);
      expect(state.identityRequests).toBe(1);
    });

    it('caches service tokens too', async () => {
      const token = await mintToken(key, serviceClaims(clock));
      const { authenticate } = setup();
      await authenticate(header(token));
      const { result } = await authenticate(header(token));
      expect(result.serviceToken?.clientId).toBe(SERVICE_CLIENT_ID);
      expect(signatureChecks).toHaveBeenCalledTimes(1);
    });

    it('rejects a cached token as expired exactly when a fresh verification would', async () => {
      const exp = clock.seconds + 100;
      const token = await mintToken(key, userClaims(clock, { exp }));
      const cached = setup();
      await cached.authenticate(header(token));

      // The last instant within the 60s tolerance: still served from the cache.
      clock.ms = (exp + 60) * 1000 - 1;
      await expect(cached.authenticate(header(token))).resolves.toBeDefined();
      expect(signatureChecks).toHaveBeenCalledTimes(1);
      const fresh = setup();
      await expect(fresh.authenticate(header(token))).resolves.toBeDefined();

      clock.ms = (exp + 60) * 1000;
      await expect(cached.authenticate(header(token))).rejects.toMatchObject({
        reason: 'expired',
      });
      await expect(setup().authenticate(header(token))).rejects.toMatchObject({
        reason: 'expired',
      });
    });

    it('honours a custom clock tolerance the same way', async () => {
      const exp = clock.seconds + 10;
      const token = await mintToken(key, userClaims(clock, { exp }));
      const { authenticate } = setup({ clockToleranceSeconds: 0 });
      await authenticate(header(token));
      clock.ms = exp * 1000 - 1;
      await expect(authenticate(header(token))).resolves.toBeDefined();
      clock.ms = exp * 1000;
      await expect(authenticate(header(token))).rejects.toMatchObject({
        reason: 'expired',
      });
    });

    it('does not cache a token before its nbf, then does once it is valid', async () => {
      // Within the 60s tolerance, so accepted, but not yet valid.
      const token = await mintToken(
        key,
        userClaims(clock, { nbf: clock.seconds + 30 }),
      );
      const { authenticate } = setup();
      await authenticate(header(token));
      await authenticate(header(token));
      expect(signatureChecks).toHaveBeenCalledTimes(2);
      clock.advance(30);
      await authenticate(header(token));
      await authenticate(header(token));
      expect(signatureChecks).toHaveBeenCalledTimes(3);
    });

    it('stops using an entry once a key refresh drops its kid', async () => {
      const keyB = await createTestKey('kid-b');
      const token = await mintToken(key, userClaims(clock));
      const { authenticate } = setup();
      await authenticate(header(token));
      state.jwks = [keyB.publicJwk];
      clock.advance(601);
      await expect(authenticate(header(token))).rejects.toMatchObject({
        reason: 'unknown_kid',
      });
      // As for a fresh verification: the routine refetch, then one for the unknown kid.
      expect(state.certsRequests).toBe(3);
      expect(signatureChecks).toHaveBeenCalledTimes(1);
    });

    it('stops using an entry when its kid is re-published with another key', async () => {
      const impostor = await createTestKey('kid-a');
      const token = await mintToken(key, userClaims(clock));
      const { authenticate } = setup();
      await authenticate(header(token));
      state.jwks = [impostor.publicJwk];
      clock.advance(601);
      await expect(authenticate(header(token))).rejects.toMatchObject({
        reason: 'bad_signature',
      });
      expect(signatureChecks).toHaveBeenCalledTimes(2);
    });

    it('keeps entries across a refresh that publishes the same key', async () => {
      const token = await mintToken(key, userClaims(clock));
      const { authenticate } = setup();
      await authenticate(header(token));
      clock.advance(601);
      await authenticate(header(token));
      expect(state.certsRequests).toBe(2);
      expect(signatureChecks).toHaveBeenCalledTimes(1);
    });

    it('serves entries only while the keys are within their stale window', async () => {
      const token = await mintToken(
        key,
        userClaims(clock, { exp: clock.seconds + 86400 }),
      );
      const { authenticate } = setup();
      await authenticate(header(token));
      state.certsStatus = 500;
      // Past freshness: a refetch is tried as for a fresh verification, then stale keys serve.
      clock.advance(700);
      await expect(authenticate(header(token))).resolves.toBeDefined();
      expect(state.certsRequests).toBe(2);
      expect(signatureChecks).toHaveBeenCalledTimes(1);
      // Past the stale window: 503, cached or not.
      clock.advance(600 + 3600);
      await expect(authenticate(header(token))).rejects.toMatchObject({
        reason: 'keys_unavailable',
      });
    });

    it('never caches failures: invalid tokens neither fill it nor evict anything', async () => {
      const token = await mintToken(key, userClaims(clock));
      const { authenticate, ctx } = setup({
        verifiedTokenCache: { maxEntries: 1 },
      });
      await authenticate(header(token));
      const forger = await createTestKey('kid-a');
      const invalid = [
        ...(await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            mintToken(forger, userClaims(clock, { sub: `forged-${i}` })),
          ),
        )),
        await mintToken(key, userClaims(clock, { aud: ['other'] })),
        await mintToken(key, userClaims(clock, { exp: clock.seconds - 600 })),
        await mintToken(key, serviceClaims(clock, { common_name: 'x.access' })),
      ];
      for (const bad of [...invalid, ...invalid]) {
        await expect(authenticate(header(bad))).rejects.toBeDefined();
      }
      // Every repeat was checked again: nothing invalid was remembered.
      expect(signatureChecks).toHaveBeenCalledTimes(1 + 2 * invalid.length);
      await authenticate(header(token));
      expect(signatureChecks).toHaveBeenCalledTimes(1 + 2 * invalid.length);
      expect(
        entriesIn(
          (authenticatorState(ctx).verifier as any).options.verifiedTokens,
        ),
      ).toBe(1);
      expect(state.identityRequests).toBe(1);
    });

    it('is off with maxEntries 0', async () => {
      const token = await mintToken(key, userClaims(clock));
      const { authenticate } = setup({ verifiedTokenCache: { maxEntries: 0 } });
      await authenticate(header(token));
      await authenticate(header(token));
      expect(signatureChecks).toHaveBeenCalledTimes(2);
      expect(metrics.verifiedTokenCache).not.toHaveBeenCalled();
    });
  });

  describe('keys kept warm (prefetchKeys)', () => {
    let timers: ReturnType<typeof manualTimers>;
    let shutdownHooks: (() => void | Promise<void>)[];
    const header = (token: string) => ({ 'cf-access-jwt-assertion': token });

    beforeEach(() => {
      timers = manualTimers(clock.now);
      shutdownHooks = [];
    });
    afterEach(async () => {
      for (const hook of shutdownHooks) await hook();
    });

    async function started(extra: Record<string, unknown> = {}) {
      const s = setup(extra, true, {
        setTimer: timers.setTimer,
        lifecycle: { addShutdownHook: hook => shutdownHooks.push(hook) },
      });
      // start() is idempotent: this awaits the first fetch the authenticator began.
      await s.state.keyRefresher!.start();
      return s;
    }

    async function fireRefresh() {
      const [next] = timers.pending();
      next.cancelled = true;
      clock.ms = Math.max(clock.ms, next.dueAt);
      await next.callback();
    }

    it('costs a new session one get-identity request, a known session none, a forged token none', async () => {
      const { authenticate } = await started();
      expect(state.certsRequests).toBe(1);
      state.certsRequests = 0;

      const token = await mintToken(key, userClaims(clock));
      await authenticate(header(token));
      expect(state.certsRequests).toBe(0);
      expect(state.identityRequests).toBe(1);

      await authenticate(header(token));
      expect(state.certsRequests).toBe(0);
      expect(state.identityRequests).toBe(1);

      const forged = await mintToken(
        await createTestKey('kid-a'),
        userClaims(clock, { identity_nonce: 'forged' }),
      );
      await expect(authenticate(header(forged))).rejects.toMatchObject({
        reason: 'bad_signature',
      });
      expect(state.certsRequests).toBe(0);
      expect(state.identityRequests).toBe(1);
    });

    it('picks up a rotated key in the background, so no sign-in waits for certs', async () => {
      const keyB = await createTestKey('kid-b');
      const { authenticate } = await started();
      state.jwks = [keyB.publicJwk, key.publicJwk];
      await fireRefresh();
      expect(state.certsRequests).toBe(2);
      const rotated = await mintToken(keyB, userClaims(clock));
      await expect(authenticate(header(rotated))).resolves.toBeDefined();
      // And keys never reach their max age: later sign-ins do not fetch either.
      await fireRefresh();
      clock.advance(100);
      await authenticate(header(await mintToken(keyB, userClaims(clock))));
      expect(state.certsRequests).toBe(3);
    });

    it('invalidates cached tokens whose kid a background refresh removed', async () => {
      const keyB = await createTestKey('kid-b');
      const { authenticate } = await started();
      const token = await mintToken(key, userClaims(clock));
      await authenticate(header(token));
      state.jwks = [keyB.publicJwk];
      await fireRefresh();
      await expect(authenticate(header(token))).rejects.toMatchObject({
        reason: 'unknown_kid',
      });
    });

    it('does not block or fail startup when certs is unreachable, and retries in the background', async () => {
      state.certsStatus = 500;
      const { authenticate } = await started();
      expect(state.certsRequests).toBe(1);
      expect(logger.warn).toHaveBeenCalledWith(
        expect.stringMatching(/Could not refresh .*no keys yet/),
        undefined,
      );
      expect(timers.pending()[0].delayMs).toBe(30_000);
      state.certsStatus = 200;
      await fireRefresh();
      expect(state.certsRequests).toBe(2);
      await authenticate(header(await mintToken(key, userClaims(clock))));
      expect(state.certsRequests).toBe(2);
    });

    it('registers a shutdown hook that stops the refresh', async () => {
      const { ctx } = await started();
      expect(shutdownHooks).toHaveLength(1);
      expect(authenticatorState(ctx).keyRefresher).toBeDefined();
      expect(timers.pending()).toHaveLength(1);
      await shutdownHooks[0]();
      expect(timers.pending()).toHaveLength(0);
    });
  });
});
