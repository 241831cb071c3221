/*
 * How the OAuth endpoints answer: JSON that no cache keeps, errors as RFC 6749 `{ error,
 * error_description }`, and a `caller` for the request log that names the reason (descriptions never
 * carry a token, code, verifier or secret).
 */
import type { Response } from 'express';

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'invalid_target'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_client_metadata'
  | 'invalid_redirect_uri'
  | 'temporarily_unavailable';

/** Names what the request log prints for this request (see app.ts). */
export function logCaller(res: Response, caller: string) {
  res.locals.caller = caller;
}

export function sendJson(res: Response, status: number, body: object) {
  res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  res.status(status).json(body);
}

export function sendOAuthError(
  res: Response,
  status: number,
  error: OAuthErrorCode,
  description: string,
  headers: Record<string, string> = {},
) {
  logCaller(res, `oauth: ${description}`);
  res.set(headers);
  sendJson(res, status, { error, error_description: description });
}

/** A request parameter that was sent once: a repeated one is no value (and refused as such). */
export function single(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
