/*
 * A team domain as it may be shown: a config value, or a message that echoes
 * one. `https://user:pass@team.example.com` is a mistake the reader refuses,
 * and its credentials must not reach a log or a terminal on the way.
 */

// A team domain is an origin, with no `@` of its own: everything between the
// scheme and the last `@` is hidden, wherever the URL parser would end the
// authority. A value it cannot parse at all (`https://u:p/x@host`) is echoed
// in the startup error, so a password with `/`, `?` or `#` must go too.
// Without `scheme:/` the value starts with the authority, as the reader then
// prepends https://; `https:u:p@host` hides `https:u:p`.
const USERINFO = /^(\s*[a-z][a-z0-9+.-]*:[\\/]+)?.*@/is;

/** The text with a URL's userinfo replaced by `***`: `https://***@team.example.com`. */
export function redactUserinfo(text: string): string {
  return text.replace(USERINFO, (_match, scheme = '') => `${scheme}***@`);
}

// A URL with userinfo anywhere in a text: the scheme, then up to the last `@`
// before whitespace.
const USERINFO_IN_TEXT = /([a-z][a-z0-9+.-]*:\/\/)[^\s@]*@/gi;

/**
 * A message that may quote a config line (a YAML syntax error does) with
 * every URL's userinfo replaced by `***`.
 */
export function redactUserinfoInText(text: string): string {
  return text.replace(USERINFO_IN_TEXT, '$1***@');
}
