import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import {
  type APIRequestContext,
  type APIResponse,
  expect,
  test,
} from '@playwright/test';
import {
  type JWK,
  type JWTPayload,
  SignJWT,
  decodeJwt,
  generateKeyPair,
  importJWK,
} from 'jose';
import { E2E_EMULATOR_STATE_DIR, EMULATOR_URL } from '../playwright.config';
import { accessTokenOf } from './support/accessSession';

// Access on every request, over real HTTP against the example backend (boundary in enforce mode,
// app-config.development.yaml): what a caller gets who goes around Access, sends a token Access did not issue
// for this application, or tries to smuggle a second credential in; what Access-only clients (scripts,
// service tokens) get; and that Backstage's own traffic (the catalog's processing, the scaffolder's calls to the
// catalog, health checks) keeps working. No browser: every request is made here.

/** The backend itself, as someone who goes around Access reaches it. */
const BACKEND_URL = 'http://localhost:7007';
const ENTITIES = '/api/catalog/entities';
/** Who the auth backend says the caller is: `{ claims: { sub, ent } }`. */
const USER_INFO = '/api/auth/v1/userinfo';
const REFRESH = '/api/auth/cfaccess/refresh';
const SERVICE_TOKEN = {
  'CF-Access-Client-Id': 'ci-bot.access',
  'CF-Access-Client-Secret': 'local-dev-secret-not-for-production',
};
const TEMPLATE_REF = 'template:default/catalog-lookup';

/** A response, from Playwright's request API or from {@link rawRequest}. */
interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

async function answerOf(res: APIResponse): Promise<Answer> {
  return {
    status: res.status(),
    headers: res.headers(),
    text: await res.text(),
  };
}

/**
 * A request with headers exactly as given, repeated names included (Playwright's request API takes one value
 * per name, so it cannot send two Cf-Access-Jwt-Assertion or two Authorization headers).
 */
function rawRequest(
  url: string,
  headers: Array<[string, string]>,
  method = 'GET',
): Promise<Answer> {
  const { hostname, port, pathname, search, host } = new URL(url);
  const flat = [['Host', host] as [string, string], ...headers].flat();
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { hostname, port, path: pathname + search, method, headers: flat },
      res => {
        const chunks: Buffer[] = [];
        res.on('data', chunk => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: Object.fromEntries(
              Object.entries(res.headers).map(([k, v]) => [k, String(v)]),
            ),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * A refusal by the boundary: the status and reason code in Backstage's error body, never a 5xx, never a
 * challenge, not cacheable, and none of the credentials sent (nor a token's signature alone) in the body.
 */
function expectRefusal(
  answer: Answer,
  status: 401 | 403,
  reason: string,
  sent: string[] = [],
) {
  expect(answer.status, answer.text).toBe(status);
  const body = JSON.parse(answer.text);
  expect(body.error.reason).toBe(reason);
  expect(body.error.message).toContain(
    `Cloudflare Access boundary refused the request (${reason})`,
  );
  expect(body.response.statusCode).toBe(status);
  expect(answer.headers['cache-control']).toBe('no-store');
  expect(answer.headers['www-authenticate']).toBeUndefined();
  for (const secret of sent) {
    expect(answer.text).not.toContain(secret);
    const signature = secret.split('.')[2];
    if (signature) {
      expect(answer.text).not.toContain(signature);
    }
  }
}

/** The Backstage token the frontend would hold for an Access session: from /refresh, through Access. */
async function backstageTokenOf(
  request: APIRequestContext,
  accessToken: string,
): Promise<string> {
  const res = await request.get(`${EMULATOR_URL}${REFRESH}`, {
    headers: { Cookie: `CF_Authorization=${accessToken}` },
  });
  expect(res.status()).toBe(200);
  return (await res.json()).backstageIdentity.token;
}

/** The emulator's current signing key, from its state directory (playwright.config.ts starts it there). */
async function emulatorSigningKey() {
  const jwk: JWK = JSON.parse(
    readFileSync(join(E2E_EMULATOR_STATE_DIR, 'current.jwk.json'), 'utf8'),
  );
  return { kid: jwk.kid!, key: await importJWK(jwk, 'RS256') };
}

/**
 * A real application token of `email` with some claims changed, signed with the emulator's own key (or with
 * `key`, under the emulator's key id): everything else about it is what Access issues.
 */
async function alteredToken(
  email: string,
  change: (claims: JWTPayload) => JWTPayload,
  key?: CryptoKey,
): Promise<string> {
  const signing = await emulatorSigningKey();
  const claims = change(decodeJwt(await accessTokenOf(email)));
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: signing.kid, typ: 'JWT' })
    .sign(key ?? signing.key);
}

async function whoAmI(answer: APIResponse): Promise<string> {
  expect(answer.status(), await answer.text()).toBe(200);
  return (await answer.json()).claims.sub;
}

test.describe('Access on every request', () => {
  test.describe('straight to the backend port, around Access', () => {
    test('health checks and the public keys stay reachable without a token', async ({
      request,
    }) => {
      for (const path of [
        '/.backstage/health/v1/liveness',
        '/.backstage/health/v1/readiness',
      ]) {
        const res = await request.get(`${BACKEND_URL}${path}`);
        expect(res.status(), path).toBe(200);
        expect(await res.json()).toEqual({ status: 'ok' });
      }
      // Backstage's plugins verify each other's tokens with these keys, over loopback and without Access.
      for (const path of [
        '/api/catalog/.backstage/auth/v1/jwks.json',
        '/api/auth/.well-known/jwks.json',
      ]) {
        const res = await request.get(`${BACKEND_URL}${path}`);
        expect(res.status(), path).toBe(200);
        expect((await res.json()).keys).toEqual(expect.any(Array));
      }
    });

    test('every route refuses a request with no Access token: 401 missing_token', async ({
      request,
    }) => {
      const routes: Array<['GET' | 'POST', string]> = [
        ['GET', '/'],
        ['GET', '/catalog'],
        ['GET', ENTITIES],
        ['GET', '/api/catalog/entities/by-name/user/default/alice'],
        ['GET', USER_INFO],
        ['GET', REFRESH],
        ['GET', '/api/scaffolder/v2/actions'],
        ['POST', '/api/scaffolder/v2/tasks'],
        ['POST', '/api/permission/authorize'],
        ['GET', '/api/no-such-plugin/anything'],
      ];
      for (const [method, path] of routes) {
        const res = await request.fetch(`${BACKEND_URL}${path}`, {
          method,
          ...(method === 'POST' && {
            data: { templateRef: TEMPLATE_REF, values: {} },
          }),
        });
        expectRefusal(await answerOf(res), 401, 'missing_token');
      }
    });

    test('a Backstage token alone, without Access, is refused: 401 missing_token', async ({
      request,
    }) => {
      const backstageToken = await backstageTokenOf(
        request,
        await accessTokenOf('alice@example.com'),
      );
      const authorization = { Authorization: `Bearer ${backstageToken}` };
      for (const [method, path] of [
        ['GET', ENTITIES],
        ['GET', '/api/catalog/entities/by-name/user/default/alice'],
        ['GET', REFRESH],
        ['GET', '/api/scaffolder/v2/actions'],
        ['POST', '/api/scaffolder/v2/tasks'],
        ['POST', USER_INFO],
      ]) {
        const res = await request.fetch(`${BACKEND_URL}${path}`, {
          method,
          headers: authorization,
          ...(method === 'POST' && {
            data: { templateRef: TEMPLATE_REF, values: {} },
          }),
        });
        expectRefusal(await answerOf(res), 401, 'missing_token', [
          backstageToken,
        ]);
      }
      // The one exception, by design: Backstage's user-info service reads a user's ownership refs with that
      // user's own token over loopback, so GET userinfo answers a user token without Access. It tells the
      // holder only who the token is for.
      const userInfo = await request.get(`${BACKEND_URL}${USER_INFO}`, {
        headers: authorization,
      });
      expect(await whoAmI(userInfo)).toBe('user:default/alice');
    });

    // Each token is what Access issues for alice except for one thing.
    const rejected: Array<{
      name: string;
      reason: string;
      token: () => Promise<string>;
    }> = [
      {
        name: 'a forged token (signed with another key under the team key id)',
        reason: 'bad_signature',
        token: async () =>
          alteredToken(
            'alice@example.com',
            claims => claims,
            (await generateKeyPair('RS256')).privateKey,
          ),
      },
      {
        name: 'an expired token',
        reason: 'expired',
        token: () =>
          alteredToken('alice@example.com', claims => {
            const now = Math.floor(Date.now() / 1000);
            return {
              ...claims,
              iat: now - 7200,
              nbf: now - 7200,
              exp: now - 3600,
            };
          }),
      },
      {
        name: 'a token for another Access application (AUD)',
        reason: 'wrong_audience',
        token: () =>
          alteredToken('alice@example.com', claims => ({
            ...claims,
            aud: ['0f'.repeat(32)],
          })),
      },
      {
        name: "Access's organisation token (type org)",
        reason: 'wrong_token_type',
        token: () =>
          alteredToken('alice@example.com', claims => ({
            ...claims,
            type: 'org',
          })),
      },
      {
        name: 'a service token that is not in serviceTokens',
        reason: 'unknown_service_token',
        token: () =>
          alteredToken('alice@example.com', claims => {
            const { email: _email, identity_nonce: _nonce, ...rest } = claims;
            return { ...rest, sub: '', common_name: 'not-listed.access' };
          }),
      },
      {
        name: 'a value that is not a token',
        reason: 'malformed_token',
        token: async () => 'not-a-jwt',
      },
    ];
    for (const { name, reason, token } of rejected) {
      test(`${name} is refused: 401 ${reason}`, async ({ request }) => {
        const sent = await token();
        for (const path of [ENTITIES, USER_INFO, REFRESH]) {
          const res = await request.get(`${BACKEND_URL}${path}`, {
            headers: { 'Cf-Access-Jwt-Assertion': sent },
          });
          if (path === REFRESH) {
            // The sign-in route answers with the same reason, from the provider itself.
            expect(res.status()).toBe(401);
            expect((await res.json()).error.reason).toBe(reason);
            expect(await res.text()).not.toContain(sent);
          } else {
            expectRefusal(await answerOf(res), 401, reason, [sent]);
          }
        }
      });
    }
  });

  test.describe('smuggling a second credential in: 4xx, never the more permissive reading', () => {
    test('two Cf-Access-Jwt-Assertion headers: 401 conflicting_tokens', async () => {
      const alice = await accessTokenOf('alice@example.com');
      const bob = await accessTokenOf('bob@example.com');
      for (const [first, second] of [
        [alice, bob],
        [alice, alice],
        ['not-a-jwt', alice],
      ]) {
        const answer = await rawRequest(`${BACKEND_URL}${ENTITIES}`, [
          ['Cf-Access-Jwt-Assertion', first],
          ['cf-access-jwt-assertion', second],
        ]);
        expectRefusal(answer, 401, 'conflicting_tokens', [alice, bob]);
      }
    });

    test('an assertion header and a CF_Authorization cookie that disagree: 401 conflicting_tokens', async ({
      request,
    }) => {
      const alice = await accessTokenOf('alice@example.com');
      const bob = await accessTokenOf('bob@example.com');
      const res = await request.get(`${BACKEND_URL}${ENTITIES}`, {
        headers: {
          'Cf-Access-Jwt-Assertion': alice,
          Cookie: `CF_Authorization=${bob}`,
        },
      });
      expectRefusal(await answerOf(res), 401, 'conflicting_tokens', [
        alice,
        bob,
      ]);
    });

    test('two CF_Authorization cookies, straight or through Access: 401 conflicting_tokens', async ({
      request,
    }) => {
      const alice = await accessTokenOf('alice@example.com');
      const bob = await accessTokenOf('bob@example.com');
      const cookie = `CF_Authorization=${alice}; CF_Authorization=${bob}`;
      // Access (the emulator) takes the first cookie as the session and forwards it in the header; the
      // backend still sees both cookies and refuses rather than picking one.
      for (const origin of [BACKEND_URL, EMULATOR_URL]) {
        const res = await request.get(`${origin}${ENTITIES}`, {
          headers: { Cookie: cookie },
          maxRedirects: 0,
        });
        expectRefusal(await answerOf(res), 401, 'conflicting_tokens', [
          alice,
          bob,
        ]);
      }
    });

    test('two Authorization headers, or two schemes in one: 401 conflicting_credentials', async ({
      request,
    }) => {
      const alice = await accessTokenOf('alice@example.com');
      const backstageToken = await backstageTokenOf(request, alice);
      const bearer = `Bearer ${backstageToken}`;
      const basic = 'Basic Ym9iOnNlY3JldA==';
      for (const authorizations of [
        [bearer, basic],
        [basic, bearer],
        [bearer, bearer],
        [`${basic}, ${bearer}`],
        [`${bearer}, ${basic}`],
        [`${bearer} ${basic}`],
      ]) {
        const answer = await rawRequest(`${BACKEND_URL}${ENTITIES}`, [
          ['Cf-Access-Jwt-Assertion', alice],
          ...authorizations.map(
            value => ['Authorization', value] as [string, string],
          ),
        ]);
        expectRefusal(answer, 401, 'conflicting_credentials', [
          alice,
          backstageToken,
        ]);
      }
    });

    test("an assertion header sent by the client through Access is replaced by Access's own", async ({
      request,
    }) => {
      const alice = await accessTokenOf('alice@example.com');
      const bob = await accessTokenOf('bob@example.com');
      // Bob's session, with Alice's token in the header Access sets: the backend sees Bob's only.
      const res = await request.get(`${EMULATOR_URL}${USER_INFO}`, {
        headers: {
          Cookie: `CF_Authorization=${bob}`,
          'Cf-Access-Jwt-Assertion': alice,
        },
        maxRedirects: 0,
      });
      expect(await whoAmI(res)).toBe('user:default/bob');
    });
  });

  test.describe('who the request is served as', () => {
    test("a Backstage token of one person with another person's Access token: 403 identity_mismatch", async ({
      request,
    }) => {
      const alice = await accessTokenOf('alice@example.com');
      const bob = await accessTokenOf('bob@example.com');
      const aliceBackstage = await backstageTokenOf(request, alice);
      // Straight to the backend with Bob's assertion, and through Access with Bob's session.
      const straight = await request.get(`${BACKEND_URL}${ENTITIES}`, {
        headers: {
          'Cf-Access-Jwt-Assertion': bob,
          Authorization: `Bearer ${aliceBackstage}`,
        },
      });
      expectRefusal(await answerOf(straight), 403, 'identity_mismatch', [
        alice,
        bob,
        aliceBackstage,
      ]);
      const throughAccess = await request.post(
        `${EMULATOR_URL}/api/scaffolder/v2/tasks`,
        {
          headers: {
            Cookie: `CF_Authorization=${bob}`,
            Authorization: `Bearer ${aliceBackstage}`,
          },
          data: { templateRef: TEMPLATE_REF, values: {} },
          maxRedirects: 0,
        },
      );
      expectRefusal(await answerOf(throughAccess), 403, 'identity_mismatch', [
        alice,
        bob,
        aliceBackstage,
      ]);
    });

    test("the browser path: a Backstage token from /refresh with the same person's Access token passes", async ({
      request,
    }) => {
      const carol = await accessTokenOf('carol@example.com');
      const backstageToken = await backstageTokenOf(request, carol);
      const headers = {
        Cookie: `CF_Authorization=${carol}`,
        Authorization: `Bearer ${backstageToken}`,
      };
      const entities = await request.get(`${EMULATOR_URL}${ENTITIES}`, {
        headers,
      });
      expect(entities.status()).toBe(200);
      expect(
        await whoAmI(
          await request.get(`${EMULATOR_URL}${USER_INFO}`, { headers }),
        ),
      ).toBe('user:default/carol');
    });

    test("a script with a person's Access token and no Backstage token gets the entities as that person", async ({
      request,
    }) => {
      const bob = await accessTokenOf('bob@example.com');
      // Through Access as a script sends it (the cf-access-token header, as `cloudflared access curl`
      // does) or with the session cookie; and as Access forwards it, the assertion header at the origin.
      const ways: Array<{ url: string; headers: Record<string, string> }> = [
        { url: EMULATOR_URL, headers: { 'cf-access-token': bob } },
        { url: EMULATOR_URL, headers: { Cookie: `CF_Authorization=${bob}` } },
        { url: BACKEND_URL, headers: { 'Cf-Access-Jwt-Assertion': bob } },
      ];
      for (const { url, headers } of ways) {
        const res = await request.get(`${url}${ENTITIES}`, {
          headers,
          maxRedirects: 0,
        });
        expect(res.status()).toBe(200);
        const names = (await res.json()).map(
          (e: { metadata: { name: string } }) => e.metadata.name,
        );
        expect(names).toEqual(
          expect.arrayContaining(['example-website', 'bob', 'catalog-lookup']),
        );
        expect(
          await whoAmI(
            await request.get(`${url}${USER_INFO}`, {
              headers,
              maxRedirects: 0,
            }),
          ),
        ).toBe('user:default/bob');
      }
    });

    test('a service token through Access calls the catalog as user:default/ci-bot', async ({
      request,
    }) => {
      const res = await request.get(`${EMULATOR_URL}${ENTITIES}`, {
        headers: SERVICE_TOKEN,
        maxRedirects: 0,
      });
      expect(res.status()).toBe(200);
      expect((await res.json()).length).toBeGreaterThan(0);
      expect(
        await whoAmI(
          await request.get(`${EMULATOR_URL}${USER_INFO}`, {
            headers: SERVICE_TOKEN,
            maxRedirects: 0,
          }),
        ),
      ).toBe('user:default/ci-bot');
    });

    test('an OAuth bearer (Managed OAuth) beside a valid Access token does not hide the Access identity', async ({
      request,
    }) => {
      const alice = await accessTokenOf('alice@example.com');
      const headers = {
        'Cf-Access-Jwt-Assertion': alice,
        Authorization: 'Bearer oauth:whatever',
      };
      const entities = await request.get(`${BACKEND_URL}${ENTITIES}`, {
        headers,
      });
      expect(entities.status()).toBe(200);
      expect(
        await whoAmI(
          await request.get(`${BACKEND_URL}${USER_INFO}`, { headers }),
        ),
      ).toBe('user:default/alice');
    });

    test('a person no resolver signs in gets 403 user_not_found on an API call', async ({
      request,
    }) => {
      const dana = await accessTokenOf('dana@example.com');
      for (const { url, headers } of [
        { url: BACKEND_URL, headers: { 'Cf-Access-Jwt-Assertion': dana } },
        { url: EMULATOR_URL, headers: { Cookie: `CF_Authorization=${dana}` } },
      ]) {
        const res = await request.get(`${url}${ENTITIES}`, {
          headers,
          maxRedirects: 0,
        });
        expectRefusal(await answerOf(res), 403, 'user_not_found', [dana]);
      }
    });
  });

  test.describe("Backstage's own traffic keeps working", () => {
    test("the catalog's processing: the example entities are there, with their relations", async ({
      request,
    }) => {
      const headers = {
        Cookie: `CF_Authorization=${await accessTokenOf('alice@example.com')}`,
      };
      const entity = async (ref: string) => {
        const res = await request.get(
          `${EMULATOR_URL}/api/catalog/entities/by-name/${ref}`,
          { headers, maxRedirects: 0 },
        );
        expect(res.status(), ref).toBe(200);
        return res.json();
      };
      // Relations are written by the catalog's processing, after the locations were read.
      await expect
        .poll(
          async () =>
            (
              await entity('component/default/example-website')
            ).relations,
          { timeout: 60_000 },
        )
        .toEqual(
          expect.arrayContaining([
            { type: 'ownedBy', targetRef: 'group:default/engineering' },
            { type: 'partOf', targetRef: 'system:default/developer-portal' },
          ]),
        );
      expect((await entity('user/default/alice')).relations).toEqual(
        expect.arrayContaining([
          { type: 'memberOf', targetRef: 'group:default/admins' },
        ]),
      );
      expect((await entity('user/default/ci-bot')).metadata.name).toBe(
        'ci-bot',
      );
      expect(
        (await entity('template/default/catalog-lookup')).relations,
      ).toEqual(
        expect.arrayContaining([
          { type: 'ownedBy', targetRef: 'group:default/admins' },
        ]),
      );
    });

    // The template's steps read the catalog (catalog:fetch) from the scaffolder, on behalf of whoever ran it:
    // plugin-to-plugin calls over loopback with a Backstage token and no Access token.
    const runners = [
      {
        who: 'a person (Access session only, no Backstage token)',
        headers: async () => ({
          Cookie: `CF_Authorization=${await accessTokenOf(
            'alice@example.com',
          )}`,
        }),
        entityRef: 'component:default/example-website',
        expected: {
          createdBy: 'user:default/alice',
          output: {
            entity: 'example-website',
            owner: 'engineering',
            initiator: 'alice',
          },
        },
      },
    ];
    for (const { who, headers: headersOf, entityRef, expected } of runners) {
      test(`the scaffolder runs a template that reads the catalog, for ${who} through Access`, async ({
        request,
      }) => {
        const headers = await headersOf();
        const created = await request.post(
          `${EMULATOR_URL}/api/scaffolder/v2/tasks`,
          {
            headers,
            data: { templateRef: TEMPLATE_REF, values: { entityRef } },
            maxRedirects: 0,
          },
        );
        expect(created.status(), await created.text()).toBe(201);
        const { id } = await created.json();

        let status = '';
        await expect
          .poll(
            async () => {
              const res = await request.get(
                `${EMULATOR_URL}/api/scaffolder/v2/tasks/${id}`,
                { headers, maxRedirects: 0 },
              );
              expect(res.status()).toBe(200);
              const task = await res.json();
              expect(task.createdBy).toBe(expected.createdBy);
              status = task.status;
              return status;
            },
            { timeout: 90_000, intervals: [500, 1_000] },
          )
          .toMatch(/^(completed|failed|cancelled)$/);

        const events = await request.get(
          `${EMULATOR_URL}/api/scaffolder/v2/tasks/${id}/events`,
          { headers, maxRedirects: 0 },
        );
        expect(events.status()).toBe(200);
        const list: Array<{ type: string; body: any }> = await events.json();
        const completion = list.find(e => e.type === 'completion');
        // On failure, the task's own log says which step and why.
        expect(status, list.map(e => e.body?.message).join('\n')).toBe(
          'completed',
        );
        expect(completion?.body.output).toEqual(expected.output);
      });
    }

    // The example's rule (app-config.development.yaml): running a template needs a device that came through
    // WARP and passed a posture check. A service token has no device.
    test('a service token may not run a template: the rule needs WARP (403 warp_required)', async ({
      request,
    }) => {
      const created = await request.post(
        `${EMULATOR_URL}/api/scaffolder/v2/tasks`,
        {
          headers: SERVICE_TOKEN,
          data: {
            templateRef: TEMPLATE_REF,
            values: { entityRef: 'system:default/developer-portal' },
          },
          maxRedirects: 0,
        },
      );
      expectRefusal(await answerOf(created), 403, 'warp_required');
    });
  });
});
