/*
 * GET /cdn-cgi/access/oauth/authorization: the person's browser arrives here from the client. Until the
 * client and its redirect URI are known good, errors are a page and never a redirect (an open redirector
 * otherwise); after that they go back to the client, with `state` and `iss`. A person without a session
 * signs in first and comes back here (redirects.ts lets the login return to this one /cdn-cgi/ path).
 */
import { type Request, type Response, Router } from 'express';
import type { EmulatorContext } from '../context';
import { sessionCookie } from '../cookies';
import { loginRedirectLocation } from '../redirects';
import type { OAuthClient } from './clients';
import type { ManagedOAuth } from './managedOAuth';
import { OAUTH_AUTHORIZATION_PATH } from './paths';
import { isS256Challenge } from './pkce';
import { checkRedirectUri } from './redirectUris';
import { isApplicationResource } from './resource';
import { type OAuthErrorCode, logCaller, single } from './responses';

/** Refused before the redirect URI can be trusted: a plain page for the person. */
function refusePage(res: Response, reason: string) {
  logCaller(res, `oauth: ${reason}`);
  res.set('Cache-Control', 'no-store');
  res
    .status(400)
    .type('text')
    .send(`Access could not authorize this application: ${reason}.`);
}

type Check = { error: OAuthErrorCode; description: string } | undefined;

function checkPkce(client: OAuthClient, query: Request['query']): Check {
  const challenge = query.code_challenge;
  const method = query.code_challenge_method;
  const invalid = (description: string): Check => ({
    error: 'invalid_request',
    description,
  });
  if (client.authMethod === 'none' && method !== 'S256') {
    // Cloudflare's wording; a missing method would mean `plain`.
    return invalid('code_challenge_method must be S256 for public clients');
  }
  if (challenge === undefined && method === undefined) {
    return undefined; // a confidential client may go without PKCE
  }
  if (method !== 'S256') {
    return invalid('code_challenge_method must be S256');
  }
  if (typeof challenge !== 'string' || !isS256Challenge(challenge)) {
    return invalid('code_challenge must be 43 base64url characters (S256)');
  }
  return undefined;
}

function checkResource(
  ctx: EmulatorContext,
  req: Request,
  resource: unknown,
): Check {
  const invalid = (description: string): Check => ({
    error: 'invalid_target',
    description,
  });
  if (resource === undefined) {
    return invalid('resource is required (RFC 8707)');
  }
  if (typeof resource !== 'string') {
    return invalid('only one resource may be requested');
  }
  const ours = isApplicationResource(resource, {
    publicOrigin: ctx.publicOrigin,
    requestHost: req.headers.host,
    allowedHost: ctx.allowedHost,
  });
  return ours ? undefined : invalid('resource is not this application');
}

/** The rest of the request, once the redirect URI can be trusted with the answer. */
function checkRequest(
  ctx: EmulatorContext,
  req: Request,
  client: OAuthClient,
): Check {
  const { query } = req;
  if (query.response_type !== 'code') {
    return {
      error: 'unsupported_response_type',
      description: 'response_type must be code',
    };
  }
  if (query.state !== undefined && single(query.state) === undefined) {
    return { error: 'invalid_request', description: 'state must be sent once' };
  }
  return checkPkce(client, query) ?? checkResource(ctx, req, query.resource);
}

/** The person signed in to this application, if any (a service token's session has no email). */
async function signedInEmail(ctx: EmulatorContext, req: Request) {
  const cookie = sessionCookie(req);
  const payload = cookie
    ? await ctx.tokens.verify(cookie).catch(() => undefined)
    : undefined;
  return payload?.email || undefined;
}

export function createAuthorizationRoute(
  ctx: EmulatorContext,
  oauth: ManagedOAuth,
): Router {
  const router = Router();
  router.get(OAUTH_AUTHORIZATION_PATH, async (req, res) => {
    const query = req.query;
    const client = oauth.clients.get(single(query.client_id));
    if (!client) {
      refusePage(res, 'unknown client_id');
      return;
    }
    const redirectUri = single(query.redirect_uri);
    if (!redirectUri || !client.redirectUris.includes(redirectUri)) {
      refusePage(res, 'redirect_uri is not registered for this client');
      return;
    }
    // Checked again, as Access does at this step: an authorization never relies on the registration alone.
    const allowed = checkRedirectUri(redirectUri, oauth.settings);
    if (!allowed.ok) {
      refusePage(res, 'Redirect URI not allowed by application configuration');
      return;
    }
    const back = (params: Record<string, string | undefined>) => {
      const url = new URL(allowed.url);
      for (const [name, value] of Object.entries({
        ...params,
        state: single(query.state),
        iss: oauth.issuer, // RFC 9207: which authorization server answered
      })) {
        if (value !== undefined) {
          url.searchParams.set(name, value);
        }
      }
      res.set('Cache-Control', 'no-store');
      res.redirect(302, url.href);
    };

    const problem = checkRequest(ctx, req, client);
    if (problem) {
      logCaller(res, `oauth: ${problem.description}`);
      back({ error: problem.error, error_description: problem.description });
      return;
    }

    const email = await signedInEmail(ctx, req);
    if (!email) {
      logCaller(res, 'oauth: sign-in first');
      res.set('Cache-Control', 'no-store');
      res.redirect(302, loginRedirectLocation(req.originalUrl));
      return;
    }
    // No consent screen: signing in to the application is taken as the person's consent.
    const code = oauth.codes.issue(
      {
        clientId: client.clientId,
        redirectUri,
        codeChallenge: single(query.code_challenge),
        resource: query.resource as string,
        email,
      },
      oauth.now(),
    );
    if (code === undefined) {
      // RFC 6749 §4.1.2.1: a 503 cannot travel through a redirect, so the error does.
      const description = 'too many pending authorization codes';
      logCaller(res, `oauth: ${description}`);
      back({
        error: 'temporarily_unavailable',
        error_description: description,
      });
      return;
    }
    logCaller(res, `${email} (oauth: code issued)`);
    back({ code });
  });
  return router;
}
