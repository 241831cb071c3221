import http from 'node:http';
import { X509Certificate, createPublicKey } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  decodeJwt,
  jwtVerify,
  type JWK,
} from 'jose';
import { ADMIN_HEADER, DEFAULT_AUD } from './defaults';
import { type AccessEmulator, startAccessEmulator } from './server';
import { subjectForEmail } from './tokens';
import {
  type TestOrigin,
  cookieFrom,
  startTestOrigin,
} from './__testUtils__/origins';
import { requestUpgrade } from './__testUtils__/upgrade';

const SERVICE_ID = 'ci-runner-0001.access';
const SERVICE_SECRET = 'ci-secret-value-0001';

const users = [
  {
    email: 'alice@example.com',
    name: 'Alice Example',
    groups: ['engineering', 'admins'],
  },
  { email: 'bob@example.com', name: 'Bob Builder', groups: ['engineering'] },
  {
    email: 'mallory@example.com',
    name: 'Mallory <script>alert(1)</script>',
    groups: ['"><b>x</b>'],
  },
];

async function tmpDir() {
  return fs.mkdtemp(path.join(os.tmpdir(), 'cfaccess-emulator-test-'));
}

async function login(
  emulator: AccessEmulator,
  email: string,
  redirectUrl = '/',
) {
  const res = await request(emulator.listenUrl)
    .post('/cdn-cgi/access/login')
    .type('form')
    .send({ email, redirect_url: redirectUrl });
  expect(res.status).toBe(302);
  return { res, token: cookieFrom(res.headers['set-cookie']) };
}

async function jwksOf(emulator: AccessEmulator) {
  const res = await request(emulator.listenUrl).get('/cdn-cgi/access/certs');
  expect(res.status).toBe(200);
  return createLocalJWKSet({ keys: res.body.keys as JWK[] });
}

async function verifyAgainstCerts(emulator: AccessEmulator, token: string) {
  return jwtVerify(token, await jwksOf(emulator), {
    issuer: emulator.issuer,
    audience: DEFAULT_AUD,
    algorithms: ['RS256'],
  });
}

describe('access emulator', () => {
  let frontend: TestOrigin;
  let backend: TestOrigin;
  let emulator: AccessEmulator;
  let stateDir: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    frontend = await startTestOrigin('frontend');
    backend = await startTestOrigin('backend');
    stateDir = await tmpDir();
    emulator = await startAccessEmulator({
      port: 0,
      frontendUrl: frontend.url,
      backendUrl: backend.url,
      stateDir,
      users,
      serviceTokens: [
        { clientId: SERVICE_ID, clientSecret: SERVICE_SECRET, name: 'ci' },
      ],
      country: 'de',
      log: line => logLines.push(line),
    });
  });

  afterAll(async () => {
    await emulator?.close();
    await frontend?.close();
    await backend?.close();
    await fs.rm(stateDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    frontend.requests.length = 0;
    backend.requests.length = 0;
  });

  it('defaults the public URL to localhost and the issuer to its origin', () => {
    expect(emulator.url).toBe(`http://localhost:${emulator.port}`);
    expect(emulator.issuer).toBe(emulator.url);
    expect(emulator.audience).toEqual([DEFAULT_AUD]);
    expect(DEFAULT_AUD).toMatch(/^[0-9a-f]{64}$/);
  });

  describe('unauthenticated requests', () => {
    it('redirects a navigation to the login page with the original path', async () => {
      const res = await request(emulator.listenUrl)
        .get('/catalog?kind=User')
        .set('Accept', 'text/html');
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe(
        '/cdn-cgi/access/login?redirect_url=%2Fcatalog%3Fkind%3DUser',
      );
      expect(frontend.requests).toHaveLength(0);
    });

    it('redirects fetch/XHR requests to the login page as well', async () => {
      const res = await request(emulator.listenUrl)
        .get('/api/catalog/entities')
        .set('Accept', 'application/json')
        .set('Sec-Fetch-Mode', 'cors');
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe(
        '/cdn-cgi/access/login?redirect_url=%2Fapi%2Fcatalog%2Fentities',
      );
      expect(backend.requests).toHaveLength(0);
    });

    it('does not accept a bare Cf-Access-Jwt-Assertion header from the client', async () => {
      const token = await emulator.mintUserToken('alice@example.com');
      const res = await request(emulator.listenUrl)
        .get('/api/catalog')
        .set('Cf-Access-Jwt-Assertion', token);
      expect(res.status).toBe(302);
      expect(backend.requests).toHaveLength(0);
    });

    it('rejects an expired or foreign session cookie', async () => {
      const expired = await emulator.mintUserToken('alice@example.com', {
        expiresInSeconds: -60,
      });
      const other = await startAccessEmulator({ port: 0 });
      const foreign = await other.mintUserToken('alice@example.com');
      await other.close();
      for (const token of [expired, foreign, 'not-a-jwt']) {
        const res = await request(emulator.listenUrl)
          .get('/api/catalog')
          .set('Cookie', `CF_Authorization=${token}`);
        expect(res.status).toBe(302);
      }
      expect(backend.requests).toHaveLength(0);
    });
  });

  describe('login', () => {
    it('serves a login page listing the users, with all text escaped', async () => {
      const res = await request(emulator.listenUrl).get(
        '/cdn-cgi/access/login?redirect_url=%2Fcatalog%3Fa%3D1%26b%3D%22%3E',
      );
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.text).toContain('Alice Example');
      expect(res.text).toContain('bob@example.com');
      expect(res.text).toContain('engineering');
      expect(res.text).toContain('action="/cdn-cgi/access/login"');
      expect(res.text).toContain('name="email" value="alice@example.com"');
      expect(res.text).not.toContain('<script>alert(1)</script>');
      expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(res.text).not.toContain('"><b>x</b>');
      expect(res.text).toContain(
        'name="redirect_url" value="/catalog?a=1&amp;b=%22%3E"',
      );
      expect(res.text).toContain('type="email"');
    });

    it('mints an RS256 application token with the Access claims and sets the cookie', async () => {
      const before = Math.floor(Date.now() / 1000);
      const { res, token } = await login(
        emulator,
        'Alice@Example.com',
        '/catalog?x=1',
      );
      expect(res.headers.location).toBe('/catalog?x=1');

      const setCookie = (res.headers['set-cookie'] as unknown as string[])[0];
      expect(setCookie).toMatch(/^CF_Authorization=/);
      expect(setCookie).toMatch(/; HttpOnly/);
      expect(setCookie).toMatch(/; SameSite=Lax/);
      expect(setCookie).toMatch(/; Path=\//);
      expect(setCookie).toMatch(/; Max-Age=86400/);
      expect(setCookie).not.toMatch(/Secure/);

      const header = decodeProtectedHeader(token);
      const certs = await request(emulator.listenUrl).get(
        '/cdn-cgi/access/certs',
      );
      expect(header).toEqual({
        alg: 'RS256',
        kid: certs.body.public_cert.kid,
        typ: 'JWT',
      });

      const { payload } = await verifyAgainstCerts(emulator, token);
      expect(payload).toEqual({
        aud: [DEFAULT_AUD],
        iss: emulator.url,
        sub: subjectForEmail('alice@example.com'),
        email: 'alice@example.com',
        identity_nonce: expect.any(String),
        type: 'app',
        country: 'DE',
        iat: expect.any(Number),
        nbf: expect.any(Number),
        exp: expect.any(Number),
      });
      expect(payload.sub).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
      expect(payload.iat).toBeGreaterThanOrEqual(before);
      expect(payload.nbf).toBe(payload.iat);
      expect(payload.exp! - payload.iat!).toBe(86400);

      // sub is stable per email, the nonce is new per login.
      const again = decodeJwt(
        (await login(emulator, 'alice@example.com')).token,
      );
      expect(again.sub).toBe(payload.sub);
      expect(again.identity_nonce).not.toBe(payload.identity_nonce);
      const bob = decodeJwt((await login(emulator, 'bob@example.com')).token);
      expect(bob.sub).not.toBe(payload.sub);
    });

    it('accepts a free-form email and rejects an invalid one', async () => {
      const { token } = await login(emulator, 'dave@example.org');
      expect(decodeJwt(token).email).toBe('dave@example.org');
      const res = await request(emulator.listenUrl)
        .post('/cdn-cgi/access/login')
        .type('form')
        .send({ email: 'not an email', redirect_url: '/' });
      expect(res.status).toBe(400);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.text).toContain('Enter a valid email address.');
    });

    it('refuses a cross-origin login form post', async () => {
      const res = await request(emulator.listenUrl)
        .post('/cdn-cgi/access/login')
        .set('Origin', 'https://evil.example')
        .type('form')
        .send({ email: 'alice@example.com', redirect_url: '/' });
      expect(res.status).toBe(403);
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('refuses a login form post with Origin: null (sandboxed frame, data: URL)', async () => {
      const res = await request(emulator.listenUrl)
        .post('/cdn-cgi/access/login')
        .set('Origin', 'null')
        .type('form')
        .send({ email: 'alice@example.com', redirect_url: '/' });
      expect(res.status).toBe(403);
      expect(res.text).toBe('Cross-origin sign-in refused');
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('accepts a same-origin login form post, and one without Origin (not a browser)', async () => {
      for (const origin of [emulator.url, emulator.listenUrl, undefined]) {
        const req = request(emulator.listenUrl)
          .post('/cdn-cgi/access/login')
          .type('form');
        if (origin) {
          req.set('Origin', origin);
        }
        const res = await req.send({
          email: 'alice@example.com',
          redirect_url: '/',
        });
        expect([origin, res.status]).toEqual([origin, 302]);
        expect(res.headers['set-cookie']).toBeDefined();
      }
    });

    it('serves the login page with Referrer-Policy: same-origin, so its own posts carry their Origin', async () => {
      const res = await request(emulator.listenUrl).get(
        '/cdn-cgi/access/login',
      );
      expect(res.headers['referrer-policy']).toBe('same-origin');
      // A <meta name="referrer"> would override the header, and no-referrer turns Origin into null.
      expect(res.text).not.toContain('no-referrer');
      const failed = await request(emulator.listenUrl)
        .post('/cdn-cgi/access/login')
        .type('form')
        .send({ email: 'not an email', redirect_url: '/' });
      expect(failed.status).toBe(400);
      expect(failed.headers['referrer-policy']).toBe('same-origin');
    });

    it.each([
      ['https://evil.example/steal', '/'],
      ['//evil.example/steal', '/'],
      ['/\\evil.example', '/'],
      ['/.//evil.example', '/'],
      // eslint-disable-next-line no-script-url
      ['javascript:alert(1)', '/'],
      ['http://localhost:1/other-port', '/'],
      ['/cdn-cgi/access/logout', '/'],
      // The edge matches /cdn-cgi/ case-insensitively: this one would log the person out.
      ['/CDN-CGI/access/logout', '/'],
      ['/Cdn-Cgi/Access/Logout?x=1', '/'],
      ['', '/'],
      [
        '/catalog/default/user/alice#section',
        '/catalog/default/user/alice#section',
      ],
    ])('redirects back safely for redirect_url %p', async (raw, expected) => {
      const { res } = await login(emulator, 'alice@example.com', raw);
      expect(res.headers.location).toBe(expected);
    });

    it('accepts an absolute redirect_url on the emulator origin', async () => {
      const { res } = await login(
        emulator,
        'alice@example.com',
        `${emulator.url}/settings?tab=1`,
      );
      expect(res.headers.location).toBe('/settings?tab=1');
    });
  });

  describe('proxying', () => {
    it('sends /api/ to the backend with the assertion and drops a client-injected one', async () => {
      const { token } = await login(emulator, 'alice@example.com');
      const res = await request(emulator.listenUrl)
        .get('/api/catalog/entities?filter=kind=user')
        .set('Cookie', `CF_Authorization=${token}`)
        .set('Cf-Access-Jwt-Assertion', 'forged.jwt.value')
        .set('Cf-Access-Authenticated-User-Email', 'mallory@example.com');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        origin: 'backend',
        url: '/api/catalog/entities?filter=kind=user',
      });
      expect(backend.requests).toHaveLength(1);
      const seen = backend.requests[0].headers;
      expect(seen['cf-access-jwt-assertion']).toBe(token);
      expect(seen['cf-access-authenticated-user-email']).toBe(
        'alice@example.com',
      );
      expect(seen.host).toBe(new URL(emulator.listenUrl).host);
      expect(seen['x-forwarded-proto']).toBe('http');
      expect(seen['x-forwarded-host']).toBe(new URL(emulator.listenUrl).host);
      expect(seen['x-forwarded-for']).toBe('127.0.0.1');
      expect(seen.cookie).toContain(`CF_Authorization=${token}`);
      expect(frontend.requests).toHaveLength(0);
    });

    it('sends everything else (and /.backstage/) to the right origin', async () => {
      const { token } = await login(emulator, 'bob@example.com');
      const cookie = `CF_Authorization=${token}`;
      const page = await request(emulator.listenUrl)
        .get('/catalog')
        .set('Cookie', cookie);
      expect(page.body.origin).toBe('frontend');
      const apiLike = await request(emulator.listenUrl)
        .get('/apis')
        .set('Cookie', cookie);
      expect(apiLike.body.origin).toBe('frontend');
      const health = await request(emulator.listenUrl)
        .get('/.backstage/health/v1/readiness')
        .set('Cookie', cookie);
      expect(health.body.origin).toBe('backend');
      expect(frontend.requests[0].headers['cf-access-jwt-assertion']).toBe(
        token,
      );
    });

    it('streams responses through', async () => {
      const { token } = await login(emulator, 'alice@example.com');
      const url = new URL('/stream', emulator.listenUrl);
      const received: string[] = [];
      const done = new Promise<void>((resolve, reject) => {
        const req = http.get(
          url,
          { headers: { cookie: `CF_Authorization=${token}` } },
          res => {
            res.setEncoding('utf8');
            res.on('data', chunk => {
              received.push(chunk);
              if (received.join('') === 'first;') {
                frontend.finishStream();
              }
            });
            res.on('end', () => resolve());
          },
        );
        req.on('error', reject);
      });
      await done;
      expect(received.join('')).toBe('first;second');
      expect(received[0]).toBe('first;');
    });

    it('passes websocket upgrades through for a valid session only', async () => {
      const { token } = await login(emulator, 'alice@example.com');
      const upgrade = (headers: Record<string, string>) =>
        requestUpgrade(new URL('/api/events', emulator.listenUrl), headers);
      const ok = await upgrade({
        Cookie: `CF_Authorization=${token}`,
        'Cf-Access-Jwt-Assertion': 'forged',
      });
      expect(ok).toEqual({ status: 101, data: 'hello from backend' });
      expect(backend.requests).toHaveLength(1);
      expect(backend.requests[0].upgrade).toBe(true);
      expect(backend.requests[0].headers['cf-access-jwt-assertion']).toBe(
        token,
      );

      const denied = await upgrade({});
      expect(denied.status).toBe(302);
      expect(denied.location).toBe(
        '/cdn-cgi/access/login?redirect_url=%2Fapi%2Fevents',
      );
      expect(backend.requests).toHaveLength(1);
    });
  });

  describe('a script with a user token (cf-access-token)', () => {
    it('passes with the token in cf-access-token, forwarded as the assertion only', async () => {
      const { token } = await login(emulator, 'alice@example.com');
      const res = await request(emulator.listenUrl)
        .get('/api/catalog/entities')
        .set('cf-access-token', token)
        .set('Cf-Access-Jwt-Assertion', 'forged');
      expect(res.status).toBe(200);
      expect(res.headers['set-cookie']).toBeUndefined();
      const seen = backend.requests[0].headers;
      expect(seen['cf-access-jwt-assertion']).toBe(token);
      expect(seen['cf-access-token']).toBeUndefined();
      expect(seen['cf-access-authenticated-user-email']).toBe(
        'alice@example.com',
      );
    });

    it('sends an invalid or foreign token to the login page, as with no session', async () => {
      const other = await startAccessEmulator({
        port: 0,
        backendUrl: backend.url,
      });
      try {
        const foreign = await other.mintUserToken('alice@example.com');
        const serviceAssertion = await emulator.mintServiceToken(SERVICE_ID);
        for (const value of ['not-a-token', foreign, serviceAssertion]) {
          const res = await request(emulator.listenUrl)
            .get('/api/catalog/entities')
            .set('cf-access-token', value);
          expect(res.status).toBe(302);
          expect(res.headers.location).toMatch(/^\/cdn-cgi\/access\/login/);
        }
        expect(backend.requests).toHaveLength(0);
      } finally {
        await other.close();
      }
    });
  });

  describe('service tokens', () => {
    it('forwards a freshly minted service token assertion and sets no cookie', async () => {
      const res = await request(emulator.listenUrl)
        .get('/api/catalog/entities')
        .set('CF-Access-Client-Id', SERVICE_ID)
        .set('CF-Access-Client-Secret', SERVICE_SECRET)
        .set('Cf-Access-Jwt-Assertion', 'forged');
      expect(res.status).toBe(200);
      expect(res.headers['set-cookie']).toBeUndefined();
      const seen = backend.requests[0].headers;
      expect(seen['cf-access-client-id']).toBeUndefined();
      expect(seen['cf-access-client-secret']).toBeUndefined();
      expect(seen['cf-access-authenticated-user-email']).toBeUndefined();
      const assertion = seen['cf-access-jwt-assertion'] as string;
      expect(assertion).not.toBe('forged');
      const { payload, protectedHeader } = await verifyAgainstCerts(
        emulator,
        assertion,
      );
      expect(protectedHeader.typ).toBe('JWT');
      expect(payload.common_name).toBe(SERVICE_ID);
      expect(payload.sub).toBe('');
      expect(payload.type).toBe('app');
      expect(payload).not.toHaveProperty('email');
      expect(payload.aud).toEqual([DEFAULT_AUD]);
    });

    it.each([
      ['a wrong secret', SERVICE_ID, 'wrong-secret'],
      ['an unknown client id', 'other.access', SERVICE_SECRET],
      ['a missing secret', SERVICE_ID, undefined],
    ])('answers 403 for %s', async (_what, id, secret) => {
      let req = request(emulator.listenUrl)
        .get('/api/catalog/entities')
        .set('CF-Access-Client-Id', id);
      if (secret !== undefined) {
        req = req.set('CF-Access-Client-Secret', secret);
      }
      const res = await req;
      expect(res.status).toBe(403);
      expect(backend.requests).toHaveLength(0);
    });
  });

  describe('certs', () => {
    it('serves the keys in the shape Cloudflare does', async () => {
      const res = await request(emulator.listenUrl).get(
        '/cdn-cgi/access/certs',
      );
      expect(res.status).toBe(200);
      const { keys, public_cert, public_certs } = res.body;
      expect(keys.length).toBeGreaterThanOrEqual(1);
      for (const key of keys) {
        expect(Object.keys(key).sort()).toEqual(
          ['alg', 'e', 'kid', 'kty', 'n', 'use'].sort(),
        );
        expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
        expect(key.kid).toMatch(/^[0-9a-f]{64}$/);
      }
      expect(public_cert.kid).toBe(keys[0].kid);
      expect(public_certs.map((c: { kid: string }) => c.kid)).toEqual(
        keys.map((k: { kid: string }) => k.kid),
      );
      const cert = new X509Certificate(public_cert.cert);
      const certKey = cert.publicKey.export({ format: 'jwk' });
      expect(certKey.n).toBe(keys[0].n);
      expect(
        cert.verify(createPublicKey({ key: keys[0], format: 'jwk' })),
      ).toBe(true);
    });
  });

  describe('get-identity', () => {
    it('returns the identity seen at login, with groups', async () => {
      const { token } = await login(emulator, 'alice@example.com');
      const payload = decodeJwt(token);
      const res = await request(emulator.listenUrl)
        .get('/cdn-cgi/access/get-identity')
        .set('Cookie', `CF_Authorization=${token}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: payload.sub,
        user_uuid: payload.sub,
        name: 'Alice Example',
        email: 'alice@example.com',
        idp: { id: expect.any(String), type: 'onetimepin' },
        account_id: expect.stringMatching(/^[0-9a-f]{32}$/),
        iat: payload.iat,
        ip: '127.0.0.1',
        geo: { country: 'DE' },
      });
      expect(res.body.groups).toEqual([
        {
          id: expect.any(String),
          name: 'engineering',
          email: 'engineering@example.com',
        },
        { id: expect.any(String), name: 'admins', email: 'admins@example.com' },
      ]);
    });

    it('answers 401 without a valid cookie', async () => {
      const none = await request(emulator.listenUrl).get(
        '/cdn-cgi/access/get-identity',
      );
      expect(none.status).toBe(401);
      const bad = await request(emulator.listenUrl)
        .get('/cdn-cgi/access/get-identity')
        .set('Cookie', 'CF_Authorization=abc.def.ghi');
      expect(bad.status).toBe(401);
      const service = await emulator.mintServiceToken(SERVICE_ID);
      const svc = await request(emulator.listenUrl)
        .get('/cdn-cgi/access/get-identity')
        .set('Cookie', `CF_Authorization=${service}`);
      expect(svc.status).toBe(401);
    });
  });

  describe('logout', () => {
    it('clears the cookie and shows a signed-out page', async () => {
      const res = await request(emulator.listenUrl).get(
        '/cdn-cgi/access/logout',
      );
      expect(res.status).toBe(200);
      const setCookie = (res.headers['set-cookie'] as unknown as string[])[0];
      expect(setCookie).toMatch(/^CF_Authorization=;/);
      expect(setCookie).toMatch(/Max-Age=0/);
      expect(setCookie).toMatch(/Path=\//);
      expect(res.text).toContain('You have been signed out');
      expect(res.text).toContain('href="/cdn-cgi/access/login"');
    });
  });

  describe('faults', () => {
    afterEach(async () => {
      await request(emulator.listenUrl)
        .delete('/cdn-cgi/emulator/faults')
        .set(ADMIN_HEADER, '1');
    });

    it('injects statuses on certs and get-identity, and clears them', async () => {
      const { token } = await login(emulator, 'alice@example.com');
      const set = await request(emulator.listenUrl)
        .post('/cdn-cgi/emulator/faults')
        .set(ADMIN_HEADER, '1')
        .send({ certsStatus: 503, identityStatus: 500 });
      expect(set.status).toBe(200);
      expect(set.body).toEqual({ certsStatus: 503, identityStatus: 500 });
      expect(
        (await request(emulator.listenUrl).get('/cdn-cgi/access/certs')).status,
      ).toBe(503);
      expect(
        (
          await request(emulator.listenUrl)
            .get('/cdn-cgi/access/get-identity')
            .set('Cookie', `CF_Authorization=${token}`)
        ).status,
      ).toBe(500);

      const cleared = await request(emulator.listenUrl)
        .delete('/cdn-cgi/emulator/faults')
        .set(ADMIN_HEADER, '1');
      expect(cleared.body).toEqual({});
      expect(
        (await request(emulator.listenUrl).get('/cdn-cgi/access/certs')).status,
      ).toBe(200);
    });

    it('adds latency to certs and a hang to get-identity only', async () => {
      const { token } = await login(emulator, 'alice@example.com');
      emulator.setFaults({ latencyMs: 150, identityHangMs: 250 });
      let start = Date.now();
      expect(
        (await request(emulator.listenUrl).get('/cdn-cgi/access/certs')).status,
      ).toBe(200);
      const certsMs = Date.now() - start;
      expect(certsMs).toBeGreaterThanOrEqual(140);
      expect(certsMs).toBeLessThan(390);
      start = Date.now();
      await request(emulator.listenUrl)
        .get('/cdn-cgi/access/get-identity')
        .set('Cookie', `CF_Authorization=${token}`);
      expect(Date.now() - start).toBeGreaterThanOrEqual(390);
      emulator.clearFaults();
      start = Date.now();
      await request(emulator.listenUrl).get('/cdn-cgi/access/certs');
      expect(Date.now() - start).toBeLessThan(140);
    });

    it('counts certs and get-identity requests, faulted ones too, until reset', async () => {
      const { token } = await login(emulator, 'alice@example.com');
      await request(emulator.listenUrl)
        .delete('/cdn-cgi/emulator/stats')
        .set(ADMIN_HEADER, '1');
      await request(emulator.listenUrl).get('/cdn-cgi/access/certs');
      emulator.setFaults({ certsStatus: 503 });
      await request(emulator.listenUrl).get('/cdn-cgi/access/certs');
      await request(emulator.listenUrl)
        .get('/cdn-cgi/access/get-identity')
        .set('Cookie', `CF_Authorization=${token}`);
      const stats = await request(emulator.listenUrl)
        .get('/cdn-cgi/emulator/stats')
        .set(ADMIN_HEADER, '1');
      expect(stats.body).toEqual({ certsRequests: 2, identityRequests: 1 });
      expect(emulator.stats()).toEqual(stats.body);
      emulator.resetStats();
      expect(emulator.stats()).toEqual({
        certsRequests: 0,
        identityRequests: 0,
      });
    });

    it('rejects invalid faults', async () => {
      const res = await request(emulator.listenUrl)
        .post('/cdn-cgi/emulator/faults')
        .set(ADMIN_HEADER, '1')
        .send({ certsStatus: 'boom' });
      expect(res.status).toBe(400);
      const unknown = await request(emulator.listenUrl)
        .post('/cdn-cgi/emulator/faults')
        .set(ADMIN_HEADER, '1')
        .send({ explode: true });
      expect(unknown.status).toBe(400);
      expect(emulator.getFaults()).toEqual({});
    });
  });

  it('never logs tokens or service token secrets, one line per request', async () => {
    logLines.length = 0;
    const { token } = await login(emulator, 'alice@example.com', '/x?y=1');
    await request(emulator.listenUrl)
      .get('/api/catalog?token=abc')
      .set('Cookie', `CF_Authorization=${token}`);
    await request(emulator.listenUrl)
      .get('/api/catalog')
      .set('CF-Access-Client-Id', SERVICE_ID)
      .set('CF-Access-Client-Secret', SERVICE_SECRET);
    expect(logLines).toHaveLength(3);
    expect(logLines[1]).toMatch(
      /^GET \/api\/catalog 200 \d+ms alice@example.com$/,
    );
    expect(logLines[2]).toMatch(/^GET \/api\/catalog 200 \d+ms service:ci$/);
    const all = logLines.join('\n');
    expect(all).not.toContain(token.split('.')[2]);
    expect(all).not.toContain(SERVICE_SECRET);
    expect(all).not.toContain('token=abc');
  });
});

describe('access emulator keys', () => {
  it('rotates keys: the old token still verifies, new tokens use the new kid', async () => {
    const stateDir = await tmpDir();
    const emulator = await startAccessEmulator({ port: 0, stateDir });
    try {
      const oldToken = await emulator.mintUserToken('alice@example.com');
      const oldKid = decodeProtectedHeader(oldToken).kid;
      const rotated = await request(emulator.listenUrl)
        .post('/cdn-cgi/emulator/rotate-keys')
        .set(ADMIN_HEADER, '1');
      expect(rotated.status).toBe(200);
      expect(rotated.body.previousKid).toBe(oldKid);
      expect(rotated.body.kid).not.toBe(oldKid);

      const certs = await request(emulator.listenUrl).get(
        '/cdn-cgi/access/certs',
      );
      expect(certs.body.keys.map((k: JWK) => k.kid)).toEqual([
        rotated.body.kid,
        oldKid,
      ]);
      expect(certs.body.public_cert.kid).toBe(rotated.body.kid);
      expect(certs.body.public_certs).toHaveLength(2);
      expect(certs.body.public_certs[0]).toEqual(certs.body.public_cert);
      // Each certificate carries the public key of the JWK with its kid, and is self-signed by it.
      for (const { kid, cert: pem } of certs.body.public_certs) {
        const jwk = certs.body.keys.find((k: JWK) => k.kid === kid);
        const cert = new X509Certificate(pem);
        expect(cert.publicKey.export({ format: 'jwk' })).toEqual({
          kty: jwk.kty,
          n: jwk.n,
          e: jwk.e,
        });
        expect(cert.verify(createPublicKey({ key: jwk, format: 'jwk' }))).toBe(
          true,
        );
        expect(cert.subject).toBe('CN=Cloudflare Access Emulator');
      }

      await expect(
        verifyAgainstCerts(emulator, oldToken),
      ).resolves.toBeTruthy();
      const { token: newToken } = await login(emulator, 'bob@example.com');
      expect(decodeProtectedHeader(newToken).kid).toBe(rotated.body.kid);
      await expect(
        verifyAgainstCerts(emulator, newToken),
      ).resolves.toBeTruthy();

      // A second rotation drops the oldest key.
      const second = await emulator.rotateKeys();
      expect(second.previousKid).toBe(rotated.body.kid);
      await expect(verifyAgainstCerts(emulator, oldToken)).rejects.toThrow();
      await expect(emulator.verifyToken(oldToken)).rejects.toThrow();
    } finally {
      await emulator.close();
      await fs.rm(stateDir, { recursive: true, force: true });
    }
  });

  it('keeps sessions valid across a restart with the same state directory', async () => {
    const stateDir = await tmpDir();
    const publicUrl = 'http://localhost:7999';
    const backend = await startTestOrigin('backend');
    const first = await startAccessEmulator({
      port: 0,
      publicUrl,
      stateDir,
      backendUrl: backend.url,
    });
    try {
      const oldestToken = (await login(first, 'alice@example.com')).token;
      await first.rotateKeys();
      const previousToken = await first.mintUserToken('bob@example.com');
      await first.rotateKeys();
      await first.close();

      for (const file of ['current.jwk.json', 'previous.jwk.json']) {
        const stat = await fs.stat(path.join(stateDir, file));
        expect(stat.mode & 0o777).toBe(0o600);
      }

      const second = await startAccessEmulator({
        port: 0,
        publicUrl,
        stateDir,
        backendUrl: backend.url,
      });
      try {
        await expect(second.verifyToken(previousToken)).resolves.toMatchObject({
          email: 'bob@example.com',
        });
        const res = await request(second.listenUrl)
          .get('/api/me')
          .set('Cookie', `CF_Authorization=${previousToken}`);
        expect(res.status).toBe(200);
        expect(backend.requests[0].headers['cf-access-jwt-assertion']).toBe(
          previousToken,
        );
        // Two rotations ago: no longer valid.
        await expect(second.verifyToken(oldestToken)).rejects.toThrow();
        // get-identity still works for a token from before the restart.
        const identity = await request(second.listenUrl)
          .get('/cdn-cgi/access/get-identity')
          .set('Cookie', `CF_Authorization=${previousToken}`);
        expect(identity.status).toBe(200);
        expect(identity.body.email).toBe('bob@example.com');
      } finally {
        await second.close();
      }
    } finally {
      await first.close();
      await backend.close();
      await fs.rm(stateDir, { recursive: true, force: true });
    }
  });

  it('sets Secure cookies when the public URL is https', async () => {
    const emulator = await startAccessEmulator({
      port: 0,
      publicUrl: 'https://backstage.example.test',
      sessionDuration: '30m',
      audience: ['aud-one', 'aud-two'],
    });
    try {
      const { res, token } = await login(emulator, 'alice@example.com');
      const setCookie = (res.headers['set-cookie'] as unknown as string[])[0];
      expect(setCookie).toMatch(/; Secure/);
      expect(setCookie).toMatch(/; Max-Age=1800/);
      const payload = decodeJwt(token);
      expect(payload.iss).toBe('https://backstage.example.test');
      expect(payload.aud).toEqual(['aud-one', 'aud-two']);
      expect(payload.exp! - payload.iat!).toBe(1800);
    } finally {
      await emulator.close();
    }
  });

  it('answers 502 when the origin is down', async () => {
    const origin = await startTestOrigin('gone');
    await origin.close();
    const emulator = await startAccessEmulator({
      port: 0,
      backendUrl: origin.url,
    });
    try {
      const token = await emulator.mintUserToken('alice@example.com');
      const res = await request(emulator.listenUrl)
        .get('/api/x')
        .set('Cookie', `CF_Authorization=${token}`);
      expect(res.status).toBe(502);
    } finally {
      await emulator.close();
    }
  });
});
