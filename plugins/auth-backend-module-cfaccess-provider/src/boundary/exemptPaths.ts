/** One exempt path: the exact path, or everything under a prefix (`/api/events/http/*`). */
export type ExemptPath = { path: string; prefix: boolean };

// The characters a path may have to be exempt; anything else (percent
// escapes, backslashes, dot segments, empty segments) is checked like any
// other path, so an exemption can only ever match the plain spelling.
const PLAIN_SEGMENT = /^[A-Za-z0-9._~!$&'()+,;=:@-]+$/;

function plainSegments(path: string): boolean {
  const segments = path.slice(1).split('/');
  return segments.every(
    segment =>
      PLAIN_SEGMENT.test(segment) && segment !== '.' && segment !== '..',
  );
}

/** A configured pattern, or an error saying why it is not one. */
export function parseExemptPath(pattern: string): ExemptPath {
  const prefix = pattern.endsWith('/*');
  const path = prefix ? pattern.slice(0, -1) : pattern;
  if (!path.startsWith('/')) {
    throw new Error(`must start with /, got ${JSON.stringify(pattern)}`);
  }
  const body = prefix ? path.slice(0, -1) : path;
  if (body === '' || !plainSegments(body)) {
    throw new Error(
      `must be a plain path (no query, *, %, \\, empty, . or .. segments), optionally ending in /*, got ${JSON.stringify(
        pattern,
      )}`,
    );
  }
  return { path, prefix };
}

/**
 * Paths the boundary lets through without Access. Matched against the path
 * as received (case-sensitive, before any decoding), and only when that path
 * is plainly spelled, so `/api/events/../catalog` or an encoded spelling is
 * never exempt.
 */
export class ExemptPaths {
  constructor(private readonly paths: readonly ExemptPath[]) {}

  get size(): number {
    return this.paths.length;
  }

  matches(path: string): boolean {
    if (this.paths.length === 0) {
      return false;
    }
    const hit = this.paths.some(exempt =>
      exempt.prefix
        ? path.startsWith(exempt.path) && path.length > exempt.path.length
        : path === exempt.path,
    );
    return hit && path.startsWith('/') && plainSegments(path);
  }
}

/**
 * The public keys Backstage's plugins publish, which Backstage itself fetches
 * over loopback without credentials to verify its own tokens: never secret,
 * always reachable.
 */
const PUBLIC_KEY_PATHS = [
  /^\/api\/[a-z0-9_-]+\/\.backstage\/auth\/v1\/jwks\.json$/i,
  /^\/api\/auth\/\.well-known\/jwks\.json$/,
];

export function isPublicKeyPath(path: string): boolean {
  return PUBLIC_KEY_PATHS.some(pattern => pattern.test(path));
}
