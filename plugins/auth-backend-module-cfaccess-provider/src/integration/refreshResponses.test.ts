/*
 * What a caller of GET /api/auth/cfaccess/refresh sees for each rejection,
 * through the real auth backend and Backstage's error handler: the reason
 * code and one sentence, nothing about the token, its claims, the cause or
 * the certs endpoint. The details go to the server log instead.
 */
import request from 'supertest';
import { SignJWT } from 'jose';
import {
  coreServices,
  createServiceFactory,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import authPlugin from '@backstage/plugin-auth-backend';
import cfaccessModule from '../index';
import {
  CloudflareAccessRejectionReason,
  tokenRejectionReasons,
  rejectionSentence,
} from '../errors';
import {
  AUD,
  closeAuthDatabaseOnShutdown,
  createAccessServer,
  createTestKey,
  errorUnlessLoopback,
  mintToken,
  serviceClaims,
  TEAM_DOMAIN,
  TestClock,
  TestKey,
  userClaims,
} from '../__testUtils__/fixtures';

const { server, state } = createAccessServer();
const warnings: string[] = [];

const recordingLogger = createServiceFactory({
  service: coreServices.logger,
  deps: {},
  factory() {
    const logger: LoggerService = {
      warn: message => {
        warnings.push(message);
      },
      error() {},
      info() {},
      debug() {},
      child: () => logger,
    };
    return logger;
  },
});

type Case = {
  reason: CloudflareAccessRejectionReason;
  /** The request headers; a token (or anything) the body must not echo. */
  send: () => Promise<{ headers: Record<string, string>; secrets: string[] }>;
};

describe('GET /api/auth/cfaccess/refresh rejections', () => {
  let key: TestKey;
  let stranger: TestKey;
  const clock = new TestClock();

  beforeAll(async () => {
    server.listen({ onUnhandledRequest: errorUnlessLoopback });
    key = await createTestKey('kid-a');
    stranger = await createTestKey('kid-a');
  });
  afterAll(() => server.close());
  beforeEach(() => {
    clock.ms = Date.now();
    state.jwks = [key.publicJwk];
    state.certsStatus = 200;
    warnings.length = 0;
  });

  async function start() {
    return startTestBackend({
      features: [
        authPlugin,
        cfaccessModule,
        closeAuthDatabaseOnShutdown,
        recordingLogger,
        catalogServiceMock.factory({ entities: [] }),
        mockServices.rootConfig.factory({
          data: {
            app: { baseUrl: 'http://localhost:3000' },
            backend: { baseUrl: 'http://localhost:7007' },
            auth: {
              providers: {
                cfaccess: {
                  teamName: 'testteam',
                  audience: AUD,
                  signIn: {
                    resolvers: [
                      { resolver: 'emailMatchingUserEntityProfileEmail' },
                    ],
                  },
                },
              },
            },
          },
        }),
      ],
    });
  }

  const header = (token: string) => ({
    headers: { 'cf-access-jwt-assertion': token },
    secrets: [token, 'jane@example.com', '7335d417', TEAM_DOMAIN],
  });
  const user = (overrides = {}) =>
    mintToken(key, userClaims(clock, overrides)).then(header);

  const cases: Case[] = [
    {
      reason: 'missing_token',
      send: async () => ({ headers: {}, secrets: [] }),
    },
    {
      reason: 'malformed_token',
      // A CR/LF smuggled into the cookie: not the canonical token.
      send: async () => {
        const token = await mintToken(key, userClaims(clock));
        return {
          headers: { cookie: `CF_Authorization=${token}%0D%0A` },
          secrets: [token, 'jane@example.com'],
        };
      },
    },
    {
      reason: 'token_too_large',
      send: async () => header(`${'a'.repeat(9000)}.b.c`),
    },
    {
      reason: 'unsupported_alg',
      send: async () =>
        header(
          await new SignJWT(userClaims(clock))
            .setProtectedHeader({ alg: 'HS256', kid: 'kid-a' })
            .sign(new TextEncoder().encode('secret')),
        ),
    },
    {
      reason: 'unknown_kid',
      send: async () =>
        header(await mintToken({ ...key, kid: 'kid-gone' }, userClaims(clock))),
    },
    {
      reason: 'bad_signature',
      send: async () => header(await mintToken(stranger, userClaims(clock))),
    },
    { reason: 'expired', send: () => user({ exp: clock.seconds - 600 }) },
    { reason: 'not_yet_valid', send: () => user({ nbf: clock.seconds + 600 }) },
    {
      reason: 'wrong_issuer',
      send: async () => ({
        ...(await user({ iss: 'https://internal-idp.corp.example:8443' })),
        secrets: ['internal-idp.corp.example', 'jane@example.com'],
      }),
    },
    { reason: 'wrong_audience', send: () => user({ aud: ['other-app'] }) },
    { reason: 'wrong_token_type', send: () => user({ type: 'org' }) },
    { reason: 'missing_claims', send: () => user({ email: undefined }) },
    {
      reason: 'unknown_service_token',
      send: async () => ({
        ...header(
          await mintToken(
            key,
            serviceClaims(clock, { common_name: 'unlisted-bot.access' }),
          ),
        ),
        secrets: ['unlisted-bot.access'],
      }),
    },
  ];

  async function expectBody(
    res: request.Response,
    reason: CloudflareAccessRejectionReason,
    secrets: string[],
  ) {
    expect(res.status).toBe(reason === 'keys_unavailable' ? 503 : 401);
    expect(res.body.error).toEqual({
      name:
        reason === 'keys_unavailable'
          ? 'ServiceUnavailableError'
          : 'AuthenticationError',
      message: `Cloudflare Access token rejected (${reason}): ${rejectionSentence(
        reason,
      )}`,
      reason,
    });
    const text = res.text;
    for (const secret of [...secrets, 'caused by', 'cause', 'stack']) {
      expect(text).not.toContain(secret);
    }
  }

  it('answers each 401 with the reason code and one sentence only, and logs the details', async () => {
    const backend = await start();
    try {
      for (const { reason, send } of cases) {
        const { headers, secrets } = await send();
        const res = await request(backend.server)
          .get('/api/auth/cfaccess/refresh')
          .set(headers);
        await expectBody(res, reason, secrets);
      }
      // The server log has what the caller was not told.
      const log = warnings.join('\n');
      expect(log).toMatch(
        /rejected \(expired\) for "jane@example\.com": the token expired at/,
      );
      expect(log).toMatch(
        /rejected \(unknown_service_token\) for "unlisted-bot\.access"/,
      );
      expect(log).toMatch(
        /rejected \(wrong_issuer\).*internal-idp\.corp\.example:8443/,
      );
      expect(log).toMatch(/rejected \(wrong_token_type\).*"org"/);
    } finally {
      await backend.stop();
    }
  });

  it('answers keys_unavailable with 503, without the certs URL or the network error', async () => {
    state.certsStatus = 500;
    const backend = await start();
    try {
      const { headers, secrets } = await user();
      const res = await request(backend.server)
        .get('/api/auth/cfaccess/refresh')
        .set(headers);
      await expectBody(res, 'keys_unavailable', [
        ...secrets,
        'cdn-cgi',
        'HTTP 500',
      ]);
      expect(warnings.join('\n')).toMatch(
        /rejected \(keys_unavailable\).*cdn-cgi\/access\/certs.*HTTP 500/,
      );
    } finally {
      await backend.stop();
    }
  });

  it('covers every reason code', () => {
    // conflicting_tokens is the Access boundary's: /refresh reads the header first.
    expect(
      [
        ...cases.map(c => c.reason),
        'keys_unavailable',
        'conflicting_tokens',
      ].sort(),
    ).toEqual([...tokenRejectionReasons].sort());
  });
});
