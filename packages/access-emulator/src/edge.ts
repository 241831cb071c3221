/*
 * The Access edge: decides for each proxied request whether it carries a
 * valid session (CF_Authorization cookie) or a valid service token, and
 * rewrites the headers the origin sees.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parseCookie } from 'cookie';
import {
  ASSERTION_HEADER,
  CLIENT_ID_HEADER,
  CLIENT_SECRET_HEADER,
  COOKIE_NAME,
  EMAIL_HEADER,
} from './defaults';
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
  | { kind: 'forbidden'; reason: string }
  | { kind: 'unauthenticated' };

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time string comparison (compares SHA-256 digests of equal length). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
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

export async function authenticate(
  req: IncomingMessage,
  options: { issuer: TokenIssuer; serviceTokens: ServiceTokenConfig[] },
): Promise<EdgeDecision> {
  const clientId = headerValue(req, CLIENT_ID_HEADER);
  const clientSecret = headerValue(req, CLIENT_SECRET_HEADER);
  if (clientId !== undefined || clientSecret !== undefined) {
    const match =
      clientId !== undefined && clientSecret !== undefined
        ? findServiceToken(options.serviceTokens, clientId, clientSecret)
        : undefined;
    if (!match) {
      return { kind: 'forbidden', reason: 'invalid service token' };
    }
    const { token, payload } = await options.issuer.mintServiceToken(
      match.clientId,
    );
    return { kind: 'service', token, payload, serviceToken: match };
  }
  const cookie = sessionCookie(req);
  if (cookie) {
    try {
      const payload = await options.issuer.verify(cookie);
      return { kind: 'user', token: cookie, payload };
    } catch {
      return { kind: 'unauthenticated' };
    }
  }
  return { kind: 'unauthenticated' };
}

function remoteAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? '';
}

/**
 * Rewrites the request headers for the origin: removes anything a client
 * could use to impersonate Access, then adds the assertion and forwarding
 * headers. The Host header is left as the client sent it.
 */
export function applyOriginHeaders(
  req: IncomingMessage,
  decision: Extract<EdgeDecision, { kind: 'user' | 'service' }>,
  options: { publicProtocol: string; country: string },
) {
  const headers = req.headers;
  for (const name of [
    ASSERTION_HEADER,
    CLIENT_ID_HEADER,
    CLIENT_SECRET_HEADER,
    EMAIL_HEADER,
    'cf-connecting-ip',
    'cf-ipcountry',
    'cf-visitor',
  ]) {
    delete headers[name];
  }
  headers[ASSERTION_HEADER] = decision.token;
  if (decision.kind === 'user' && decision.payload.email) {
    headers[EMAIL_HEADER] = decision.payload.email;
  }
  const ip = remoteAddress(req);
  const protocol = options.publicProtocol.replace(/:$/, '');
  headers['cf-connecting-ip'] = ip;
  headers['cf-ipcountry'] = decision.payload.country ?? options.country;
  headers['cf-visitor'] = JSON.stringify({ scheme: protocol });
  const forwardedFor = headerValue(req, 'x-forwarded-for');
  headers['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${ip}` : ip;
  headers['x-forwarded-proto'] = protocol;
  if (headers.host) {
    headers['x-forwarded-host'] = headers.host;
  }
}
