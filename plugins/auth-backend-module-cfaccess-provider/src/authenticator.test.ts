import { ConfigReader } from '@backstage/config';
import {
  createCloudflareAccessAuthenticator,
  readCookie,
} from './authenticator';
import {
  AUD,
  createAccessServer,
  createTestKey,
  memoryCache,
  mintToken,
  mockMetrics,
  SERVICE_CLIENT_ID,
  serviceClaims,
  TestClock,
  TestKey,
  userClaims,
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

  function setup(extra: Record<string, unknown> = {}, prefetchKeys = false) {
    const authenticator = createCloudflareAccessAuthenticator({
      cache: memoryCache().cache,
      logger: logger as any,
      now: clock.now,
      metrics,
      prefetchKeys,
    });
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
    return { authenticator, ctx, authenticate };
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
    expect(message).toMatch(/rejected \(expired\) for jane@example.com/);
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

  it('prefetches keys at initialize without blocking or failing', async () => {
    state.certsStatus = 500;
    expect(() => setup({}, true)).not.toThrow();
    await new Promise(resolve => setImmediate(resolve));
    await new Promise(resolve => setImmediate(resolve));
    expect(state.certsRequests).toBe(1);
  });
});

describe('readCookie', () => {
  it('parses the Cookie header', () => {
    expect(
      readCookie('a=1; CF_Authorization=x.y.z; b=2', 'CF_Authorization'),
    ).toBe('x.y.z');
    // Access never quotes the cookie; a quoted value is passed on as is and
    // then fails verification as malformed.
    expect(readCookie('CF_Authorization="q.r.s"', 'CF_Authorization')).toBe(
      '"q.r.s"',
    );
    expect(
      readCookie('XCF_Authorization=1', 'CF_Authorization'),
    ).toBeUndefined();
    expect(readCookie(undefined, 'CF_Authorization')).toBeUndefined();
    expect(readCookie('a=%E0%A4%A', 'a')).toBe('%E0%A4%A');
  });
});
