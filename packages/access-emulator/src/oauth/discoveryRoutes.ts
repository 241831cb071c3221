/*
 * The discovery documents, answered by the emulator itself while Managed OAuth is on:
 *
 *   /.well-known/cloudflare-access-protected-resource[/<path>]  (where the 401 challenge points)
 *   /.well-known/oauth-protected-resource[/<path>]              (RFC 9728's name, tried by clients)
 *   /.well-known/oauth-authorization-server[/<anything>]        (RFC 8414)
 *
 * The protected resource of a path-scoped document is exactly that path on the origin asked, so a client
 * comparing it with the URL it connects to (the MCP SDK does) finds its own.
 */
import { Router } from 'express';
import type { EmulatorContext } from '../context';
import type { ManagedOAuth } from './managedOAuth';
import {
  OAUTH_AUTHORIZATION_PATH,
  OAUTH_REGISTRATION_PATH,
  OAUTH_REVOCATION_PATH,
  OAUTH_TOKEN_PATH,
  discoveryDocumentFor,
} from './paths';
import { requestOrigin, requestPath } from './resource';
import { sendJson } from './responses';

export function authorizationServerMetadata(issuer: string) {
  return {
    issuer,
    authorization_endpoint: `${issuer}${OAUTH_AUTHORIZATION_PATH}`,
    token_endpoint: `${issuer}${OAUTH_TOKEN_PATH}`,
    registration_endpoint: `${issuer}${OAUTH_REGISTRATION_PATH}`,
    revocation_endpoint: `${issuer}${OAUTH_REVOCATION_PATH}`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: [
      'client_secret_basic',
      'client_secret_post',
      'none',
    ],
    code_challenge_methods_supported: ['S256'],
  };
}

export function protectedResourceMetadata(resource: string, issuer: string) {
  return {
    resource,
    authorization_servers: [issuer],
    bearer_methods_supported: ['header'],
    protected: true,
    team_domain: new URL(issuer).host,
    authentication_method: 'oauth',
  };
}

export function createDiscoveryRoutes(
  ctx: EmulatorContext,
  oauth: ManagedOAuth,
): Router {
  const router = Router();
  router.get('/.well-known/*rest', (req, res, next) => {
    const doc = discoveryDocumentFor(req.path);
    if (doc?.kind === 'authorization-server') {
      sendJson(res, 200, authorizationServerMetadata(oauth.issuer));
    } else if (doc?.kind === 'protected-resource') {
      const origin = requestOrigin(ctx.publicOrigin, req.headers.host);
      // The root's resource is the bare origin (`https://host`), as Cloudflare's is.
      const path = doc.resourcePath && requestPath(doc.resourcePath);
      sendJson(
        res,
        200,
        protectedResourceMetadata(`${origin}${path}`, oauth.issuer),
      );
    } else {
      // openid-configuration: Access's authorization server has none; the 404 moves clients on.
      next();
    }
  });
  return router;
}
