/*
 * The request kinds of the soak and the exact answer each must get.
 *
 * - valid: a signed-in session's CF_Authorization cookie, through the emulator (Access). Access forwards it
 *   with Cf-Access-Jwt-Assertion; Backstage answers 200 with that user's identity.
 * - invalid-at-edge: an invalid CF_Authorization cookie, through the emulator. This is how an invalid token
 *   reaches Access in real life; Access does not forward it but answers 302 to its login page, and so
 *   does the emulator. The backend never sees it.
 * - forged-at-origin: an invalid token in Cf-Access-Jwt-Assertion sent straight to a replica, as if the
 *   origin were reachable without Access (the case the backend's own validation exists for): Backstage
 *   must answer 401, never 5xx.
 */
import { ASSERTION_HEADER, COOKIE_NAME } from '@cfaccess/access-emulator';
import type { RequestKind } from './load';
import type { InvalidToken, Session } from './tokens';

export function validSession(sessions: Session[]): RequestKind {
  return {
    name: 'valid',
    headers: i => {
      const session = sessions[i % sessions.length];
      return {
        headers: { cookie: `${COOKIE_NAME}=${session.token}` },
        expect: `user:default/${session.user}`,
      };
    },
    // The body is JSON, pretty-printed in development: match the field, whitespace-tolerant.
    check: (status, _headers, body, expect) =>
      status === 200 &&
      new RegExp(`"userEntityRef":\\s*"${expect}"`).test(body),
  };
}

export function invalidAtEdge(tokens: InvalidToken[]): RequestKind {
  return {
    name: 'invalid-at-edge',
    headers: i => ({
      headers: { cookie: `${COOKIE_NAME}=${tokens[i % tokens.length].token}` },
      expect: '/cdn-cgi/access/login?',
    }),
    check: (status, headers, _body, expect) =>
      status === 302 && (headers.location ?? '').startsWith(expect),
  };
}

export function forgedAtOrigin(tokens: InvalidToken[]): RequestKind {
  return {
    name: 'forged-at-origin',
    headers: i => ({
      headers: { [ASSERTION_HEADER]: tokens[i % tokens.length].token },
      expect: '401',
    }),
    check: status => status === 401,
  };
}
