import { type AccessEmulator, startAccessEmulator } from '../server';
import {
  AUTHORIZATION_PATH,
  OAuthTestClient,
  REDIRECT_URI,
  REVOCATION_PATH,
  TOKEN_PATH,
  pkcePair,
} from '../__testUtils__/oauthClient';
import { type TestOrigin, startTestOrigin } from '../__testUtils__/origins';

// The whole Managed OAuth flow as an MCP client goes through it, over HTTP.
describe('Managed OAuth, end to end', () => {
  let backend: TestOrigin;
  let emulator: AccessEmulator;
  let client: OAuthTestClient;
  const logLines: string[] = [];

  beforeAll(async () => {
    backend = await startTestOrigin('backend');
    emulator = await startAccessEmulator({
      port: 0,
      backendUrl: backend.url,
      managedOAuth: true,
      users: [{ email: 'alice@example.com', country: 'DE' }],
      log: line => logLines.push(line),
    });
    client = new OAuthTestClient(emulator);
  });

  afterAll(async () => {
    await emulator?.close();
    await backend?.close();
  });

  beforeEach(() => {
    backend.requests.length = 0;
  });

  it('takes a client from the 401 challenge to a proxied request as the person, then refreshes and revokes', async () => {
    const url = emulator.url;
    const secrets: string[] = [];

    // 1. The MCP request without a token: Cloudflare's challenge, not a login redirect.
    const challenge = await client
      .post('/api/mcp')
      .set('Accept', 'application/json, text/event-stream')
      .send({ jsonrpc: '2.0', id: 1, method: 'initialize' });
    expect(challenge.status).toBe(401);
    const metadataUrl = `${url}/.well-known/cloudflare-access-protected-resource/api/mcp`;
    expect(challenge.headers['www-authenticate']).toBe(
      `Bearer realm="OAuth", error="invalid_token", error_description="Missing or invalid access token", resource_metadata="${metadataUrl}"`,
    );
    expect(challenge.headers['cache-control']).toBe('no-store');
    expect(challenge.body).toEqual({
      error: 'invalid_token',
      error_description: 'Missing or invalid access token',
      resource_metadata: metadataUrl,
    });
    expect(backend.requests).toHaveLength(0);

    // 2. The protected-resource document it points to, then the authorization server's.
    const prm = await client.get(new URL(metadataUrl).pathname);
    expect(prm.status).toBe(200);
    expect(prm.body).toEqual({
      resource: `${url}/api/mcp`,
      authorization_servers: [url],
      bearer_methods_supported: ['header'],
      protected: true,
      team_domain: new URL(url).host,
      authentication_method: 'oauth',
    });
    const as = await client.get(
      `${new URL(prm.body.authorization_servers[0]).pathname.replace(
        /\/$/,
        '',
      )}/.well-known/oauth-authorization-server`,
    );
    expect(as.status).toBe(200);
    expect(as.headers['cache-control']).toBe('no-store');
    expect(as.body).toEqual({
      issuer: url,
      authorization_endpoint: `${url}/cdn-cgi/access/oauth/authorization`,
      token_endpoint: `${url}/cdn-cgi/access/oauth/token`,
      registration_endpoint: `${url}/cdn-cgi/access/oauth/registration`,
      revocation_endpoint: `${url}/cdn-cgi/access/oauth/revoke`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'none',
      ],
      code_challenge_methods_supported: ['S256'],
    });

    // 3. Dynamic client registration.
    const registration = await client
      .post(new URL(as.body.registration_endpoint).pathname)
      .send({
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        client_name: 'MCP test client',
      });
    expect(registration.status).toBe(201);
    const clientId = registration.body.client_id;
    expect(clientId).toMatch(/^[0-9a-f-]{36}$/);
    expect(registration.body).toEqual({
      client_id: clientId,
      client_id_issued_at: expect.any(Number),
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      client_name: 'MCP test client',
    });

    // 4. Authorization without a session: to the login page, which comes back here.
    const { verifier, challenge: codeChallenge } = pkcePair();
    secrets.push(verifier);
    const authorizePath = client.authorizePath({
      ...client.authorizeParams(clientId, codeChallenge),
      resource: prm.body.resource,
    });
    const toLogin = await client.get(authorizePath).set('Accept', 'text/html');
    expect(toLogin.status).toBe(302);
    const loginUrl = new URL(toLogin.headers.location, url);
    expect(loginUrl.pathname).toBe('/cdn-cgi/access/login');
    expect(loginUrl.searchParams.get('redirect_url')).toBe(authorizePath);

    const { cookie, res: login } = await client.signIn(
      'alice@example.com',
      loginUrl.searchParams.get('redirect_url')!,
    );
    secrets.push(cookie);
    expect(login.headers.location).toBe(authorizePath);

    const back = await client
      .get(login.headers.location)
      .set('Cookie', `CF_Authorization=${cookie}`);
    expect(back.status).toBe(302);
    const callback = new URL(back.headers.location);
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe('st-123');
    expect(callback.searchParams.get('iss')).toBe(url);
    const code = callback.searchParams.get('code')!;
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    secrets.push(code);

    // 5. The code exchange.
    const tokens = await client.token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      client_id: clientId,
      resource: prm.body.resource,
    });
    expect(tokens.status).toBe(200);
    expect(tokens.headers['cache-control']).toBe('no-store');
    expect(tokens.body).toEqual({
      access_token: expect.stringMatching(/^oauth:/),
      token_type: 'bearer',
      expires_in: 900,
      scope: '',
      resource: `${url}/api/mcp`,
      refresh_token: expect.stringMatching(/^oauth:[A-Za-z0-9_-]{43}$/),
    });
    secrets.push(tokens.body.access_token, tokens.body.refresh_token);

    // 6. The bearer reaches the origin as the person, without its Authorization header.
    const call = await client
      .post('/api/mcp')
      .set('Authorization', `Bearer ${tokens.body.access_token}`)
      .send({ jsonrpc: '2.0', id: 1, method: 'initialize' });
    expect(call.status).toBe(200);
    expect(backend.requests).toHaveLength(1);
    const seen = backend.requests[0].headers;
    expect(seen.authorization).toBeUndefined();
    expect(seen['cf-access-authenticated-user-email']).toBe(
      'alice@example.com',
    );
    const assertion = String(seen['cf-access-jwt-assertion']);
    const payload = await emulator.verifyToken(assertion);
    expect(payload).toMatchObject({
      email: 'alice@example.com',
      type: 'app',
      country: 'DE',
      aud: emulator.audience,
    });
    // A login's token: get-identity answers for it.
    const identity = await client
      .get('/cdn-cgi/access/get-identity')
      .set('Cookie', `CF_Authorization=${assertion}`);
    expect(identity.status).toBe(200);
    expect(identity.body.email).toBe('alice@example.com');

    // 7. Refresh rotates both tokens; the old refresh token is spent.
    const refreshed = await client.token({
      grant_type: 'refresh_token',
      refresh_token: tokens.body.refresh_token,
      client_id: clientId,
      resource: prm.body.resource,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(tokens.body.refresh_token);
    expect(refreshed.body.access_token).not.toBe(tokens.body.access_token);
    secrets.push(refreshed.body.access_token, refreshed.body.refresh_token);
    const again = await client
      .get('/api/mcp')
      .set('Authorization', `Bearer ${refreshed.body.access_token}`);
    expect(again.status).toBe(200);

    // 8. Revocation ends the grant: access and refresh tokens alike.
    const revoke = await client
      .post(REVOCATION_PATH)
      .type('form')
      .send({ token: refreshed.body.refresh_token, client_id: clientId });
    expect(revoke.status).toBe(200);
    const afterRevoke = await client
      .get('/api/mcp')
      .set('Authorization', `Bearer ${refreshed.body.access_token}`);
    expect(afterRevoke.status).toBe(401);
    const refreshAfterRevoke = await client.token({
      grant_type: 'refresh_token',
      refresh_token: refreshed.body.refresh_token,
      client_id: clientId,
    });
    expect(refreshAfterRevoke.status).toBe(400);
    expect(refreshAfterRevoke.body).toEqual({
      error: 'invalid_grant',
      error_description: 'grant revoked',
    });

    // The request log names callers and reasons, never a token, code, verifier or cookie.
    const log = logLines.join('\n');
    for (const secret of secrets) {
      expect(log).not.toContain(secret);
      expect(log).not.toContain(secret.replace(/^oauth:/, ''));
    }
    expect(log).toContain('GET /api/mcp 200');
    expect(log).toContain('alice@example.com (oauth)');
    expect(log).toContain(`GET ${AUTHORIZATION_PATH} 302`);
    expect(log).toContain(`POST ${TOKEN_PATH} 400`);
    expect(log).toContain('oauth: grant revoked');
  });

  it('re-evaluates the person at each refresh: a device change shows in the next application token', async () => {
    const tokens = await client.issueTokens('alice@example.com');
    await client
      .get('/api/mcp')
      .set('Authorization', `Bearer ${tokens.access_token}`);
    const before = await emulator.verifyToken(
      String(backend.requests[0].headers['cf-access-jwt-assertion']),
    );
    expect(before.country).toBe('DE');
    emulator.updateDevice('alice@example.com', { country: 'BR' });
    try {
      const refreshed = await client.token({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
        client_id: tokens.clientId,
      });
      expect(refreshed.status).toBe(200);
      await client
        .get('/api/mcp')
        .set('Authorization', `Bearer ${refreshed.body.access_token}`);
      const after = await emulator.verifyToken(
        String(backend.requests[1].headers['cf-access-jwt-assertion']),
      );
      expect(after.country).toBe('BR');
      expect(after.identity_nonce).not.toBe(before.identity_nonce);
    } finally {
      emulator.resetDevices();
    }
  });

  it('lets a confidential client authenticate with client_secret_basic or client_secret_post', async () => {
    for (const method of ['client_secret_basic', 'client_secret_post']) {
      const registered = await client.register({
        token_endpoint_auth_method: method,
      });
      expect(registered.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const { cookie } = await client.signIn();
      // A confidential client may go without PKCE.
      const code = await client.code(
        {
          ...client.authorizeParams(registered.client_id, ''),
          code_challenge: undefined,
          code_challenge_method: undefined,
        },
        cookie,
      );
      const form = {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
      };
      const res =
        method === 'client_secret_basic'
          ? await client
              .post(TOKEN_PATH)
              .auth(registered.client_id, registered.client_secret!)
              .type('form')
              .send(form)
          : await client.token({
              ...form,
              client_id: registered.client_id,
              client_secret: registered.client_secret,
            });
      expect([method, res.status]).toEqual([method, 200]);
      expect(res.body.access_token).toMatch(/^oauth:/);
    }
  });

  it('names its discovery URLs on the handle, and revokes every grant programmatically', async () => {
    expect(emulator.managedOAuth).toEqual({
      authorizationServerMetadataUrl: `${emulator.url}/.well-known/oauth-authorization-server`,
      protectedResourceMetadataUrl: `${emulator.url}/.well-known/cloudflare-access-protected-resource`,
      accessTokenLifetimeSeconds: 900,
      grantSessionDurationSeconds: 86400,
    });
    const tokens = await client.issueTokens();
    expect(emulator.revokeOAuthGrants()).toBeGreaterThanOrEqual(1);
    const res = await client
      .get('/api/mcp')
      .set('Authorization', `Bearer ${tokens.access_token}`);
    expect(res.status).toBe(401);
    expect(emulator.revokeOAuthGrants()).toBe(0);
  });
});
