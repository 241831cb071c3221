/*
 * redirect_url handling: only paths on the emulator's own origin, never an
 * open redirect.
 */

export const LOGIN_PATH = '/cdn-cgi/access/login';

/**
 * Returns a safe same-origin path (path + query + hash) for a user-supplied
 * redirect_url, or `/`. Relative paths and absolute URLs on one of the
 * allowed origins are accepted; anything else (other origins,
 * protocol-relative `//host`, backslashes, control characters, other schemes)
 * falls back to `/`.
 */
export function safeRedirectPath(
  raw: unknown,
  allowedOrigins: string[],
): string {
  if (typeof raw !== 'string' || raw === '' || raw.length > 4096) {
    return '/';
  }
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(raw)) {
    return '/';
  }
  const base = allowedOrigins[0];
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    return '/';
  }
  if (!allowedOrigins.some(origin => new URL(origin).origin === url.origin)) {
    return '/';
  }
  const target = `${url.pathname}${url.search}${url.hash}`;
  if (!target.startsWith('/') || target.startsWith('//')) {
    return '/';
  }
  if (url.pathname.startsWith('/cdn-cgi/')) {
    return '/';
  }
  return target;
}

/** The login URL (relative) that sends the user back to `originalUrl`. */
export function loginRedirectLocation(originalUrl: string): string {
  return `${LOGIN_PATH}?redirect_url=${encodeURIComponent(originalUrl)}`;
}
