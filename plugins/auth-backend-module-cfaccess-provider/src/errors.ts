import {
  AuthenticationError,
  NotAllowedError,
  ServiceUnavailableError,
} from '@backstage/errors';

/**
 * Why a Cloudflare Access application token was rejected.
 *
 * Every rejection carries exactly one of these so logs, metrics and the
 * error message shown to the caller all name the same cause.
 *
 * @public
 */
export type CloudflareAccessRejectionReason =
  | 'missing_token'
  | 'malformed_token'
  | 'token_too_large'
  | 'unsupported_alg'
  | 'unknown_kid'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'missing_claims'
  | 'unknown_service_token'
  | 'keys_unavailable';

/**
 * All reason codes, handy for docs and exhaustive tests.
 *
 * @public
 */
export const cloudflareAccessRejectionReasons: readonly CloudflareAccessRejectionReason[] =
  [
    'missing_token',
    'malformed_token',
    'token_too_large',
    'unsupported_alg',
    'unknown_kid',
    'bad_signature',
    'expired',
    'not_yet_valid',
    'wrong_issuer',
    'wrong_audience',
    'missing_claims',
    'unknown_service_token',
    'keys_unavailable',
  ];

// What the caller can do about each reason; kept next to the codes so the
// README troubleshooting table and the messages stay in sync.
const hints: Record<CloudflareAccessRejectionReason, string> = {
  missing_token:
    'make sure the request passes through Cloudflare Access for this application',
  malformed_token: 'the value is not a Cloudflare Access application token',
  token_too_large: 'the value is not a Cloudflare Access application token',
  unsupported_alg: 'Cloudflare Access only signs tokens with RS256',
  unknown_kid:
    'the token was not signed by a current key of this Access team domain',
  bad_signature: 'the token was not signed by this Access team domain',
  expired: 'sign in again through Cloudflare Access',
  not_yet_valid: 'check the clock of this server',
  wrong_issuer:
    'check auth.providers.cfaccess.teamName / teamDomain against the Zero Trust team domain',
  wrong_audience:
    "check auth.providers.cfaccess.audience against the application's AUD tag",
  missing_claims:
    'Access issued a token without a user identity or service token Client ID',
  unknown_service_token:
    'add the Client ID to auth.providers.cfaccess.serviceTokens to allow it',
  keys_unavailable:
    'the Access signing keys could not be fetched; try again shortly',
};

/** @internal */
export function rejectionHint(reason: CloudflareAccessRejectionReason): string {
  return hints[reason];
}

function formatMessage(
  reason: CloudflareAccessRejectionReason,
  detail: string,
): string {
  return `Cloudflare Access token rejected (${reason}): ${detail}; ${hints[reason]}`;
}

/**
 * A 401 for a token that failed verification. The `name` stays
 * `AuthenticationError` so Backstage's error handler answers 401.
 *
 * @public
 */
export class CloudflareAccessAuthenticationError extends AuthenticationError {
  readonly reason: CloudflareAccessRejectionReason;
  readonly subject?: string;

  constructor(
    reason: CloudflareAccessRejectionReason,
    detail: string,
    options?: { subject?: string; cause?: unknown },
  ) {
    super(formatMessage(reason, detail), options?.cause);
    this.reason = reason;
    this.subject = options?.subject;
  }
}

/**
 * A 503 when no signing keys can be had: the token might be fine, we just
 * cannot tell, so we refuse without blaming the caller.
 *
 * @public
 */
export class CloudflareAccessKeysUnavailableError extends ServiceUnavailableError {
  readonly reason: CloudflareAccessRejectionReason = 'keys_unavailable';

  constructor(detail: string, cause?: unknown) {
    super(formatMessage('keys_unavailable', detail), cause);
  }
}

/**
 * Builds an error without capturing a stack trace. A rejected token is an
 * expected outcome whose reason code says where it failed, and the stack
 * (captured twice by Backstage's error base class) was about a sixth of the
 * cost of rejecting a forged token. The `cause` keeps its own stack.
 *
 * @internal
 */
export function withoutStackTrace<T extends Error>(create: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return create();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Either rejection error. @public */
export type CloudflareAccessRejection =
  | CloudflareAccessAuthenticationError
  | CloudflareAccessKeysUnavailableError;

/** @internal */
export function isCloudflareAccessRejection(
  error: unknown,
): error is CloudflareAccessRejection {
  return (
    error instanceof CloudflareAccessAuthenticationError ||
    error instanceof CloudflareAccessKeysUnavailableError
  );
}

/**
 * A 403 when Cloudflare Access signed the caller in, but none of the sign-in
 * resolvers found a catalog User for them. The `name` stays
 * `NotAllowedError` so Backstage's error handler answers 403; the message is
 * one sentence for the caller, the details are in the server log.
 *
 * @public
 */
export class CloudflareAccessUserNotFoundError extends NotAllowedError {
  readonly reason = 'user_not_found' as const;
}
