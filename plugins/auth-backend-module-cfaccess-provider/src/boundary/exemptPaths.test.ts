import { ExemptPaths, isPublicKeyPath, parseExemptPath } from './exemptPaths';

const exempt = (...patterns: string[]) =>
  new ExemptPaths(patterns.map(parseExemptPath));

describe('parseExemptPath', () => {
  it('reads an exact path and a prefix ending in /*', () => {
    expect(parseExemptPath('/api/webhook')).toEqual({
      path: '/api/webhook',
      prefix: false,
    });
    expect(parseExemptPath('/api/events/http/*')).toEqual({
      path: '/api/events/http/',
      prefix: true,
    });
  });

  it.each(['api/webhook', '', '*', 'http://x/api', ' /api/webhook'])(
    'refuses %j: it does not start with /',
    pattern => {
      expect(() => parseExemptPath(pattern)).toThrow(
        `must start with /, got ${JSON.stringify(pattern)}`,
      );
    },
  );

  it.each([
    '/',
    '/*',
    '/api//webhook',
    '/api/webhook/',
    '/api/./webhook',
    '/api/../catalog',
    '/api/events/..',
    '/api/events/../*',
    '/api/%2e%2e/catalog',
    '/api/web%68ook',
    '/api/webhook?x=1',
    '/api/webhook#x',
    '/api/*/webhook',
    '/api/web*',
    '/api/events/**',
    '/api/events/*/x',
    '/api\\catalog',
    '/api/ webhook',
    '/api/événements',
  ])('refuses %j: not a plain path', pattern => {
    expect(() => parseExemptPath(pattern)).toThrow(
      `must be a plain path (no query, *, %, \\, empty, . or .. segments), optionally ending in /*, got ${JSON.stringify(
        pattern,
      )}`,
    );
  });
});

describe('ExemptPaths', () => {
  it('exempts nothing when empty', () => {
    const none = new ExemptPaths([]);
    expect(none.size).toBe(0);
    expect(none.matches('/api/webhook')).toBe(false);
    expect(none.matches('/')).toBe(false);
  });

  it('matches an exact path only as written', () => {
    const paths = exempt('/api/webhook');
    expect(paths.size).toBe(1);
    expect(paths.matches('/api/webhook')).toBe(true);
    expect(paths.matches('/api/webhook/')).toBe(false);
    expect(paths.matches('/api/webhook/x')).toBe(false);
    expect(paths.matches('/api/webhooks')).toBe(false);
    expect(paths.matches('/api/webhoo')).toBe(false);
    expect(paths.matches('/api')).toBe(false);
  });

  it('matches what is under a prefix, not the prefix itself or its siblings', () => {
    const paths = exempt('/api/events/http/*');
    expect(paths.matches('/api/events/http/github')).toBe(true);
    expect(paths.matches('/api/events/http/github/push')).toBe(true);
    expect(paths.matches('/api/events/http/')).toBe(false);
    expect(paths.matches('/api/events/http')).toBe(false);
    expect(paths.matches('/api/events/httpx/github')).toBe(false);
    expect(paths.matches('/api/events/github')).toBe(false);
  });

  it('matches any of several patterns', () => {
    const paths = exempt('/api/webhook', '/api/events/http/*');
    expect(paths.size).toBe(2);
    expect(paths.matches('/api/webhook')).toBe(true);
    expect(paths.matches('/api/events/http/a')).toBe(true);
    expect(paths.matches('/api/catalog/entities')).toBe(false);
  });

  it.each([
    // dot segments climbing out of the prefix, or staying in it
    '/api/events/http/../../catalog/entities',
    '/api/events/http/x/../../../catalog/entities',
    '/api/events/http/./github',
    '/api/events/http/..',
    '/api/events/http/.',
    // encoded spellings of the same
    '/api/events/http/%2e%2e/%2e%2e/catalog/entities',
    '/api/events/http/%2E%2E/catalog',
    '/api/events/http/x%2f..%2f..%2fcatalog',
    '/api/events/http/github%00',
    // empty segments
    '/api/events/http//github',
    '/api/events/http/github//push',
    '/api/events/http/github/',
    // backslashes, which some servers take for slashes
    '/api/events/http/..\\..\\catalog',
  ])('does not exempt %j, which is not plainly spelled', path => {
    expect(exempt('/api/events/http/*').matches(path)).toBe(false);
  });

  it('compares case-sensitively', () => {
    const paths = exempt('/api/events/http/*', '/api/webhook');
    expect(paths.matches('/API/events/http/github')).toBe(false);
    expect(paths.matches('/api/Events/http/github')).toBe(false);
    expect(paths.matches('/api/WEBHOOK')).toBe(false);
  });

  it('does not exempt a path without a leading slash', () => {
    expect(exempt('/api/webhook').matches('api/webhook')).toBe(false);
  });
});

describe('isPublicKeyPath', () => {
  it.each([
    '/api/catalog/.backstage/auth/v1/jwks.json',
    '/api/my-plugin_2/.backstage/auth/v1/jwks.json',
    '/api/auth/.well-known/jwks.json',
  ])('passes %j', path => {
    expect(isPublicKeyPath(path)).toBe(true);
  });

  it.each([
    '/api/catalog/.backstage/auth/v1/jwks.json/x',
    '/api/catalog/.backstage/auth/v1/jwks.jsonx',
    '/api/catalog/x/.backstage/auth/v1/jwks.json',
    '/api/catalog/entities',
    '/api/.backstage/auth/v1/jwks.json',
    '/api//.backstage/auth/v1/jwks.json',
    '/api/%2e%2e/.backstage/auth/v1/jwks.json',
    '/api/..%2fcatalog/.backstage/auth/v1/jwks.json',
    '/api/../catalog/.backstage/auth/v1/jwks.json',
    '/x/api/catalog/.backstage/auth/v1/jwks.json',
    '/api/catalog/.well-known/jwks.json',
    '/api/auth/.well-known/openid-configuration',
    '/api/auth/.well-known/jwks.json/',
    '/api/auth/v1/userinfo',
  ])('does not pass %j', path => {
    expect(isPublicKeyPath(path)).toBe(false);
  });
});
