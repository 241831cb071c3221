/*
 * The Access edge: one decision for every request, HTTP or WebSocket upgrade alike, so a rule cannot be in
 * one path and missing from the other. In order: the Host must be this emulator's (DNS rebinding);
 * /cdn-cgi/ is Access's own (its emulator-only admin endpoints also need a loopback caller and a
 * same-origin Origin or the admin header), and so are the OAuth discovery documents while Managed OAuth
 * is on; everything else needs a valid service token, Managed OAuth access token or session.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { sessionCookie } from './cookies';
import {
  ADMIN_HEADER,
  ACCESS_TOKEN_HEADER,
  CLIENT_ID_HEADER,
  CLIENT_SECRET_HEADER,
} from './defaults';
import { isLoopbackAddress, ownOrigins } from './hosts';
import { checkBearerToken, oauthBearerToken } from './oauth/bearer';
import { isBrowserNavigation, oauthChallenge } from './oauth/challenge';
import type { ManagedOAuth } from './oauth/managedOAuth';
import { discoveryDocumentFor } from './oauth/paths';
import { requestOrigin } from './oauth/resource';
import { loginRedirectLocation } from './redirects';
import type { AccessTokenPayload, TokenIssuer } from './tokens';
import type { ServiceTokenConfig } from './users';

/** Each decision names its `caller` for the request log. */
export type EdgeDecision = { caller: string } & (
  | {
      kind: 'user';
      token: string;
      payload: AccessTokenPayload;
      /** Authenticated by a Managed OAuth access token (its Authorization header is not passed on). */
      viaOAuth?: boolean;
    }
  | { kind: 'service'; token: string; payload: AccessTokenPayload }
  /** `/cdn-cgi/…` but the admin endpoints: Access's own endpoints answer. */
  | { kind: 'access' }
  /** `/cdn-cgi/emulator/…` from a caller the admin rules let through. */
  | { kind: 'admin' }
  | { kind: 'refused'; refusal: Refusal }
);

/** What the edge answers instead of passing a request on: a text or JSON body, or none. */
export interface Refusal {
  status: number;
  headers?: Record<string, string>;
  body?: string | Record<string, string>;
}

export interface EdgeRules {
  /** Whether a `Host` header names this emulator. */
  allowedHost: (host: string | undefined) => boolean;
  /** The public origin, e.g. `http://localhost:7000`. */
  publicOrigin: string;
  tokens: TokenIssuer;
  serviceTokens: ServiceTokenConfig[];
  /** This application's Managed OAuth, when it is on. */
  managedOAuth?: ManagedOAuth;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Constant-time string comparison (of SHA-256 digests, which have one length). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export function headerValue(req: IncomingMessage, name: string) {
  return [req.headers[name]].flat()[0];
}

/** Compares every configured token, both fields, in constant time. */
export function findServiceToken(
  tokens: ServiceTokenConfig[],
  clientId: string,
  clientSecret: string,
): ServiceTokenConfig | undefined {
  return tokens.filter(token => {
    const id = safeEqual(token.clientId, clientId);
    const secret = safeEqual(token.clientSecret, clientSecret);
    return id && secret;
  })[0];
}

const refuse = (reason: string, refusal: Refusal): EdgeDecision => ({
  kind: 'refused',
  caller: reason,
  refusal,
});

const refuseAdmin = (reason: string, err: string) =>
  refuse(`admin: ${reason}`, { status: 403, body: { err } });

/** The rules for /cdn-cgi/emulator/: a loopback caller, and no cross-site request. */
function decideAdmin(req: IncomingMessage, rules: EdgeRules): EdgeDecision {
  const origin = headerValue(req, 'origin');
  if (!isLoopbackAddress(req.socket.remoteAddress)) {
    return refuseAdmin(
      'not loopback',
      'admin endpoints are for loopback callers only',
    );
  }
  if (
    origin !== undefined &&
    !ownOrigins(rules.publicOrigin, req.headers.host).includes(origin)
  ) {
    return refuseAdmin('cross-origin', 'cross-origin admin request refused');
  }
  // A browser sends a custom header cross-site only after a CORS preflight, which is never granted.
  if (origin === undefined && !headerValue(req, ADMIN_HEADER)) {
    return refuseAdmin(
      'no admin header',
      `admin endpoints need the ${ADMIN_HEADER} header (or a same-origin Origin)`,
    );
  }
  return { kind: 'admin', caller: 'admin' };
}

/** The 401 challenge for the resource on the origin the client used. */
const challenge = (req: IncomingMessage, rules: EdgeRules, target: string) =>
  oauthChallenge(requestOrigin(rules.publicOrigin, req.headers.host), target);

async function authenticate(
  req: IncomingMessage,
  rules: EdgeRules,
  target: string,
): Promise<EdgeDecision> {
  const clientId = headerValue(req, CLIENT_ID_HEADER);
  const clientSecret = headerValue(req, CLIENT_SECRET_HEADER);
  if (clientId !== undefined || clientSecret !== undefined) {
    const match = findServiceToken(
      rules.serviceTokens,
      clientId ?? '',
      clientSecret ?? '',
    );
    if (!match || !clientId || !clientSecret) {
      return refuse('invalid service token', {
        status: 403,
        body: 'Forbidden: invalid service token',
      });
    }
    const minted = await rules.tokens.mintServiceToken(match.clientId);
    return {
      kind: 'service',
      caller: `service:${match.name ?? match.clientId}`,
      ...minted,
    };
  }
  const oauth = rules.managedOAuth;
  const bearer = oauth && oauthBearerToken(req);
  if (oauth && bearer) {
    const check = await checkBearerToken(
      oauth,
      bearer,
      req.socket.remoteAddress ?? '',
    );
    if (!check.ok) {
      // An invalid token is challenged like a missing one, browser or not: the client has to re-authorize.
      return refuse(`oauth: ${check.reason}`, challenge(req, rules, target));
    }
    const { email, token, payload } = check;
    return {
      kind: 'user',
      caller: `${email} (oauth)`,
      token,
      payload,
      viaOAuth: true,
    };
  }
  // A script's token (cf-access-token, as `cloudflared access curl` sends it) counts like the cookie.
  const token = headerValue(req, ACCESS_TOKEN_HEADER) || sessionCookie(req);
  const payload = token
    ? await rules.tokens.verify(token).catch(() => undefined)
    : undefined;
  // A person's session: a service token's assertion (no email) is not one, wherever it is sent.
  if (token && payload && typeof payload.email === 'string' && payload.email) {
    return { kind: 'user', caller: payload.email, token, payload };
  }
  // No session, or an expired or foreign one: sign in again, or (Managed OAuth) authorize.
  if (oauth && !isBrowserNavigation(req)) {
    return refuse('no session', challenge(req, rules, target));
  }
  return refuse('no session', {
    status: 302,
    headers: {
      location: loginRedirectLocation(target),
      'cache-control': 'no-store',
    },
  });
}

/** Decides what happens to a request (HTTP or upgrade) before anything else looks at it. */
export async function decideEdge(
  req: IncomingMessage,
  rules: EdgeRules,
): Promise<EdgeDecision> {
  if (!rules.allowedHost(req.headers.host)) {
    return refuse('host not allowed', {
      status: 421,
      body: `Misdirected request: this Access emulator answers only for ${
        new URL(rules.publicOrigin).host
      } and loopback names.`,
    });
  }
  const target = req.url ?? '';
  if (!target.startsWith('/')) {
    return refuse('bad request target', { status: 400, body: 'Bad request' });
  }
  // Matched case-insensitively, as Express routes /cdn-cgi/….
  const path = target.split('?')[0].toLowerCase();
  if (path === '/cdn-cgi/emulator' || path.startsWith('/cdn-cgi/emulator/')) {
    return decideAdmin(req, rules);
  }
  if (path === '/cdn-cgi' || path.startsWith('/cdn-cgi/')) {
    return { kind: 'access', caller: 'access' };
  }
  if (rules.managedOAuth && discoveryDocumentFor(path)) {
    return { kind: 'access', caller: 'oauth: discovery' };
  }
  return authenticate(req, rules, target);
}
