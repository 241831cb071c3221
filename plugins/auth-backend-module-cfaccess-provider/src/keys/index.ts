/*
 * The team domain's signing keys: the one certs request, which keys of an
 * answer Access signs with, the key cache and its background refresh.
 */
export { CertsStatusError, requestCerts } from './certsRequest';
export { importSigningKeys, type KeysForKid } from './signingKeys';
export { KeyCache } from './keyCache';
export { KeyRefresher, type SetTimer } from './keyRefresher';
