/*
 * What the edge answers a request without a usable credential while Managed OAuth is on: browsers still
 * go to the login page; other clients get Cloudflare's 401 challenge, which points them at the
 * discovery documents (and so at the authorization server) instead of at a login page they cannot use.
 */
import type { IncomingMessage } from 'node:http';
import type { Refusal } from '../edge';
import { protectedResourceMetadataUrl } from './resource';

const DESCRIPTION = 'Missing or invalid access token';

/**
 * Whether a request is a browser navigation (which gets the 302 to the login page). Cloudflare does not
 * document its rule; browsers were seen to get the 302 and `curl` (Accept: *\/*) and MCP clients posting
 * JSON the 401. Here: an Accept naming text/html, or Sec-Fetch-Mode: navigate.
 */
export function isBrowserNavigation(req: IncomingMessage): boolean {
  const accept = [req.headers.accept ?? ''].flat().join(',').toLowerCase();
  const mode = [req.headers['sec-fetch-mode']].flat()[0];
  return accept.includes('text/html') || mode?.toLowerCase() === 'navigate';
}

/** Cloudflare's challenge, header and body, for a request path on `origin`. */
export function oauthChallenge(origin: string, target: string): Refusal {
  const metadataUrl = protectedResourceMetadataUrl(origin, target);
  return {
    status: 401,
    headers: {
      'www-authenticate': `Bearer realm="OAuth", error="invalid_token", error_description="${DESCRIPTION}", resource_metadata="${metadataUrl}"`,
      'cache-control': 'no-store',
    },
    body: {
      error: 'invalid_token',
      error_description: DESCRIPTION,
      resource_metadata: metadataUrl,
    },
  };
}
