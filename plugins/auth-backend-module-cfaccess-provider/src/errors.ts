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
  | 'wrong_token_type'
  | 'missing_claims'
  | 'unknown_service_token'
  | 'keys_unavailable'
  | 'conflicting_tokens';

/**
 * The reason code in the body of every error this module answers with
 * (`error.reason`, and in the message): a token rejection
 * ({@link CloudflareAccessRejectionReason}), `user_not_found` (403: no
 * sign-in resolver found a catalog user) or `identity_unavailable` (503: the
 * groups resolver could not get the person's Access groups).
 *
 * @public
 */
export type CloudflareAccessReasonCode =
  | CloudflareAccessRejectionReason
  | 'user_not_found'
  | 'identity_unavailable'
  | CloudflareAccessBoundaryReason;

/**
 * Why the Access boundary refused a request, beyond a token rejection:
 * `identity_mismatch` (403: the Backstage token belongs to someone other than
 * the person Access signed in), `conflicting_credentials` (401: more than one
 * Authorization credential), `boundary_unavailable` (503: the boundary has
 * no sign-in provider yet), and a boundary rule's requirements (403, 503 for
 * `access_context_unavailable`): `people_only`,
 * `access_application_required`, `country_not_allowed`,
 * `identity_provider_not_allowed`, `warp_required`, `posture_required`,
 * `posture_stale`.
 *
 * @public
 */
export type CloudflareAccessBoundaryReason =
  | 'identity_mismatch'
  | 'conflicting_credentials'
  | 'boundary_unavailable'
  | CloudflareAccessRuleReason;

/**
 * Why a request did not meet a boundary rule (`boundary.rules`): the
 * requirement it failed, or 503 `access_context_unavailable` when Access's
 * get-identity could not be reached for the device facts the rule needs.
 *
 * @public
 */
export type CloudflareAccessRuleReason =
  | 'people_only'
  | 'access_application_required'
  | 'country_not_allowed'
  | 'identity_provider_not_allowed'
  | 'warp_required'
  | 'posture_required'
  | 'posture_stale'
  | 'access_context_unavailable';

// Per reason: `status`, the HTTP status its error class answers with;
// `sentence`, all the caller is told, the same for every error with this
// reason (for user_not_found its general form: the message names the caller
// and the resolvers tried); `hint`, what an operator can do, for the server
// log with the details. Tests hold the error classes and the troubleshooting
// page's table to the status and sentence.
const texts: Record<
  CloudflareAccessReasonCode,
  { status: 401 | 403 | 503; sentence: string; hint: string }
> = {
  missing_token: {
    status: 401,
    sentence: 'No Cloudflare Access application token was sent.',
    hint: 'make sure the request passes through Cloudflare Access for this application',
  },
  malformed_token: {
    status: 401,
    sentence: 'The value sent is not a Cloudflare Access application token.',
    hint: 'the value is not a Cloudflare Access application token in compact form',
  },
  token_too_large: {
    status: 401,
    sentence: 'The token is larger than this server accepts.',
    hint: 'raise maxTokenBytes if Access really issues tokens this large',
  },
  unsupported_alg: {
    status: 401,
    sentence: 'The token is not signed with RS256.',
    hint: 'Cloudflare Access only signs tokens with RS256',
  },
  unknown_kid: {
    status: 401,
    sentence: 'The token is not signed by a current key of this Access team.',
    hint: 'the token was not signed by a current key of this Access team domain',
  },
  bad_signature: {
    status: 401,
    sentence: 'The token signature is not valid.',
    hint: 'the token was not signed by this Access team domain',
  },
  expired: {
    status: 401,
    sentence: 'The token has expired; sign in again through Cloudflare Access.',
    hint: 'sign in again through Cloudflare Access; check the clock of this server',
  },
  not_yet_valid: {
    status: 401,
    sentence: 'The token is not valid yet.',
    hint: 'check the clock of this server',
  },
  wrong_issuer: {
    status: 401,
    sentence: 'The token was issued by another Access team.',
    hint: 'check auth.providers.cfaccess.teamName / teamDomain against the Zero Trust team domain',
  },
  wrong_audience: {
    status: 401,
    sentence: 'The token is for another Access application.',
    hint: "check auth.providers.cfaccess.audience against the application's AUD tag",
  },
  wrong_token_type: {
    status: 401,
    sentence: 'The token is not an Access application token.',
    hint: 'only application tokens (type "app") sign in; the organisation token (type "org") is not meant for applications',
  },
  missing_claims: {
    status: 401,
    sentence: 'The token names neither a person nor a service token.',
    hint: 'Access issued a token without a user identity or service token Client ID',
  },
  unknown_service_token: {
    status: 401,
    sentence: 'This service token is not allowed to sign in.',
    hint: 'add the Client ID to auth.providers.cfaccess.serviceTokens to allow it',
  },
  conflicting_tokens: {
    status: 401,
    sentence:
      'The request carries more than one Cloudflare Access token, or a header and a cookie that disagree.',
    hint: 'a request through Access carries one application token; something between Access and Backstage added another',
  },
  keys_unavailable: {
    status: 503,
    sentence:
      'The Cloudflare Access signing keys are unavailable; try again shortly.',
    hint: 'check that this server reaches <team domain>/cdn-cgi/access/certs',
  },
  user_not_found: {
    status: 403,
    sentence:
      'Cloudflare Access signed you in, but Backstage has no user for you; ask your Backstage admin.',
    hint: 'add a catalog User for this person or service token subject, or check the sign-in resolvers',
  },
  identity_unavailable: {
    status: 503,
    sentence:
      'Your Cloudflare Access groups are unavailable right now; try signing in again shortly.',
    hint: 'check that this server reaches <team domain>/cdn-cgi/access/get-identity',
  },
  identity_mismatch: {
    status: 403,
    sentence:
      'Your Backstage token belongs to someone other than your Cloudflare Access session; sign in again.',
    hint: 'the Backstage token was issued to another user than the one this Access session signs in as (a copied token, or a shared browser)',
  },
  conflicting_credentials: {
    status: 401,
    sentence: 'The request carries more than one Authorization credential.',
    hint: 'send one Authorization header with one credential',
  },
  boundary_unavailable: {
    status: 503,
    sentence:
      'Backstage cannot check Cloudflare Access right now; try again shortly.',
    hint: 'the Access boundary has no cfaccess sign-in provider: register it through cloudflareAccessServiceRef (the module does), and wait for startup to finish',
  },
  people_only: {
    status: 403,
    sentence: 'Only a person may do this, not a service token.',
    hint: 'a boundary rule with require.peopleOnly matched a service token; give the job a person, or change the rule',
  },
  access_application_required: {
    status: 403,
    sentence:
      'This needs a sign-in through the Cloudflare Access application that protects it; reload the page to sign in there.',
    hint: 'a boundary rule with require.accessApplication matched a token issued for another Access application: put the path behind that application in Cloudflare Access',
  },
  country_not_allowed: {
    status: 403,
    sentence: 'This is not allowed from the country your request comes from.',
    hint: 'a boundary rule with require.countries matched a token whose country claim is not in the list',
  },
  identity_provider_not_allowed: {
    status: 403,
    sentence:
      'This needs a sign-in through another identity provider; sign out of Cloudflare Access and sign in with the one your team requires.',
    hint: 'a boundary rule with require.identityProviders matched a session signed in through another identity provider (get-identity idp)',
  },
  warp_required: {
    status: 403,
    sentence:
      'This needs the Cloudflare WARP client: turn WARP on, connect, and try again.',
    hint: 'a boundary rule with require.warp matched a request that did not come through the WARP client (get-identity is_warp)',
  },
  posture_required: {
    status: 403,
    sentence:
      'This device has not passed a device posture check this needs; fix what the check looks for, let the WARP client report again, and try again.',
    hint: 'a boundary rule with require.devicePosture matched a device whose result for that posture rule is missing or failed (get-identity devicePosture)',
  },
  posture_stale: {
    status: 403,
    sentence:
      "This device's posture check passed too long ago; make sure the Cloudflare WARP client is running and connected, wait for it to report, and try again.",
    hint: "a boundary rule's devicePosture maxAge is shorter than the age of the device's last passing result: is the WARP client reporting (every 5 minutes by default)?",
  },
  access_context_unavailable: {
    status: 503,
    sentence:
      "Backstage cannot check your device's Cloudflare Access status right now; try again shortly.",
    hint: 'a boundary rule needs get-identity (WARP, device posture, identity provider) and it could not be reached: check that this server reaches <team domain>/cdn-cgi/access/get-identity',
  },
};

/**
 * Every reason code a caller can see, in the order the docs list them: read
 * from the table above, which the compiler holds to exactly the codes of the
 * type.
 *
 * @internal
 */
export const cloudflareAccessReasonCodes = Object.keys(
  texts,
) as readonly CloudflareAccessReasonCode[];

/** The boundary's own reasons, in the order the docs list them. @internal */
export const boundaryReasons: readonly CloudflareAccessBoundaryReason[] = [
  'identity_mismatch',
  'conflicting_credentials',
  'boundary_unavailable',
  'people_only',
  'access_application_required',
  'country_not_allowed',
  'identity_provider_not_allowed',
  'warp_required',
  'posture_required',
  'posture_stale',
  'access_context_unavailable',
];

const signInRefusals: readonly CloudflareAccessReasonCode[] = [
  'user_not_found',
  'identity_unavailable',
  ...boundaryReasons,
];

/** The token rejections among them. @internal */
export const tokenRejectionReasons = cloudflareAccessReasonCodes.filter(
  code => !signInRefusals.includes(code),
) as readonly CloudflareAccessRejectionReason[];

/** What an operator can do about a reason (server log only). @internal */
export function rejectionHint(reason: CloudflareAccessReasonCode): string {
  return texts[reason].hint;
}

/** The one sentence a caller is told for a reason. @internal */
export function rejectionSentence(reason: CloudflareAccessReasonCode): string {
  return texts[reason].sentence;
}

/** The HTTP status an error with this reason answers with. @internal */
export function reasonStatus(reason: CloudflareAccessReasonCode): number {
  return texts[reason].status;
}

// Built once per reason: a rejection formats nothing.
const messages = Object.fromEntries(
  tokenRejectionReasons.map(reason => [
    reason,
    `Cloudflare Access token rejected (${reason}): ${texts[reason].sentence}`,
  ]),
) as Record<CloudflareAccessRejectionReason, string>;

/**
 * What a rejection tells the server log and nobody else.
 *
 * @public
 */
export type CloudflareAccessRejectionDetails = {
  /** What exactly failed, e.g. when the token expired or which Client ID it names. */
  detail: string;
  /** The token's email, service token Client ID or `sub`, when known. */
  subject?: string;
  /** The underlying error (jose's, a network error). */
  cause?: unknown;
};

function detailsFrom(
  detail: string,
  options?: { subject?: string; cause?: unknown },
): CloudflareAccessRejectionDetails {
  const details: CloudflareAccessRejectionDetails = { detail };
  if (options?.subject !== undefined) {
    details.subject = options.subject;
  }
  if (options?.cause !== undefined) {
    details.cause = options.cause;
  }
  return details;
}

// The details live in private fields, not own properties: Backstage's error
// handler serialises every own property and the whole `cause` chain into the
// response body, which must carry the reason code and one sentence only.

/**
 * A 401 for a token that failed verification. The `name` stays
 * `AuthenticationError` so Backstage's error handler answers 401. The message
 * (and so the response body) is the reason code and one sentence; `details`
 * (what failed, the subject, the cause) are for the server log.
 *
 * @public
 */
export class CloudflareAccessAuthenticationError extends AuthenticationError {
  /** Why the token was rejected; also in the response body. */
  readonly reason: CloudflareAccessRejectionReason;
  readonly #details: CloudflareAccessRejectionDetails;

  constructor(
    reason: CloudflareAccessRejectionReason,
    detail: string,
    options?: { subject?: string; cause?: unknown },
  ) {
    super(messages[reason]);
    this.reason = reason;
    this.#details = detailsFrom(detail, options);
  }

  /** What failed, the subject and the cause; for the server log only. */
  get details(): CloudflareAccessRejectionDetails {
    return this.#details;
  }

  /** The token's email, Client ID or `sub`, when known; for the server log only. */
  get subject(): string | undefined {
    return this.#details.subject;
  }
}

/**
 * A 503 when no signing keys can be had: the token might be fine, we just
 * cannot tell, so we refuse without blaming the caller. The certs URL and the
 * network error are in `details`, for the server log only.
 *
 * @public
 */
export class CloudflareAccessKeysUnavailableError extends ServiceUnavailableError {
  /** Always `keys_unavailable`; also in the response body. */
  readonly reason: CloudflareAccessRejectionReason = 'keys_unavailable';
  readonly #details: CloudflareAccessRejectionDetails;

  constructor(detail: string, cause?: unknown) {
    super(messages.keys_unavailable);
    this.#details = detailsFrom(detail, { cause });
  }

  /** What failed and the cause; for the server log only. */
  get details(): CloudflareAccessRejectionDetails {
    return this.#details;
  }
}

/** Error.captureStackTrace, which withoutStackTrace hides for a moment. */
const errorConstructor = Error as { captureStackTrace?: unknown };

/**
 * Builds an error without capturing a stack trace. A rejected token is an
 * expected outcome whose reason code says where it failed, and the stack is
 * a large part of the cost of rejecting a forged token (the first-verification
 * benchmark shows it). The `cause` keeps its own stack.
 *
 * Backstage's error base class captures the stack a second time through
 * `Error.captureStackTrace?.()`, which also turns the error into a slow
 * dictionary-mode object for every property set after it, so that is hidden
 * too while `create` runs (synchronously; both are restored before anything
 * else can run). Where the intrinsics are frozen, only the limit applies.
 *
 * @internal
 */
export function withoutStackTrace<T extends Error>(create: () => T): T {
  const limit = Error.stackTraceLimit;
  const capture = errorConstructor.captureStackTrace;
  let hidden = false;
  Error.stackTraceLimit = 0;
  try {
    try {
      errorConstructor.captureStackTrace = undefined;
      hidden = errorConstructor.captureStackTrace === undefined;
    } catch {
      // Not writable: the error captures an empty stack twice instead.
    }
    return create();
  } finally {
    Error.stackTraceLimit = limit;
    if (hidden) {
      errorConstructor.captureStackTrace = capture;
    }
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
  /** Always `user_not_found`; also in the response body. */
  readonly reason = 'user_not_found' as const;
}

/**
 * A 503 from `signInWithCatalogUserAndAccessGroups` when get-identity was
 * unavailable: the person's groups are unknown rather than empty, so the
 * sign-in fails closed. The reason code is in the message, so Backstage's
 * error log of the 503 names it.
 *
 * @public
 */
export class CloudflareAccessIdentityUnavailableError extends ServiceUnavailableError {
  /** Always `identity_unavailable`; also in the response body. */
  readonly reason = 'identity_unavailable' as const;

  constructor() {
    super(
      `Cloudflare Access sign-in unavailable (identity_unavailable): ${texts.identity_unavailable.sentence}`,
    );
  }
}
