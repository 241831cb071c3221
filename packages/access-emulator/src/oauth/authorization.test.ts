import express from 'express';
import request from 'supertest';
import type { EmulatorContext } from '../context';
import { createHostCheck } from '../hosts';
import { KeyStore } from '../keys';
import { safeRedirectPath } from '../redirects';
import { TokenIssuer } from '../tokens';
import { type AccessEmulator, startAccessEmulator } from '../server';
import {
  AUTHORIZATION_PATH,
  OAuthTestClient,
  REDIRECT_URI,
  REGISTRATION_PATH,
  pkcePair,
} from '../__testUtils__/oauthClient';
import { createAuthorizationRoute } from './authorizationRoute';
import { ClientRegistry, MAX_CLIENTS } from './clients';
import { ManagedOAuth } from './managedOAuth';
import { resolveManagedOAuth } from './settings';

// Kept out of string literals: the linter takes any `javascript:` literal for a script URL.
const SCRIPT = 'javascript';

const NOT_ALLOWED = {
  error: 'invalid_client_metadata',
  error_description: 'redirect_uri is not allowed by the account configuration',
};

describe('client registration', () => {
  let emulator: AccessEmulator;
  let client: OAuthTestClient;

  beforeAll(async () => {
    emulator = await startAccessEmulator({ port: 0, managedOAuth: true });
    client = new OAuthTestClient(emulator);
  });

  afterAll(() => emulator?.close());

  const register = (body: unknown) =>
    client.post(REGISTRATION_PATH).send(body as object);

  it.each([
    'http://localhost:8400/callback',
    'http://localhost/cb',
    'http://127.0.0.1:3118/callback/tx-1',
    'http://127.0.0.1:1/',
  ])(
    'allows any localhost or 127.0.0.1 port and path by default: %s',
    async uri => {
      const res = await register({ redirect_uris: [uri] });
      expect(res.status).toBe(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toMatchObject({
        redirect_uris: [uri],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
      });
      expect(res.body.client_secret).toBeUndefined();
    },
  );

  it.each([
    'https://evil.example/callback',
    'http://[::1]:8400/callback', // not covered by either switch
    'http://localhost.evil.example/cb',
    'http://127.0.0.1.nip.io/cb',
    'cursor://anysphere.cursor-mcp/oauth/callback',
  ])('refuses a redirect URI the settings do not allow: %s', async uri => {
    const res = await register({ redirect_uris: [uri] });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(NOT_ALLOWED);
  });

  it('refuses the registration when any one of the redirect URIs is not allowed', async () => {
    const res = await register({
      redirect_uris: [REDIRECT_URI, 'https://evil.example/cb'],
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(NOT_ALLOWED);
  });

  it.each([
    ['no redirect_uris', {}],
    ['an empty list', { redirect_uris: [] }],
    ['a string instead of a list', { redirect_uris: REDIRECT_URI }],
    ['a number in the list', { redirect_uris: [42] }],
  ])('refuses %s with invalid_redirect_uri', async (_name, body) => {
    const res = await register(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'invalid_redirect_uri',
      error_description: 'redirect_uris must be a list of 1 to 20 URIs',
    });
  });

  it.each([
    ['not a URI', 'callback', 'redirect_uri is not an absolute URI'],
    ['a fragment', 'http://localhost:1/cb#x', 'redirect_uri has a fragment'],
    [
      'credentials',
      'http://user:pw@localhost:1/cb',
      'redirect_uri has credentials',
    ],
    [
      'a script URL',
      `${SCRIPT}:alert(1)`,
      `redirect_uri uses the ${SCRIPT}: scheme`,
    ],
    [
      'a space',
      'http://localhost:1/c b',
      'redirect_uri has spaces, control characters or backslashes, or is too long',
    ],
  ])(
    'refuses a malformed redirect URI (%s)',
    async (_name, uri, description) => {
      const res = await register({ redirect_uris: [uri] });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: 'invalid_redirect_uri',
        error_description: description,
      });
    },
  );

  it.each([
    [
      'token_endpoint_auth_method',
      { token_endpoint_auth_method: 'private_key_jwt' },
    ],
    ['grant_types', { grant_types: ['implicit'] }],
    ['grant_types', { grant_types: [] }],
    ['response_types', { response_types: ['token'] }],
    ['client_name', { client_name: 42 }],
  ])('refuses unsupported metadata: %s', async (field, metadata) => {
    const res = await register({ redirect_uris: [REDIRECT_URI], ...metadata });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_client_metadata');
    expect(res.body.error_description).toMatch(new RegExp(`^${field} `));
  });

  it('refuses a body that is not a JSON object, never with a 500', async () => {
    const text = await client
      .post(REGISTRATION_PATH)
      .type('text')
      .send(JSON.stringify({ redirect_uris: [REDIRECT_URI] }));
    expect(text.status).toBe(400);
    expect(text.body.error).toBe('invalid_client_metadata');
    const broken = await client
      .post(REGISTRATION_PATH)
      .type('json')
      .send('{"redirect_uris": [');
    expect(broken.status).toBe(400);
    expect(broken.body.error).toBe('invalid_client_metadata');
    const list = await register([REDIRECT_URI]);
    expect(list.status).toBe(400);
    const huge = await register({
      redirect_uris: [REDIRECT_URI],
      client_name: 'x'.repeat(20_000),
    });
    expect(huge.status).toBe(413);
    expect(huge.body).toEqual({
      error: 'invalid_client_metadata',
      error_description: 'the body is too large',
    });
  });

  it('gives a confidential client a secret, and ignores metadata it does not use', async () => {
    const res = await register({
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['authorization_code', 'refresh_token', 'refresh_token'],
      resource: emulator.url,
      scope: 'openid',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['authorization_code', 'refresh_token'],
      client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      client_secret_expires_at: 0,
    });
    expect(res.body.scope).toBeUndefined();
  });

  it(`keeps at most ${MAX_CLIENTS} clients: at the cap it forgets the least recently used one not in use`, () => {
    const inUse = new Set<string>();
    const registry = new ClientRegistry({
      maxClients: 3,
      inUse: id => inUse.has(id),
    });
    expect(new ClientRegistry()).toBeDefined(); // MAX_CLIENTS by default
    const metadata = {
      authMethod: 'none' as const,
      redirectUris: [REDIRECT_URI],
      grantTypes: ['authorization_code' as const],
    };
    const add = () => registry.register(metadata, 0)?.client.clientId;
    const [a, b, c] = [add()!, add()!, add()!];
    inUse.add(a);
    registry.get(b); // used: c is now the least recently used of those not in use
    const d = add()!;
    expect([a, b, c, d].map(id => Boolean(registry.get(id)))).toEqual([
      true,
      true,
      false,
      true,
    ]);
    expect(registry.size).toBe(3);
    // Every client in use: refused, none forgotten.
    inUse.add(b).add(d);
    expect(registry.register(metadata, 0)).toBeUndefined();
    expect([a, b, d].every(id => registry.get(id))).toBe(true);
    // One no longer in use (its grant ended): it makes room.
    inUse.delete(b);
    const e = add()!;
    expect(registry.get(b)).toBeUndefined();
    expect(registry.get(e)).toBeDefined();
  });
});

describe('registration with the application settings', () => {
  it('follows the localhost and loopback switches and the allow list (exact, /* prefix, custom scheme)', async () => {
    const emulator = await startAccessEmulator({
      port: 0,
      managedOAuth: {
        allowAnyOnLocalhost: false,
        allowAnyOnLoopback: false,
        allowedRedirectUris: [
          'https://app.example/cb',
          'https://playground.example/*',
          'cursor://anysphere.cursor-mcp/oauth/callback',
          'com.example.app:/oauth/callback',
        ],
      },
    });
    try {
      const client = new OAuthTestClient(emulator);
      const status = async (uri: string) =>
        [
          uri,
          (await client.post(REGISTRATION_PATH).send({ redirect_uris: [uri] }))
            .status,
        ] as const;
      for (const uri of [
        'https://app.example/cb',
        'https://playground.example/',
        'https://playground.example/a/b?x=1',
        'cursor://anysphere.cursor-mcp/oauth/callback',
        'com.example.app:/oauth/callback',
      ]) {
        expect(await status(uri)).toEqual([uri, 201]);
      }
      for (const uri of [
        'http://localhost:8400/callback',
        'http://127.0.0.1:8400/callback',
        'https://app.example/cb/more',
        'https://app.example/cb?x=1',
        'http://playground.example/a',
        'https://playground.example.evil/a',
        'https://playground.example:8443/a',
        'cursor://anysphere.cursor-mcp/oauth/callback/x',
        'com.example.app:/oauth/other',
      ]) {
        expect(await status(uri)).toEqual([uri, 400]);
      }
    } finally {
      await emulator.close();
    }
  });

  it('refuses bad allow-list entries at start, naming the entry', async () => {
    for (const [entry, message] of [
      [
        'cursor://x/*',
        'managedOAuth.allowedRedirectUris[0]: "cursor://x/*" is a custom-scheme URI: those must match exactly, no wildcards',
      ],
      [
        'https://a.example/*/cb',
        'managedOAuth.allowedRedirectUris[0]: "https://a.example/*/cb" has a wildcard that is not a final /*',
      ],
      [
        'https://*.example/cb',
        'managedOAuth.allowedRedirectUris[0]: "https://*.example/cb" has a wildcard that is not a final /*',
      ],
      [
        'https://u:p@a.example/cb',
        'managedOAuth.allowedRedirectUris[0]: "https://u:p@a.example/cb" has credentials',
      ],
      [
        'com.example.app:/cb#x',
        'managedOAuth.allowedRedirectUris[0]: "com.example.app:/cb#x" has a fragment',
      ],
      [
        '/relative',
        'managedOAuth.allowedRedirectUris[0]: "/relative" is not an absolute URI',
      ],
      [
        `${SCRIPT}:alert(1)`,
        `managedOAuth.allowedRedirectUris[0]: "${SCRIPT}:alert(1)" uses the ${SCRIPT}: scheme`,
      ],
      ['', 'managedOAuth.allowedRedirectUris[0]: "" is not a URI'],
    ]) {
      await expect(
        startAccessEmulator({
          port: 0,
          managedOAuth: { allowedRedirectUris: [entry] },
        }),
      ).rejects.toThrow(message);
    }
  });
});

describe('the authorization endpoint', () => {
  let emulator: AccessEmulator;
  let client: OAuthTestClient;
  let publicClient: string;
  let confidentialClient: string;
  let cookie: string;
  const { challenge } = pkcePair();

  beforeAll(async () => {
    emulator = await startAccessEmulator({ port: 0, managedOAuth: true });
    client = new OAuthTestClient(emulator);
    publicClient = (await client.register()).client_id;
    confidentialClient = (
      await client.register({
        token_endpoint_auth_method: 'client_secret_basic',
      })
    ).client_id;
    cookie = (await client.signIn()).cookie;
  });

  afterAll(() => emulator?.close());

  const authorize = (params: Record<string, string | undefined>) =>
    client
      .get(client.authorizePath(params))
      .set('Cookie', `CF_Authorization=${cookie}`);

  describe('before the client and redirect URI are known good: a page, never a redirect', () => {
    it.each([
      [
        'an unknown client_id',
        { client_id: 'no-such-client' },
        'unknown client_id',
      ],
      ['no client_id', { client_id: undefined }, 'unknown client_id'],
      [
        'a redirect URI the client did not register',
        { redirect_uri: 'https://evil.example/cb' },
        'redirect_uri is not registered for this client',
      ],
      [
        'another loopback redirect URI',
        { redirect_uri: 'http://127.0.0.1:1/other' },
        'redirect_uri is not registered for this client',
      ],
      [
        'no redirect URI',
        { redirect_uri: undefined },
        'redirect_uri is not registered for this client',
      ],
    ])('%s', async (_name, params, reason) => {
      const res = await authorize({
        ...client.authorizeParams(publicClient, challenge),
        ...params,
      });
      expect(res.status).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toBe(
        `Access could not authorize this application: ${reason}.`,
      );
    });

    it('refuses a repeated redirect_uri', async () => {
      const path = `${client.authorizePath(
        client.authorizeParams(publicClient, challenge),
      )}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`;
      const res = await client
        .get(path)
        .set('Cookie', `CF_Authorization=${cookie}`);
      expect(res.status).toBe(400);
      expect(res.headers.location).toBeUndefined();
    });
  });

  describe('afterwards: back to the client with the error, state and iss', () => {
    /** Where the client is sent back to, and the error parameters it gets. */
    const errorRedirect = async (
      params: Record<string, string | undefined>,
      clientId = publicClient,
    ) => {
      const res = await authorize({
        ...client.authorizeParams(clientId, challenge),
        ...params,
      });
      const location = new URL(res.headers.location);
      return {
        status: res.status,
        to: `${location.origin}${location.pathname}`,
        params: Object.fromEntries(location.searchParams),
      };
    };
    const backWith = (error: string, description: string) => ({
      status: 302,
      to: REDIRECT_URI,
      params: {
        error,
        error_description: description,
        state: 'st-123',
        iss: emulator.url,
      },
    });

    it('refuses a response_type other than code', async () => {
      expect(await errorRedirect({ response_type: 'token' })).toEqual(
        backWith('unsupported_response_type', 'response_type must be code'),
      );
    });

    it.each([
      ['without a method (plain)', { code_challenge_method: undefined }],
      ['with plain', { code_challenge_method: 'plain' }],
      [
        'without PKCE at all',
        { code_challenge: undefined, code_challenge_method: undefined },
      ],
    ])('refuses a public client %s', async (_name, params) => {
      expect(await errorRedirect(params)).toEqual(
        backWith(
          'invalid_request',
          'code_challenge_method must be S256 for public clients',
        ),
      );
    });

    it.each([
      ['missing', undefined],
      ['too short', 'abc'],
      ['not base64url', `${'+'.repeat(43)}`],
    ])('refuses a code_challenge that is %s', async (_name, value) => {
      expect(await errorRedirect({ code_challenge: value })).toEqual(
        backWith(
          'invalid_request',
          'code_challenge must be 43 base64url characters (S256)',
        ),
      );
    });

    it('refuses plain PKCE for a confidential client too', async () => {
      expect(
        await errorRedirect(
          { code_challenge_method: 'plain' },
          confidentialClient,
        ),
      ).toEqual(
        backWith('invalid_request', 'code_challenge_method must be S256'),
      );
    });

    it.each([
      ['missing', undefined, 'resource is required (RFC 8707)'],
      [
        'on another site',
        'https://evil.example/api/mcp',
        'resource is not this application',
      ],
      [
        'on another port',
        'http://localhost:1/api/mcp',
        'resource is not this application',
      ],
      [
        'over https',
        'https://localhost/api/mcp',
        'resource is not this application',
      ],
      ['with a fragment', 'RESOURCE#x', 'resource is not this application'],
      ['not a URL', 'api/mcp', 'resource is not this application'],
    ])(
      'refuses a resource that is %s',
      async (_name, resource, description) => {
        const params = {
          resource: resource?.replace('RESOURCE', `${emulator.url}/api/mcp`),
        };
        expect(await errorRedirect(params)).toEqual(
          backWith('invalid_target', description),
        );
      },
    );

    it('refuses a repeated state, and sends none back', async () => {
      const path = `${client.authorizePath(
        client.authorizeParams(publicClient, challenge),
      )}&state=other`;
      const res = await client
        .get(path)
        .set('Cookie', `CF_Authorization=${cookie}`);
      expect(res.status).toBe(302);
      const location = new URL(res.headers.location);
      expect(Object.fromEntries(location.searchParams)).toEqual({
        error: 'invalid_request',
        error_description: 'state must be sent once',
        iss: emulator.url,
      });
    });

    it('refuses two resources', async () => {
      const path = `${client.authorizePath(
        client.authorizeParams(publicClient, challenge),
      )}&resource=${encodeURIComponent(`${emulator.url}/other`)}`;
      const res = await client
        .get(path)
        .set('Cookie', `CF_Authorization=${cookie}`);
      expect(res.status).toBe(302);
      const location = new URL(res.headers.location);
      expect(location.searchParams.get('error')).toBe('invalid_target');
      expect(location.searchParams.get('error_description')).toBe(
        'only one resource may be requested',
      );
    });
  });

  it('accepts the resource on a loopback name of the application (the origin the client used)', async () => {
    const port = new URL(emulator.url).port;
    const res = await authorize({
      ...client.authorizeParams(publicClient, challenge),
      resource: `http://127.0.0.1:${port}/api/mcp`,
      state: undefined,
    });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.location);
    expect(location.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.has('state')).toBe(false);
    expect(location.searchParams.get('iss')).toBe(emulator.url);
  });

  it.each([
    ['no session', 'none'],
    ['an expired session', 'expired'],
    ["a service token's assertion (no email)", 'service'],
  ])(
    'sends a person with %s to sign in first, then back here',
    async (_name, kind) => {
      const sessions: Record<string, () => Promise<string | undefined>> = {
        none: async () => undefined,
        expired: () =>
          emulator.mintUserToken('alice@example.com', {
            expiresInSeconds: -60,
          }),
        service: () => emulator.mintServiceToken('ci.access'),
      };
      const value = await sessions[kind]();
      const path = client.authorizePath(
        client.authorizeParams(publicClient, challenge),
      );
      const req = client.get(path);
      const res = await (value
        ? req.set('Cookie', `CF_Authorization=${value}`)
        : req);
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe(
        `/cdn-cgi/access/login?redirect_url=${encodeURIComponent(path)}`,
      );
    },
  );

  it('is the one /cdn-cgi/ path a login may return to', () => {
    const origins = [emulator.url];
    const path = `${AUTHORIZATION_PATH}?client_id=x&state=y`;
    expect(safeRedirectPath(path, origins)).toBe(path);
    expect(safeRedirectPath(`${emulator.url}${path}`, origins)).toBe(path);
    // In any case, as Express routes it; but exactly that path.
    const shouted = `${AUTHORIZATION_PATH.toUpperCase()}?client_id=x`;
    expect(safeRedirectPath(shouted, origins)).toBe(shouted);
    for (const other of [
      '/CDN-CGI/access/logout',
      `${AUTHORIZATION_PATH.toUpperCase()}/../TOKEN`,
      `${AUTHORIZATION_PATH.toUpperCase()}X`,
      '/cdn-cgi/access/oauth/token',
      `${AUTHORIZATION_PATH}/../token`,
      `${AUTHORIZATION_PATH}x`,
      '/cdn-cgi/access/logout',
      `https://evil.example${AUTHORIZATION_PATH}`,
    ]) {
      expect([other, safeRedirectPath(other, origins)]).toEqual([other, '/']);
    }
  });
});

it('sends the person through an identity provider and back to the authorization (instant auth)', async () => {
  const emulator = await startAccessEmulator({
    port: 0,
    managedOAuth: true,
    oneTimePin: false,
    instantAuth: true,
    identityProviders: [
      {
        name: 'PocketID',
        issuer: 'https://id.example.com',
        clientId: 'backstage',
        clientSecret: 'not-used-here',
      },
    ],
  });
  try {
    const client = new OAuthTestClient(emulator);
    const { client_id } = await client.register();
    const path = client.authorizePath(
      client.authorizeParams(client_id, pkcePair().challenge),
    );
    const toLogin = await client.get(path);
    const toIdp = await client.get(toLogin.headers.location);
    expect(toIdp.status).toBe(302);
    const idpLogin = new URL(toIdp.headers.location, emulator.url);
    expect(idpLogin.pathname).toBe('/cdn-cgi/access/oidc/pocketid/login');
    expect(idpLogin.searchParams.get('redirect_url')).toBe(path);
  } finally {
    await emulator.close();
  }
});

it('refuses a registered redirect URI the application no longer allows, with a page', async () => {
  // Settings are fixed for an emulator's life, so this is built by hand: the check must not rely on that.
  const keys = await KeyStore.open();
  const publicOrigin = 'http://localhost:7000';
  const tokens = new TokenIssuer(keys, {
    issuer: publicOrigin,
    audience: ['aud'],
    sessionDurationSeconds: 60,
  });
  const settings = resolveManagedOAuth(true)!;
  const oauth = new ManagedOAuth({
    settings,
    keys,
    issuer: publicOrigin,
    audience: ['aud'],
    signIn: () => Promise.reject(new Error('not used')),
    verifyApplicationToken: token => tokens.verify(token),
  });
  const ctx = {
    publicOrigin,
    allowedHost: createHostCheck(publicOrigin),
    tokens,
  } as Partial<EmulatorContext> as EmulatorContext;
  const app = express().use(createAuthorizationRoute(ctx, oauth));
  const { client } = oauth.clients.register(
    {
      authMethod: 'none',
      redirectUris: [REDIRECT_URI],
      grantTypes: ['authorization_code'],
    },
    Date.now(),
  )!;
  const { token } = await tokens.mintUserToken({
    email: 'alice@example.com',
    country: 'XX',
  });
  const authorize = () =>
    request(app)
      .get(AUTHORIZATION_PATH)
      .set('Host', 'localhost:7000')
      .set('Cookie', `CF_Authorization=${token}`)
      .query({
        client_id: client.clientId,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
        resource: `${publicOrigin}/api/mcp`,
      });
  expect((await authorize()).status).toBe(302);
  settings.allowAnyOnLoopback = false;
  const res = await authorize();
  expect(res.status).toBe(400);
  expect(res.headers.location).toBeUndefined();
  expect(res.text).toBe(
    'Access could not authorize this application: Redirect URI not allowed by application configuration.',
  );
});
