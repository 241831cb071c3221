/*
 * Managed OAuth's endpoints, mounted with Access's own: the discovery documents and
 * /cdn-cgi/access/oauth/{registration,authorization,token,revoke}. None exists while Managed OAuth is off.
 */
import { type ErrorRequestHandler, Router } from 'express';
import type { EmulatorContext } from '../context';
import { createAuthorizationRoute } from './authorizationRoute';
import { createDiscoveryRoutes } from './discoveryRoutes';
import { OAUTH_REGISTRATION_PATH } from './paths';
import { createRegistrationRoute } from './registrationRoute';
import { createRevocationRoute } from './revocationRoute';
import { sendOAuthError } from './responses';
import { createTokenRoute } from './tokenRoute';

/** What went wrong with a request Express refused before a route answered it. */
function clientErrorDescription(error: unknown, status: number): string {
  // A path parameter that does not percent-decode (`/.well-known/oauth-protected-resource/%`).
  if (error instanceof URIError) {
    return 'malformed request path';
  }
  return status === 413
    ? 'the body is too large'
    : 'the body could not be read';
}

/**
 * A body that cannot be read (bad JSON, too large, unknown charset) or a path that cannot be decoded is
 * the client's error, not a 500.
 */
const clientError: ErrorRequestHandler = (error, req, res, next) => {
  const status = Number(error?.status ?? error?.statusCode);
  if (res.headersSent || !(status >= 400 && status < 500)) {
    next(error);
    return;
  }
  const registration = req.path.toLowerCase() === OAUTH_REGISTRATION_PATH;
  sendOAuthError(
    res,
    status,
    registration && !(error instanceof URIError)
      ? 'invalid_client_metadata'
      : 'invalid_request',
    clientErrorDescription(error, status),
  );
};

export function createOAuthRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  const oauth = ctx.managedOAuth;
  if (oauth) {
    router.use(
      createDiscoveryRoutes(ctx, oauth),
      createRegistrationRoute(oauth),
      createAuthorizationRoute(ctx, oauth),
      createTokenRoute(oauth),
      createRevocationRoute(oauth),
      clientError,
    );
  }
  return router;
}
