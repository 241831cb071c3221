/*
 * PKCE (RFC 7636), S256 only: the one method Access supports.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** BASE64URL(SHA-256(verifier)) is always 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

export const isS256Challenge = (value: string) => S256_CHALLENGE.test(value);

export const isCodeVerifier = (value: string) => VERIFIER.test(value);

export function s256Challenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** Whether a verifier is the one the S256 challenge was made from (constant time). */
export function verifierMatches(verifier: string, challenge: string): boolean {
  if (!isCodeVerifier(verifier)) {
    return false;
  }
  const expected = Buffer.from(s256Challenge(verifier));
  const given = Buffer.from(challenge);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
