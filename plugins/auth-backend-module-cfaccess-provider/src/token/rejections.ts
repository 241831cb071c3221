import { errors as joseErrors } from 'jose';
import {
  CloudflareAccessAuthenticationError,
  CloudflareAccessRejectionReason,
  isCloudflareAccessRejection,
  withoutStackTrace,
} from '../errors';
import { logValue } from '../lib/logValue';
import { subjectOf } from './claims';

/** A 401 rejection, built without a stack trace (see withoutStackTrace). */
export const reject = (
  reason: CloudflareAccessRejectionReason,
  detail: string,
  options?: { subject?: string; cause?: unknown },
) =>
  withoutStackTrace(
    () => new CloudflareAccessAuthenticationError(reason, detail, options),
  );

// A signed exp/nbf may lie outside the Date range (e.g. 1e308): describe it rather than throw a RangeError.
const isoTime = (seconds: unknown) => {
  const date = new Date(typeof seconds === 'number' ? seconds * 1000 : NaN);
  return Number.isNaN(date.getTime()) ? 'an unknown time' : date.toISOString();
};

/** jose's verification error as the rejection with its reason code; our own rejections pass through. */
export function mapJoseError(
  error: unknown,
  config: { issuer: string },
): Error {
  // A forged signature first: the rejection an attacker can ask for at will.
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return reject(
      'bad_signature',
      'the signature does not match the signing key named by its kid',
      { cause: error },
    );
  }
  // Thrown by resolveKey (no kid, unknown kid, keys unavailable): already ours.
  if (isCloudflareAccessRejection(error)) {
    return error;
  }
  if (error instanceof joseErrors.JWTExpired) {
    return reject(
      'expired',
      `the token expired at ${isoTime(error.payload.exp)}`,
      { subject: subjectOf(error.payload), cause: error },
    );
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    const subject = subjectOf(error.payload);
    switch (error.claim) {
      case 'nbf':
        return reject(
          'not_yet_valid',
          `the token is not valid before ${isoTime(error.payload.nbf)}`,
          { subject, cause: error },
        );
      case 'iss':
        return reject(
          'wrong_issuer',
          `the token was issued by ${logValue(
            String(error.payload.iss ?? ''),
          )}, expected ${config.issuer}`,
          { subject, cause: error },
        );
      case 'aud':
        return reject(
          'wrong_audience',
          'the token is for another Access application (no configured AUD tag in its aud)',
          { subject, cause: error },
        );
      case 'exp':
        return reject('missing_claims', 'the token has no valid exp claim', {
          subject,
          cause: error,
        });
      default:
        return reject(
          'malformed_token',
          `the ${error.claim} claim is invalid (${error.reason})`,
          { subject, cause: error },
        );
    }
  }
  if (
    error instanceof joseErrors.JOSEAlgNotAllowed ||
    error instanceof joseErrors.JOSENotSupported
  ) {
    return reject('unsupported_alg', 'only RS256 is accepted', {
      cause: error,
    });
  }
  return reject('malformed_token', 'the token could not be parsed', {
    cause: error,
  });
}
