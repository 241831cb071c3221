/*
 * The protected resource: this application, on the origin a client used. The emulator answers for its
 * public URL and for loopback names, so the resource a client is told about is the origin it asked on
 * (as Access names the hostname requested); the authorization server stays the public origin.
 */
import { ownOrigins } from '../hosts';
import { CLOUDFLARE_PROTECTED_RESOURCE_PATH } from './paths';

/** The origin a request was sent to (its Host over the public scheme), else the public origin. */
export function requestOrigin(publicOrigin: string, host: string | undefined) {
  return ownOrigins(publicOrigin, host).at(-1)!;
}

/** A request target's path, normalised and percent-encoded as a URL has it (`/` for the root). */
export function requestPath(target: string): string {
  // Appended, not resolved: a target such as `//host/x` is a path here, not a network-path reference.
  return new URL(`http://resource.invalid${target.split('?')[0]}`).pathname;
}

/** The document a 401 challenge points to: Cloudflare's, scoped to the request's path. */
export function protectedResourceMetadataUrl(origin: string, target: string) {
  return `${origin}${CLOUDFLARE_PROTECTED_RESOURCE_PATH}${requestPath(target)}`;
}

/**
 * Whether an RFC 8707 `resource` names this application: an http(s) URL without a fragment on one of
 * the emulator's own origins (the public one, the one this request was sent to, or a name the emulator
 * answers for on the public port).
 */
export function isApplicationResource(
  resource: string,
  rules: {
    publicOrigin: string;
    requestHost: string | undefined;
    allowedHost: (host: string | undefined) => boolean;
  },
): boolean {
  if (!URL.canParse(resource) || resource.includes('#')) {
    return false;
  }
  const url = new URL(resource);
  const pub = new URL(rules.publicOrigin);
  if (url.protocol !== pub.protocol || url.username || url.password) {
    return false;
  }
  return (
    ownOrigins(rules.publicOrigin, rules.requestHost).includes(url.origin) ||
    (rules.allowedHost(url.host) && url.port === pub.port)
  );
}
