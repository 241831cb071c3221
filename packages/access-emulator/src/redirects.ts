/*
 * redirect_url handling: only paths on the emulator's own origin, never an open redirect.
 */
import { OAUTH_AUTHORIZATION_PATH } from './oauth/paths';

export const LOGIN_PATH = '/cdn-cgi/access/login';

/**
 * A safe same-origin path (path, query, hash) for a user-supplied redirect_url: relative paths and
 * absolute URLs on an allowed origin; anything else (other origins, `//host`, backslashes, control
 * characters, other schemes, /cdn-cgi/ but the OAuth authorization endpoint) falls back to `/`.
 */
export function safeRedirectPath(
  raw: unknown,
  allowedOrigins: string[],
): string {
  if (
    typeof raw !== 'string' ||
    raw === '' ||
    raw.length > 4096 ||
    // eslint-disable-next-line no-control-regex
    /[\\\u0000-\u001f\u007f]/.test(raw) ||
    !URL.canParse(raw, allowedOrigins[0])
  ) {
    return '/';
  }
  const url = new URL(raw, allowedOrigins[0]);
  const target = `${url.pathname}${url.search}${url.hash}`;
  // Case-insensitive, as the edge and Express match /cdn-cgi/ (`/CDN-CGI/access/logout` is the logout).
  const path = url.pathname.toLowerCase();
  const ok =
    allowedOrigins.some(origin => new URL(origin).origin === url.origin) &&
    target.startsWith('/') &&
    !target.startsWith('//') &&
    // The one /cdn-cgi/ target: a Managed OAuth authorization that sent the person to sign in first
    // continues there (with the built-in login and an identity provider's alike).
    path !== '/cdn-cgi' &&
    (!path.startsWith('/cdn-cgi/') || path === OAUTH_AUTHORIZATION_PATH);
  return ok ? target : '/';
}

/** The login URL (relative) that sends the user back to `originalUrl`. */
export function loginRedirectLocation(originalUrl: string): string {
  return `${LOGIN_PATH}?redirect_url=${encodeURIComponent(originalUrl)}`;
}
