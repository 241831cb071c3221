/**
 * How a failed call to the `refresh` endpoint should be presented.
 *
 * - `unauthorized`: the backend answered 401; the request did not carry a
 *   valid Cloudflare Access token.
 * - `network`: `fetch` itself failed. Behind Access this is what a browser
 *   sees when an expired Access session redirects the request to the Access
 *   login page on another origin.
 * - `aborted`: the request was cancelled (e.g. after sign-out).
 * - `other`: anything else (503 when the backend cannot get the Access keys,
 *   500, malformed responses, ...).
 *
 * @internal
 */
export type RefreshFailureKind =
  | 'unauthorized'
  | 'network'
  | 'aborted'
  | 'other';

/**
 * Classifies an error thrown by `ProxiedSignInIdentity`.
 *
 * Non-ok responses are thrown as `ResponseError` from `@backstage/errors`
 * (with `statusCode`), network failures as the `TypeError` that `fetch`
 * rejects with. Both are matched by shape and name rather than `instanceof`,
 * because errors may come from another copy of a package or another realm.
 *
 * @internal
 */
export function classifyRefreshError(error: unknown): RefreshFailureKind {
  if (!error || typeof error !== 'object') {
    return 'other';
  }
  const { name, statusCode, response } = error as {
    name?: unknown;
    statusCode?: unknown;
    response?: { status?: unknown };
  };
  const status = typeof statusCode === 'number' ? statusCode : response?.status;
  if (status === 401) {
    return 'unauthorized';
  }
  if (typeof status === 'number') {
    return 'other';
  }
  if (name === 'AbortError') {
    return 'aborted';
  }
  if (name === 'TypeError') {
    return 'network';
  }
  return 'other';
}
