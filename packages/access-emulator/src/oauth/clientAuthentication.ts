/*
 * Client authentication at the token endpoint, by the method the client registered: `none` (a public
 * client names itself with client_id), `client_secret_basic` or `client_secret_post`. Secrets are
 * compared in constant time.
 */
import type { Request } from 'express';
import type { OAuthClient } from './clients';
import type { ManagedOAuth } from './managedOAuth';
import type { OAuthErrorCode } from './responses';

export type ClientAuthentication =
  | { ok: true; client: OAuthClient }
  | {
      ok: false;
      status: number;
      error: OAuthErrorCode;
      description: string;
      headers?: Record<string, string>;
    };

/** RFC 6749 §2.3.1: Basic credentials are form-encoded before base64. */
function basicCredentials(
  header: string | undefined,
): { id: string; secret: string } | 'malformed' | undefined {
  if (!header || !/^Basic[ \t]/i.test(header)) {
    return undefined;
  }
  const match = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header);
  const decoded = match ? Buffer.from(match[1], 'base64').toString() : '';
  const colon = decoded.indexOf(':');
  if (colon < 1) {
    return 'malformed';
  }
  try {
    const unform = (v: string) => decodeURIComponent(v.replace(/\+/g, ' '));
    return {
      id: unform(decoded.slice(0, colon)),
      secret: unform(decoded.slice(colon + 1)),
    };
  } catch {
    return 'malformed';
  }
}

const failed = (usedBasic: boolean): ClientAuthentication => ({
  ok: false,
  status: 401,
  error: 'invalid_client',
  description: 'client authentication failed',
  // RFC 6749 §5.2: a client that tried the Authorization header is answered with a challenge.
  ...(usedBasic
    ? { headers: { 'WWW-Authenticate': 'Basic realm="OAuth"' } }
    : {}),
});

export function authenticateClient(
  oauth: ManagedOAuth,
  req: Request,
  form: { client_id?: string; client_secret?: string },
): ClientAuthentication {
  const basic = basicCredentials(req.headers.authorization);
  if (basic === 'malformed') {
    return failed(true);
  }
  if (basic && form.client_id !== undefined && form.client_id !== basic.id) {
    return {
      ok: false,
      status: 400,
      error: 'invalid_request',
      description: 'client_id does not match the Basic credentials',
    };
  }
  const clientId = basic?.id ?? form.client_id;
  if (!clientId) {
    return {
      ok: false,
      status: 400,
      error: 'invalid_request',
      description: 'client_id is required',
    };
  }
  const client = oauth.clients.get(clientId);
  if (!client) {
    return {
      ok: false,
      status: 401,
      error: 'invalid_client',
      description: 'unknown client',
      ...(basic
        ? { headers: { 'WWW-Authenticate': 'Basic realm="OAuth"' } }
        : {}),
    };
  }
  switch (client.authMethod) {
    case 'client_secret_basic':
      return basic && oauth.clients.secretMatches(client, basic.secret)
        ? { ok: true, client }
        : failed(true);
    case 'client_secret_post':
      return !basic &&
        form.client_secret !== undefined &&
        oauth.clients.secretMatches(client, form.client_secret)
        ? { ok: true, client }
        : failed(Boolean(basic));
    default:
      return { ok: true, client };
  }
}
