/*
 * Which redirect URIs a client may register and be sent back to, as Access's "Allow localhost clients",
 * "Allow loopback clients" and "Allowed redirect URIs" settings decide. HTTP(S) entries may end in `/*`
 * for every sub-path; custom-scheme entries (native apps) match exactly, without wildcards, credentials
 * or fragments (Cloudflare's documented rules).
 */

/** An "Allowed redirect URIs" entry, checked at start. */
export type AllowedRedirectUri =
  | { kind: 'exact'; uri: string }
  /** `https://host/path/*`: this origin, and a path under `pathPrefix` (which ends in `/`). */
  | { kind: 'prefix'; origin: string; pathPrefix: string };

export interface RedirectUriRules {
  allowAnyOnLocalhost: boolean;
  allowAnyOnLoopback: boolean;
  allowedRedirectUris: AllowedRedirectUri[];
}

// Schemes that run or read something in the browser instead of reaching an application (without the
// colon: the linter takes a `javascript:` literal for a script URL).
const REFUSED_SCHEMES = new Set([
  'javascript',
  'data',
  'vbscript',
  'file',
  'blob',
  'about',
]);

const isHttp = (url: URL) =>
  url.protocol === 'http:' || url.protocol === 'https:';

/** Why a URI cannot be a redirect URI at all, or undefined when it can. */
function malformation(uri: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (uri.length > 2048 || /[\s\u0000-\u001f\u007f\\]/.test(uri)) {
    return 'has spaces, control characters or backslashes, or is too long';
  }
  if (!URL.canParse(uri)) {
    return 'is not an absolute URI';
  }
  const url = new URL(uri);
  if (uri.includes('#')) {
    return 'has a fragment';
  }
  if (url.username || url.password) {
    return 'has credentials';
  }
  if (REFUSED_SCHEMES.has(url.protocol.slice(0, -1))) {
    return `uses the ${url.protocol} scheme`;
  }
  if (isHttp(url) && !url.hostname) {
    return 'has no host';
  }
  return undefined;
}

/** Parses an allow-list entry; throws an Error naming `field` and the entry when it cannot be one. */
export function parseAllowedRedirectUri(
  entry: unknown,
  field: string,
): AllowedRedirectUri {
  const fail = (why: string): never => {
    throw new Error(`${field}: ${JSON.stringify(entry)} ${why}`);
  };
  if (typeof entry !== 'string' || entry === '') {
    return fail('is not a URI');
  }
  const wildcard = entry.endsWith('/*');
  const problem = malformation(wildcard ? entry.slice(0, -1) : entry);
  if (problem) {
    return fail(problem);
  }
  const url = new URL(wildcard ? entry.slice(0, -1) : entry);
  if (!isHttp(url)) {
    if (entry.includes('*')) {
      fail('is a custom-scheme URI: those must match exactly, no wildcards');
    }
    return { kind: 'exact', uri: entry };
  }
  if ((wildcard ? entry.slice(0, -2) : entry).includes('*')) {
    return fail('has a wildcard that is not a final /*');
  }
  return wildcard
    ? { kind: 'prefix', origin: url.origin, pathPrefix: url.pathname }
    : { kind: 'exact', uri: entry };
}

export type RedirectUriCheck =
  | { ok: true; url: URL }
  | { ok: false; error: 'invalid_redirect_uri' | 'not_allowed'; why: string };

/** Whether a client's redirect URI is well formed and allowed by the application's settings. */
export function checkRedirectUri(
  uri: unknown,
  rules: RedirectUriRules,
): RedirectUriCheck {
  if (typeof uri !== 'string') {
    return {
      ok: false,
      error: 'invalid_redirect_uri',
      why: 'redirect_uri must be a string',
    };
  }
  const problem = malformation(uri);
  if (problem) {
    return {
      ok: false,
      error: 'invalid_redirect_uri',
      why: `redirect_uri ${problem}`,
    };
  }
  const url = new URL(uri);
  const allowed =
    (rules.allowAnyOnLocalhost &&
      isHttp(url) &&
      url.hostname === 'localhost') ||
    (rules.allowAnyOnLoopback && isHttp(url) && url.hostname === '127.0.0.1') ||
    rules.allowedRedirectUris.some(entry =>
      entry.kind === 'exact'
        ? entry.uri === uri
        : isHttp(url) &&
          url.origin === entry.origin &&
          url.pathname.startsWith(entry.pathPrefix),
    );
  return allowed
    ? { ok: true, url }
    : {
        ok: false,
        error: 'not_allowed',
        why: 'redirect_uri is not allowed by the account configuration',
      };
}
