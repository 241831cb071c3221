import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type JWK, createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import request from 'supertest';
import { ADMIN_HEADER } from '../defaults';
import { type AccessEmulator, startAccessEmulator } from '../server';
import {
  OAuthTestClient,
  REDIRECT_URI,
  REVOCATION_PATH,
  TOKEN_PATH,
  pkcePair,
} from '../__testUtils__/oauthClient';
import { type TestOrigin, startTestOrigin } from '../__testUtils__/origins';
import { RETIRED_KEPT } from './grants';

async function jwksOf(emulator: AccessEmulator) {
  const res = await request(emulator.listenUrl).get('/cdn-cgi/access/certs');
  return createLocalJWKSet({ keys: res.body.keys as JWK[] });
}

/** Moves the emulator's clock (Date.now) forward for the duration of `run`. */
async function later<T>(ms: number, run: () => Promise<T>): Promise<T> {
  const realNow = Date.now.bind(Date);
  const spy = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + ms);
  try {
    return await run();
  } finally {
    spy.mockRestore();
  }
}

const grantError = (description: string) => ({
  error: 'invalid_grant',
  error_description: description,
});

describe('the token endpoint', () => {
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
      log: line => logLines.push(line),
    });
    client = new OAuthTestClient(emulator);
  });

  afterAll(async () => {
    await emulator?.close();
    await backend?.close();
  });

  beforeEach(() => {
    logLines.length = 0;
  });

  /** A registered public client, a signed-in person, and a fresh code with its verifier. */
  async function freshCode(clientId?: string) {
    const id = clientId ?? (await client.register()).client_id;
    const { verifier, challenge } = pkcePair();
    const { cookie } = await client.signIn();
    const code = await client.code(
      client.authorizeParams(id, challenge),
      cookie,
    );
    const exchange = (form: Record<string, string | undefined> = {}) =>
      client.token({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
        client_id: id,
        ...form,
      });
    return { clientId: id, code, verifier, exchange };
  }

  const bearer = (token: string) =>
    client.get('/api/mcp').set('Authorization', `Bearer ${token}`);

  describe('authorization_code', () => {
    it('refuses a wrong verifier, and the code is spent by the attempt', async () => {
      const { exchange } = await freshCode();
      const wrong = await exchange({ code_verifier: pkcePair().verifier });
      expect(wrong.status).toBe(400);
      expect(wrong.body).toEqual(
        grantError('code_verifier does not match the code_challenge'),
      );
      const right = await exchange();
      expect(right.body).toEqual(grantError('authorization code already used'));
    });

    it.each([
      [
        'a verifier that is too short',
        'short',
        'code_verifier does not match the code_challenge',
      ],
      ['no verifier', undefined, 'code_verifier is required'],
    ])('refuses %s', async (_name, verifier, description) => {
      const { exchange } = await freshCode();
      const res = await exchange({ code_verifier: verifier });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(grantError(description));
    });

    it('refuses a reused code and revokes the grant it gave', async () => {
      const { exchange, clientId } = await freshCode();
      const first = await exchange();
      expect(first.status).toBe(200);
      expect((await bearer(first.body.access_token)).status).toBe(200);
      const second = await exchange();
      expect(second.status).toBe(400);
      expect(second.body).toEqual(
        grantError('authorization code already used'),
      );
      const after = await bearer(first.body.access_token);
      expect(after.status).toBe(401);
      expect(logLines.at(-1)).toMatch(
        /GET \/api\/mcp 401 \d+ms oauth: revoked grant$/,
      );
      const refresh = await client.token({
        grant_type: 'refresh_token',
        refresh_token: first.body.refresh_token,
        client_id: clientId,
      });
      expect(refresh.body).toEqual(grantError('grant revoked'));
    });

    it('refuses a code after its 60 seconds', async () => {
      const { exchange } = await freshCode();
      const res = await later(61_000, () => exchange());
      expect(res.status).toBe(400);
      expect(res.body).toEqual(grantError('authorization code expired'));
    });

    it('accepts a code within its 60 seconds', async () => {
      const { exchange } = await freshCode();
      const res = await later(55_000, () => exchange());
      expect(res.status).toBe(200);
    });

    it('refuses a code of another client, another redirect URI, or an unknown code', async () => {
      const other = (await client.register()).client_id;
      const a = await freshCode();
      expect((await a.exchange({ client_id: other })).body).toEqual(
        grantError('authorization code issued to another client'),
      );
      const b = await freshCode();
      expect(
        (await b.exchange({ redirect_uri: 'http://127.0.0.1:33418/other' }))
          .body,
      ).toEqual(
        grantError('redirect_uri differs from the authorization request'),
      );
      const c = await freshCode();
      expect((await c.exchange({ code: 'no-such-code' })).body).toEqual(
        grantError('unknown authorization code'),
      );
    });

    it('refuses a resource other than the authorized one with invalid_target', async () => {
      const { exchange } = await freshCode();
      const res = await exchange({ resource: `${emulator.url}/other` });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: 'invalid_target',
        error_description: 'resource differs from the authorization request',
      });
    });
  });

  describe('malformed requests', () => {
    it.each([
      [
        'no grant_type',
        { grant_type: undefined },
        'invalid_request',
        'grant_type is required',
      ],
      [
        'a password grant',
        { grant_type: 'password' },
        'unsupported_grant_type',
        'grant_type must be authorization_code or refresh_token',
      ],
      [
        'client credentials',
        { grant_type: 'client_credentials' },
        'unsupported_grant_type',
        'grant_type must be authorization_code or refresh_token',
      ],
      [
        'no code',
        { code: undefined },
        'invalid_request',
        'code and redirect_uri are required',
      ],
      [
        'no redirect_uri',
        { redirect_uri: undefined },
        'invalid_request',
        'code and redirect_uri are required',
      ],
      [
        'no client_id',
        { client_id: undefined },
        'invalid_request',
        'client_id is required',
      ],
      [
        'no refresh_token',
        { grant_type: 'refresh_token' },
        'invalid_request',
        'refresh_token is required',
      ],
    ])('refuses %s', async (_name, form, error, description) => {
      const { exchange } = await freshCode();
      const res = await exchange(form);
      expect(res.status).toBe(400);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({ error, error_description: description });
    });

    it('refuses a repeated parameter and a body that is not a form, never with a 500', async () => {
      const { clientId } = await freshCode();
      const repeated = await client
        .post(TOKEN_PATH)
        .type('form')
        .send(
          `grant_type=refresh_token&grant_type=authorization_code&client_id=${clientId}`,
        );
      expect(repeated.status).toBe(400);
      expect(repeated.body).toEqual({
        error: 'invalid_request',
        error_description:
          'grant_type must be one value of up to 4096 characters',
      });
      const json = await client
        .post(TOKEN_PATH)
        .send({ grant_type: 'refresh_token', client_id: clientId });
      expect(json.status).toBe(400);
      expect(json.body.error_description).toBe(
        'the body must be application/x-www-form-urlencoded',
      );
      const huge = await client
        .post(TOKEN_PATH)
        .type('form')
        .send({ grant_type: 'x'.repeat(40_000) });
      expect(huge.status).toBe(413);
      expect(huge.body.error).toBe('invalid_request');
    });

    it('refuses an unknown client with 401 invalid_client', async () => {
      const { exchange } = await freshCode();
      const res = await exchange({ client_id: 'no-such-client' });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        error: 'invalid_client',
        error_description: 'unknown client',
      });
    });
  });

  describe('confidential clients', () => {
    async function confidential(method: string) {
      const registered = await client.register({
        token_endpoint_auth_method: method,
      });
      const { exchange } = await freshCode(registered.client_id);
      return { ...registered, exchange };
    }

    const failed = {
      error: 'invalid_client',
      error_description: 'client authentication failed',
    };

    it('refuses a basic client with a wrong secret, no secret, or its secret in the body', async () => {
      const c = await confidential('client_secret_basic');
      const form = {
        grant_type: 'authorization_code',
        code: 'x',
        redirect_uri: REDIRECT_URI,
      };
      const wrong = await client
        .post(TOKEN_PATH)
        .auth(c.client_id, 'wrong')
        .type('form')
        .send(form);
      expect(wrong.status).toBe(401);
      expect(wrong.body).toEqual(failed);
      expect(wrong.headers['www-authenticate']).toBe('Basic realm="OAuth"');
      const none = await c.exchange();
      expect(none.status).toBe(401);
      const inBody = await c.exchange({ client_secret: c.client_secret });
      expect(inBody.status).toBe(401);
    });

    it('refuses a post client with a wrong secret or with Basic', async () => {
      const c = await confidential('client_secret_post');
      expect((await c.exchange({ client_secret: 'wrong' })).body).toEqual(
        failed,
      );
      const basic = await client
        .post(TOKEN_PATH)
        .auth(c.client_id, c.client_secret!)
        .type('form')
        .send({
          grant_type: 'authorization_code',
          code: 'x',
          redirect_uri: REDIRECT_URI,
        });
      expect(basic.status).toBe(401);
    });

    it('refuses a code_verifier for a code issued without a code_challenge', async () => {
      const registered = await client.register({
        token_endpoint_auth_method: 'client_secret_post',
      });
      const { cookie } = await client.signIn();
      const code = await client.code(
        {
          ...client.authorizeParams(registered.client_id, ''),
          code_challenge: undefined,
          code_challenge_method: undefined,
        },
        cookie,
      );
      const res = await client.token({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: pkcePair().verifier,
        client_id: registered.client_id,
        client_secret: registered.client_secret,
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(
        grantError('code_verifier sent for a code without code_challenge'),
      );
    });

    it('refuses malformed Basic credentials, and a client_id that contradicts them', async () => {
      const c = await confidential('client_secret_basic');
      for (const header of ['Basic !!!', 'Basic bm9jb2xvbg==', 'Basic %zz']) {
        const res = await client
          .post(TOKEN_PATH)
          .set('Authorization', header)
          .type('form')
          .send({
            grant_type: 'authorization_code',
            code: 'x',
            redirect_uri: REDIRECT_URI,
          });
        expect([header, res.status, res.body.error]).toEqual([
          header,
          401,
          'invalid_client',
        ]);
      }
      const contradicting = await client
        .post(TOKEN_PATH)
        .auth(c.client_id, c.client_secret!)
        .type('form')
        .send({
          grant_type: 'authorization_code',
          code: 'x',
          redirect_uri: REDIRECT_URI,
          client_id: 'someone-else',
        });
      expect(contradicting.status).toBe(400);
      expect(contradicting.body.error).toBe('invalid_request');
    });
  });

  describe('refresh_token', () => {
    it('refuses a spent refresh token and revokes the grant (its latest tokens too)', async () => {
      const tokens = await client.issueTokens();
      const refreshed = await client.token({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
        client_id: tokens.clientId,
      });
      expect(refreshed.status).toBe(200);
      const replay = await client.token({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
        client_id: tokens.clientId,
      });
      expect(replay.status).toBe(400);
      expect(replay.body).toEqual(grantError('refresh token already used'));
      expect((await bearer(refreshed.body.access_token)).status).toBe(401);
      const latest = await client.token({
        grant_type: 'refresh_token',
        refresh_token: refreshed.body.refresh_token,
        client_id: tokens.clientId,
      });
      expect(latest.body).toEqual(grantError('grant revoked'));
    });

    it('recognises the recently retired refresh tokens of a grant as spent; older ones are just unknown', async () => {
      const tokens = await client.issueTokens();
      const refreshTokens = [tokens.refresh_token];
      for (let i = 0; i < RETIRED_KEPT + 2; i++) {
        const res = await client.token({
          grant_type: 'refresh_token',
          refresh_token: refreshTokens.at(-1),
          client_id: tokens.clientId,
        });
        expect(res.status).toBe(200);
        refreshTokens.push(res.body.refresh_token);
      }
      const refresh = (refreshToken: string) =>
        client.token({
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          client_id: tokens.clientId,
        });
      // Too old to be remembered: invalid_grant, and the grant lives on.
      expect((await refresh(refreshTokens[0])).body).toEqual(
        grantError('unknown refresh token'),
      );
      const latest = await refresh(refreshTokens.at(-1)!);
      expect(latest.status).toBe(200);
      // The one just retired: a replay, which revokes the grant.
      expect((await refresh(refreshTokens.at(-1)!)).body).toEqual(
        grantError('refresh token already used'),
      );
      expect((await refresh(latest.body.refresh_token)).body).toEqual(
        grantError('grant revoked'),
      );
    });

    it('refuses an unknown refresh token, one of another client, and another resource', async () => {
      const tokens = await client.issueTokens();
      const other = (await client.register()).client_id;
      const refresh = (form: Record<string, string>) =>
        client.token({
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token,
          client_id: tokens.clientId,
          ...form,
        });
      expect((await refresh({ refresh_token: 'oauth:nope' })).body).toEqual(
        grantError('unknown refresh token'),
      );
      expect((await refresh({ client_id: other })).body).toEqual(
        grantError('refresh token issued to another client'),
      );
      const target = await refresh({ resource: `${emulator.url}/other` });
      expect(target.body).toEqual({
        error: 'invalid_target',
        error_description: 'resource differs from the grant',
      });
      // None of these spent the refresh token.
      expect((await refresh({})).status).toBe(200);
    });
  });

  describe('revocation', () => {
    it('revokes the grant of an access token, even an expired one', async () => {
      const tokens = await client.issueTokens();
      const res = await client
        .post(REVOCATION_PATH)
        .type('form')
        .send({ token: tokens.access_token });
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
      expect((await bearer(tokens.access_token)).status).toBe(401);

      const more = await client.issueTokens();
      await later(16 * 60_000, () =>
        client
          .post(REVOCATION_PATH)
          .type('form')
          .send({ token: more.access_token }),
      );
      const refresh = await client.token({
        grant_type: 'refresh_token',
        refresh_token: more.refresh_token,
        client_id: more.clientId,
      });
      expect(refresh.body).toEqual(grantError('grant revoked'));
    });

    it('answers 200 for unknown tokens and does not let another client revoke', async () => {
      const tokens = await client.issueTokens();
      for (const token of ['oauth:unknown', 'garbage']) {
        const res = await client
          .post(REVOCATION_PATH)
          .type('form')
          .send({ token });
        expect(res.status).toBe(200);
      }
      const foreign = await client
        .post(REVOCATION_PATH)
        .type('form')
        .send({ token: tokens.refresh_token, client_id: 'another-client' });
      expect(foreign.status).toBe(200);
      expect((await bearer(tokens.access_token)).status).toBe(200);
      const missing = await client.post(REVOCATION_PATH).type('form').send({});
      expect(missing.status).toBe(400);
      expect(missing.body.error).toBe('invalid_request');
    });

    it('revokes every grant from the admin endpoint (with the admin rules)', async () => {
      const tokens = await client.issueTokens();
      const refused = await client.delete('/cdn-cgi/emulator/oauth/grants');
      expect(refused.status).toBe(403);
      expect((await bearer(tokens.access_token)).status).toBe(200);
      const res = await client
        .delete('/cdn-cgi/emulator/oauth/grants')
        .set(ADMIN_HEADER, '1');
      expect(res.status).toBe(200);
      expect(res.body.revoked).toBeGreaterThanOrEqual(1);
      expect((await bearer(tokens.access_token)).status).toBe(401);
      expect(logLines.at(-1)).toMatch(/oauth: revoked grant$/);
    });
  });
});

describe('token lifetimes', () => {
  let backend: TestOrigin;

  beforeAll(async () => {
    backend = await startTestOrigin('backend');
  });

  afterAll(() => backend?.close());

  it('refuses an expired access token with the challenge; a refresh gives a working one', async () => {
    const logLines: string[] = [];
    const emulator = await startAccessEmulator({
      port: 0,
      backendUrl: backend.url,
      managedOAuth: { accessTokenLifetime: '1s' },
      log: line => logLines.push(line),
    });
    try {
      const client = new OAuthTestClient(emulator);
      const tokens = await client.issueTokens();
      expect(tokens.expires_in).toBe(1);
      const expired = await later(2000, () =>
        client
          .get('/api/mcp')
          .set('Authorization', `Bearer ${tokens.access_token}`),
      );
      expect(expired.status).toBe(401);
      expect(expired.headers['www-authenticate']).toContain(
        'error="invalid_token"',
      );
      expect(logLines.at(-1)).toMatch(/oauth: expired token$/);
      const refreshed = await later(2000, () =>
        client.token({
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token,
          client_id: tokens.clientId,
        }),
      );
      expect(refreshed.status).toBe(200);
      const ok = await client
        .get('/api/mcp')
        .set('Authorization', `Bearer ${refreshed.body.access_token}`);
      expect(ok.status).toBe(200);
    } finally {
      await emulator.close();
    }
  });

  it('ends the grant with its session: no refresh, and no access token outlives it', async () => {
    const emulator = await startAccessEmulator({
      port: 0,
      backendUrl: backend.url,
      managedOAuth: { grantSessionDuration: '1m' },
    });
    try {
      const client = new OAuthTestClient(emulator);
      const tokens = await client.issueTokens();
      expect(emulator.managedOAuth?.grantSessionDurationSeconds).toBe(60);
      // 15 minutes asked for, but the grant ends after one.
      expect(tokens.expires_in).toBeLessThanOrEqual(60);
      expect(tokens.expires_in).toBeGreaterThanOrEqual(59);
      const refresh = () =>
        client.token({
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token,
          client_id: tokens.clientId,
        });
      const over = await later(61_000, refresh);
      expect(over.status).toBe(400);
      expect(over.body).toEqual(grantError('grant session over'));
      const call = await later(61_000, () =>
        client
          .get('/api/mcp')
          .set('Authorization', `Bearer ${tokens.access_token}`),
      );
      expect(call.status).toBe(401);
    } finally {
      await emulator.close();
    }
  });

  it("gives the origin an application token that lives no longer than an access token, nor past the grant's session", async () => {
    const emulator = await startAccessEmulator({
      port: 0,
      backendUrl: backend.url,
      managedOAuth: { accessTokenLifetime: '5m', grantSessionDuration: '8m' },
    });
    try {
      const client = new OAuthTestClient(emulator);
      /** The lifetime of the application token the origin gets for an access token. */
      const assertionLifetime = async (accessToken: string) => {
        backend.requests.length = 0;
        const res = await client
          .get('/api/mcp')
          .set('Authorization', `Bearer ${accessToken}`);
        expect(res.status).toBe(200);
        const assertion = String(
          backend.requests[0].headers['cf-access-jwt-assertion'],
        );
        const { iat, exp } = decodeJwt(assertion);
        return exp! - iat!;
      };
      const tokens = await client.issueTokens();
      // Not the 24-hour session of a login: the access token's 5 minutes.
      expect(await assertionLifetime(tokens.access_token)).toBe(300);
      // Refreshed 6 minutes in: 2 minutes of grant session left, for both tokens.
      await later(6 * 60_000, async () => {
        const refreshed = await client.token({
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token,
          client_id: tokens.clientId,
        });
        expect(refreshed.body.expires_in).toBeLessThanOrEqual(120);
        const lifetime = await assertionLifetime(refreshed.body.access_token);
        expect(lifetime).toBeLessThanOrEqual(120);
        expect(lifetime).toBeGreaterThanOrEqual(118);
      });
    } finally {
      await emulator.close();
    }
  });

  // A real wait (jose reads the clock itself): more time than Jest's default, for a busy machine.
  it('gives the origin a fresh application token when the grant one expired under a valid access token', async () => {
    const emulator = await startAccessEmulator({
      port: 0,
      backendUrl: backend.url,
      sessionDuration: 1,
      managedOAuth: true,
    });
    try {
      const client = new OAuthTestClient(emulator);
      const tokens = await client.issueTokens();
      const call = async () => {
        backend.requests.length = 0;
        await client
          .get('/api/mcp')
          .set('Authorization', `Bearer ${tokens.access_token}`);
        return String(backend.requests[0].headers['cf-access-jwt-assertion']);
      };
      const first = await call();
      await new Promise(resolve => setTimeout(resolve, 2100));
      await expect(emulator.verifyToken(first)).rejects.toThrow();
      const before = Math.floor(Date.now() / 1000);
      const second = await call();
      // Valid when it was minted; a one-second token may already have expired by the time it is checked.
      const { payload } = await jwtVerify(second, await jwksOf(emulator), {
        issuer: emulator.issuer,
        audience: emulator.audience,
        currentDate: new Date(decodeJwt(second).iat! * 1000),
      });
      expect(payload.iat).toBeGreaterThanOrEqual(before);
      expect(payload.email).toBe('alice@example.com');
    } finally {
      await emulator.close();
    }
  }, 20_000);
});

describe('tokens of another application of the team', () => {
  let stateDir: string;

  beforeAll(async () => {
    stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cfaccess-oauth-'));
  });

  afterAll(() => fs.rm(stateDir, { recursive: true, force: true }));

  it('refuses a token signed with the team key for another audience or issuer, naming the reason', async () => {
    const publicUrl = 'http://localhost:7999';
    const backend = await startTestOrigin('backend');
    const logLines: string[] = [];
    const start = (options: object) =>
      startAccessEmulator({
        port: 0,
        backendUrl: backend.url,
        managedOAuth: true,
        stateDir,
        log: line => logLines.push(line),
        ...options,
      });
    const first = await start({ publicUrl, audience: 'app-one' });
    const sameIssuer = await start({ publicUrl, audience: 'app-two' });
    const otherIssuer = await start({ audience: 'app-one' });
    // Its own keys (no state directory): another team.
    const otherTeam = await startAccessEmulator({
      port: 0,
      publicUrl,
      managedOAuth: true,
      audience: 'app-one',
      log: line => logLines.push(line),
    });
    try {
      const tokens = await new OAuthTestClient(first).issueTokens();
      const call = (emulator: AccessEmulator) =>
        new OAuthTestClient(emulator)
          .get('/api/mcp')
          .set('Authorization', `Bearer ${tokens.access_token}`);
      expect((await call(first)).status).toBe(200);
      for (const [emulator, reason] of [
        [sameIssuer, 'oauth: another application'],
        [otherIssuer, 'oauth: another application'],
        [otherTeam, 'oauth: invalid token'],
      ] as const) {
        const res = await call(emulator);
        expect(res.status).toBe(401);
        expect(res.body.error).toBe('invalid_token');
        expect(logLines.at(-1)).toMatch(new RegExp(`${reason}$`));
      }
      // A restart with the same keys and issuer: the token verifies, but its grant is gone.
      await first.close();
      const restarted = await start({ publicUrl, audience: 'app-one' });
      try {
        expect((await call(restarted)).status).toBe(401);
        expect(logLines.at(-1)).toMatch(/oauth: unknown grant$/);
      } finally {
        await restarted.close();
      }
    } finally {
      await first.close().catch(() => {});
      await sameIssuer.close();
      await otherIssuer.close();
      await otherTeam.close();
      await backend.close();
    }
  });
});
