/*
 * Where Managed OAuth lives: the endpoints under /cdn-cgi/access/oauth/ and the /.well-known/ discovery
 * documents the emulator answers itself (only while Managed OAuth is on; otherwise they are the origin's).
 */

export const OAUTH_PATH_PREFIX = '/cdn-cgi/access/oauth';
export const OAUTH_AUTHORIZATION_PATH = `${OAUTH_PATH_PREFIX}/authorization`;
export const OAUTH_TOKEN_PATH = `${OAUTH_PATH_PREFIX}/token`;
export const OAUTH_REGISTRATION_PATH = `${OAUTH_PATH_PREFIX}/registration`;
export const OAUTH_REVOCATION_PATH = `${OAUTH_PATH_PREFIX}/revoke`;

/** Cloudflare's own protected-resource document, the one its 401 challenge points to. */
export const CLOUDFLARE_PROTECTED_RESOURCE_PATH =
  '/.well-known/cloudflare-access-protected-resource';
/** RFC 9728's default name, which clients without a challenge try (the MCP SDK does). */
export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource';
/** RFC 8414. */
export const AUTHORIZATION_SERVER_PATH =
  '/.well-known/oauth-authorization-server';
/** Not served: Access's authorization server has no OpenID Connect discovery (a 404 moves clients on). */
export const OPENID_CONFIGURATION_PATH = '/.well-known/openid-configuration';

export type DiscoveryDocument =
  /** `resourcePath`: the path after the well-known name, as requested (`''` for the root). */
  | { kind: 'protected-resource'; resourcePath: string }
  | { kind: 'authorization-server' }
  | { kind: 'openid-configuration' };

/** A well-known name itself, or with a path after it (`/mcp`); case-insensitive, as Express routes. */
function suffixAfter(path: string, name: string): string | undefined {
  const head = path.slice(0, name.length).toLowerCase();
  const rest = path.slice(name.length);
  return head === name && (rest === '' || rest.startsWith('/'))
    ? rest
    : undefined;
}

/** The discovery document a request path (no query) asks for, if any. */
export function discoveryDocumentFor(
  path: string,
): DiscoveryDocument | undefined {
  for (const name of [
    CLOUDFLARE_PROTECTED_RESOURCE_PATH,
    PROTECTED_RESOURCE_PATH,
  ]) {
    const rest = suffixAfter(path, name);
    if (rest !== undefined) {
      // `…/cloudflare-access-protected-resource/` is the root's, as in Cloudflare's challenge for `/`.
      return {
        kind: 'protected-resource',
        resourcePath: rest === '/' ? '' : rest,
      };
    }
  }
  if (suffixAfter(path, AUTHORIZATION_SERVER_PATH) !== undefined) {
    return { kind: 'authorization-server' };
  }
  if (suffixAfter(path, OPENID_CONFIGURATION_PATH) !== undefined) {
    return { kind: 'openid-configuration' };
  }
  return undefined;
}
