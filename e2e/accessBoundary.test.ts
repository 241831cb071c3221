import { expect, test } from '@playwright/test';
import { SignJWT, generateKeyPair } from 'jose';
import { AUD_TAG, EMULATOR_URL } from '../playwright.config';

const BACKEND_URL = 'http://localhost:7007';
const REFRESH = '/api/auth/cfaccess/refresh';
const SERVICE_TOKEN = {
  clientId: 'ci-bot.access',
  clientSecret: 'local-dev-secret-not-for-production',
};

test.describe('the Access boundary', () => {
  test('a service token signs in as its configured subject', async ({
    request,
  }) => {
    const res = await request.get(`${EMULATOR_URL}${REFRESH}`, {
      headers: {
        'CF-Access-Client-Id': SERVICE_TOKEN.clientId,
        'CF-Access-Client-Secret': SERVICE_TOKEN.clientSecret,
      },
    });
    expect(res.status()).toBe(200);
    const body = await res.json();
    expect(body.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/ci-bot',
    );
  });

  test('a wrong service token secret is refused by Access with 403', async ({
    request,
  }) => {
    const res = await request.get(`${EMULATOR_URL}${REFRESH}`, {
      headers: {
        'CF-Access-Client-Id': SERVICE_TOKEN.clientId,
        'CF-Access-Client-Secret': 'not-the-secret',
      },
      maxRedirects: 0,
    });
    expect(res.status()).toBe(403);
  });

  test('a forged token sent straight to the backend, around Access, gets 401', async ({
    request,
  }) => {
    // Well formed, right issuer and audience, but signed with a key that is not the team's.
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({
      email: 'alice@example.com',
      type: 'app',
      identity_nonce: 'forged',
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'forged-kid', typ: 'JWT' })
      .setIssuer(EMULATOR_URL)
      .setAudience([AUD_TAG])
      .setSubject('forged-sub')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);

    const res = await request.get(`${BACKEND_URL}${REFRESH}`, {
      headers: { 'Cf-Access-Jwt-Assertion': forged },
    });
    expect(res.status()).toBe(401);
    expect(await res.text()).not.toContain(forged);
  });

  test('a request with no Access token at all gets 401 from the backend', async ({
    request,
  }) => {
    const res = await request.get(`${BACKEND_URL}${REFRESH}`);
    expect(res.status()).toBe(401);
  });
});
