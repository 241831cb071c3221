/**
 * How a failed call to the `refresh` endpoint should be presented.
 *
 * - `unauthorized`: the backend answered 401; the request did not carry a
 *   valid Cloudflare Access token.
 * - `network`: `fetch` itself failed. Behind Access this is what a browser
 *   sees when an expired Access session redirects the request to the Access
 *   login page on another origin.
 * - `aborted`: the request was cancelled (e.g. after sign-out).
 * - `user_not_found`: Access signed the person in, but Backstage has no user
 *   for them (the backend's 403 with reason `user_not_found`).
 * - `other`: anything else (503 when the backend cannot get the Access keys,
 *   500, malformed responses, ...).
 *
 * @internal
 */
export type RefreshFailureKind =
  | 'unauthorized'
  | 'network'
  | 'aborted'
  | 'user_not_found'
  | 'other';

/**
 * The backend's own error (`{ name, message, reason? }`) behind a
 * `ResponseError`: its parsed body, or the cause deserialized from it.
 */
function backendError(
  error: object,
): { message?: unknown; reason?: unknown } | undefined {
  const { body, cause } = error as {
    body?: { error?: { message?: unknown; reason?: unknown } };
    cause?: { message?: unknown; reason?: unknown };
  };
  const fromBody = body?.error;
  if (fromBody && typeof fromBody === 'object') {
    return fromBody;
  }
  return cause && typeof cause === 'object' ? cause : undefined;
}

/**
 * The backend's sentence for a `user_not_found` answer ("Cloudflare Access
 * signed you in as …, but Backstage has no user for that email; …"), if the
 * error is one.
 *
 * @internal
 */
export function userNotFoundMessage(error: unknown): string | undefined {
  if (classifyRefreshError(error) !== 'user_not_found') {
    return undefined;
  }
  const { message } = backendError(error as object) ?? {};
  return typeof message === 'string' && message ? message : undefined;
}

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
  if (status === 403 && backendError(error)?.reason === 'user_not_found') {
    return 'user_not_found';
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
