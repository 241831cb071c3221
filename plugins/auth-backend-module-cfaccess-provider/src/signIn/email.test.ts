import { emailDomain, sameEmailAddress, splitEmail } from './email';

describe('splitEmail', () => {
  it('splits at the one "@", keeping both parts as written', () => {
    expect(splitEmail('Jane.Doe+ci@Example.com')).toEqual({
      localPart: 'Jane.Doe+ci',
      domain: 'Example.com',
    });
  });

  it.each([
    ['no "@"', 'example.com'],
    ['two "@"', 'alice@evil.com@example.com'],
    ['no local part', '@example.com'],
    ['no domain', 'alice@'],
    ['a space', 'alice smith@example.com'],
    ['a tab', 'alice@example.com\t'],
    ['a newline', 'alice@example.com\nbob@example.com'],
    ['the Kelvin sign', '\u212Aate@example.com'],
    ['the long s', '\u017Fteve@example.com'],
    ['a fullwidth letter', '\uFF4Bate@example.com'],
    ['the fi ligature', '\uFB01ona@example.com'],
    ['a non-ASCII domain', 'kate@\u212Axample.com'],
    ['a zero-width space', 'kate\u200b@example.com'],
    ['nothing', ''],
    ['a comma', 'x,spec.profile.email=kate@example.com'],
    ['a quoted local part', '"kate"@example.com'],
    ['two dots in a row', 'ka..te@example.com'],
    ['a trailing dot', 'kate.@example.com'],
    ['an address literal', 'kate@[127.0.0.1]'],
    ['an empty domain label', 'kate@example..com'],
  ])('is undefined for %s (%j)', (_why, email) => {
    expect(splitEmail(email)).toBeUndefined();
  });
});

describe('emailDomain', () => {
  it('is the lower-cased ASCII hostname after the one "@"', () => {
    expect(emailDomain('Jane@Example.COM')).toBe('example.com');
    expect(emailDomain('jane@localhost')).toBeUndefined();
    expect(emailDomain('\u212Aate@example.com')).toBeUndefined();
  });
});

describe('sameEmailAddress', () => {
  it.each([
    ['jane@example.com', 'jane@example.com'],
    ['Jane@Example.COM', 'jane@example.com'],
    ['JANE+CI@EXAMPLE.COM', 'jane+ci@example.com'],
  ])('%j and %j are the same address', (a, b) => {
    expect(sameEmailAddress(a, b)).toBe(true);
    expect(sameEmailAddress(b, a)).toBe(true);
  });

  it.each([
    ['another person', 'jane@example.com', 'john@example.com'],
    ['another domain', 'jane@example.com', 'jane@example.org'],
    // toLowerCase would fold these into the ASCII address.
    ['the Kelvin sign', '\u212Aate@example.com', 'kate@example.com'],
    ['a Kelvin domain', 'kate@\u212Axample.com', 'kate@kxample.com'],
    ['the long s', '\u017Fteve@example.com', 'steve@example.com'],
    ['a fullwidth letter', '\uFF4Bate@example.com', 'kate@example.com'],
    [
      'the same non-ASCII text',
      '\u212Aate@example.com',
      '\u212Aate@example.com',
    ],
    ['a dotted capital I', '\u0130an@example.com', 'i\u0307an@example.com'],
    ['no address at all', '', ''],
    ['two "@"', 'a@b@example.com', 'a@b@example.com'],
  ])('%s is never the same address (%j, %j)', (_why, a, b) => {
    expect(sameEmailAddress(a, b)).toBe(false);
    expect(sameEmailAddress(b, a)).toBe(false);
  });
});
