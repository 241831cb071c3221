import type { IncomingMessage } from 'node:http';
import { parse as parseCookie } from 'cookie';

/** The cookie Backstage's frontend holds a limited user token in (for static assets). */
export const BACKSTAGE_AUTH_COOKIE = 'backstage-auth';

/** What a request carries, read once from its raw headers. */
export type RequestCredentials =
  | {
      ok: true;
      /** The Access application token, from the header or else the cookie. */
      accessToken?: string;
      /** The Authorization value, when it is one Bearer credential. */
      bearer?: string;
      /** Whether an Authorization header is there at all (Bearer or not). */
      hasAuthorization: boolean;
      /** Backstage's own cookie token, when there is one. */
      backstageCookie?: string;
    }
  | {
      ok: false;
      reason: 'conflicting_tokens' | 'conflicting_credentials';
      detail: string;
    };

function valuesOf(req: IncomingMessage, lowerName: string): string[] {
  const raw = req.rawHeaders;
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (
      raw[i].length === lowerName.length &&
      raw[i].toLowerCase() === lowerName
    ) {
      values.push(raw[i + 1]);
    }
  }
  return values;
}

// RFC 6750 bearer: the scheme, one space, a token68. A comma or a second
// space means a second credential or scheme.
const BEARER = /^bearer ([A-Za-z0-9._~+/-]+=*)$/i;

/**
 * Reads the credentials of a request strictly: two Access tokens (two
 * headers, two cookies, or a header and a cookie that differ) and two
 * Authorization credentials are refused, never resolved by picking one.
 */
export function readRequestCredentials(
  req: IncomingMessage,
  names: { jwtHeaderName: string; authorizationCookieName: string },
): RequestCredentials {
  const headerValues = valuesOf(req, names.jwtHeaderName);
  if (headerValues.length > 1) {
    return {
      ok: false,
      reason: 'conflicting_tokens',
      detail: `${headerValues.length} ${names.jwtHeaderName} headers`,
    };
  }
  const header = headerValues[0]?.trim() ? headerValues[0] : undefined;

  const cookieHeader = req.headers.cookie;
  let accessCookie: string | undefined;
  let backstageCookie: string | undefined;
  if (cookieHeader) {
    const counts = countCookies(cookieHeader, [
      names.authorizationCookieName,
      BACKSTAGE_AUTH_COOKIE,
    ]);
    if (counts[0] > 1) {
      return {
        ok: false,
        reason: 'conflicting_tokens',
        detail: `${counts[0]} ${names.authorizationCookieName} cookies`,
      };
    }
    if (counts[1] > 1) {
      return {
        ok: false,
        reason: 'conflicting_credentials',
        detail: `${counts[1]} ${BACKSTAGE_AUTH_COOKIE} cookies`,
      };
    }
    if (counts[0] + counts[1] > 0) {
      const cookies = parseCookie(cookieHeader);
      accessCookie = cookies[names.authorizationCookieName] || undefined;
      backstageCookie = cookies[BACKSTAGE_AUTH_COOKIE] || undefined;
    }
  }
  if (
    header !== undefined &&
    accessCookie !== undefined &&
    header !== accessCookie
  ) {
    return {
      ok: false,
      reason: 'conflicting_tokens',
      detail: `the ${names.jwtHeaderName} header and the ${names.authorizationCookieName} cookie carry different tokens`,
    };
  }

  const authorizations = valuesOf(req, 'authorization');
  if (authorizations.length > 1) {
    return {
      ok: false,
      reason: 'conflicting_credentials',
      detail: `${authorizations.length} Authorization headers`,
    };
  }
  const authorization = authorizations[0];
  let bearer: string | undefined;
  if (authorization !== undefined) {
    const match = BEARER.exec(authorization.trim());
    if (match) {
      bearer = match[1];
    } else if (/[,\s]/.test(authorization.trim().replace(/^\S+ /, ''))) {
      return {
        ok: false,
        reason: 'conflicting_credentials',
        detail: 'the Authorization header carries more than one credential',
      };
    }
  }
  return {
    ok: true,
    accessToken: header ?? accessCookie,
    bearer,
    hasAuthorization: authorization !== undefined,
    backstageCookie,
  };
}

/** How often each name occurs in a Cookie header (the parser keeps only the first). */
function countCookies(cookieHeader: string, names: string[]): number[] {
  const counts = names.map(() => 0);
  for (const pair of cookieHeader.split(';')) {
    const eq = pair.indexOf('=');
    const name = (eq < 0 ? pair : pair.slice(0, eq)).trim();
    const index = names.indexOf(name);
    if (index >= 0) {
      counts[index] += 1;
    }
  }
  return counts;
}
