/**
 * Every reason code the backend module
 * (`@cfaccess/plugin-auth-backend-module-cfaccess-provider`) puts in
 * `error.reason` of its error bodies.
 *
 * - Token rejections (401, `keys_unavailable` 503): `missing_token`,
 *   `malformed_token`, `token_too_large`, `unsupported_alg`, `unknown_kid`,
 *   `bad_signature`, `expired`, `not_yet_valid`, `wrong_issuer`,
 *   `wrong_audience`, `wrong_token_type`, `missing_claims`,
 *   `unknown_service_token`, `conflicting_tokens`, `keys_unavailable`.
 * - Sign-in: `user_not_found` (403), `identity_unavailable` (503: Access's
 *   get-identity could not be reached).
 * - The Access boundary in front of every plugin route: `identity_mismatch`
 *   (403), `conflicting_credentials` (401), `boundary_unavailable` (503), and
 *   the 403s of its access rules: `posture_required`, `posture_stale`,
 *   `warp_required`, `country_not_allowed`, `identity_provider_not_allowed`,
 *   `people_only`, `access_application_required`; and their 503
 *   `access_context_unavailable` (Access's get-identity could not be reached
 *   for the device facts a rule needs).
 *
 * @public
 */
export type CloudflareAccessRefusalReason =
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
  | 'conflicting_tokens'
  | 'keys_unavailable'
  | 'user_not_found'
  | 'identity_unavailable'
  | 'identity_mismatch'
  | 'conflicting_credentials'
  | 'boundary_unavailable'
  | 'posture_required'
  | 'posture_stale'
  | 'warp_required'
  | 'country_not_allowed'
  | 'identity_provider_not_allowed'
  | 'people_only'
  | 'access_application_required'
  | 'access_context_unavailable';

/**
 * What the refused request would have needed, when the backend says
 * (`error.requirement` of the body).
 *
 * @public
 */
export type CloudflareAccessRequirement = {
  /**
   * The display name of the device posture check the device has to pass
   * (with `posture_required` and `posture_stale`), e.g. `Disk encryption`.
   */
  postureCheck?: string;
};

/**
 * A request refused by Cloudflare Access checks in the Backstage backend, as
 * read by {@link getCloudflareAccessRefusal}.
 *
 * @public
 */
export type CloudflareAccessRefusal = {
  /**
   * The reason code. A code this version of the package does not know is
   * kept as it is (and gets generic advice).
   */
  reason: CloudflareAccessRefusalReason | (string & {});
  /** What the request would have needed, when the backend says. */
  requirement?: CloudflareAccessRequirement;
  /** The backend's message (reason code and one sentence). */
  message: string;
};

/**
 * All the known codes, for recognising bodies whose message was changed; a
 * record, so that the compiler holds it to exactly the codes of the type.
 */
const KNOWN: Record<CloudflareAccessRefusalReason, true> = {
  missing_token: true,
  malformed_token: true,
  token_too_large: true,
  unsupported_alg: true,
  unknown_kid: true,
  bad_signature: true,
  expired: true,
  not_yet_valid: true,
  wrong_issuer: true,
  wrong_audience: true,
  wrong_token_type: true,
  missing_claims: true,
  unknown_service_token: true,
  conflicting_tokens: true,
  keys_unavailable: true,
  user_not_found: true,
  identity_unavailable: true,
  identity_mismatch: true,
  conflicting_credentials: true,
  boundary_unavailable: true,
  posture_required: true,
  posture_stale: true,
  warp_required: true,
  country_not_allowed: true,
  identity_provider_not_allowed: true,
  people_only: true,
  access_application_required: true,
  access_context_unavailable: true,
};
const KNOWN_REASONS: ReadonlySet<string> = new Set(Object.keys(KNOWN));

/** @internal */
export function isKnownCloudflareAccessReason(
  reason: string,
): reason is CloudflareAccessRefusalReason {
  return KNOWN_REASONS.has(reason);
}

/** The shape of the backend's codes: lower case, digits and underscores. */
const REASON_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

/** Every message of the backend module starts with this. */
const MESSAGE_PREFIX = 'Cloudflare Access';

/**
 * The reason code in a message of the backend module, e.g. "Cloudflare Access
 * boundary refused the request (posture_required): …" or "Cloudflare Access
 * token rejected (expired): …".
 */
const MESSAGE_PATTERN =
  /Cloudflare Access [A-Za-z -]{1,60}\(([a-z][a-z0-9_]{0,63})\)/;

/** The posture check's name in the boundary's message. */
const POSTURE_CHECK_PATTERN = /Posture check: "([^"\\]{1,200})"/;

/** Longest text searched for a body or a message; longer input is cut. */
const MAX_TEXT = 64 * 1024;
/** Longest message kept, and longest posture check name. */
const MAX_MESSAGE = 1000;
const MAX_NAME = 200;
/** How many `cause`s are followed (an error wrapping a `ResponseError`). */
const MAX_DEPTH = 3;

/**
 * Reads one property without trusting the object: a getter or a proxy that
 * throws reads as undefined.
 */
function read(value: unknown, key: string): unknown {
  if (value === null || typeof value !== 'object') {
    return undefined;
  }
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function requirementOf(
  value: unknown,
): CloudflareAccessRequirement | undefined {
  const postureCheck = read(value, 'postureCheck');
  if (typeof postureCheck !== 'string' || !postureCheck.trim()) {
    return undefined;
  }
  return { postureCheck: clip(postureCheck.trim(), MAX_NAME) };
}

function refusal(
  reason: string,
  message: unknown,
  requirement?: CloudflareAccessRequirement,
): CloudflareAccessRefusal {
  const text =
    typeof message === 'string' && message.trim()
      ? clip(message.trim(), MAX_MESSAGE)
      : `Cloudflare Access refused the request (${reason})`;
  return requirement
    ? { reason, requirement, message: text }
    : { reason, message: text };
}

/**
 * A serialised error of the backend module: `{ name, message, reason,
 * requirement? }`, as in `body.error` or a `ResponseError`'s `cause`. Its
 * message is searched too (a body that is only text, or a wrapped error).
 */
function fromErrorObject(
  value: unknown,
  depth: number,
): CloudflareAccessRefusal | undefined {
  const reason = read(value, 'reason');
  const message = read(value, 'message');
  if (
    typeof reason === 'string' &&
    REASON_PATTERN.test(reason) &&
    (KNOWN_REASONS.has(reason) ||
      (typeof message === 'string' && message.startsWith(MESSAGE_PREFIX)))
  ) {
    return refusal(reason, message, requirementOf(read(value, 'requirement')));
  }
  return typeof message === 'string' ? fromText(message, depth) : undefined;
}

/** Backstage's error body: `{ error: { … }, request, response }`. */
function fromBody(
  value: unknown,
  depth: number,
): CloudflareAccessRefusal | undefined {
  const error = read(value, 'error');
  return error !== null && typeof error === 'object'
    ? fromErrorObject(error, depth)
    : undefined;
}

/**
 * A message with the body in it, e.g. the scaffolder's "Backend request
 * failed, 403 Forbidden {…}", or a message of the backend module itself.
 */
function fromText(
  text: string,
  depth: number,
): CloudflareAccessRefusal | undefined {
  if (
    depth > MAX_DEPTH ||
    !(text.includes(MESSAGE_PREFIX) || text.includes('"reason"'))
  ) {
    return undefined;
  }
  const searched = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
  const start = searched.indexOf('{');
  if (start >= 0 && searched.length === text.length) {
    try {
      const parsed: unknown = JSON.parse(searched.slice(start));
      const found = fromBody(parsed, depth + 1);
      if (found) {
        return found;
      }
    } catch {
      // Not JSON after all; the message may still name the reason.
    }
  }
  const match = MESSAGE_PATTERN.exec(searched);
  if (!match) {
    return undefined;
  }
  const from = searched.indexOf(MESSAGE_PREFIX, match.index);
  // The backend's message runs to the end of its JSON string when it is one
  // (a quote not escaped), else to the end of the line.
  const inJson = searched.slice(Math.max(0, from - 12), from).includes('"');
  const rest = searched.slice(from);
  const end = inJson ? rest.search(/(?<!\\)"/) : rest.search(/\n/);
  let message = end >= 0 ? rest.slice(0, end) : rest;
  if (inJson) {
    message = message.replace(/\\"/g, '"');
  }
  // The boundary adds the posture check's name: `Posture check: "…".`
  const check = POSTURE_CHECK_PATTERN.exec(message);
  return refusal(
    match[1],
    message,
    check ? requirementOf({ postureCheck: check[1] }) : undefined,
  );
}

function fromValue(
  value: unknown,
  depth: number,
): CloudflareAccessRefusal | undefined {
  if (typeof value === 'string') {
    return fromText(value, depth);
  }
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) {
    return undefined;
  }
  return (
    // A ResponseError: `body` is the parsed error body.
    fromBody(read(value, 'body'), depth) ??
    // The body itself.
    fromBody(value, depth) ??
    // The serialised error (`body.error`, a ResponseError's `cause`), or an
    // error whose message carries the body.
    fromErrorObject(value, depth) ??
    // An error wrapping one of the above.
    fromValue(read(value, 'cause'), depth + 1)
  );
}

/**
 * Recognises a request refused by Cloudflare Access checks in the Backstage
 * backend, in whatever a plugin caught.
 *
 * @remarks
 *
 * Understands:
 *
 * - a `ResponseError` from `@backstage/errors` (its parsed `body`, or its
 *   `cause`), also when wrapped as the `cause` of another error;
 * - Backstage's parsed error body, with `error.name`, `error.message`,
 *   `error.reason` and `error.requirement`, or its `error` object alone;
 * - an `Error` whose message carries the body, e.g. the scaffolder's
 *   `Backend request failed, 403 Forbidden` followed by the body's JSON, or
 *   the backend's own message, e.g.
 *   `Cloudflare Access boundary refused the request (posture_required): …`.
 *
 * A body is a refusal when `error.reason` is a reason code and either one
 * this package knows or the message starts with "Cloudflare Access"; a code it
 * does not know is kept as it is. Anything else, including a `Response`
 * (whose body cannot be read synchronously; see
 * {@link readCloudflareAccessRefusal}), gives `undefined`. Never throws.
 *
 * @example
 * ```tsx
 * const refusal = getCloudflareAccessRefusal(error);
 * return refusal ? (
 *   <CloudflareAccessRefusalPanel refusal={refusal} />
 * ) : (
 *   <ResponseErrorPanel error={error} />
 * );
 * ```
 *
 * @public
 */
export function getCloudflareAccessRefusal(
  error: unknown,
): CloudflareAccessRefusal | undefined {
  try {
    return fromValue(error, 0);
  } catch {
    // Defensive: odd input is not a refusal.
    return undefined;
  }
}

function isResponse(value: unknown): value is Response {
  return (
    (typeof Response !== 'undefined' && value instanceof Response) ||
    (typeof read(value, 'status') === 'number' &&
      typeof read(value, 'clone') === 'function' &&
      typeof read(value, 'text') === 'function')
  );
}

/**
 * Like {@link getCloudflareAccessRefusal}, and also reads a failed `Response`
 * (from `fetchApi.fetch`). The body is read from a clone, so the caller can
 * still read the response. Never rejects.
 *
 * @public
 */
export async function readCloudflareAccessRefusal(
  errorOrResponse: unknown,
): Promise<CloudflareAccessRefusal | undefined> {
  try {
    if (!isResponse(errorOrResponse)) {
      return getCloudflareAccessRefusal(errorOrResponse);
    }
    const response = errorOrResponse;
    if (response.ok || response.status < 400 || response.bodyUsed) {
      return undefined;
    }
    const text = await response.clone().text();
    if (text.length <= MAX_TEXT) {
      try {
        return getCloudflareAccessRefusal(JSON.parse(text));
      } catch {
        // Not JSON: searched as text below.
      }
    }
    return getCloudflareAccessRefusal(text);
  } catch {
    return undefined;
  }
}
