/*
 * A fast-check property over the whole sign-in path behind verification:
 * correctly signed tokens with arbitrary claim values, and arbitrary
 * get-identity answers, through the real auth backend and every built-in
 * resolver. Whatever Access (or the identity provider behind it) sends, the
 * answer is a sign-in or a 4xx/503 with a reason, never a 500.
 */
import fc from 'fast-check';
import {
  AUD,
  createAccessServer,
  createTestKey,
  errorUnlessLoopback,
  mintToken,
  TestClock,
  TestKey,
  userClaims,
} from '../__testUtils__/fixtures';
import { refresh, startAuthBackend } from '../__testUtils__/authBackend';
import cfaccessModule from '../index';

const RUNS = Math.min(Number(process.env.CFACCESS_FUZZ_RUNS ?? 100), 2000);

const { server, state } = createAccessServer();

// Strings an identity provider might put anywhere: odd characters, emails that almost match.
const oddString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.constantFrom(
    'jane@example.com',
    'JANE@EXAMPLE.COM',
    'jane@example.com@evil.com',
    'jane@evil.com@example.com',
    'jane@\u212aexample.com',
    'jane@example.com\r\nX-Forged: 1',
    '@example.com',
    'jane@',
    '',
    ' ',
    '\u0000',
    '__proto__',
    'constructor',
  ),
);
const claimValue = fc.oneof(
  oddString,
  fc.jsonValue({ maxDepth: 4 }),
  fc.constant(undefined),
);
const group = fc.oneof(
  oddString,
  fc.record(
    { id: claimValue, name: claimValue, email: claimValue },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 3 }),
);
const identityAnswer = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.record(
    {
      id: claimValue,
      name: claimValue,
      email: fc.oneof(fc.constant('jane@example.com'), claimValue),
      groups: fc.oneof(fc.array(group, { maxLength: 6 }), claimValue),
      idp: fc.oneof(
        fc.record({ id: claimValue, type: claimValue }, { requiredKeys: [] }),
        claimValue,
      ),
      custom: claimValue,
    },
    { requiredKeys: [] },
  ),
);

describe('sign-in with arbitrary claims and identities', () => {
  let key: TestKey;
  const clock = new TestClock();
  let backend: Awaited<ReturnType<typeof startAuthBackend>>;

  beforeAll(async () => {
    server.listen({ onUnhandledRequest: errorUnlessLoopback });
    key = await createTestKey('kid-a');
    state.jwks = [key.publicJwk];
    backend = await startAuthBackend({
      features: [cfaccessModule],
      cfaccess: {
        teamName: 'testteam',
        audience: AUD,
        signIn: {
          resolvers: [
            {
              resolver: 'signInWithCatalogUserAndAccessGroups',
              allowedDomains: ['example.com'],
              accessGroups: [
                { id: 'g1', entityRef: 'group:default/platform' },
                {
                  name: 'SRE',
                  idp: { type: 'oidc' },
                  entityRef: 'group:default/sre',
                },
              ],
            },
            {
              resolver: 'emailLocalPartMatchingUserEntityName',
              allowedDomains: ['example.com'],
            },
            { resolver: 'emailMatchingUserEntityProfileEmail' },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await backend?.stop();
    server.close();
  });

  it('answers 200, 401, 403 or 503 with a reason, never 5xx otherwise', async () => {
    let nonce = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            email: claimValue,
            sub: claimValue,
            identity_nonce: claimValue,
            country: claimValue,
            custom: claimValue,
            common_name: claimValue,
          },
          { requiredKeys: [] },
        ),
        identityAnswer,
        fc.constantFrom(200, 200, 200, 500, 302),
        async (claims, identity, identityStatus) => {
          clock.ms = Date.now();
          state.identity = () => identity as Record<string, unknown>;
          state.identityStatus = identityStatus;
          const base = userClaims(clock, {
            // A fresh nonce per run (unless the run sets its own), so no cached identity answers.
            identity_nonce: `fuzz-${nonce++}`,
          });
          const token = await mintToken(key, { ...base, ...claims } as any);
          const res = await refresh(backend, token);
          expect([200, 401, 403, 503]).toContain(res.status);
          // A sign-in carries an identity; anything else an error with its sentence.
          expect(
            typeof (res.status === 200
              ? res.body?.backstageIdentity?.token
              : res.body?.error?.message),
          ).toBe('string');
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);
});
