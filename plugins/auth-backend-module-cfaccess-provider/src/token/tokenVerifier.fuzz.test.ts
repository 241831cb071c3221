/*
 * Property-based (fast-check) tests of the Cloudflare Access token
 * verification path. Everything runs against the real TokenVerifier,
 * authenticator and (property 3) HTTP route, with certs served by msw.
 *
 * CFACCESS_FUZZ_RUNS sets the runs per property (default 300);
 * CFACCESS_FUZZ_REPORT prints a one-line summary at the end.
 */
import fc from 'fast-check';
import request from 'supertest';
import { base64url } from 'jose';
import { ConfigReader } from '@backstage/config';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import authPlugin from '@backstage/plugin-auth-backend';
import {
  CloudflareAccessAuthenticationError,
  CloudflareAccessKeysUnavailableError,
  tokenRejectionReasons,
} from '../errors';
import {
  authenticatorState,
  createAuthenticator,
  extractToken,
} from '../internal';
import { KeyCache } from '../keys/keyCache';
import { noopLogger, RateLimitedLogger } from '../lib/rateLimitedLogger';
import { TokenVerifier, VerifiedAccessToken } from './tokenVerifier';
import { VerifiedTokenCache } from './verifiedTokenCache';
import cfaccessModule from '../index';
import {
  AUD,
  CERTS_URL,
  closeAuthDatabaseOnShutdown,
  createAccessServer,
  createTestKey,
  errorUnlessLoopback,
  memoryCache,
  mockMetrics,
  OTHER_AUD,
  SERVICE_CLIENT_ID,
  serviceClaims,
  TEAM_DOMAIN,
  TestClock,
  testConfig,
  TestKey,
  userClaims,
} from '../__testUtils__/fixtures';

const RUNS = Number(process.env.CFACCESS_FUZZ_RUNS ?? 300);
const HTTP_RUNS = Math.min(RUNS, 200);
const TIMEOUT_MS = Math.max(60_000, RUNS * 30);

// Counted over every must-reject case of every property (controls excluded).
let cases = 0;
let accepted = 0;
let fivexx = 0;

const { server, state } = createAccessServer();

const knownReasons = new Set<string>(tokenRejectionReasons);
const encoder = new TextEncoder();

type Entries = [string, string][];

/** Raw JSON object text from [key, raw JSON value] pairs; allows duplicate keys. */
const objectText = (entries: Entries) =>
  `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;

const entriesOf = (obj: Record<string, unknown>): Entries =>
  Object.entries(obj).map(([k, v]) => [k, JSON.stringify(v)]);

/** Signs header and payload text as given (RS256), so claim checks, not the signature, must reject. */
async function signRaw(key: TestKey, headerText: string, payloadText: string) {
  const input = `${base64url.encode(headerText)}.${base64url.encode(
    payloadText,
  )}`;
  const signature = await crypto.subtle.sign(
    'RSASSA-PKCS1-v1_5',
    key.privateKey,
    encoder.encode(input),
  );
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

/** Asserts a known rejection; counts the case and any acceptance. */
async function expectRejection(
  attempt: () => Promise<unknown>,
  options: {
    allowKeysUnavailable?: boolean;
  } = {},
) {
  cases += 1;
  let error: unknown;
  try {
    await attempt();
  } catch (e) {
    error = e;
  }
  if (error === undefined) {
    accepted += 1;
    throw new Error('the token was accepted');
  }
  const isKnownType =
    error instanceof CloudflareAccessAuthenticationError ||
    (options.allowKeysUnavailable &&
      error instanceof CloudflareAccessKeysUnavailableError);
  if (!isKnownType) {
    throw new Error(`unexpected error type: ${String(error)}`, {
      cause: error,
    });
  }
  const { reason, message } = error as CloudflareAccessAuthenticationError;
  if (!knownReasons.has(reason)) {
    throw new Error(`unknown reason ${reason}`);
  }
  // The authenticator's fail-closed fallback for unexpected exceptions.
  if (message.includes('the token could not be verified')) {
    throw new Error(`unexpected exception behind a rejection: ${message}`, {
      cause: (error as Error).cause,
    });
  }
  return reason;
}

// ---------------------------------------------------------------- arbitraries

const nonString = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
);

const anyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
);

/** A string that differs from `s` by an inserted or replaced (often invisible or lookalike) character. */
function unicodeVariant(s: string) {
  const odd = fc.oneof(
    fc.constantFrom(
      '\u200b',
      '\u00a0',
      '\ufeff',
      '\u0301',
      '\u0435', // Cyrillic e
      '\u0430', // Cyrillic a
      '\u0000',
      '\ud800',
      ' ',
      '\n',
    ),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }),
  );
  return fc
    .tuple(fc.nat({ max: s.length }), odd, fc.boolean())
    .map(([i, c, replace]) =>
      replace
        ? s.slice(0, i) + c + s.slice(i + 1)
        : s.slice(0, i) + c + s.slice(i),
    )
    .filter(v => v !== s);
}

const json = (arb: fc.Arbitrary<unknown>) => arb.map(v => JSON.stringify(v));

// Raw JSON texts of values each claim must never accept.
const badIss = fc.oneof(
  json(anyString.filter(s => s !== TEAM_DOMAIN)),
  json(unicodeVariant(TEAM_DOMAIN)),
  json(
    fc.constantFrom(
      `${TEAM_DOMAIN}/`,
      TEAM_DOMAIN.toUpperCase(),
      'http://testteam.cloudflareaccess.com',
      'https://evil.cloudflareaccess.com',
      [TEAM_DOMAIN],
    ),
  ),
  json(nonString),
);
const badAud = fc.oneof(
  json(anyString.filter(s => s !== AUD)),
  json(
    fc.array(
      anyString.filter(s => s !== AUD),
      { maxLength: 3 },
    ),
  ),
  json(unicodeVariant(AUD)),
  json(unicodeVariant(AUD).map(v => [v])),
  json(fc.constantFrom(OTHER_AUD, [OTHER_AUD], [], [[AUD]], { 0: AUD })),
  json(fc.oneof(fc.integer(), fc.boolean(), fc.constant(null))),
);
const nowS = Math.floor(new TestClock().ms / 1000);
const tolerance = 60;
const badExp = fc.oneof(
  json(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: nowS - tolerance })),
  json(fc.double({ noNaN: true, max: nowS - tolerance })),
  json(fc.constantFrom(0, -1, -1e308, nowS - tolerance - 0.5)),
  fc.constantFrom('-1e999', '-1e308', '1e-308', '-0'),
  json(fc.integer({ min: nowS, max: nowS + 1e9 }).map(String)),
  json(fc.constantFrom(true, null, [nowS + 3600], { exp: nowS + 3600 })),
);
const badNbf = fc.oneof(
  json(fc.integer({ min: nowS + tolerance + 1, max: Number.MAX_SAFE_INTEGER })),
  json(fc.double({ noNaN: true, min: nowS + tolerance + 1 })),
  fc.constantFrom('1e308', '1e999', `${nowS + tolerance + 0.5}`),
  json(fc.constantFrom(String(nowS), true, null, [nowS], {})),
);
const emptyOrNonString = fc.oneof(json(fc.constant('')), json(nonString));
const badCommonName = fc.oneof(
  json(anyString.filter(s => s !== SERVICE_CLIENT_ID)),
  json(unicodeVariant(SERVICE_CLIENT_ID)),
  json(
    fc.constantFrom(SERVICE_CLIENT_ID.toUpperCase(), ` ${SERVICE_CLIENT_ID}`, [
      SERVICE_CLIENT_ID,
    ]),
  ),
  json(nonString),
);

type Base = 'user' | 'service';

/** Claims whose removal, or replacement by `bad`, must be rejected, per token kind. */
const mustReject: Record<
  Base,
  { removable: string[]; bad: Record<string, fc.Arbitrary<string>> }
> = {
  user: {
    removable: ['iss', 'aud', 'exp', 'sub', 'email'],
    bad: {
      iss: badIss,
      aud: badAud,
      exp: badExp,
      nbf: badNbf,
      sub: emptyOrNonString,
      email: emptyOrNonString,
    },
  },
  service: {
    removable: ['iss', 'aud', 'exp', 'common_name'],
    bad: {
      iss: badIss,
      aud: badAud,
      exp: badExp,
      nbf: badNbf,
      common_name: badCommonName,
      // A non-empty sub makes it a user token, which has no email.
      sub: json(anyString.filter(s => s.length > 0)),
    },
  },
};

// Swaps that break the token (sub<->email would not: both are plain strings).
const swaps: Record<Base, [string, string][]> = {
  user: [
    ['iss', 'aud'],
    ['iss', 'sub'],
    ['iss', 'email'],
    ['aud', 'email'],
    ['aud', 'sub'],
    ['exp', 'nbf'],
    ['exp', 'iss'],
    ['nbf', 'aud'],
  ],
  service: [
    ['common_name', 'sub'],
    ['common_name', 'iss'],
    ['common_name', 'aud'],
    ['exp', 'nbf'],
    ['iss', 'aud'],
  ],
};

type ClaimMutation =
  | { op: 'remove'; claim: string }
  | { op: 'set' | 'duplicate'; claim: string; raw: string }
  | { op: 'swap'; a: string; b: string }
  | { op: 'proto'; claim: string; via: '__proto__' | 'constructor' };

function claimMutation(base: Base): fc.Arbitrary<ClaimMutation> {
  const { removable, bad } = mustReject[base];
  return fc.oneof(
    fc.constantFrom(...removable).map(claim => ({ op: 'remove', claim })),
    fc.constantFrom(...Object.keys(bad)).chain(claim =>
      fc.record({
        op: fc.constantFrom('set' as const, 'duplicate' as const),
        claim: fc.constant(claim),
        raw: bad[claim],
      }),
    ),
    fc.constantFrom(...swaps[base]).map(([a, b]) => ({ op: 'swap', a, b })),
    fc.record({
      op: fc.constant('proto' as const),
      claim: fc.constantFrom(...removable),
      via: fc.constantFrom('__proto__' as const, 'constructor' as const),
    }),
  ) as fc.Arbitrary<ClaimMutation>;
}

function applyClaimMutation(
  claims: Record<string, unknown>,
  m: ClaimMutation,
): string {
  const entries = entriesOf(claims);
  switch (m.op) {
    case 'remove':
      return objectText(entries.filter(([k]) => k !== m.claim));
    case 'set':
      return objectText([
        ...entries.filter(([k]) => k !== m.claim),
        [m.claim, m.raw],
      ]);
    case 'duplicate':
      // The original stays first; JSON.parse keeps the last one.
      return objectText([...entries, [m.claim, m.raw]]);
    case 'swap':
      return objectText(
        entries.map(([k, v]) => {
          if (k === m.a) return [k, JSON.stringify(claims[m.b])];
          if (k === m.b) return [k, JSON.stringify(claims[m.a])];
          return [k, v];
        }),
      );
    case 'proto':
    default:
      // Moves a required claim into "__proto__"/"constructor": must not be found there.
      return objectText([
        ...entries.filter(([k]) => k !== m.claim),
        [m.via, JSON.stringify({ [m.claim]: claims[m.claim] })],
      ]);
  }
}

// ---------------------------------------------------------------- tests

describe('TokenVerifier fuzzing', () => {
  let keyA: TestKey;
  let keyB: TestKey;
  const clock = new TestClock();
  const header = { alg: 'RS256', kid: 'kid-a', typ: 'JWT' };
  let userToken: string;
  let serviceToken: string;

  beforeAll(async () => {
    // supertest talks to the local test backend; everything else is mocked.
    server.listen({ onUnhandledRequest: errorUnlessLoopback });
    keyA = await createTestKey('kid-a');
    keyB = await createTestKey('kid-b');
    state.jwks = [keyA.publicJwk];
    userToken = await signRaw(
      keyA,
      JSON.stringify(header),
      JSON.stringify(userClaims(clock)),
    );
    serviceToken = await signRaw(
      keyA,
      JSON.stringify(header),
      JSON.stringify(serviceClaims(clock)),
    );
  });
  afterAll(() => {
    server.close();
    if (process.env.CFACCESS_FUZZ_REPORT) {
      // eslint-disable-next-line no-console
      console.log(`fuzz: ${cases} cases, ${accepted} accepted, ${fivexx} 5xx`);
    }
  });
  beforeEach(() => {
    state.jwks = [keyA.publicJwk];
    state.certsStatus = 200;
  });

  /** A verifier whose verified-token cache already holds both valid tokens. */
  async function createVerifier() {
    const config = testConfig({
      serviceTokens: [
        { token: SERVICE_CLIENT_ID, subject: 'user:default/ci-bot' },
      ],
    });
    const keyCache = new KeyCache({
      certsUrl: CERTS_URL,
      ...config.jwks,
      logger: new RateLimitedLogger(noopLogger),
      metrics: mockMetrics(),
      now: clock.now,
    });
    const verifier = new TokenVerifier({
      config,
      keyCache,
      now: clock.now,
      verifiedTokens: new VerifiedTokenCache<VerifiedAccessToken>({
        maxEntries: 1000,
        clockToleranceSeconds: config.clockToleranceSeconds,
      }),
    });
    // Mutations must be rejected even next to cached originals.
    await verifier.verify(userToken);
    await verifier.verify(serviceToken);
    return verifier;
  }

  const baseToken = (base: Base) =>
    base === 'user' ? userToken : serviceToken;
  const baseClaims = (base: Base): Record<string, unknown> =>
    base === 'user' ? userClaims(clock) : serviceClaims(clock);

  describe('property 1: mutated valid tokens are rejected', () => {
    it(
      'control: the unmutated tokens and identical JSON re-encodings are accepted',
      async () => {
        const verifier = await createVerifier();
        await expect(verifier.verify(userToken)).resolves.toMatchObject({
          tokenType: 'user',
        });
        await expect(verifier.verify(serviceToken)).resolves.toMatchObject({
          tokenType: 'service',
        });
        // Re-encoding the same claims (any key order, whitespace) and re-signing keeps them valid.
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom<Base>('user', 'service'),
            fc.integer({ min: 0, max: 4 }),
            fc.nat(),
            async (base, indent, seed) => {
              const claims = baseClaims(base);
              const keys = Object.keys(claims).sort(
                (a, b) =>
                  ((a.charCodeAt(0) * seed) % 7) -
                  ((b.charCodeAt(0) * seed) % 7),
              );
              const text = JSON.stringify(claims, keys, indent);
              const token = await signRaw(keyA, JSON.stringify(header), text);
              await expect(verifier.verify(token)).resolves.toBeDefined();
            },
          ),
          { numRuns: Math.min(RUNS, 50) },
        );
      },
      TIMEOUT_MS,
    );

    it(
      'bit flips and truncations in header, payload and signature',
      async () => {
        const verifier = await createVerifier();
        const mutation = fc.oneof(
          fc.record({
            op: fc.constant('charFlip' as const),
            pos: fc.nat(),
            bit: fc.integer({ min: 0, max: 15 }),
          }),
          fc.record({
            op: fc.constant('byteFlip' as const),
            pos: fc.nat(),
            bit: fc.integer({ min: 0, max: 7 }),
          }),
          // The last characters, where base64url carries padding bits.
          fc.record({
            op: fc.constant('tailFlip' as const),
            back: fc.integer({ min: 1, max: 3 }),
            bit: fc.integer({ min: 0, max: 7 }),
          }),
          fc.record({ op: fc.constant('truncate' as const), pos: fc.nat() }),
        );
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom<Base>('user', 'service'),
            fc.integer({ min: 0, max: 2 }),
            mutation,
            async (base, segmentIndex, m) => {
              const segments = baseToken(base).split('.');
              const original = segments[segmentIndex];
              let mutated: string;
              if (m.op === 'charFlip' || m.op === 'tailFlip') {
                const i =
                  m.op === 'charFlip'
                    ? m.pos % original.length
                    : original.length - m.back;
                const c = String.fromCharCode(
                  original.charCodeAt(i) ^ (1 << m.bit),
                );
                mutated = original.slice(0, i) + c + original.slice(i + 1);
              } else if (m.op === 'byteFlip') {
                const bytes = base64url.decode(original);
                bytes[m.pos % bytes.length] ^= 1 << m.bit;
                mutated = base64url.encode(bytes);
              } else {
                mutated = original.slice(0, m.pos % original.length);
              }
              // Any other text must fail, including a signature that decodes
              // to the same bytes (non-canonical last character, whitespace):
              // only the canonical spelling of a token is accepted.
              fc.pre(mutated !== original);
              segments[segmentIndex] = mutated;
              await expectRejection(() => verifier.verify(segments.join('.')));
            },
          ),
          { numRuns: RUNS },
        );
      },
      TIMEOUT_MS,
    );

    it(
      're-signed claims removed, swapped, duplicated, out of range, unicode or hidden in __proto__',
      async () => {
        const verifier = await createVerifier();
        const arb = fc
          .constantFrom<Base>('user', 'service')
          .chain(base => fc.tuple(fc.constant(base), claimMutation(base)));
        await fc.assert(
          fc.asyncProperty(arb, async ([base, m]) => {
            const payload = applyClaimMutation(baseClaims(base), m);
            const token = await signRaw(keyA, JSON.stringify(header), payload);
            await expectRejection(() => verifier.verify(token));
          }),
          { numRuns: RUNS },
        );
      },
      TIMEOUT_MS,
    );

    // Found by this fuzzer: out-of-range exp/nbf once escaped as a bare RangeError with no reason code.
    it.each([
      ['nbf', 1e308, 'not_yet_valid'],
      ['exp', -1e308, 'expired'],
    ])(
      '%s %p is rejected as %s, not with a RangeError',
      async (claim, value, reason) => {
        const token = await signRaw(
          keyA,
          JSON.stringify(header),
          JSON.stringify(userClaims(clock, { [claim]: value })),
        );
        await expect(
          (await createVerifier()).verify(token),
        ).rejects.toMatchObject({
          reason,
        });
      },
    );

    it(
      'header fields altered (alg, kid, crit, injected keys, duplicates, typ)',
      async () => {
        const verifier = await createVerifier();
        const headerEntries = entriesOf(header);
        const badAlg = fc.oneof(
          json(
            fc.constantFrom(
              'none',
              'None',
              'NONE',
              'HS256',
              'RS512',
              'ES256',
              'PS256',
              'EdDSA',
              'rs256',
              'RS256 ',
              ' RS256',
              'RS256\u0000',
              '',
            ),
          ),
          json(anyString.filter(s => s !== 'RS256')),
          json(unicodeVariant('RS256')),
          json(nonString),
        );
        const badKid = fc.oneof(
          json(anyString.filter(s => s !== 'kid-a')),
          json(unicodeVariant('kid-a')),
          json(fc.constantFrom('kid-b', '__proto__', 'constructor', 'KID-A')),
          json(nonString),
        );
        type HeaderCase =
          | { kind: 'resign'; headerText: string; signer: 'a' | 'b' }
          | { kind: 'forge'; headerText: string };
        const headerCase: fc.Arbitrary<HeaderCase> = fc.oneof(
          // Re-signed with the real key: the alg/kid/crit checks must reject.
          fc
            .tuple(fc.constantFrom('alg', 'kid'), fc.boolean())
            .chain(([field, dup]) =>
              (field === 'alg' ? badAlg : badKid).map(raw => ({
                kind: 'resign' as const,
                signer: 'a' as const,
                headerText: objectText(
                  dup
                    ? [...headerEntries, [field, raw]]
                    : [
                        ...headerEntries.filter(([k]) => k !== field),
                        [field, raw],
                      ],
                ),
              })),
            ),
          fc.constantFrom('alg', 'kid').map(field => ({
            kind: 'resign' as const,
            signer: 'a' as const,
            headerText: objectText(headerEntries.filter(([k]) => k !== field)),
          })),
          fc
            .constantFrom(
              { crit: ['exp'] },
              { crit: ['b64'], b64: false },
              { crit: ['x'], x: 1 },
              { crit: [] },
              { crit: 'b64' },
            )
            .map(extra => ({
              kind: 'resign' as const,
              signer: 'a' as const,
              headerText: JSON.stringify({ ...header, ...extra }),
            })),
          // Signed by a key that is not in the certs, which it names or embeds.
          fc
            .constantFrom<Record<string, unknown>[]>(
              [{}],
              [{ jku: 'https://evil.example/certs' }],
              [{ x5u: 'https://evil.example/cert.pem' }],
            )
            .map(([extra]) => ({
              kind: 'resign' as const,
              signer: 'b' as const,
              headerText: JSON.stringify({
                ...header,
                jwk: keyB.publicJwk,
                ...extra,
              }),
            })),
          // Without the key: typ (not checked) or anything else changed, old signature kept.
          fc
            .oneof(json(anyString.filter(s => s !== 'JWT')), json(nonString))
            .map(raw => ({
              kind: 'forge' as const,
              headerText: objectText([
                ...headerEntries.filter(([k]) => k !== 'typ'),
                ['typ', raw],
              ]),
            })),
        );
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom<Base>('user', 'service'),
            headerCase,
            async (base, h) => {
              let token: string;
              if (h.kind === 'resign') {
                token = await signRaw(
                  h.signer === 'a' ? keyA : { ...keyB, kid: 'kid-a' },
                  h.headerText,
                  JSON.stringify(baseClaims(base)),
                );
              } else {
                const [, payload, signature] = baseToken(base).split('.');
                token = `${base64url.encode(
                  h.headerText,
                )}.${payload}.${signature}`;
              }
              await expectRejection(() => verifier.verify(token));
            },
          ),
          { numRuns: RUNS },
        );
      },
      TIMEOUT_MS,
    );
  });

  // ------------------------------------------------------------ property 2

  const asciiSegment = fc.stringMatching(/^[A-Za-z0-9_-]*$/);
  function tokenish(): fc.Arbitrary<string> {
    const realSegment = fc
      .tuple(
        fc.constantFrom<Base>('user', 'service'),
        fc.integer({ min: 0, max: 2 }),
      )
      .map(([base, i]) => baseToken(base).split('.')[i]);
    const encodedJsonHeader = fc
      .record(
        {
          alg: fc.oneof(fc.constant('RS256'), fc.string()),
          kid: fc.oneof(fc.constant('kid-a'), fc.string()),
          typ: fc.string(),
        },
        { requiredKeys: [] },
      )
      .map(h => base64url.encode(JSON.stringify(h)));
    const encodedJson = fc
      .jsonValue()
      .map(v => base64url.encode(JSON.stringify(v)));
    const segment = fc.oneof(
      asciiSegment,
      fc.base64String(),
      fc.string(),
      realSegment,
      encodedJsonHeader,
      encodedJson,
    );
    return fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'grapheme-composite' }),
      fc.string({
        unit: fc
          .integer({ min: 0xd800, max: 0xdfff })
          .map(c => String.fromCharCode(c)),
      }),
      fc.base64String(),
      fc.tuple(segment, segment, segment).map(s => s.join('.')),
      fc.array(segment, { minLength: 0, maxLength: 6 }).map(s => s.join('.')),
      // Around and beyond the 8192 byte limit.
      fc
        .tuple(
          fc.string({ minLength: 1, maxLength: 4 }),
          fc.integer({ min: 1500, max: 9000 }),
        )
        .map(([s, n]) => s.repeat(n)),
      fc
        .tuple(realSegment, fc.integer({ min: 7000, max: 9000 }))
        .map(([s, n]) => `${s}.${'A'.repeat(n)}.${s}`),
    );
  }

  it(
    'property 2: arbitrary strings in the header and the cookie are rejected with a known reason',
    async () => {
      const authenticator = createAuthenticator(
        { cache: memoryCache().cache },
        { now: clock.now, metrics: mockMetrics() },
      );
      const ctx = authenticator.initialize({
        config: new ConfigReader({
          teamName: 'testteam',
          audience: AUD,
          serviceTokens: [
            { token: SERVICE_CLIENT_ID, subject: 'ci-bot@example.com' },
          ],
        }),
      });
      const headersArb = fc.oneof(
        tokenish().map(v => ({ 'cf-access-jwt-assertion': v })),
        fc
          .array(tokenish(), { minLength: 1, maxLength: 3 })
          .map(v => ({ 'cf-access-jwt-assertion': v })),
        tokenish().map(v => ({ cookie: `CF_Authorization=${v}` })),
        tokenish().map(v => ({ cookie: v })),
        fc.tuple(fc.string(), tokenish(), fc.string()).map(([a, v, b]) => ({
          cookie: `${a}; CF_Authorization=${v}; ${b}`,
        })),
        fc.tuple(tokenish(), tokenish()).map(([h, c]) => ({
          'cf-access-jwt-assertion': h,
          cookie: `CF_Authorization=${c}`,
        })),
      );
      await fc.assert(
        fc.asyncProperty(headersArb, async headers => {
          // The verifier alone: only its own error types may come out.
          const { config, verifier } = authenticatorState(ctx);
          const token = extractToken({ headers }, config);
          await expectRejection(() => verifier.verify(token));
          // The authenticator: no fail-closed fallback for unexpected errors.
          await expectRejection(() =>
            authenticator.authenticate({ req: { headers } as any }, ctx),
          );
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );

  // ------------------------------------------------------------ property 3

  it(
    'property 3: /api/auth/cfaccess/refresh answers 401 to arbitrary header values, never 5xx',
    async () => {
      const backend = await startTestBackend({
        features: [
          authPlugin,
          closeAuthDatabaseOnShutdown,
          cfaccessModule,
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
          catalogServiceMock.factory({ entities: [] }),
        ],
      });
      try {
        // What Node's HTTP client lets through in a header value.
        const headerChar = fc
          .oneof(
            { weight: 10, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
            { weight: 1, arbitrary: fc.constant(0x09) },
            { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
          )
          .map(c => String.fromCharCode(c));
        const headerValue = fc.oneof(
          fc.string({ unit: headerChar, maxLength: 200 }),
          fc
            .tuple(asciiSegment, asciiSegment, asciiSegment)
            .map(s => s.join('.')),
          fc
            .tuple(fc.constantFrom<Base>('user', 'service'), fc.nat())
            .map(([base, n]) => baseToken(base).slice(0, n % 1000)),
          fc.integer({ min: 8000, max: 12000 }).map(n => 'A'.repeat(n)),
        );
        const target = fc.constantFrom('header', 'cookie');
        await fc.assert(
          fc.asyncProperty(target, headerValue, async (where, value) => {
            cases += 1;
            const req = request(backend.server).get(
              '/api/auth/cfaccess/refresh',
            );
            const res = await (where === 'header'
              ? req.set('cf-access-jwt-assertion', value)
              : req.set('cookie', `CF_Authorization=${value}`));
            if (res.status >= 500) fivexx += 1;
            if (res.status < 400) accepted += 1;
            // Checked with 2000 runs: the HTTP layer never answers 400 here.
            expect(res.status).toBe(401);
            const reason = /Cloudflare Access token rejected \((\w+)\)/.exec(
              res.body?.error?.message ?? '',
            )?.[1];
            expect(knownReasons.has(reason!)).toBe(true);
          }),
          { numRuns: HTTP_RUNS },
        );
      } finally {
        await backend.stop();
      }
    },
    TIMEOUT_MS,
  );
});
