import { bannerLines } from '../cli/banner';
import { managedOAuthFromCli } from '../cli/oauth';
import { createProgram } from '../cli';
import { type AccessEmulator, startAccessEmulator } from '../server';
import { checkRedirectUri } from './redirectUris';
import { resolveManagedOAuth } from './settings';

describe('Managed OAuth settings', () => {
  it('is off unless asked for, with defaults when on', () => {
    expect(resolveManagedOAuth(undefined)).toBeUndefined();
    expect(resolveManagedOAuth(false)).toBeUndefined();
    expect(resolveManagedOAuth({ enabled: false })).toBeUndefined();
    const defaults = {
      allowAnyOnLocalhost: true,
      allowAnyOnLoopback: true,
      allowedRedirectUris: [],
      accessTokenLifetimeSeconds: 900,
      grantSessionDurationSeconds: 86400,
    };
    expect(resolveManagedOAuth(true)).toEqual(defaults);
    expect(resolveManagedOAuth({})).toEqual(defaults);
    expect(resolveManagedOAuth({ enabled: true })).toEqual(defaults);
    expect(
      resolveManagedOAuth({
        accessTokenLifetime: '5m',
        grantSessionDuration: { days: 14 },
        allowAnyOnLocalhost: false,
        allowedRedirectUris: ['https://playground.example/*'],
      }),
    ).toEqual({
      ...defaults,
      allowAnyOnLocalhost: false,
      allowedRedirectUris: [
        {
          kind: 'prefix',
          origin: 'https://playground.example',
          pathPrefix: '/',
        },
      ],
      accessTokenLifetimeSeconds: 300,
      grantSessionDurationSeconds: 14 * 86400,
    });
  });

  it('refuses bad values naming the option, even when disabled', () => {
    expect(() => resolveManagedOAuth({ accessTokenLifetime: 'soon' })).toThrow(
      /^managedOAuth\.accessTokenLifetime: invalid duration "soon"/,
    );
    expect(() => resolveManagedOAuth({ grantSessionDuration: 0 })).toThrow(
      'managedOAuth.grantSessionDuration: invalid duration 0: must be at least one second',
    );
    expect(() =>
      resolveManagedOAuth({ enabled: false, allowedRedirectUris: ['x/*'] }),
    ).toThrow('managedOAuth.allowedRedirectUris[0]: "x/*"');
    expect(() =>
      resolveManagedOAuth({
        allowedRedirectUris: 'https://a.example/cb' as any,
      }),
    ).toThrow('managedOAuth.allowedRedirectUris: expected a list');
  });

  it('matches redirect URIs by the switches and the list, nothing looser', () => {
    const rules = resolveManagedOAuth({
      allowAnyOnLocalhost: true,
      allowAnyOnLoopback: false,
      allowedRedirectUris: ['https://a.example/cb/*'],
    })!;
    const allowed = (uri: string) => checkRedirectUri(uri, rules).ok;
    expect(allowed('http://localhost:1/x')).toBe(true);
    expect(allowed('http://127.0.0.1:1/x')).toBe(false);
    expect(allowed('https://a.example/cb/')).toBe(true);
    expect(allowed('https://a.example/cb/deeper/still')).toBe(true);
    expect(allowed('https://a.example/cb')).toBe(false);
    expect(allowed('https://a.example/cbx')).toBe(false);
    // Dot segments are resolved before matching, as the browser will.
    expect(allowed('https://a.example/cb/../evil')).toBe(false);
    expect(allowed('https://a.example/cb/%2e%2e/evil')).toBe(false);
    expect(checkRedirectUri(42, rules)).toEqual({
      ok: false,
      error: 'invalid_redirect_uri',
      why: 'redirect_uri must be a string',
    });
  });
});

describe('Managed OAuth on the command line', () => {
  const parse = (args: string[]) => {
    const program = createProgram().parse(args, { from: 'user' });
    return managedOAuthFromCli(program.opts(), name =>
      program.getOptionValueSource(name),
    );
  };

  it('is off without --managed-oauth', () => {
    expect(parse([])).toBeUndefined();
  });

  it('parses --managed-oauth and its settings', () => {
    expect(parse(['--managed-oauth'])).toEqual({
      allowAnyOnLocalhost: true,
      allowAnyOnLoopback: true,
      allowedRedirectUris: [],
    });
    expect(
      parse([
        '--managed-oauth',
        '--oauth-redirect-uri',
        'https://a.example/cb,cursor://x/cb',
        '--oauth-redirect-uri',
        'https://b.example/*',
        '--oauth-access-token-lifetime',
        '5m',
        '--oauth-grant-session-duration',
        '14d',
        '--no-oauth-localhost',
        '--no-oauth-loopback',
      ]),
    ).toEqual({
      allowAnyOnLocalhost: false,
      allowAnyOnLoopback: false,
      allowedRedirectUris: [
        'https://a.example/cb',
        'cursor://x/cb',
        'https://b.example/*',
      ],
      accessTokenLifetime: '5m',
      grantSessionDuration: '14d',
    });
  });

  it('refuses an --oauth-* flag without --managed-oauth, and a bad duration', () => {
    expect(() => parse(['--no-oauth-localhost'])).toThrow(
      '--oauth-* flags need --managed-oauth (got --no-oauth-localhost)',
    );
    expect(() =>
      parse(['--oauth-redirect-uri', 'https://a.example/cb']),
    ).toThrow(
      '--oauth-* flags need --managed-oauth (got --oauth-redirect-uri)',
    );
    const program = createProgram().exitOverride();
    program.configureOutput({ writeErr: () => {} });
    expect(() =>
      program.parse(['--oauth-access-token-lifetime', 'soon'], {
        from: 'user',
      }),
    ).toThrow(/--oauth-access-token-lifetime: invalid duration "soon"/);
  });

  describe('the banner', () => {
    let emulator: AccessEmulator;

    afterEach(() => emulator?.close());

    it('names the authorization server metadata URL when Managed OAuth is on', async () => {
      emulator = await startAccessEmulator({ port: 0, managedOAuth: true });
      const lines = bannerLines(emulator, { managedOAuth: true });
      expect(lines).toContain(
        `  Managed OAuth: ${emulator.url}/.well-known/oauth-authorization-server`,
      );
    });

    it('says nothing of it when off', async () => {
      emulator = await startAccessEmulator({ port: 0 });
      const lines = bannerLines(emulator, {});
      expect(lines.join('\n')).not.toContain('Managed OAuth');
    });
  });
});
