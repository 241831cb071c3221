/*
 * The Access edge: one decision for every request, HTTP or WebSocket upgrade alike (the request
 * handler and the upgrade handler both call decideEdge, so a rule cannot be in one and missing from the
 * other). In order: the Host must be this emulator's (DNS rebinding), /cdn-cgi/ is Access's own (the
 * emulator-only admin endpoints also need a loopback caller and a same-origin Origin or the admin
 * header), and everything else needs a valid service token or session.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parseCookie } from 'cookie';
import {
  ADMIN_HEADER,
  CLIENT_ID_HEADER,
  CLIENT_SECRET_HEADER,
  COOKIE_NAME,
} from './defaults';
import { isLoopbackAddress, ownOrigins } from './hosts';
import { loginRedirectLocation } from './redirects';
import type { AccessTokenPayload, TokenIssuer } from './tokens';
import type { ServiceTokenConfig } from './users';

export type EdgeDecision =
  | { kind: 'user'; token: string; payload: AccessTokenPayload }
  | {
      kind: 'service';
      token: string;
      payload: AccessTokenPayload;
      serviceToken: ServiceTokenConfig;
    }
  /** `/cdn-cgi/…` (not the admin endpoints): Access's own endpoints answer. */
  | { kind: 'access' }
  /** `/cdn-cgi/emulator/…` from a caller the admin rules let through. */
  | { kind: 'admin' }
  | { kind: 'refused'; refusal: Refusal };

/** What the edge answers instead of passing a request on. */
export interface Refusal {
  status: number;
  /** Short reason for the request log. */
  reason: string;
  headers?: Record<string, string>;
  body: string;
  contentType: 'text' | 'json';
}

export interface EdgeRules {
  /** Whether a `Host` header names this emulator (see hosts.ts). */
  allowedHost: (host: string | undefined) => boolean;
  /** The public origin, e.g. `http://localhost:7000`. */
  publicOrigin: string;
  issuer: TokenIssuer;
  serviceTokens: ServiceTokenConfig[];
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time string comparison (compares SHA-256 digests of equal length). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export function headerValue(
  req: IncomingMessage,
  name: string,
): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Reads the CF_Authorization cookie from a request, if any. */
export function sessionCookie(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (!header) {
    return undefined;
  }
  try {
    return parseCookie(header)[COOKIE_NAME] || undefined;
  } catch {
    return undefined;
  }
}

export function findServiceToken(
  tokens: ServiceTokenConfig[],
  clientId: string,
  clientSecret: string,
): ServiceTokenConfig | undefined {
  let found: ServiceTokenConfig | undefined;
  for (const token of tokens) {
    // Compare every configured token, both fields, in constant time.
    const idOk = safeEqual(token.clientId, clientId);
    const secretOk = safeEqual(token.clientSecret, clientSecret);
    if (idOk && secretOk && !found) {
      found = token;
    }
  }
  return found;
}

const refuse = (
  status: number,
  reason: string,
  body: string,
  extra: Partial<Refusal> = {},
): EdgeDecision => ({
  kind: 'refused',
  refusal: { status, reason, body, contentType: 'text', ...extra },
});

function refuseAdmin(reason: string, err: string): EdgeDecision {
  return refuse(403, reason, JSON.stringify({ err }), { contentType: 'json' });
}

/** The rules for /cdn-cgi/emulator/: a loopback caller, and no cross-site request. */
function decideAdmin(req: IncomingMessage, rules: EdgeRules): EdgeDecision {
  if (!isLoopbackAddress(req.socket.remoteAddress)) {
    return refuseAdmin(
      'admin: not loopback',
      'admin endpoints are for loopback callers only',
    );
  }
  const origin = headerValue(req, 'origin');
  if (origin !== undefined) {
    return ownOrigins(rules.publicOrigin, req.headers.host).includes(origin)
      ? { kind: 'admin' }
      : refuseAdmin(
          'admin: cross-origin',
          'cross-origin admin request refused',
        );
  }
  // A browser can only send a custom header cross-site after a CORS preflight, which is never granted.
  if (!headerValue(req, ADMIN_HEADER)) {
    return refuseAdmin(
      'admin: no admin header',
      `admin endpoints need the ${ADMIN_HEADER} header (or a same-origin Origin)`,
    );
  }
  return { kind: 'admin' };
}

async function authenticate(
  req: IncomingMessage,
  rules: EdgeRules,
  target: string,
): Promise<EdgeDecision> {
  const clientId = headerValue(req, CLIENT_ID_HEADER);
  const clientSecret = headerValue(req, CLIENT_SECRET_HEADER);
  if (clientId !== undefined || clientSecret !== undefined) {
    const match =
      clientId !== undefined && clientSecret !== undefined
        ? findServiceToken(rules.serviceTokens, clientId, clientSecret)
        : undefined;
    if (!match) {
      return refuse(
        403,
        'invalid service token',
        'Forbidden: invalid service token',
      );
    }
    const { token, payload } = await rules.issuer.mintServiceToken(
      match.clientId,
    );
    return { kind: 'service', token, payload, serviceToken: match };
  }
  const cookie = sessionCookie(req);
  if (cookie) {
    try {
      const payload = await rules.issuer.verify(cookie);
      return { kind: 'user', token: cookie, payload };
    } catch {
      // an expired or foreign session: sign in again
    }
  }
  return refuse(302, 'no session', '', {
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
    return refuse(
      421,
      'host not allowed',
      `Misdirected request: this Access emulator answers only for ${
        new URL(rules.publicOrigin).host
      } and loopback names.`,
    );
  }
  const target = req.url ?? '';
  if (!target.startsWith('/')) {
    return refuse(400, 'bad request target', 'Bad request');
  }
  // Matched case-insensitively, as Express routes /cdn-cgi/….
  const path = target.split('?')[0].toLowerCase();
  if (path === '/cdn-cgi/emulator' || path.startsWith('/cdn-cgi/emulator/')) {
    return decideAdmin(req, rules);
  }
  if (path === '/cdn-cgi' || path.startsWith('/cdn-cgi/')) {
    return { kind: 'access' };
  }
  return authenticate(req, rules, target);
}

/** The request log's caller column. */
export function describeCaller(decision: EdgeDecision | undefined): string {
  if (!decision) {
    return '-';
  }
  switch (decision.kind) {
    case 'user':
      return decision.payload.email ?? 'user';
    case 'service':
      return `service:${
        decision.serviceToken.name ?? decision.serviceToken.clientId
      }`;
    case 'refused':
      return decision.refusal.reason;
    default:
      return decision.kind;
  }
}
