import type { IncomingHttpHeaders } from 'node:http';
import { parse as parseCookie } from 'cookie';
import type { CfAccessConfig } from '../config/readConfig';

/** Reads one cookie from the Cookie header: express `req.cookies` may not be set. */
export function readCookie(
  cookieHeader: string | undefined,
  name: string,
): string | undefined {
  return cookieHeader ? parseCookie(cookieHeader)[name] : undefined;
}

/**
 * The Access application token of a request: the header first (Cloudflare's
 * recommendation), the cookie as a fallback when the header is missing or
 * blank. Returned as sent: the verifier accepts only the canonical token, so
 * whitespace is rejected there, not trimmed here.
 */
export function extractToken(
  req: { headers: IncomingHttpHeaders },
  config: Pick<CfAccessConfig, 'jwtHeaderName' | 'authorizationCookieName'>,
): string | undefined {
  const header = req.headers[config.jwtHeaderName];
  const fromHeader = Array.isArray(header) ? header.join(',') : header;
  if (fromHeader && fromHeader.trim()) {
    return fromHeader;
  }
  return readCookie(req.headers.cookie, config.authorizationCookieName);
}
