import { SignJWT, UnsecuredJWT, exportSPKI } from 'jose';
import { CloudflareAccessRejectionReason } from '../errors';
import { KeyCache } from '../keys/keyCache';
import { RateLimitedLogger, noopLogger } from '../lib/rateLimitedLogger';
import { TokenVerifier, VerifiedAccessToken } from './tokenVerifier';
import { VerifiedTokenCache } from './verifiedTokenCache';
import {
  AUD,
  CERTS_URL,
  useAccessServerWithTwoKeys,
  createTestKey,
  mintToken,
  mockMetrics,
  OTHER_AUD,
  SERVICE_CLIENT_ID,
  serviceClaims,
  TestClock,
  testConfig,
  TestKey,
  TEAM_DOMAIN,
  userClaims,
  entriesIn,
} from '../__testUtils__/fixtures';

describe('TokenVerifier', () => {
  const access = useAccessServerWithTwoKeys();
  const { state } = access;
  let keyA: TestKey;
  let keyB: TestKey;
  let clock: TestClock;

  beforeEach(() => {
    ({ keyA, keyB, clock } = access);
  });

  function createVerifier(extra: Record<string, unknown> = {}) {
    const config = testConfig({
      serviceTokens: [
        { token: SERVICE_CLIENT_ID, subject: 'user:default/ci-bot' },
      ],
      ...extra,
    });
    const keyCache = new KeyCache({
      certsUrl: CERTS_URL,
      ...config.jwks,
      logger: new RateLimitedLogger(noopLogger),
      metrics: mockMetrics(),
      now: clock.now,
    });
    return new TokenVerifier({ config, keyCache, now: clock.now });
  }

  async function expectRejected(
    token: string | undefined,
    reason: CloudflareAccessRejectionReason,
    verifier = createVerifier(),
  ) {
    const error = await verifier.verify(token).then(
      () => undefined,
      e => e,
    );
    expect(error).toBeDefined();
    expect(error.reason).toBe(reason);
    expect(error.name).toBe(
      reason === 'keys_unavailable'
        ? 'ServiceUnavailableError'
        : 'AuthenticationError',
    );
    expect(error.message).toContain(
      `Cloudflare Access token rejected (${reason})`,
    );
    return error;
  }

  it('accepts a valid user token', async () => {
    const token = await mintToken(keyA, userClaims(clock));
    const result = await createVerifier().verify(token);
    expect(result.tokenType).toBe('user');
    expect(result.claims).toMatchObject({
      email: 'jane@example.com',
      sub: '7335d417-61da-459d-899c-0a01c76a2f94',
      aud: [AUD],
      identity_nonce: 'nonce-1',
    });
  });

  it('accepts a listed service token and maps it to its subject', async () => {
    const token = await mintToken(keyA, serviceClaims(clock));
    const result = await createVerifier().verify(token);
    expect(result).toMatchObject({
      tokenType: 'service',
      clientId: SERVICE_CLIENT_ID,
      subject: {
        subject: 'user:default/ci-bot',
        entityRef: 'user:default/ci-bot',
      },
    });
  });

  it('accepts a service token without a sub claim at all', async () => {
    const token = await mintToken(
      keyA,
      serviceClaims(clock, { sub: undefined }),
    );
    await expect(createVerifier().verify(token)).resolves.toMatchObject({
      tokenType: 'service',
    });
  });

  it('returns verified tokens frozen all the way down', async () => {
    const unfrozen = (value: unknown): number => {
      if (!value || typeof value !== 'object') {
        return 0;
      }
      return (
        (Object.isFrozen(value) ? 0 : 1) +
        Object.values(value).reduce<number>((n, v) => n + unfrozen(v), 0)
      );
    };
    const custom = { groups: [{ name: 'sre', tags: ['a'] }], nested: { x: 1 } };
    const verifier = createVerifier();
    const user = await verifier.verify(
      await mintToken(keyA, userClaims(clock, { custom })),
    );
    const service = await verifier.verify(
      await mintToken(keyA, serviceClaims(clock, { custom })),
    );
    expect(user.claims.custom).toEqual(custom);
    expect(service.tokenType).toBe('service');
    expect(unfrozen(user)).toBe(0);
    expect(unfrozen(service)).toBe(0);
  });

  it.each([
    ['missing', undefined, 'missing_token'],
    ['empty', '', 'missing_token'],
    ['whitespace', '   ', 'missing_token'],
    ['garbage', 'not-a-jwt', 'malformed_token'],
    ['two segments', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0', 'malformed_token'],
    ['four segments', 'a.b.c.d', 'malformed_token'],
    ['undecodable header', '!!!.e30.sig', 'malformed_token'],
  ] as const)('rejects %s input', async (_, token, reason) => {
    await expectRejected(token, reason);
    expect(state.certsRequests).toBe(0);
  });

  it('rejects an oversized token before parsing it', async () => {
    const big = await mintToken(
      keyA,
      userClaims(clock, { padding: 'x'.repeat(9000) }),
    );
    await expectRejected(big, 'token_too_large');
    expect(state.certsRequests).toBe(0);
    await expectRejected(`${'a'.repeat(9000)}`, 'token_too_large');
  });

  it('honours maxTokenBytes', async () => {
    const token = await mintToken(
      keyA,
      userClaims(clock, { padding: 'x'.repeat(1500) }),
    );
    await expectRejected(
      token,
      'token_too_large',
      createVerifier({ maxTokenBytes: 1024 }),
    );
  });

  it('rejects alg none', async () => {
    const token = new UnsecuredJWT(userClaims(clock)).encode();
    await expectRejected(token, 'unsupported_alg');
    expect(state.certsRequests).toBe(0);
  });

  it('rejects HS256 signed with the public key as the secret', async () => {
    const pem = await exportSPKI(keyA.publicKey);
    const token = await new SignJWT(userClaims(clock))
      .setProtectedHeader({ alg: 'HS256', kid: 'kid-a' })
      .sign(new TextEncoder().encode(pem));
    await expectRejected(token, 'unsupported_alg');
  });

  it('rejects a token without kid', async () => {
    const token = await new SignJWT(userClaims(clock))
      .setProtectedHeader({ alg: 'RS256' })
      .sign(keyA.privateKey);
    await expectRejected(token, 'malformed_token');
  });

  it('rejects the right kid with another key signature', async () => {
    const token = await mintToken({ ...keyB, kid: 'kid-a' }, userClaims(clock));
    await expectRejected(token, 'bad_signature');
  });

  it('rejects a tampered payload', async () => {
    const token = await mintToken(keyA, userClaims(clock));
    const [h, , s] = token.split('.');
    const other = (
      await mintToken(keyA, userClaims(clock, { email: 'evil@example.com' }))
    ).split('.')[1];
    await expectRejected(`${h}.${other}.${s}`, 'bad_signature');
  });

  it('rejects an unknown kid', async () => {
    const token = await mintToken(
      { ...keyB, kid: 'kid-unknown' },
      userClaims(clock),
    );
    await expectRejected(token, 'unknown_kid');
  });

  it('rejects an expired token, naming the expiry', async () => {
    const token = await mintToken(
      keyA,
      userClaims(clock, { exp: clock.seconds - 61 }),
    );
    const error = await expectRejected(token, 'expired');
    // The caller is told the reason and one sentence; the expiry and the
    // subject are kept for the server log.
    expect(error.message).toBe(
      'Cloudflare Access token rejected (expired): The token has expired; sign in again through Cloudflare Access.',
    );
    expect(error.details.detail).toContain(
      new Date((clock.seconds - 61) * 1000).toISOString(),
    );
    expect(error.subject).toBe('jane@example.com');
    expect(error.details.subject).toBe('jane@example.com');
  });

  it('allows clock skew within clockToleranceSeconds', async () => {
    const token = await mintToken(
      keyA,
      userClaims(clock, { exp: clock.seconds - 30 }),
    );
    await expect(createVerifier().verify(token)).resolves.toBeDefined();
    await expectRejected(
      token,
      'expired',
      createVerifier({ clockToleranceSeconds: 0 }),
    );
  });

  it('rejects a token that is not yet valid', async () => {
    const token = await mintToken(
      keyA,
      userClaims(clock, { nbf: clock.seconds + 120 }),
    );
    await expectRejected(token, 'not_yet_valid');
  });

  it('rejects a token without exp', async () => {
    const token = await mintToken(keyA, userClaims(clock, { exp: undefined }));
    await expectRejected(token, 'missing_claims');
  });

  it.each([
    ['another team', 'https://otherteam.cloudflareaccess.com'],
    ['a trailing slash', `${TEAM_DOMAIN}/`],
    ['no issuer', undefined],
  ])('rejects the wrong issuer (%s)', async (_, iss) => {
    const token = await mintToken(keyA, userClaims(clock, { iss }));
    await expectRejected(token, 'wrong_issuer');
  });

  it('rejects the wrong audience', async () => {
    const token = await mintToken(
      keyA,
      userClaims(clock, { aud: [OTHER_AUD] }),
    );
    await expectRejected(token, 'wrong_audience');
  });

  it('accepts any of several configured audiences', async () => {
    const verifier = createVerifier({ audience: ['first-aud', OTHER_AUD] });
    const token = await mintToken(
      keyA,
      userClaims(clock, { aud: ['unrelated', OTHER_AUD] }),
    );
    await expect(verifier.verify(token)).resolves.toBeDefined();
    await expectRejected(
      await mintToken(keyA, userClaims(clock)),
      'wrong_audience',
      verifier,
    );
  });

  it('rejects a user token without email', async () => {
    const token = await mintToken(
      keyA,
      userClaims(clock, { email: undefined }),
    );
    await expectRejected(token, 'missing_claims');
  });

  it('rejects a token with neither sub nor common_name', async () => {
    const token = await mintToken(
      keyA,
      userClaims(clock, { sub: '', email: undefined }),
    );
    await expectRejected(token, 'missing_claims');
  });

  it('rejects an unlisted service token, naming its Client ID', async () => {
    const token = await mintToken(
      keyA,
      serviceClaims(clock, { common_name: 'someone-else.access' }),
    );
    const error = await expectRejected(token, 'unknown_service_token');
    expect(error.details.detail).toContain('someone-else.access');
    expect(error.message).not.toContain('someone-else.access');
  });

  it('answers 503 keys_unavailable when no keys can be had', async () => {
    state.certsStatus = 500;
    const token = await mintToken(keyA, userClaims(clock));
    await expectRejected(token, 'keys_unavailable');
  });

  describe('one token, one spelling', () => {
    /** Spellings of `token` that decode to the same header, payload and signature bytes. */
    function variants(token: string): string[] {
      const [h, p, sig] = token.split('.');
      // The last character of the signature carries unused low bits; these differ only there.
      const last = sig[sig.length - 1];
      const alphabet =
        'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const value = alphabet.indexOf(last);
      const sameBytes = [1, 2, 3].map(
        low => `${sig.slice(0, -1)}${alphabet[(value & ~3) | low]}`,
      );
      const std = (seg: string) => seg.replace(/-/g, '+').replace(/_/g, '/');
      return [
        ...sameBytes.map(s => `${h}.${p}.${s}`),
        `${h}.${p}.${sig}=`,
        `${h}.${p}.${sig}==`,
        `${h}=.${p}.${sig}`,
        `${h}.${p}=.${sig}`,
        ` ${token}`,
        `${token} `,
        `${token}\t`,
        `${token}\r\n`,
        `\n${token}`,
        `${h}.${p}.${sig.slice(0, 10)}\r\n${sig.slice(10)}`,
        `${h}.${p}.${sig.slice(0, 10)} ${sig.slice(10)}`,
        `${h} .${p}.${sig}`,
        `${h}.${p}.${std(sig)}`,
        `${std(h)}.${std(p)}.${std(sig)}`,
        `${h}.${p}.${sig}\u00a0`,
        `${h}.${p}.${sig}\u0000`,
      ].filter(v => v !== token);
    }

    function cachingVerifier() {
      const verifiedTokens = new VerifiedTokenCache<VerifiedAccessToken>({
        maxEntries: 1000,
        clockToleranceSeconds: 60,
      });
      const config = testConfig();
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
        verifiedTokens,
        now: clock.now,
      });
      return { verifier, verifiedTokens };
    }

    it('rejects every other spelling of a valid token before any cache lookup or network call', async () => {
      // A token whose signature has a - or _, so the standard-alphabet spelling differs.
      let token = '';
      for (let i = 0; !/[-_]/.test(token.split('.')[2] ?? ''); i++) {
        token = await mintToken(keyA, userClaims(clock, { n: i }));
      }
      const spellings = variants(token);
      expect(spellings.length).toBeGreaterThanOrEqual(19);
      // With certs down, anything reaching the key lookup would be a 503, not malformed_token.
      state.certsStatus = 500;
      const { verifier, verifiedTokens } = cachingVerifier();
      for (const spelling of spellings) {
        const error = await expectRejected(
          spelling,
          'malformed_token',
          verifier,
        );
        expect(error.message).not.toContain(spelling.trim());
      }
      expect(state.certsRequests).toBe(0);
      expect(entriesIn(verifiedTokens)).toBe(0);

      // The canonical spelling verifies, once, and the others still do not.
      state.certsStatus = 200;
      await expect(verifier.verify(token)).resolves.toMatchObject({
        tokenType: 'user',
      });
      for (const spelling of spellings) {
        await expectRejected(spelling, 'malformed_token', verifier);
      }
      await verifier.verify(token);
      expect(entriesIn(verifiedTokens)).toBe(1);
    });

    it("rejects a cached token's signature under another payload, and the cached token still hits", async () => {
      const { verifier, verifiedTokens } = cachingVerifier();
      const token = await mintToken(keyA, userClaims(clock));
      await verifier.verify(token);
      const [header, , signature] = token.split('.');
      const forgedPayload = await mintToken(
        keyA,
        userClaims(clock, { email: 'admin@example.com' }),
      );
      const tampered = `${header}.${forgedPayload.split('.')[1]}.${signature}`;
      await expectRejected(tampered, 'bad_signature', verifier);
      expect(entriesIn(verifiedTokens)).toBe(1);
      // The real entry is neither replaced nor removed by the forgery.
      expect(verifiedTokens.get(token, clock.now())?.verified).toMatchObject({
        tokenType: 'user',
        claims: { email: 'jane@example.com' },
      });
    });
  });

  describe('token type', () => {
    it("rejects Access's organisation token (type org)", async () => {
      const token = await mintToken(keyA, userClaims(clock, { type: 'org' }));
      const error = await expectRejected(token, 'wrong_token_type');
      expect(error.subject).toBe('jane@example.com');
      expect(error.details.detail).toContain('"org"');
    });

    it.each([['identity'], [''], [1], [null], [['app']]])(
      'rejects any other type (%j)',
      async type => {
        const token = await mintToken(keyA, userClaims(clock, { type }));
        await expectRejected(token, 'wrong_token_type');
      },
    );

    it('accepts application tokens, with type app or without type', async () => {
      const verifier = createVerifier();
      await expect(
        verifier.verify(await mintToken(keyA, userClaims(clock))),
      ).resolves.toMatchObject({ claims: { type: 'app' } });
      await expect(
        verifier.verify(
          await mintToken(keyA, userClaims(clock, { type: undefined })),
        ),
      ).resolves.toMatchObject({ tokenType: 'user' });
      await expect(
        verifier.verify(
          await mintToken(keyA, serviceClaims(clock, { type: 'org' })),
        ),
      ).rejects.toMatchObject({ reason: 'wrong_token_type' });
    });
  });

  describe('several keys under one kid', () => {
    it('checks a token against each key published under its kid', async () => {
      const twin = { ...keyB, kid: 'kid-a' };
      state.jwks = [keyA.publicJwk, { ...keyB.publicJwk, kid: 'kid-a' }];
      const verifier = createVerifier();
      // Before: the last key silently won, so tokens signed with the first were bad_signature.
      await expect(
        verifier.verify(await mintToken(keyA, userClaims(clock))),
      ).resolves.toMatchObject({ tokenType: 'user' });
      await expect(
        verifier.verify(await mintToken(twin, userClaims(clock))),
      ).resolves.toMatchObject({ tokenType: 'user' });
      const stranger = await createTestKey('kid-a');
      await expectRejected(
        await mintToken(stranger, userClaims(clock)),
        'bad_signature',
        verifier,
      );
      // A claim failure is reported as such, not as a signature failure.
      await expectRejected(
        await mintToken(twin, userClaims(clock, { aud: [OTHER_AUD] })),
        'wrong_audience',
        verifier,
      );
    });
  });
});
