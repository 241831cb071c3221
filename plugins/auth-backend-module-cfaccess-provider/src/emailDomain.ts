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

/**
 * The domain of an email, lower-cased, when the email has exactly one `@`,
 * something before it and an ASCII hostname after it; otherwise undefined
 * (such an email matches no allowed domain).
 */
export function emailDomain(email: string): string | undefined {
  const at = email.indexOf('@');
  if (at <= 0 || at !== email.lastIndexOf('@')) {
    return undefined;
  }
  const domain = email.slice(at + 1);
  return HOSTNAME.test(domain) ? asciiLowerCase(domain) : undefined;
}
