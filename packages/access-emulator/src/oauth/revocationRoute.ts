/*
 * POST /cdn-cgi/access/oauth/revoke (RFC 7009, form `token=`): revokes the grant of an access or refresh
 * token, so neither works any more. Always 200 for a well-formed request, revoked or not: the answer
 * tells a caller nothing about a token it does not own.
 */
import express, { Router } from 'express';
import type { Grant } from './grants';
import type { ManagedOAuth } from './managedOAuth';
import { OAUTH_REVOCATION_PATH } from './paths';
import { logCaller, sendOAuthError, single } from './responses';

async function grantOf(
  oauth: ManagedOAuth,
  token: string,
): Promise<Grant | undefined> {
  const byRefresh = oauth.grants.findByRefreshToken(token)?.grant;
  if (byRefresh) {
    return byRefresh;
  }
  const check = await oauth.accessTokens.verify(token, oauth.now());
  // An expired access token still names its grant: a client logging out may well hold one.
  const claims = check.ok ? check.claims : check.expired;
  const grant = claims && oauth.grants.get(claims.sid);
  return grant?.clientId === claims?.client_id ? grant : undefined;
}

export function createRevocationRoute(oauth: ManagedOAuth): Router {
  const router = Router();
  router.post(
    OAUTH_REVOCATION_PATH,
    express.urlencoded({ extended: false, limit: '16kb' }),
    async (req, res) => {
      const token = single(req.body?.token);
      if (!token) {
        sendOAuthError(res, 400, 'invalid_request', 'token is required');
        return;
      }
      const grant = await grantOf(oauth, token);
      // A client that names itself may revoke only its own grants.
      const clientId = single(req.body?.client_id);
      if (grant && (clientId === undefined || clientId === grant.clientId)) {
        oauth.grants.revoke(grant);
        logCaller(res, `${grant.email} (oauth: grant revoked)`);
      } else {
        logCaller(res, 'oauth: revoke (no grant)');
      }
      res.set('Cache-Control', 'no-store');
      res.status(200).end();
    },
  );
  return router;
}
