/*
 * POST /cdn-cgi/access/oauth/registration: Dynamic Client Registration (RFC 7591), the only way clients
 * get a client_id (Access has no client ID metadata documents). Every redirect URI must be allowed by the
 * application's settings, else the registration is refused with Cloudflare's message.
 */
import express, { Router } from 'express';
import { z } from 'zod';
import type { GrantType, TokenEndpointAuthMethod } from './clients';
import type { ManagedOAuth } from './managedOAuth';
import { OAUTH_REGISTRATION_PATH } from './paths';
import { checkRedirectUri } from './redirectUris';
import { logCaller, sendJson, sendOAuthError } from './responses';

const AUTH_METHODS = [
  'none',
  'client_secret_basic',
  'client_secret_post',
] as const satisfies readonly TokenEndpointAuthMethod[];
const GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
] as const satisfies readonly GrantType[];

// Other RFC 7591 metadata (client_uri, logo_uri, scope, resource, …) is accepted and ignored.
const registrationSchema = z
  .object({
    redirect_uris: z.array(z.string()).min(1).max(20),
    token_endpoint_auth_method: z.enum(AUTH_METHODS).default('none'),
    // RFC 7591's default; the refresh_token grant is not refused to a client that left it out, as
    // Cloudflare's own example registers authorization_code only and then refreshes.
    grant_types: z
      .array(z.enum(GRANT_TYPES))
      .min(1)
      .default(['authorization_code']),
    response_types: z.array(z.literal('code')).min(1).default(['code']),
    client_name: z.string().max(256).optional(),
  })
  .passthrough();

/** What a field must be, for the error description (never the value given). */
const FIELD_RULES: Record<string, string> = {
  redirect_uris: 'redirect_uris must be a list of 1 to 20 URIs',
  token_endpoint_auth_method: `token_endpoint_auth_method must be one of ${AUTH_METHODS.join(
    ', ',
  )}`,
  grant_types: `grant_types must be a non-empty subset of ${GRANT_TYPES.join(
    ', ',
  )}`,
  response_types: 'response_types must be ["code"]',
  client_name: 'client_name must be a string of up to 256 characters',
};

export function createRegistrationRoute(oauth: ManagedOAuth): Router {
  const router = Router();
  router.post(
    OAUTH_REGISTRATION_PATH,
    express.json({ limit: '16kb' }),
    (req, res) => {
      const body: unknown = req.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        sendOAuthError(
          res,
          400,
          'invalid_client_metadata',
          'the body must be a JSON object (Content-Type: application/json)',
        );
        return;
      }
      const parsed = registrationSchema.safeParse(body);
      if (!parsed.success) {
        const field = String(parsed.error.issues[0].path[0]);
        sendOAuthError(
          res,
          400,
          field === 'redirect_uris'
            ? 'invalid_redirect_uri'
            : 'invalid_client_metadata',
          FIELD_RULES[field] ?? `${field} is invalid`,
        );
        return;
      }
      const metadata = parsed.data;
      for (const uri of metadata.redirect_uris) {
        const check = checkRedirectUri(uri, oauth.settings);
        if (!check.ok) {
          sendOAuthError(
            res,
            400,
            check.error === 'not_allowed'
              ? 'invalid_client_metadata'
              : 'invalid_redirect_uri',
            check.why,
          );
          return;
        }
      }
      const registered = oauth.clients.register(
        {
          authMethod: metadata.token_endpoint_auth_method,
          redirectUris: metadata.redirect_uris,
          grantTypes: [...new Set(metadata.grant_types)],
          clientName: metadata.client_name,
        },
        oauth.now(),
      );
      if (!registered) {
        // Every client is in use: refused rather than forgetting one that works.
        sendOAuthError(
          res,
          503,
          'temporarily_unavailable',
          'too many registered clients',
        );
        return;
      }
      const { client, secret } = registered;
      logCaller(res, `oauth: registered client ${client.clientId}`);
      sendJson(res, 201, {
        client_id: client.clientId,
        client_id_issued_at: client.issuedAt,
        redirect_uris: client.redirectUris,
        grant_types: client.grantTypes,
        response_types: ['code'],
        token_endpoint_auth_method: client.authMethod,
        ...(client.clientName !== undefined
          ? { client_name: client.clientName }
          : {}),
        ...(secret !== undefined
          ? { client_secret: secret, client_secret_expires_at: 0 }
          : {}),
      });
    },
  );
  return router;
}
