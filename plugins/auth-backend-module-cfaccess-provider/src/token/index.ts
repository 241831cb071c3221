/*
 * The Access application token: where a request carries it, its canonical
 * form, its verification (signature, issuer, AUD tag, time claims, a person or
 * an allowed service token), and the cache of verified tokens.
 */
export { extractToken, readCookie } from './extractToken';
export { TokenVerifier, type VerifiedAccessToken } from './tokenVerifier';
export { VerifiedTokenCache } from './verifiedTokenCache';
