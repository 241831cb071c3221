/*
 * Deeply nested JSON from Access (a get-identity answer, the token's claims)
 * through the real auth backend: never a 500. An identity nested deeper than
 * MAX_JSON_DEPTH counts as unavailable (sign-in continues with the token's
 * claims); a token whose claims nest that deep is a 401 malformed_token.
 */
import {
  AUD,
  createAccessServer,
  createTestKey,
  errorUnlessLoopback,
  mintToken,
  mintTokenFromJson,
  nestedJson,
  TestClock,
  TestKey,
  userClaims,
} from '../__testUtils__/fixtures';
import { refresh, startAuthBackend } from '../__testUtils__/authBackend';
import cfaccessModule from '../index';
import { MAX_JSON_DEPTH } from '../lib/jsonDepth';

const { server, state } = createAccessServer();

describe('deeply nested JSON from Cloudflare Access', () => {
  let key: TestKey;
  const clock = new TestClock();
  let backend: Awaited<ReturnType<typeof startAuthBackend>>;

  beforeAll(async () => {
    server.listen({ onUnhandledRequest: errorUnlessLoopback });
    key = await createTestKey('kid-a');
    // Before the backend starts: it fetches the keys at startup.
    state.jwks = [key.publicJwk];
    backend = await startAuthBackend({
      features: [cfaccessModule],
      cfaccess: {
        teamName: 'testteam',
        audience: AUD,
        maxTokenBytes: 65536,
        signIn: {
          resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }],
        },
      },
    });
  });
  afterAll(async () => {
    await backend?.stop();
    server.close();
  });
  beforeEach(() => {
    clock.ms = Date.now();
    state.identityStatus = 200;
    state.identityBody = undefined;
  });

  /** A get-identity answer whose `custom` holds `depth` nested arrays. */
  const identityNested = (depth: number) =>
    `{"id":"idp-user-1","name":"Jane Doe","email":"jane@example.com","groups":["SRE"],"custom":{"deep":${nestedJson(
      depth,
    )}}}`;

  // Each case its own identity_nonce, so no cached identity answers it.
  const signIn = (nonce: string) =>
    mintToken(key, userClaims(clock, { identity_nonce: nonce })).then(token =>
      refresh(backend, token),
    );

  it('signs in with the token claims when get-identity answers 100,000 levels deep', async () => {
    state.identityBody = identityNested(100_000);
    const res = await signIn('deep-100000');
    expect(res.status).toBe(200);
    expect(res.body.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/jane',
    );
    // The identity was not used: no groups, the token's email as the name.
    expect(res.body.providerInfo).not.toHaveProperty('groups');
    expect(res.body.providerInfo.name).toBe('jane@example.com');
  });

  it(`uses an identity nested ${MAX_JSON_DEPTH} levels deep, and not one level deeper`, async () => {
    // The answer object is level 1 and custom level 2; the arrays fill the rest.
    state.identityBody = identityNested(MAX_JSON_DEPTH - 2);
    const within = await signIn('deep-within');
    expect(within.status).toBe(200);
    expect(within.body.providerInfo.groups).toEqual(['SRE']);

    state.identityBody = identityNested(MAX_JSON_DEPTH - 1);
    const beyond = await signIn('deep-beyond');
    expect(beyond.status).toBe(200);
    expect(beyond.body.providerInfo).not.toHaveProperty('groups');
  });

  // Node's 16 KB header limit keeps a token far smaller than an identity answer can be.
  it('answers 401 malformed_token for a signed token whose claims nest 4,000 levels deep', async () => {
    const claims = JSON.stringify(userClaims(clock));
    const token = await mintTokenFromJson(
      key,
      `${claims.slice(0, -1)},"custom":{"deep":${nestedJson(4_000)}}}`,
    );
    const res = await refresh(backend, token);
    expect(res.status).toBe(401);
    expect(res.body.error).toEqual({
      name: 'AuthenticationError',
      reason: 'malformed_token',
      message: expect.stringMatching(
        /^Cloudflare Access token rejected \(malformed_token\)/,
      ),
    });
  });

  it('still signs in a token whose custom claims nest a few levels', async () => {
    const res = await refresh(
      backend,
      await mintToken(
        key,
        userClaims(clock, {
          identity_nonce: 'shallow',
          custom: { org: { teams: [['a', 'b']] } },
        }),
      ),
    );
    expect(res.status).toBe(200);
  });
});
