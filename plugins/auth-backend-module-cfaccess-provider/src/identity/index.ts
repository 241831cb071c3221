/*
 * A person's identity from get-identity: the client, what an answer may look
 * like, and the per-process memo in front of Backstage's cache.
 */
export { IdentityClient, identityRequestFor } from './identityClient';
