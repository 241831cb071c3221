import { NotAllowedError } from '@backstage/errors';

// A DNS hostname in ASCII: letters, digits and inner dashes per label, at
// least two labels. Internationalised domains are written in punycode
// (xn--…), which this pattern admits; Unicode is refused, because Unicode
// case folding and look-alike letters (the Kelvin sign lower-cases to "k",
// Cyrillic "а" looks like Latin "a") would make two different domains compare
// equal or look equal.
// No `i` flag: spelt-out ASCII ranges cannot match a Unicode letter by case folding.
const LABEL = '[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?';
const HOSTNAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})+$`);

// Only ASCII letters change; anything else was refused before this runs.
const asciiLowerCase = (text: string) =>
  text.replace(/[A-Z]/g, c => c.toLowerCase());

/**
 * Validates the `allowedDomains` entries of a resolver, returning them
 * lower-cased; throws naming the first bad entry (`allowedDomains[1]`).
 */
export function readAllowedDomains(domains: readonly string[]): string[] {
  return domains.map((domain, index) => {
    const where = `allowedDomains[${index}]`;
    if (domain.includes('@')) {
      throw new Error(
        `${where} must be a domain such as example.com, without "@", got ${JSON.stringify(
          domain,
        )}`,
      );
    }
    if (!HOSTNAME.test(domain)) {
      throw new Error(
        `${where} must be a plain ASCII domain such as example.com (an internationalised domain in its xn-- form), got ${JSON.stringify(
          domain,
        )}`,
      );
    }
    return asciiLowerCase(domain);
  });
}

/** An email split at its one "@", both parts as written. */
export type EmailParts = { localPart: string; domain: string };

// The local part as RFC 5322's dot-atom: ASCII letters, digits and
// !#$%&'*+/=?^_`{|}~- in dot-separated runs. Anything else could match
// another address in the catalog: Unicode because the catalog lower-cases what
// it compares (the Kelvin sign becomes "k") and collations fold further (the
// long s "ſ" upper-cases to "S", NFKC turns fullwidth "ｋ" into "k"); a comma
// because the catalog's filter syntax joins conditions with commas and has no
// escaping, so `x,spec.profile.email=victim@…` would ask for either address.
const DOT_ATOM =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
// The domain: one or more DNS labels in ASCII (see HOSTNAME for why ASCII).
const DOMAIN = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`);

/**
 * The one rule for what an email is: exactly one "@", a dot-atom local part
 * and an ASCII domain name, as plain mailboxes are written. Anything else
 * (quoted local parts, address literals, Unicode) is undefined.
 */
export function splitEmail(email: string): EmailParts | undefined {
  const at = email.indexOf('@');
  if (at <= 0 || at !== email.lastIndexOf('@')) {
    return undefined;
  }
  const localPart = email.slice(0, at);
  const domain = email.slice(at + 1);
  return DOT_ATOM.test(localPart) && DOMAIN.test(domain)
    ? { localPart, domain }
    : undefined;
}

/**
 * The email a built-in resolver signs in with, split ({@link splitEmail});
 * anything else is a 403 that says why, thrown before any catalog query.
 */
export function signInEmailParts(email: string): EmailParts {
  const parts = splitEmail(email);
  if (parts) {
    return parts;
  }
  throw new NotAllowedError(
    /[\u0080-\uffff]/.test(email)
      ? "Sign-in user email has non-ASCII characters, which the catalog could fold into another person's address"
      : 'Sign-in user email is not a valid address',
  );
}

/**
 * The domain of an email, lower-cased, when the email is one
 * ({@link splitEmail}) and its domain an ASCII hostname; otherwise undefined
 * (such an email matches no allowed domain).
 */
export function emailDomain(email: string): string | undefined {
  const domain = splitEmail(email)?.domain;
  return domain !== undefined && HOSTNAME.test(domain)
    ? asciiLowerCase(domain)
    : undefined;
}

/**
 * The one rule for "the same email": two emails ({@link splitEmail}) equal
 * but for the case of ASCII letters, as the catalog compares them. Never
 * true when either is not an email, so no Unicode folding can make two
 * addresses one.
 */
export function sameEmailAddress(a: string, b: string): boolean {
  return (
    splitEmail(a) !== undefined &&
    splitEmail(b) !== undefined &&
    asciiLowerCase(a) === asciiLowerCase(b)
  );
}
