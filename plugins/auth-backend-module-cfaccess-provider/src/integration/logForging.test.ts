/*
 * Foreign text in the server log (log forging): claims, emails, group names
 * and resolver errors reach the log only through logValue, so none can break
 * a line, drive the terminal or flood the log; and a rejection's log entry
 * carries its reason code.
 */
import { ConfigReader } from '@backstage/config';
import { NotFoundError } from '@backstage/errors';
import { createAuthenticator } from '../internal';
import { createAccessGroupMapper } from '../signIn/accessGroups';
import { createCloudflareAccessSignInResolverChain } from '../signIn/resolverChain';
import { CloudflareAccessResult } from '../types';
import {
  AUD,
  createAccessServer,
  createTestKey,
  memoryCache,
  mintToken,
  OTHER_AUD,
  serviceClaims,
  TestClock,
  TestKey,
  userClaims,
} from '../__testUtils__/fixtures';

const FORGED =
  'mallory@example.com\r\n2026-06-01T12:00:00.000Z auth info Cloudflare Access sign-in accepted for admin@example.com\u001b[2K\u009b1A';
const LONG = `${'x'.repeat(5000)}@example.com`;

function recordingLogger() {
  const entries: Array<{ level: string; message: string; meta?: unknown }> = [];
  const logger: any = {};
  for (const level of ['error', 'warn', 'info', 'debug']) {
    logger[level] = (message: string, meta?: unknown) =>
      entries.push({ level, message, meta });
  }
  logger.child = () => logger;
  return { entries, logger };
}

/** One line of printable ASCII (plus the ellipsis of a cut): no CR/LF, ESC or other control; nothing longer than a few cut values. */
function expectSafe(message: string) {
  expect(message).toMatch(/^[\x20-\x7e…]*$/);
  expect(message.length).toBeLessThan(1500);
}

const { server, state } = createAccessServer();

describe('log forging', () => {
  let key: TestKey;
  const clock = new TestClock();

  beforeAll(async () => {
    server.listen({ onUnhandledRequest: 'error' });
    key = await createTestKey('kid-a');
  });
  afterAll(() => server.close());
  beforeEach(() => {
    state.jwks = [key.publicJwk];
    state.certsStatus = 200;
  });

  function authenticate(token: string) {
    const { entries, logger } = recordingLogger();
    const authenticator = createAuthenticator(
      { cache: memoryCache().cache, logger },
      { now: clock.now },
    );
    const ctx = authenticator.initialize({
      config: new ConfigReader({ teamName: 'testteam', audience: AUD }),
    });
    return authenticator
      .authenticate(
        { req: { headers: { 'cf-access-jwt-assertion': token } } as any },
        ctx,
      )
      .then(
        () => ({ entries, error: undefined as any }),
        error => ({ entries, error }),
      );
  }

  it.each([
    ['an email with CR/LF and ANSI escapes', { email: FORGED }],
    ['a 5,000-character email', { email: LONG }],
  ])(
    'logs a rejection for %s on one capped line, with its reason code',
    async (_what, claims) => {
      const token = await mintToken(
        key,
        userClaims(clock, { ...claims, aud: [OTHER_AUD] }),
      );
      const { entries, error } = await authenticate(token);
      expect(error).toMatchObject({ reason: 'wrong_audience' });
      expect(entries).toHaveLength(1);
      const [entry] = entries;
      expect(entry.message).toMatch(
        /^Cloudflare Access sign-in rejected \(wrong_audience\) for "/,
      );
      expectSafe(entry.message);
      expect(entry.meta).toMatchObject({ reason: 'wrong_audience' });
      // Backstage's logger JSON-encodes fields; what JSON leaves alone is escaped, and the value capped.
      expectSafe(JSON.stringify(entry.meta));
    },
  );

  it('logs an unlisted service token Client ID with CR/LF safely', async () => {
    const token = await mintToken(
      key,
      serviceClaims(clock, { common_name: `${FORGED}.access` }),
    );
    const { entries, error } = await authenticate(token);
    expect(error).toMatchObject({ reason: 'unknown_service_token' });
    expect(entries).toHaveLength(1);
    expect(entries[0].message).toMatch(/\(unknown_service_token\)/);
    expectSafe(entries[0].message);
  });

  it('logs a foreign issuer safely', async () => {
    const token = await mintToken(
      key,
      userClaims(clock, { iss: `https://evil.example\r\n${'y'.repeat(3000)}` }),
    );
    const { entries, error } = await authenticate(token);
    expect(error).toMatchObject({ reason: 'wrong_issuer' });
    expectSafe(entries[0].message);
  });

  it('logs group names safely', () => {
    const { entries, logger } = recordingLogger();
    const map = createAccessGroupMapper({
      accessGroups: [{ name: FORGED, entityRef: 'group:default/a' }],
      dangerouslyMapGroupNames: true,
      logger,
    });
    map([
      { id: 'g1', name: FORGED, email: '' },
      { id: 'g2', name: `Team\n${'z'.repeat(5000)}`, email: '' },
      { id: 'g3', name: 'dup', email: '' },
      { id: `g4\r\n${FORGED}`, name: 'dup', email: '' },
    ]);
    expect(entries.length).toBeGreaterThanOrEqual(3);
    entries.forEach(entry => expectSafe(entry.message));
  });

  it('logs a caller without a catalog user safely, with the reason code', async () => {
    const { entries, logger } = recordingLogger();
    const chain = createCloudflareAccessSignInResolverChain({
      resolvers: [
        {
          name: 'byEmail',
          resolver: async () => {
            throw new NotFoundError(`no user ${FORGED}`);
          },
        },
      ],
      logger,
    });
    const result = {
      claims: { email: FORGED, sub: 's' },
      tokenType: 'user',
    } as unknown as CloudflareAccessResult;
    await expect(
      chain({ result, profile: {} }, {} as any),
    ).rejects.toMatchObject({ reason: 'user_not_found' });
    expect(entries).toHaveLength(1);
    expect(entries[0].message).toMatch(/\(user_not_found\)/);
    expectSafe(entries[0].message);
    expect(entries[0].meta).toMatchObject({ reason: 'user_not_found' });
  });
});
