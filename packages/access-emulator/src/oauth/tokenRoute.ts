/*
 * POST /cdn-cgi/access/oauth/token (form-encoded): the authorization_code and refresh_token grants.
 * Every failure of a code or refresh token is invalid_grant, as Cloudflare documents ("codes are
 * single-use and short-lived"); reusing a code or a retired refresh token revokes the grant (OAuth 2.1).
 */
import express, { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { authenticateClient } from './clientAuthentication';
import type { OAuthClient } from './clients';
import type { ManagedOAuth } from './managedOAuth';
import { OAUTH_TOKEN_PATH } from './paths';
import { verifierMatches } from './pkce';
import { logCaller, sendJson, sendOAuthError } from './responses';

const param = z.string().max(4096).optional();
const tokenRequestSchema = z
  .object({
    grant_type: param,
    code: param,
    redirect_uri: param,
    code_verifier: param,
    refresh_token: param,
    resource: param,
    client_id: param,
    client_secret: param,
  })
  .passthrough();

type TokenRequest = z.infer<typeof tokenRequestSchema>;

const invalidGrant = (res: Response, description: string) =>
  sendOAuthError(res, 400, 'invalid_grant', description);

/** Every grant is alive: none is forgotten to make room, so new ones wait (RFC 6749's 503 error). */
const tooManyGrants = (res: Response) =>
  sendOAuthError(res, 503, 'temporarily_unavailable', 'too many live grants');

const ipOf = (req: Request) => req.socket.remoteAddress ?? '';

async function exchangeCode(
  oauth: ManagedOAuth,
  req: Request,
  res: Response,
  client: OAuthClient,
  form: TokenRequest,
) {
  if (!form.code || !form.redirect_uri) {
    sendOAuthError(
      res,
      400,
      'invalid_request',
      'code and redirect_uri are required',
    );
    return;
  }
  const now = oauth.now();
  // Checked before the code is spent, so that a client can try its code again once there is room.
  if (!oauth.grants.hasRoom(now)) {
    tooManyGrants(res);
    return;
  }
  const lookup = oauth.codes.take(form.code, now);
  if (lookup.status === 'unknown') {
    invalidGrant(res, 'unknown authorization code');
    return;
  }
  if (lookup.status === 'reused') {
    const grant = oauth.grants.get(lookup.grantId);
    if (grant) {
      oauth.grants.revoke(grant);
    }
    invalidGrant(res, 'authorization code already used');
    return;
  }
  if (lookup.status === 'expired') {
    invalidGrant(res, 'authorization code expired');
    return;
  }
  const { code } = lookup;
  if (code.clientId !== client.clientId) {
    invalidGrant(res, 'authorization code issued to another client');
    return;
  }
  if (code.redirectUri !== form.redirect_uri) {
    invalidGrant(res, 'redirect_uri differs from the authorization request');
    return;
  }
  if (code.codeChallenge === undefined) {
    if (form.code_verifier !== undefined) {
      invalidGrant(res, 'code_verifier sent for a code without code_challenge');
      return;
    }
  } else if (form.code_verifier === undefined) {
    invalidGrant(res, 'code_verifier is required');
    return;
  } else if (!verifierMatches(form.code_verifier, code.codeChallenge)) {
    invalidGrant(res, 'code_verifier does not match the code_challenge');
    return;
  }
  if (form.resource !== undefined && form.resource !== code.resource) {
    sendOAuthError(
      res,
      400,
      'invalid_target',
      'resource differs from the authorization request',
    );
    return;
  }
  const expiresAt = now + oauth.settings.grantSessionDurationSeconds * 1000;
  const applicationToken = await oauth.signIn(
    { email: code.email, expiresAt },
    ipOf(req),
  );
  const created = oauth.grants.create(
    {
      email: code.email,
      clientId: client.clientId,
      resource: code.resource,
      expiresAt,
      applicationToken,
    },
    now,
  );
  if (!created) {
    // Filled up while the person was being signed in: the code is spent, the client starts again.
    tooManyGrants(res);
    return;
  }
  const { grant, refreshToken } = created;
  lookup.recordGrant(grant.id);
  logCaller(res, `${grant.email} (oauth: tokens issued)`);
  sendJson(res, 200, await oauth.tokenResponse(grant, refreshToken));
}

async function refresh(
  oauth: ManagedOAuth,
  req: Request,
  res: Response,
  client: OAuthClient,
  form: TokenRequest,
) {
  if (!form.refresh_token) {
    sendOAuthError(res, 400, 'invalid_request', 'refresh_token is required');
    return;
  }
  const found = oauth.grants.findByRefreshToken(form.refresh_token);
  if (!found) {
    invalidGrant(res, 'unknown refresh token');
    return;
  }
  const { grant } = found;
  if (grant.clientId !== client.clientId) {
    invalidGrant(res, 'refresh token issued to another client');
    return;
  }
  if (!found.current) {
    oauth.grants.revoke(grant);
    invalidGrant(res, 'refresh token already used');
    return;
  }
  const state = oauth.grants.state(grant, oauth.now());
  if (state !== 'alive') {
    invalidGrant(
      res,
      state === 'revoked' ? 'grant revoked' : 'grant session over',
    );
    return;
  }
  if (form.resource !== undefined && form.resource !== grant.resource) {
    sendOAuthError(
      res,
      400,
      'invalid_target',
      'resource differs from the grant',
    );
    return;
  }
  // Access re-evaluates the person at each refresh: a new application token, with their device now.
  grant.applicationToken = await oauth.signIn(grant, ipOf(req));
  const refreshToken = oauth.grants.rotateRefreshToken(grant);
  logCaller(res, `${grant.email} (oauth: tokens refreshed)`);
  sendJson(res, 200, await oauth.tokenResponse(grant, refreshToken));
}

export function createTokenRoute(oauth: ManagedOAuth): Router {
  const router = Router();
  router.post(
    OAUTH_TOKEN_PATH,
    express.urlencoded({ extended: false, limit: '16kb' }),
    async (req, res) => {
      if (req.body === undefined) {
        sendOAuthError(
          res,
          400,
          'invalid_request',
          'the body must be application/x-www-form-urlencoded',
        );
        return;
      }
      const parsed = tokenRequestSchema.safeParse(req.body);
      if (!parsed.success) {
        const field = String(parsed.error.issues[0].path[0]);
        sendOAuthError(
          res,
          400,
          'invalid_request',
          `${field} must be one value of up to 4096 characters`,
        );
        return;
      }
      const form = parsed.data;
      const grantType = form.grant_type;
      if (!grantType) {
        sendOAuthError(res, 400, 'invalid_request', 'grant_type is required');
        return;
      }
      if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
        sendOAuthError(
          res,
          400,
          'unsupported_grant_type',
          'grant_type must be authorization_code or refresh_token',
        );
        return;
      }
      const auth = authenticateClient(oauth, req, form);
      if (!auth.ok) {
        sendOAuthError(
          res,
          auth.status,
          auth.error,
          auth.description,
          auth.headers,
        );
        return;
      }
      await (grantType === 'authorization_code' ? exchangeCode : refresh)(
        oauth,
        req,
        res,
        auth.client,
        form,
      );
    },
  );
  return router;
}
