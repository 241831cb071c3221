/*
 * What the doctor shows of a token: its header (alg, kid) and claims, decoded
 * by jose without trusting them. Never the token itself, nor its signature.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { logValue } from '../lib/logValue';
import { isoText, relativeText } from './timeText';

export type ClaimTime = { seconds: number; iso?: string; relative: string };

export type DecodedToken = {
  header: { alg?: string; kid?: string; typ?: string };
  claims: {
    iss?: string;
    aud: string[];
    sub?: string;
    email?: string;
    common_name?: string;
    type?: string;
    country?: string;
    iat?: ClaimTime;
    nbf?: ClaimTime;
    exp?: ClaimTime;
  };
};

/**
 * A claim of a token not yet verified, as the module writes foreign values
 * into its log (control characters escaped, long values cut), without the
 * quotes: a crafted token cannot drive the terminal.
 */
export const shown = (value: string) =>
  logValue(value).replace(/^"(.*)"(…\(\d+ more characters\))?$/s, '$1$2');

const shownString = (value: unknown) =>
  typeof value === 'string' ? shown(value) : undefined;

function time(value: unknown, nowMs: number): ClaimTime | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return undefined;
  }
  return {
    seconds: value,
    iso: isoText(value),
    relative: relativeText(value, nowMs),
  };
}

/** Decodes a token the caller already knows to be a JWT (see readToken). */
export function decodeToken(token: string, nowMs: number): DecodedToken {
  const header = decodeProtectedHeader(token);
  const payload = decodeJwt(token);
  const aud = payload.aud;
  return {
    header: {
      alg: shownString(header.alg),
      kid: shownString(header.kid),
      typ: shownString(header.typ),
    },
    claims: {
      iss: shownString(payload.iss),
      aud: (Array.isArray(aud) ? aud : [aud])
        .filter((a): a is string => typeof a === 'string')
        .map(shown),
      sub: shownString(payload.sub),
      email: shownString(payload.email),
      common_name: shownString(payload.common_name),
      type: shownString(payload.type),
      country: shownString(payload.country),
      iat: time(payload.iat, nowMs),
      nbf: time(payload.nbf, nowMs),
      exp: time(payload.exp, nowMs),
    },
  };
}
