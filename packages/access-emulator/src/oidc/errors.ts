/*
 * How a sign-in through an OpenID Connect provider fails: an error with a status, a title and a message
 * fit for the user, and a short reason for the log; never a token, a code or a secret.
 */
import * as client from 'openid-client';

/** A login failure with a message fit for the user (no secrets) and an HTTP status. */
export class OidcLoginError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
    /** Short, secret-free reason for the request log. */
    readonly logReason: string,
  ) {
    super(message);
    this.name = 'OidcLoginError';
  }
}

/** A short, secret-free description of an error thrown by openid-client or fetch. */
export function describeOidcError(error: unknown): string {
  if (error instanceof client.AuthorizationResponseError) {
    return `authorization error ${error.error}`;
  }
  if (error instanceof client.ResponseBodyError) {
    return `IdP answered ${error.status} ${error.error}`;
  }
  if (error instanceof client.WWWAuthenticateChallengeError) {
    const challenge = error.cause?.[0];
    const code = challenge?.parameters?.error;
    return `IdP answered ${error.status}${
      typeof code === 'string' ? ` ${code}` : ''
    } (${challenge?.scheme ?? 'challenge'})`;
  }
  const e = error as {
    name?: string;
    message?: string;
    code?: string;
    cause?: any;
  };
  const cause = e?.cause?.code ?? e?.cause?.name;
  const parts = [
    e?.code ?? e?.name ?? 'Error',
    (e?.message ?? String(error)).slice(0, 200),
    cause ? `(${cause})` : '',
  ];
  return parts.filter(Boolean).join(': ').replace(/: \(/, ' (');
}

/** The error page for an `error=` answer from the IdP (e.g. the user cancelled: access_denied). */
export function idpError(
  providerName: string,
  error: unknown,
  description: unknown,
): OidcLoginError {
  const code =
    typeof error === 'string' && /^[\x20-\x7e]{1,64}$/.test(error)
      ? error
      : 'unknown_error';
  const detail =
    typeof description === 'string' && description.trim()
      ? `: ${description.trim().slice(0, 300)}`
      : '';
  const denied = code === 'access_denied';
  return new OidcLoginError(
    denied ? 403 : 400,
    denied ? 'Access denied' : 'Sign-in failed',
    `${providerName} answered "${code}"${detail}.`,
    `IdP error ${code}`,
  );
}

/**
 * A failure of a login step as the page shows it: an OidcLoginError as thrown; anything else (from
 * openid-client or fetch) a 502 with `message(detail)`, logged as `<step> failed: <detail>`.
 */
export function asLoginError(
  error: unknown,
  step: string,
  title: string,
  message: (detail: string) => string,
): OidcLoginError {
  if (error instanceof OidcLoginError) {
    return error;
  }
  const detail = describeOidcError(error);
  return new OidcLoginError(
    502,
    title,
    message(detail),
    `${step} failed: ${detail}`,
  );
}
