/*
 * A team domain as it may be shown: a config value, or a message that echoes
 * one. `https://user:pass@team.example.com` is a mistake the reader refuses,
 * and its credentials must not reach a log or a terminal on the way.
 */

// The userinfo is what precedes the last `@` of the authority, which ends at
// the first `/`, `?` or `#` after the scheme. Without `scheme:/` the authority
// starts at the beginning, as the reader then prepends https://. When in
// doubt more is hidden, never less: `https:u:p@host` hides `https:u:p`.
const USERINFO = /^(\s*[a-z][a-z0-9+.-]*:[\\/]+)?[^/?#]*@/i;

/** The text with a URL's userinfo replaced by `***`: `https://***@team.example.com`. */
export function redactUserinfo(text: string): string {
  return text.replace(USERINFO, (_match, scheme = '') => `${scheme}***@`);
}
