import { isLoopbackAddress } from './hosts';
import { type DurationInput, durationSeconds } from './duration';
import { findServiceToken, safeEqual } from './edge';
import { validateFaults } from './faults';
import { escapeHtml, renderLoginPage } from './loginPage';
import { isBackendPath } from './proxy';
import { safeRedirectPath } from './redirects';
import { subjectForEmail } from './tokens';
import { createProgram } from './cli';

describe('durationSeconds', () => {
  it.each([
    ['24h', 86400],
    ['30m', 1800],
    ['90s', 90],
    ['7d', 604800],
    ['1w', 604800],
    ['30 minutes', 1800],
    ['PT24H', 86400],
    ['P1DT30M', 88200],
    [{ hours: 24 }, 86400],
    [{ days: 1, minutes: 30 }, 88200],
    ['3600', 3600],
    [120, 120],
  ])('parses %p', (input, seconds) => {
    expect(durationSeconds(input, 'sessionDuration')).toBe(seconds);
  });
  it.each([
    ['', /invalid duration ""/],
    ['0', /must be at least one second/],
    [0, /must be at least one second/],
    [-5, /must be at least one second/],
    ['500ms', /must be at least one second/],
    ['-5m', /Negative durations are not allowed/],
    ['soon', /Not a valid duration string/],
    ['5 fortnights', /Not a valid duration string/],
    ['P1X', /invalid duration "P1X"/],
    [{ fortnights: 2 }, /Needs one or more of 'years'/],
    [{ hours: 1, fortnights: 2 }, /Unknown property 'fortnights'/],
    [{}, /Needs one or more of/],
  ])('rejects %p, naming the field', (input, reason) => {
    const parse = () =>
      durationSeconds(input as DurationInput, 'sessionDuration');
    expect(parse).toThrow(/^sessionDuration: invalid duration/);
    expect(parse).toThrow(reason);
  });
});

describe('--session-duration', () => {
  const parse = (value: string) =>
    createProgram()
      .exitOverride()
      .configureOutput({ writeErr: () => {} })
      .parse(['--session-duration', value], { from: 'user' })
      .opts().sessionDuration;

  it('takes what Backstage config takes and refuses an unknown unit, naming the flag', () => {
    expect(parse('PT30M')).toBe('PT30M');
    expect(parse('1 day')).toBe('1 day');
    expect(() => parse('5 fortnights')).toThrow(
      /--session-duration: invalid duration "5 fortnights"/,
    );
  });
});

describe('safeRedirectPath', () => {
  const origins = ['http://localhost:7000', 'http://127.0.0.1:7000'];
  it('keeps same-origin paths', () => {
    expect(safeRedirectPath('/a/b?c=d#e', origins)).toBe('/a/b?c=d#e');
    expect(safeRedirectPath('http://127.0.0.1:7000/x', origins)).toBe('/x');
  });
  it.each([
    'https://localhost:7000/x',
    'http://localhost:7001/x',
    '//localhost.evil/x',
    '/\\evil',
    '/x\r\nSet-Cookie: a=b',
    'data:text/html,hi',
    '/cdn-cgi/access/logout',
    '/CDN-CGI/access/logout',
    'http://localhost:7000/CDN-CGI/ACCESS/LOGOUT',
    '/cdn-CGI/access/oauth/token',
    '/CDN-CGI',
    undefined,
    42,
  ])('falls back to / for %p', raw => {
    expect(safeRedirectPath(raw, origins)).toBe('/');
  });
});

describe('isBackendPath', () => {
  const prefixes = ['/api/', '/.backstage/'];
  it.each([
    ['/api/catalog', true],
    ['/api', true],
    ['/api?x=1', true],
    ['/.backstage/health', true],
    ['/apis', false],
    ['/catalog/api/x', false],
    ['/', false],
  ])('%p -> %p', (url, expected) => {
    expect(isBackendPath(url, prefixes)).toBe(expected);
  });
});

describe('service token matching', () => {
  const tokens = [
    { clientId: 'a.access', clientSecret: 'secret-a' },
    { clientId: 'b.access', clientSecret: 'secret-b' },
  ];
  it('matches only the exact pair', () => {
    expect(findServiceToken(tokens, 'b.access', 'secret-b')).toBe(tokens[1]);
    expect(findServiceToken(tokens, 'a.access', 'secret-b')).toBeUndefined();
    expect(findServiceToken(tokens, 'a.access', 'secret-a ')).toBeUndefined();
    expect(findServiceToken(tokens, '', '')).toBeUndefined();
  });
  it('compares strings of different lengths', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abcd')).toBe(false);
  });
});

describe('misc', () => {
  it('derives a stable UUID-shaped sub, case-insensitively', () => {
    const sub = subjectForEmail('Alice@Example.com');
    expect(sub).toBe(subjectForEmail('alice@example.com'));
    expect(sub).not.toBe(subjectForEmail('bob@example.com'));
    expect(sub).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('recognises loopback callers only', () => {
    expect(isLoopbackAddress('127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('::1')).toBe(true);
    expect(isLoopbackAddress('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('10.0.0.1')).toBe(false);
    expect(isLoopbackAddress('::ffff:192.168.1.2')).toBe(false);
    expect(isLoopbackAddress(undefined)).toBe(false);
  });

  it('validates faults', () => {
    expect(validateFaults({ latencyMs: 5, certsStatus: 500 })).toEqual({
      latencyMs: 5,
      certsStatus: 500,
    });
    expect(() => validateFaults({ certsStatus: 99 })).toThrow(/certsStatus/);
    expect(() => validateFaults({ latencyMs: -1 })).toThrow(/latencyMs/);
    expect(() => validateFaults({ latencyMs: 1.5 })).toThrow(/integer/);
    expect(() => validateFaults([])).toThrow(/object/);
  });

  it('escapes HTML', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\``)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;',
    );
    const html = renderLoginPage({
      users: [],
      redirectUrl: '/"><script>',
      error: '<b>oops</b>',
    });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>oops</b>');
    expect(html).not.toMatch(/<script|<link|src=/);
  });

  it('parses CLI flags with their defaults', () => {
    const defaults = createProgram().parse([], { from: 'user' }).opts();
    expect(defaults).toMatchObject({
      port: 7000,
      host: '127.0.0.1',
      frontendUrl: 'http://localhost:3000',
      backendUrl: 'http://localhost:7007',
      sessionDuration: '24h',
      stateDir: '.cfaccess-emulator',
      country: 'XX',
    });
    const opts = createProgram()
      .parse(
        ['--port', '0', '--aud', 'a,b', '--aud', 'c', '--certs-status', '503'],
        { from: 'user' },
      )
      .opts();
    expect(opts.port).toBe(0);
    expect(opts.aud).toEqual(['a', 'b', 'c']);
    expect(opts.certsStatus).toBe(503);
  });
});
