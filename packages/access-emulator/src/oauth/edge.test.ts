import { type JWK, createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import request from 'supertest';
import { ADMIN_HEADER } from '../defaults';
import { type AccessEmulator, startAccessEmulator } from '../server';
import { OAuthTestClient } from '../__testUtils__/oauthClient';
import { type TestOrigin, startTestOrigin } from '../__testUtils__/origins';
import { requestUpgrade } from '../__testUtils__/upgrade';

const SERVICE_ID = 'ci-runner-0001.access';
const SERVICE_SECRET = 'ci-secret-value-0001';

// The edge with Managed OAuth on: who gets the challenge, who the login page, what the origin sees.
describe('the edge with Managed OAuth', () => {
  let frontend: TestOrigin;
  let backend: TestOrigin;
  let emulator: AccessEmulator;
  let client: OAuthTestClient;
  const logLines: string[] = [];

  beforeAll(async () => {
    frontend = await startTestOrigin('frontend');
    backend = await startTestOrigin('backend');
    emulator = await startAccessEmulator({
      port: 0,
      frontendUrl: frontend.url,
      backendUrl: backend.url,
      managedOAuth: {},
      serviceTokens: [{ clientId: SERVICE_ID, clientSecret: SERVICE_SECRET }],
      log: line => logLines.push(line),
    });
    client = new OAuthTestClient(emulator);
  });

  afterAll(async () => {
    await emulator?.close();
    await frontend?.close();
    await backend?.close();
  });

  beforeEach(() => {
    frontend.requests.length = 0;
    backend.requests.length = 0;
    logLines.length = 0;
  });

  const metadataUrl = (path: string) =>
    `${emulator.url}/.well-known/cloudflare-access-protected-resource${path}`;

  describe('without a credential', () => {
    it.each([
      ['curl', { Accept: '*/*' }],
      ['an MCP client', { Accept: 'application/json, text/event-stream' }],
      ['a fetch', { Accept: 'application/json', 'Sec-Fetch-Mode': 'cors' }],
      ['no Accept at all', {}],
    ])(
      'challenges %s with 401 and the path-scoped metadata URL (no query)',
      async (_name, headers) => {
        const res = await client
          .get('/api/catalog/entities?kind=User')
          .set(headers);
        expect(res.status).toBe(401);
        expect(res.headers['www-authenticate']).toBe(
          `Bearer realm="OAuth", error="invalid_token", error_description="Missing or invalid access token", resource_metadata="${metadataUrl(
            '/api/catalog/entities',
          )}"`,
        );
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(res.body.resource_metadata).toBe(
          metadataUrl('/api/catalog/entities'),
        );
        expect(backend.requests).toHaveLength(0);
      },
    );

    it('points the root path at the document with a trailing slash, as Cloudflare does', async () => {
      const res = await client.get('/');
      expect(res.status).toBe(401);
      expect(res.body.resource_metadata).toBe(metadataUrl('/'));
      expect(frontend.requests).toHaveLength(0);
    });

    it('names the origin the client used: a loopback name gets its own resource', async () => {
      const res = await request(emulator.listenUrl).get('/api/mcp');
      const own = new URL(emulator.listenUrl).origin;
      expect(res.body.resource_metadata).toBe(
        `${own}/.well-known/cloudflare-access-protected-resource/api/mcp`,
      );
    });

    it.each([
      ['Accept: text/html', { Accept: 'text/html,application/xhtml+xml' }],
      [
        'Sec-Fetch-Mode: navigate',
        { Accept: '*/*', 'Sec-Fetch-Mode': 'navigate' },
      ],
    ])(
      'still sends a browser navigation (%s) to the login page',
      async (_name, headers) => {
        const res = await client.get('/catalog?kind=User').set(headers);
        expect(res.status).toBe(302);
        expect(res.headers.location).toBe(
          '/cdn-cgi/access/login?redirect_url=%2Fcatalog%3Fkind%3DUser',
        );
        expect(res.headers['www-authenticate']).toBeUndefined();
      },
    );

    it('challenges a WebSocket upgrade', async () => {
      const res = await requestUpgrade(
        new URL('/api/events', emulator.listenUrl),
        {},
      );
      expect(res.status).toBe(401);
      expect(backend.requests).toHaveLength(0);
    });
  });

  describe('with a Managed OAuth access token', () => {
    it('passes an upgrade as the person, without the Authorization header', async () => {
      const tokens = await client.issueTokens();
      const res = await requestUpgrade(
        new URL('/api/events', emulator.listenUrl),
        { Authorization: `Bearer ${tokens.access_token}` },
      );
      expect(res.status).toBe(101);
      const seen = backend.requests.find(r => r.upgrade)!.headers;
      expect(seen.authorization).toBeUndefined();
      expect(seen['cf-access-authenticated-user-email']).toBe(
        'alice@example.com',
      );
    });

    it('challenges an invalid token even for a browser navigation, naming the reason in the log', async () => {
      for (const token of ['oauth:not-a-jws', 'oauth:', 'oauth:a.b.c']) {
        const res = await client
          .get('/catalog')
          .set('Accept', 'text/html')
          .set('Authorization', `Bearer ${token}`);
        expect(res.status).toBe(401);
        expect(res.body.error).toBe('invalid_token');
      }
      expect(logLines.join('\n')).toContain('401');
      expect(logLines.every(l => l.endsWith('oauth: invalid token'))).toBe(
        true,
      );
      expect(frontend.requests).toHaveLength(0);
    });

    it('does not fall back to the session cookie when the access token is bad', async () => {
      const { cookie } = await client.signIn();
      const res = await client
        .get('/api/catalog')
        .set('Cookie', `CF_Authorization=${cookie}`)
        .set('Authorization', 'Bearer oauth:forged');
      expect(res.status).toBe(401);
      expect(backend.requests).toHaveLength(0);
    });

    it('refuses an access token as an application token: not in cf-access-token, not as the cookie', async () => {
      const tokens = await client.issueTokens();
      const jws = tokens.access_token.slice('oauth:'.length);
      for (const [name, value] of [
        ['cf-access-token', tokens.access_token],
        ['cf-access-token', jws],
        ['Cookie', `CF_Authorization=${tokens.access_token}`],
        ['Cookie', `CF_Authorization=${jws}`],
      ]) {
        const res = await client.get('/api/catalog').set(name, value);
        expect([name, value, res.status]).toEqual([name, value, 401]);
      }
      // Nor the other way round: an application token is no access token.
      const appToken = await emulator.mintUserToken('alice@example.com');
      const res = await client
        .get('/api/catalog')
        .set('Authorization', `Bearer oauth:${appToken}`);
      expect(res.status).toBe(401);
      expect(backend.requests).toHaveLength(0);
    });

    it('signs access tokens that an origin checking application tokens refuses, even stripped of oauth:', async () => {
      const tokens = await client.issueTokens();
      const jws = tokens.access_token.slice('oauth:'.length);
      // The rules an origin's verifier applies (the Backstage cfaccess module's among them): the team's
      // keys and issuer, one of the AUD tags in `aud`, and a `type` of `app` when there is one.
      const payload = decodeJwt(jws);
      expect(payload.type).toBe('oauth_access');
      expect(payload.type).not.toBe('app');
      expect(payload.aud).toBe(tokens.resource);
      for (const tag of emulator.audience) {
        expect([payload.aud].flat()).not.toContain(tag);
      }
      expect(payload.app_aud).toEqual(emulator.audience);
      const certs = await client.get('/cdn-cgi/access/certs');
      await expect(
        jwtVerify(jws, createLocalJWKSet({ keys: certs.body.keys as JWK[] }), {
          algorithms: ['RS256'],
          issuer: emulator.issuer,
          audience: emulator.audience,
        }),
      ).rejects.toThrow('unexpected "aud" claim value');
      await expect(emulator.verifyToken(jws)).rejects.toThrow();
      // Nor does the emulator take it as an application token, before or after a revocation.
      const asAppToken = () =>
        client.get('/api/catalog').set('cf-access-token', jws);
      expect((await asAppToken()).status).toBe(401);
      await client
        .post('/cdn-cgi/access/oauth/revoke')
        .type('form')
        .send({ token: tokens.access_token });
      expect((await asAppToken()).status).toBe(401);
      expect(backend.requests).toHaveLength(0);
    });

    it('leaves other bearer tokens alone: a Backstage token reaches the origin with the session', async () => {
      const { cookie } = await client.signIn();
      const res = await client
        .get('/api/catalog')
        .set('Cookie', `CF_Authorization=${cookie}`)
        .set('Authorization', 'Bearer backstage-user-token');
      expect(res.status).toBe(200);
      expect(backend.requests[0].headers.authorization).toBe(
        'Bearer backstage-user-token',
      );
      const alone = await client
        .get('/api/catalog')
        .set('Authorization', 'Bearer backstage-user-token');
      expect(alone.status).toBe(401);
    });

    it('keeps service tokens first: a valid one passes whatever the bearer, a wrong one is 403', async () => {
      const tokens = await client.issueTokens();
      const service = await client
        .get('/api/catalog')
        .set('CF-Access-Client-Id', SERVICE_ID)
        .set('CF-Access-Client-Secret', SERVICE_SECRET)
        .set('Authorization', 'Bearer oauth:forged');
      expect(service.status).toBe(200);
      expect(
        backend.requests[0].headers['cf-access-authenticated-user-email'],
      ).toBeUndefined();
      const wrong = await client
        .get('/api/catalog')
        .set('CF-Access-Client-Id', SERVICE_ID)
        .set('CF-Access-Client-Secret', 'wrong')
        .set('Authorization', `Bearer ${tokens.access_token}`);
      expect(wrong.status).toBe(403);
      expect(backend.requests).toHaveLength(1);
    });
  });

  describe('discovery documents', () => {
    it.each([
      ['/.well-known/cloudflare-access-protected-resource', ''],
      ['/.well-known/cloudflare-access-protected-resource/', ''],
      ['/.well-known/cloudflare-access-protected-resource/api/mcp', '/api/mcp'],
      ['/.well-known/oauth-protected-resource', ''],
      [
        '/.well-known/oauth-protected-resource/api/mcp-actions/v1',
        '/api/mcp-actions/v1',
      ],
      ['/.well-known/OAuth-Protected-Resource/mcp/', '/mcp/'],
    ])(
      'answers %s without a session, for exactly the resource asked about',
      async (path, resourcePath) => {
        const res = await client
          .get(path)
          .set('CF-Access-Client-Id', 'sent.access')
          .set('CF-Access-Client-Secret', 'along by a client');
        expect(res.status).toBe(200);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.body).toEqual({
          resource: `${emulator.url}${resourcePath}`,
          authorization_servers: [emulator.url],
          bearer_methods_supported: ['header'],
          protected: true,
          team_domain: new URL(emulator.url).host,
          authentication_method: 'oauth',
        });
        expect(frontend.requests).toHaveLength(0);
        expect(backend.requests).toHaveLength(0);
      },
    );

    it('answers the authorization server metadata under any path suffix, and no OpenID configuration', async () => {
      const root = await client.get('/.well-known/oauth-authorization-server');
      const suffixed = await client.get(
        '/.well-known/oauth-authorization-server/api/auth',
      );
      expect(root.status).toBe(200);
      expect(suffixed.body).toEqual(root.body);
      expect(root.body.issuer).toBe(emulator.url);
      for (const path of [
        '/.well-known/openid-configuration',
        '/.well-known/openid-configuration/api/auth',
      ]) {
        const res = await client.get(path);
        expect([path, res.status]).toEqual([path, 404]);
      }
      expect(frontend.requests).toHaveLength(0);
    });

    it('answers a path that does not percent-decode with 400, never a 500', async () => {
      for (const path of [
        '/.well-known/oauth-protected-resource/%',
        '/.well-known/oauth-authorization-server/%E0%A4%A',
      ]) {
        const res = await client.get(path);
        expect([path, res.status, res.body]).toEqual([
          path,
          400,
          {
            error: 'invalid_request',
            error_description: 'malformed request path',
          },
        ]);
      }
    });

    it('answers them to GET only, and leaves other /.well-known/ paths to the origin behind the edge', async () => {
      const post = await client.post('/.well-known/oauth-authorization-server');
      expect(post.status).toBe(404);
      const other = await client.get('/.well-known/security.txt');
      expect(other.status).toBe(401);
      const lookalike = await client.get(
        '/.well-known/oauth-protected-resourcex',
      );
      expect(lookalike.status).toBe(401);
      expect(frontend.requests).toHaveLength(0);
    });
  });
});

describe('the edge with Managed OAuth off (the default)', () => {
  let frontend: TestOrigin;
  let emulator: AccessEmulator;

  beforeAll(async () => {
    frontend = await startTestOrigin('frontend');
    emulator = await startAccessEmulator({
      port: 0,
      frontendUrl: frontend.url,
      backendUrl: frontend.url,
    });
  });

  afterAll(async () => {
    await emulator?.close();
    await frontend?.close();
  });

  it('sends every request without a session to the login page, as before', async () => {
    for (const accept of ['*/*', 'application/json, text/event-stream']) {
      const res = await request(emulator.listenUrl)
        .post('/api/mcp')
        .set('Accept', accept)
        .set('Authorization', 'Bearer oauth:anything');
      expect(res.status).toBe(302);
      expect(res.headers['www-authenticate']).toBeUndefined();
    }
  });

  it('leaves /.well-known/ to the origin, behind a session', async () => {
    const path = '/.well-known/oauth-protected-resource';
    const anonymous = await request(emulator.listenUrl).get(path);
    expect(anonymous.status).toBe(302);
    const cookie = await emulator.mintUserToken('alice@example.com');
    const res = await request(emulator.listenUrl)
      .get(path)
      .set('Cookie', `CF_Authorization=${cookie}`)
      .set('Authorization', 'Bearer oauth:passed-through');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ origin: 'frontend', url: path });
    expect(frontend.requests.at(-1)!.headers.authorization).toBe(
      'Bearer oauth:passed-through',
    );
  });

  it('has no OAuth endpoints, admin route or handle information', async () => {
    for (const path of [
      '/cdn-cgi/access/oauth/registration',
      '/cdn-cgi/access/oauth/token',
      '/cdn-cgi/access/oauth/revoke',
    ]) {
      const res = await request(emulator.listenUrl).post(path).send({});
      expect([path, res.status]).toEqual([path, 404]);
    }
    const authorize = await request(emulator.listenUrl).get(
      '/cdn-cgi/access/oauth/authorization',
    );
    expect(authorize.status).toBe(404);
    const admin = await request(emulator.listenUrl)
      .delete('/cdn-cgi/emulator/oauth/grants')
      .set(ADMIN_HEADER, '1');
    expect(admin.status).toBe(404);
    expect(emulator.managedOAuth).toBeUndefined();
    expect(emulator.revokeOAuthGrants()).toBe(0);
  });
});
