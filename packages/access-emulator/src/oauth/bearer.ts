/*
 * The edge's check of `Authorization: Bearer oauth:…`: a valid access token of this application whose
 * grant is alive in this emulator makes the request the person's, with the grant's application token.
 */
import type { IncomingMessage } from 'node:http';
import { OAUTH_TOKEN_PREFIX } from './accessTokens';
import type { ApplicationToken } from './grants';
import type { ManagedOAuth } from './managedOAuth';

export type BearerCheck =
  | ({ ok: true; email: string } & ApplicationToken)
  /** `reason` names the refusal in the request log (never the token). */
  | { ok: false; reason: string };

/**
 * The Managed OAuth access token of a request, if it sends one. Other bearer tokens (a Backstage token
 * the frontend sends its backend) are not Access's business and pass through untouched.
 */
export function oauthBearerToken(req: IncomingMessage): string | undefined {
  const value = [req.headers.authorization].flat()[0] ?? '';
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(value);
  return match?.[1].startsWith(OAUTH_TOKEN_PREFIX) ? match[1] : undefined;
}

export async function checkBearerToken(
  oauth: ManagedOAuth,
  token: string,
  ip: string,
): Promise<BearerCheck> {
  const now = oauth.now();
  const check = await oauth.accessTokens.verify(token, now);
  if (!check.ok) {
    return { ok: false, reason: check.reason };
  }
  const grant = oauth.grants.get(check.claims.sid);
  // Unknown: issued before a restart (grants live in memory), or forged with a stolen key.
  if (!grant || grant.clientId !== check.claims.client_id) {
    return { ok: false, reason: 'unknown grant' };
  }
  const state = oauth.grants.state(grant, now);
  if (state !== 'alive') {
    return {
      ok: false,
      reason: state === 'revoked' ? 'revoked grant' : 'grant session over',
    };
  }
  return {
    ok: true,
    email: grant.email,
    ...(await oauth.applicationTokenFor(grant, ip)),
  };
}
