import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import authPlugin from '@backstage/plugin-auth-backend';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import request from 'supertest';
import { parseAllDocuments } from 'yaml';
import { cfaccessAuthModule, EXAMPLE_ACCESS_GROUPS } from './cfaccessAuth';

const TEAM_DOMAIN = 'https://example-team.cloudflareaccess.com';
const AUD = 'example-aud-tag';
const KID = 'test-key-1';

// The example organisation the app ships, so the test proves the example's own data signs people in. The
// catalog derives memberOf relations from spec.memberOf while processing; the in-memory catalog does not.
const orgEntities = parseAllDocuments(
  readFileSync(resolve(__dirname, '../../../../examples/org.yaml'), 'utf8'),
).map(doc => {
  const entity = doc.toJS() as Entity;
  const memberOf = (entity.spec?.memberOf as string[] | undefined) ?? [];
  return {
    ...entity,
    relations: memberOf.map(group => ({
      type: 'memberOf',
      targetRef: `group:default/${group}`,
    })),
  };
});

const idOf = (ref: string) =>
  EXAMPLE_ACCESS_GROUPS.find(g => g.id && g.entityRef === ref)!.id!;

let bobIdp = { id: 'pocket-id-idp', type: 'oidc' };

const identities: Record<string, object> = {
  'alice@example.com': {
    id: 'alice-id',
    name: 'Alice Example',
    email: 'alice@example.com',
    // The example's product group, by its id (the catalog has Alice in engineering and admins only).
    groups: [
      {
        id: idOf('group:default/product'),
        name: 'Product',
        email: 'product@example.com',
      },
    ],
  },
  // Bob (catalog: engineering) signed in through an identity provider that reports group names only.
  'bob@example.com': {
    id: 'bob-id',
    name: 'Bob Builder',
    email: 'bob@example.com',
    groups: ['admins', 'product'],
    get idp() {
      return bobIdp;
    },
  },
  // Known to Access, not to the catalog.
  'mallory@example.com': {
    id: 'mallory-id',
    name: 'Mallory',
    email: 'mallory@example.com',
    groups: [],
  },
  // Carol (catalog: product) is in groups that other members made, named like the admins group.
  'carol@example.com': {
    id: 'carol-id',
    name: 'Carol Danvers',
    email: 'carol@example.com',
    groups: [
      'Admins',
      'ADMINS!',
      ' admins ',
      'admins\u200b',
      'ａｄｍｉｎｓ',
      'ådmins',
      '«admins»',
      '../admins',
      { id: 'made-by-carol', name: 'Admins', email: '' },
    ],
  },
};

describe('example cfaccess sign-in resolver', () => {
  const server = setupServer();
  let privateKey: CryptoKey;
  let identityUp = true;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    const jwk = {
      ...(await exportJWK(pair.publicKey)),
      kid: KID,
      alg: 'RS256',
    };
    // Requests to the test backend itself pass; anything else leaving the process fails the test.
    server.listen({
      onUnhandledRequest(req, print) {
        if (new URL(req.url).hostname !== '127.0.0.1') {
          print.error();
        }
      },
    });
    server.use(
      http.get(`${TEAM_DOMAIN}/cdn-cgi/access/certs`, () =>
        HttpResponse.json({ keys: [jwk] }),
      ),
      http.get(
        `${TEAM_DOMAIN}/cdn-cgi/access/get-identity`,
        ({ request: req }) => {
          if (!identityUp) {
            return new HttpResponse(null, { status: 502 });
          }
          const token = /CF_Authorization=([^;]+)/.exec(
            req.headers.get('cookie') ?? '',
          )?.[1];
          const email = token ? String(decodeJwt(token).email) : '';
          return identities[email]
            ? HttpResponse.json(identities[email])
            : new HttpResponse(null, { status: 401 });
        },
      ),
    );
  });

  afterAll(() => server.close());

  beforeEach(() => {
    identityUp = true;
  });

  function mint(claims: Record<string, unknown>) {
    return new SignJWT({
      type: 'app',
      identity_nonce: `nonce-${Math.random()}`,
      country: 'SE',
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' })
      .setIssuer(TEAM_DOMAIN)
      .setAudience([AUD])
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime('1h')
      .sign(privateKey);
  }

  async function startBackend() {
    const { server: httpServer } = await startTestBackend({
      features: [
        authPlugin,
        cfaccessAuthModule,
        catalogServiceMock.factory({ entities: orgEntities }),
        mockServices.rootConfig.factory({
          data: {
            app: { baseUrl: 'http://localhost:3000' },
            auth: {
              providers: {
                cfaccess: {
                  teamDomain: TEAM_DOMAIN,
                  audience: AUD,
                  serviceTokens: [
                    { token: 'ci-bot.access', subject: 'user:default/ci-bot' },
                  ],
                },
              },
            },
          },
        }),
      ],
    });
    return httpServer;
  }

  /** GET /refresh on a fresh backend, with the token as Access would send it (or none). */
  async function refreshWith(token: string | undefined) {
    const req = request(await startBackend()).get('/api/auth/cfaccess/refresh');
    return token ? req.set('Cf-Access-Jwt-Assertion', token) : req;
  }

  function ownershipOf(body: any): string[] {
    return body.backstageIdentity.identity.ownershipEntityRefs;
  }

  it('signs a person in as their catalog user with catalog and Access group ownership', async () => {
    const token = await mint({ sub: 'alice-sub', email: 'alice@example.com' });

    const res = await refreshWith(token);

    expect(res.status).toBe(200);
    expect(res.body.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/alice',
    );
    expect(ownershipOf(res.body)).toEqual(
      expect.arrayContaining([
        'user:default/alice',
        'group:default/engineering',
        'group:default/admins',
        'group:default/product',
      ]),
    );
    expect(JSON.stringify(res.body)).not.toContain(token);
  });

  it('answers 503 identity_unavailable when get-identity is down: unknown Access groups are not no groups', async () => {
    identityUp = false;
    const token = await mint({ sub: 'alice-sub', email: 'alice@example.com' });

    const res = await refreshWith(token);

    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({
      name: 'ServiceUnavailableError',
      reason: 'identity_unavailable',
      message: expect.stringMatching(
        /^Cloudflare Access sign-in unavailable \(identity_unavailable\): /,
      ),
    });
    expect(res.body.backstageIdentity).toBeUndefined();
  });

  it('still signs a service token in when get-identity is down: its subject needs no groups', async () => {
    identityUp = false;
    const token = await mint({ sub: '', common_name: 'ci-bot.access' });

    const res = await refreshWith(token);

    expect(res.status).toBe(200);
    expect(res.body.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/ci-bot',
    );
  });

  it('signs a known service token in as its configured subject', async () => {
    const token = await mint({ sub: '', common_name: 'ci-bot.access' });

    const res = await refreshWith(token);

    expect(res.status).toBe(200);
    expect(res.body.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/ci-bot',
    );
  });

  it('grants the groups an OpenID Connect identity provider reports by name', async () => {
    bobIdp = { id: 'pocket-id-idp', type: 'oidc' };
    const token = await mint({ sub: 'bob-sub', email: 'bob@example.com' });

    const res = await refreshWith(token);

    expect(res.status).toBe(200);
    expect(ownershipOf(res.body).sort()).toEqual([
      'group:default/admins',
      'group:default/engineering',
      'group:default/product',
      'user:default/bob',
    ]);
  });

  it('grants nothing for groups of a mapped name from an identity provider that is not OpenID Connect', async () => {
    bobIdp = { id: 'some-saml-idp', type: 'saml' };
    const token = await mint({ sub: 'bob-sub', email: 'bob@example.com' });

    const res = await refreshWith(token);

    expect(res.status).toBe(200);
    expect(ownershipOf(res.body).sort()).toEqual([
      'group:default/engineering',
      'user:default/bob',
    ]);
  });

  it('grants nothing for Access groups named like a mapped one', async () => {
    const token = await mint({ sub: 'carol-sub', email: 'carol@example.com' });

    const res = await refreshWith(token);

    expect(res.status).toBe(200);
    expect(ownershipOf(res.body).sort()).toEqual([
      'group:default/product',
      'user:default/carol',
    ]);
  });

  it('answers a person who is not in the catalog with 403 user_not_found, naming their email', async () => {
    const token = await mint({ sub: 'mallory', email: 'mallory@example.com' });

    const res = await refreshWith(token);

    expect(res.status).toBe(403);
    expect(res.body.error).toEqual({
      name: 'NotAllowedError',
      reason: 'user_not_found',
      message:
        'Cloudflare Access signed you in as mallory@example.com, but Backstage has no user for that email; ask your Backstage admin (sign-in resolvers tried: serviceTokenSubject, signInWithCatalogUserAndAccessGroups)',
    });
  });

  it('rejects a request that did not come through Access', async () => {
    const res = await refreshWith(undefined);

    expect(res.status).toBe(401);
  });
});
