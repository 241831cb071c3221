import { JWTPayload } from 'jose';
import { JsonObject } from '@backstage/types';
import { CloudflareAccessClaims } from '../types';

/** A claim that is a string with at least one character; anything else counts as absent. */
export const nonEmptyString = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

/** Who a token is about, for the server log: its email, service token Client ID or `sub`. */
export function subjectOf(payload: JWTPayload | undefined): string | undefined {
  return (
    nonEmptyString(payload?.email) ??
    nonEmptyString(payload?.common_name) ??
    nonEmptyString(payload?.sub)
  );
}

/** The verified payload in the shape resolvers get: absent strings are `''`, absent times 0. */
export function toClaims(payload: JWTPayload): CloudflareAccessClaims {
  const aud = payload.aud;
  const claims: CloudflareAccessClaims = {
    aud: Array.isArray(aud) ? aud : [aud ?? ''].filter(Boolean),
    email: nonEmptyString(payload.email) ?? '',
    exp: payload.exp ?? 0,
    iat: payload.iat ?? 0,
    nbf: payload.nbf ?? 0,
    iss: payload.iss ?? '',
    type: nonEmptyString(payload.type) ?? '',
    identity_nonce: nonEmptyString(payload.identity_nonce) ?? '',
    sub: nonEmptyString(payload.sub) ?? '',
    country: nonEmptyString(payload.country) ?? '',
  };
  const commonName = nonEmptyString(payload.common_name);
  if (commonName) {
    claims.common_name = commonName;
  }
  const custom = payload.custom;
  if (custom && typeof custom === 'object' && !Array.isArray(custom)) {
    claims.custom = custom as JsonObject;
  }
  return claims;
}
