import { extractToken, readCookie } from './extractToken';

describe('readCookie', () => {
  it('parses the Cookie header', () => {
    expect(
      readCookie('a=1; CF_Authorization=x.y.z; b=2', 'CF_Authorization'),
    ).toBe('x.y.z');
    // Access never quotes the cookie; a quoted value is passed on as is and
    // then fails verification as malformed.
    expect(readCookie('CF_Authorization="q.r.s"', 'CF_Authorization')).toBe(
      '"q.r.s"',
    );
    expect(
      readCookie('XCF_Authorization=1', 'CF_Authorization'),
    ).toBeUndefined();
    expect(readCookie(undefined, 'CF_Authorization')).toBeUndefined();
    expect(readCookie('a=%E0%A4%A', 'a')).toBe('%E0%A4%A');
  });
});

describe('extractToken', () => {
  const config = {
    jwtHeaderName: 'cf-access-jwt-assertion',
    authorizationCookieName: 'CF_Authorization',
  };

  it('takes the header first, and the cookie only when the header is missing or blank', () => {
    const cookie = 'CF_Authorization=from.the.cookie';
    expect(
      extractToken(
        { headers: { 'cf-access-jwt-assertion': 'from.the.header', cookie } },
        config,
      ),
    ).toBe('from.the.header');
    expect(
      extractToken(
        { headers: { 'cf-access-jwt-assertion': '  ', cookie } },
        config,
      ),
    ).toBe('from.the.cookie');
    expect(extractToken({ headers: { cookie } }, config)).toBe(
      'from.the.cookie',
    );
    expect(extractToken({ headers: {} }, config)).toBeUndefined();
  });

  it('returns a header as sent, untrimmed, so the verifier refuses it', () => {
    expect(
      extractToken(
        { headers: { 'cf-access-jwt-assertion': ' a.b.c ' } },
        config,
      ),
    ).toBe(' a.b.c ');
  });
});
