import { ConfigReader } from '@backstage/config';
import {
  CfAccessConfigError,
  readCfAccessConfig,
  readDeploymentMode,
} from './readConfig';

const development = readDeploymentMode(
  new ConfigReader({ auth: { environment: 'development' } }),
  'development',
);

/** Production rules, as without a deployment mode. */
const read = (data: Record<string, any>) =>
  readCfAccessConfig(new ConfigReader(data));
const readInDevelopment = (data: Record<string, any>) =>
  readCfAccessConfig(new ConfigReader(data), { mode: development });

describe('readCfAccessConfig', () => {
  it('derives the team domain, issuer and endpoints from teamName, with defaults', () => {
    const config = read({ teamName: 'MyTeam', audience: 'aud1' });
    expect(config).toEqual({
      teamDomain: 'https://myteam.cloudflareaccess.com',
      issuer: 'https://myteam.cloudflareaccess.com',
      certsUrl: 'https://myteam.cloudflareaccess.com/cdn-cgi/access/certs',
      identityUrl:
        'https://myteam.cloudflareaccess.com/cdn-cgi/access/get-identity',
      audiences: ['aud1'],
      serviceTokens: new Map(),
      jwtHeaderName: 'cf-access-jwt-assertion',
      authorizationCookieName: 'CF_Authorization',
      clockToleranceSeconds: 60,
      maxTokenBytes: 8192,
      jwks: {
        cacheMaxAgeMs: 600_000,
        cooldownMs: 30_000,
        timeoutMs: 5000,
        staleMaxAgeMs: 3_600_000,
        maxBodyBytes: 1_048_576,
      },
      identity: {
        enabled: true,
        timeoutMs: 3000,
        cacheTtlMs: 300_000,
        maxBodyBytes: 1_048_576,
      },
      verifiedTokenCache: { maxEntries: 10000 },
      managedOAuth: false,
      loopbackOptInInEffect: false,
    });
  });

  it('normalises teamDomain to its origin', () => {
    expect(
      read({
        teamDomain: 'https://myteam.cloudflareaccess.com/some/path/?q=1',
        audience: 'a',
      }).issuer,
    ).toBe('https://myteam.cloudflareaccess.com');
    expect(
      readInDevelopment({ teamDomain: 'http://localhost:7000/', audience: 'a' })
        .certsUrl,
    ).toBe('http://localhost:7000/cdn-cgi/access/certs');
  });

  it('takes the team domain as the dashboard shows it, without https://', () => {
    expect(
      read({ teamDomain: 'MyTeam.cloudflareaccess.com', audience: 'a' }).issuer,
    ).toBe('https://myteam.cloudflareaccess.com');
  });

  it.each([
    'http://localhost:7000',
    'http://127.0.0.1:7000',
    'http://127.1.2.3',
    'http://[::1]:7000',
    'https://localhost:7443',
  ])('allows the loopback team domain %s in development', teamDomain => {
    expect(() =>
      readInDevelopment({ teamDomain, audience: 'a' }),
    ).not.toThrow();
  });

  it.each([
    ['http://localhost:7000', 'must be https outside development'],
    ['http://127.0.0.1:7000', 'must be https outside development'],
    ['http://[::1]:7000', 'must be https outside development'],
    [
      'https://localhost:7443',
      'must not be a loopback host outside development',
    ],
    ['https://127.0.0.1', 'must not be a loopback host outside development'],
    ['https://2130706433', 'must not be a loopback host outside development'],
    [
      'https://[::ffff:127.0.0.1]',
      'must not be a loopback host outside development',
    ],
    [
      'https://emulator.localhost',
      'must not be a loopback host outside development',
    ],
    ['https://localhost.', 'must not be a loopback host outside development'],
    ['https://0.0.0.0:7443', 'must not be a loopback host outside development'],
    // Other spellings of this machine, which URL keeps as IPv6.
    ['https://[::ffff:0:0]', 'must not be a loopback host outside development'],
    [
      'https://[::ffff:127.0.0.1]',
      'must not be a loopback host outside development',
    ],
    ['https://[::]:7443', 'must not be a loopback host outside development'],
    ['https://127.1', 'must not be a loopback host outside development'],
    ['https://0x7f.1', 'must not be a loopback host outside development'],
    ['localhost:7443', 'must not be a loopback host outside development'],
  ])('refuses the team domain %s outside development', (teamDomain, rule) => {
    expect(() => read({ teamDomain, audience: 'a' })).toThrow(
      `auth.providers.cfaccess.teamDomain ${rule}, got ${
        new URL(
          teamDomain.includes('://') ? teamDomain : `https://${teamDomain}`,
        ).origin
      } (auth.environment is unknown: the authenticator was created without rootConfig): whatever answers there would be trusted as Cloudflare Access.`,
    );
  });

  it('names the opt-in for a production test on this machine', () => {
    expect(() =>
      read({ teamDomain: 'https://localhost:7443', audience: 'a' }),
    ).toThrow(
      /a test that runs production mode on this machine sets auth.providers.cfaccess.dangerouslyAllowLoopbackTeamDomain: true$/,
    );
  });

  it('accepts a loopback team domain outside development only over https and with dangerouslyAllowLoopbackTeamDomain', () => {
    const withOptIn = (teamDomain: string, allow: boolean) =>
      read({
        teamDomain,
        audience: 'a',
        dangerouslyAllowLoopbackTeamDomain: allow,
      });
    expect(withOptIn('https://localhost:7443', true).issuer).toBe(
      'https://localhost:7443',
    );
    expect(() => withOptIn('https://localhost:7443', false)).toThrow(
      /must not be a loopback host outside development/,
    );
    // The opt-in is for a loopback host, never for http.
    expect(() => withOptIn('http://127.0.0.1:7000', true)).toThrow(
      /must be https outside development, got http:\/\/127.0.0.1:7000/,
    );
  });

  it('records whether the loopback opt-in let the team domain through', () => {
    const optIn = { audience: 'a', dangerouslyAllowLoopbackTeamDomain: true };
    expect(
      read({ ...optIn, teamDomain: 'https://localhost:7443' })
        .loopbackOptInInEffect,
    ).toBe(true);
    // In development a loopback team domain needs no opt-in; elsewhere the opt-in is idle.
    expect(
      readInDevelopment({ ...optIn, teamDomain: 'https://localhost:7443' })
        .loopbackOptInInEffect,
    ).toBe(false);
    expect(
      read({ ...optIn, teamDomain: 'https://myteam.cloudflareaccess.com' })
        .loopbackOptInInEffect,
    ).toBe(false);
    expect(
      read({ teamDomain: 'https://myteam.cloudflareaccess.com', audience: 'a' })
        .loopbackOptInInEffect,
    ).toBe(false);
  });

  it.each([
    [
      'https://user:s3cret@my team.cloudflareaccess.com',
      'https://***@my team.cloudflareaccess.com',
    ],
    [
      'user:s3cret@my team.cloudflareaccess.com',
      '***@my team.cloudflareaccess.com',
    ],
  ])(
    'does not echo the credentials of a team domain that is not a URL: %s',
    (teamDomain, shown) => {
      const error = (() => {
        try {
          return read({ teamDomain, audience: 'a' });
        } catch (e) {
          return e as Error;
        }
      })() as Error;
      expect(error.message).toBe(
        `auth.providers.cfaccess.teamDomain must be a team domain such as https://myteam.cloudflareaccess.com, got ${JSON.stringify(
          shown,
        )}`,
      );
      expect(error.message).not.toContain('s3cret');
    },
  );

  it('does not echo credentials put in teamName', () => {
    expect(() =>
      read({ teamName: 'https://user:s3cret@myteam', audience: 'a' }),
    ).toThrow(
      'auth.providers.cfaccess.teamName must be the team name only (letters, digits, dashes), as in <teamName>.cloudflareaccess.com, got "https://***@myteam"',
    );
  });

  it('never accepts http for a host that is not loopback, not even with the opt-in', () => {
    expect(() =>
      readInDevelopment({
        teamDomain: 'http://myteam.cloudflareaccess.com',
        audience: 'a',
        dangerouslyAllowLoopbackTeamDomain: true,
      }),
    ).toThrow(
      'auth.providers.cfaccess.teamDomain must be https unless the host is loopback, got http://myteam.cloudflareaccess.com',
    );
  });

  it('refuses a non-boolean dangerouslyAllowLoopbackTeamDomain', () => {
    expect(() =>
      read({
        teamName: 't',
        audience: 'a',
        dangerouslyAllowLoopbackTeamDomain: 'yes',
      }),
    ).toThrow(
      'auth.providers.cfaccess.dangerouslyAllowLoopbackTeamDomain must be true or false, got "yes"',
    );
  });

  it.each([
    'http://myteam.cloudflareaccess.com',
    'http://localhost.evil.com',
    'http://127.0.0.1.nip.io',
    'http://10.0.0.1',
  ])('requires https for the non-loopback host %s', teamDomain => {
    expect(() => readInDevelopment({ teamDomain, audience: 'a' })).toThrow(
      `auth.providers.cfaccess.teamDomain must be https unless the host is loopback, got ${
        new URL(teamDomain).origin
      }`,
    );
  });

  it.each([
    [
      { audience: 'a' },
      /auth.providers.cfaccess.teamDomain or auth.providers.cfaccess.teamName is required: the Zero Trust team domain/,
    ],
    [
      {
        teamName: 't',
        teamDomain: 'https://t.cloudflareaccess.com',
        audience: 'a',
      },
      /auth.providers.cfaccess.teamName and auth.providers.cfaccess.teamDomain are mutually exclusive/,
    ],
    [
      { teamName: 'evil.com/x', audience: 'a' },
      /auth.providers.cfaccess.teamName must be the team name only/,
    ],
    [
      { teamDomain: 'my team.cloudflareaccess.com', audience: 'a' },
      /auth.providers.cfaccess.teamDomain must be a team domain such as https:\/\/myteam.cloudflareaccess.com, got "my team.cloudflareaccess.com"/,
    ],
    [
      { teamDomain: 'ftp://myteam.example', audience: 'a' },
      /auth.providers.cfaccess.teamDomain must be an https origin/,
    ],
    [
      { teamDomain: 'https://u:p@myteam.example', audience: 'a' },
      /auth.providers.cfaccess.teamDomain must not contain credentials/,
    ],
    [{ teamName: 't' }, /auth.providers.cfaccess.audience is required/],
    [
      { teamName: 't', audience: [] },
      /auth.providers.cfaccess.audience must list at least one/,
    ],
    [
      { teamName: 't', audience: [''] },
      /auth.providers.cfaccess.audience must be a non-empty AUD tag/,
    ],
    [
      { teamName: 't', audience: 'a', serviceTokens: [{ subject: 'x' }] },
      /auth.providers.cfaccess.serviceTokens\[0\].token must be the service token Client ID/,
    ],
    [
      { teamName: 't', audience: 'a', serviceTokens: [{ token: 'x.access' }] },
      /auth.providers.cfaccess.serviceTokens\[0\].subject must be/,
    ],
    [
      {
        teamName: 't',
        audience: 'a',
        serviceTokens: [
          { token: 'x', subject: 'a@b.c' },
          { token: 'x', subject: 'd@e.f' },
        ],
      },
      /auth.providers.cfaccess.serviceTokens\[1\].token is listed more than once/,
    ],
    [
      {
        teamName: 't',
        audience: 'a',
        serviceTokens: [{ token: 'x.access', subject: 'component:default/ci' }],
      },
      /auth.providers.cfaccess.serviceTokens\[0\].subject must be an email or a User entity ref such as user:default\/ci-bot, got "component:default\/ci"/,
    ],
    [
      { teamName: 't', audience: 'a', jwtHeaderName: 'bad header' },
      /auth.providers.cfaccess.jwtHeaderName is not a valid header name/,
    ],
    [
      { teamName: 't', audience: 'a', authorizationCookieName: 'a=b' },
      /auth.providers.cfaccess.authorizationCookieName is not a valid cookie name/,
    ],
    [
      { teamName: 't', audience: 'a', clockToleranceSeconds: 301 },
      /auth.providers.cfaccess.clockToleranceSeconds must be between 0 and 300, got 301/,
    ],
    [
      { teamName: 't', audience: 'a', clockToleranceSeconds: 'soon' },
      /auth.providers.cfaccess.clockToleranceSeconds must be a number/,
    ],
    [
      { teamName: 't', audience: 'a', maxTokenBytes: 100 },
      /auth.providers.cfaccess.maxTokenBytes must be between 1024 and 65536/,
    ],
    [
      { teamName: 't', audience: 'a', jwks: { cacheMaxAgeSeconds: 10 } },
      /auth.providers.cfaccess.jwks.cacheMaxAgeSeconds must be between 60 and 86400/,
    ],
    [
      { teamName: 't', audience: 'a', jwks: { cooldownSeconds: 0 } },
      /auth.providers.cfaccess.jwks.cooldownSeconds must be between 1 and 3600/,
    ],
    [
      { teamName: 't', audience: 'a', jwks: { timeoutMs: 10 } },
      /auth.providers.cfaccess.jwks.timeoutMs must be between 100 and 60000/,
    ],
    [
      { teamName: 't', audience: 'a', jwks: { staleMaxAgeSeconds: -1 } },
      /auth.providers.cfaccess.jwks.staleMaxAgeSeconds must be between 0 and 604800/,
    ],
    [
      { teamName: 't', audience: 'a', identity: { timeoutMs: 99999 } },
      /auth.providers.cfaccess.identity.timeoutMs must be between 100 and 60000/,
    ],
    [
      { teamName: 't', audience: 'a', identity: { cacheTtlSeconds: 7200 } },
      /auth.providers.cfaccess.identity.cacheTtlSeconds must be between 0 and 3600/,
    ],
    [
      { teamName: 't', audience: 'a', identity: { enabled: 'yes' } },
      /auth.providers.cfaccess.identity.enabled must be true or false/,
    ],
    [
      { teamName: 't', audience: 'a', verifiedTokenCache: { maxEntries: -1 } },
      /auth.providers.cfaccess.verifiedTokenCache.maxEntries must be between 0 and 1000000, got -1/,
    ],
    [
      {
        teamName: 't',
        audience: 'a',
        verifiedTokenCache: { maxEntries: 10.5 },
      },
      /auth.providers.cfaccess.verifiedTokenCache.maxEntries must be a whole number, got 10.5/,
    ],
  ])('rejects invalid config %j naming the key', (data, message) => {
    expect(() => read(data)).toThrow(message);
  });

  it('uses the provider id in messages', () => {
    expect(() =>
      readCfAccessConfig(new ConfigReader({ teamName: 't' }), {
        providerId: 'cloudflare',
      }),
    ).toThrow(/auth.providers.cloudflare.audience is required/);
  });

  it('reads audiences, service tokens, names and bounded settings', () => {
    const config = read({
      teamName: 't',
      audience: ['a1', 'a2', 'a1'],
      serviceTokens: [{ token: 'x.access', subject: 'user:default/ci-bot' }],
      jwtHeaderName: 'X-Custom-JWT',
      authorizationCookieName: 'MyCookie',
      clockToleranceSeconds: 0,
      jwks: { cacheMaxAgeSeconds: 60, cooldownSeconds: 5, maxBodyBytes: 16384 },
      identity: { enabled: false, cacheTtlSeconds: 0, maxBodyBytes: '65536' },
      verifiedTokenCache: { maxEntries: '0' },
    });
    expect(config.verifiedTokenCache.maxEntries).toBe(0);
    expect(config.audiences).toEqual(['a1', 'a2']);
    expect(config.serviceTokens.get('x.access')).toEqual({
      subject: 'user:default/ci-bot',
      entityRef: 'user:default/ci-bot',
    });
    expect(config.jwtHeaderName).toBe('x-custom-jwt');
    expect(config.authorizationCookieName).toBe('MyCookie');
    expect(config.clockToleranceSeconds).toBe(0);
    expect(config.jwks.cacheMaxAgeMs).toBe(60_000);
    expect(config.jwks.cooldownMs).toBe(5000);
    expect(config.jwks.maxBodyBytes).toBe(16384);
    expect(config.identity).toEqual({
      enabled: false,
      timeoutMs: 3000,
      cacheTtlMs: 0,
      maxBodyBytes: 65536,
    });
  });

  // isLoopbackHost and namesThisMachine: the table in hostNames.test.ts.

  it('marks missing required values, the case an unset environment variable causes', () => {
    const thrown = (data: Record<string, any>) => {
      try {
        read(data);
      } catch (error) {
        return error as CfAccessConfigError;
      }
      throw new Error('did not throw');
    };
    expect(thrown({ audience: 'a' })).toMatchObject({
      keys: ['teamDomain', 'teamName'],
      missing: true,
    });
    expect(thrown({ teamDomain: ' ', audience: 'a' })).toMatchObject({
      keys: ['teamDomain'],
      missing: true,
    });
    expect(thrown({ teamName: 't' })).toMatchObject({
      keys: ['audience'],
      missing: true,
    });
    expect(thrown({ teamName: 't', audience: [''] })).toMatchObject({
      keys: ['audience'],
      missing: true,
    });
    expect(thrown({ teamName: 'a/b', audience: 'a' })).toMatchObject({
      keys: ['teamName'],
      missing: false,
    });
  });
});

describe('readDeploymentMode', () => {
  const mode = (auth: object | undefined, nodeEnv?: string) =>
    readDeploymentMode(new ConfigReader(auth ? { auth } : {}), nodeEnv);

  it('is development only with auth.environment: development, set explicitly', () => {
    expect(mode({ environment: 'development' }, 'development')).toEqual({
      development: true,
      reason: 'auth.environment is development',
    });
    expect(mode({ environment: 'development' }, undefined).development).toBe(
      true,
    );
  });

  it('is production when auth.environment is unset, although Backstage defaults it to development', () => {
    expect(mode(undefined, 'development')).toEqual({
      development: false,
      reason: 'auth.environment is not set',
    });
  });

  it('is production for any other auth.environment', () => {
    expect(mode({ environment: 'staging' }, 'development')).toEqual({
      development: false,
      reason: 'auth.environment is "staging"',
    });
  });

  it('is production when NODE_ENV is production, whatever auth.environment says', () => {
    expect(mode({ environment: 'development' }, 'production')).toEqual({
      development: false,
      reason: 'auth.environment is development but NODE_ENV is production',
    });
  });

  it('is production without the root config', () => {
    expect(readDeploymentMode(undefined, 'development').development).toBe(
      false,
    );
  });

  it('puts the reason in the error', () => {
    expect(() =>
      readCfAccessConfig(
        new ConfigReader({
          teamDomain: 'http://localhost:7000',
          audience: 'a',
        }),
        { mode: mode(undefined, 'development') },
      ),
    ).toThrow(
      'auth.providers.cfaccess.teamDomain must be https outside development, got http://localhost:7000 (auth.environment is not set)',
    );
  });
});
