/*
 * Random secrets (authorization codes, refresh tokens, client secrets) and the hashes they are kept as:
 * the stores never hold a usable secret, so a dump of memory or a log of a store gives nothing away.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes, base64url. */
export const randomSecret = (): string => randomBytes(32).toString('base64url');

/** What a store keeps of a secret. */
export const secretHash = (secret: string): string =>
  createHash('sha256').update(secret).digest('base64url');

/** Whether a secret is the one a hash was kept of, in constant time (hashes have one length). */
export const matchesHash = (secret: string, hash: string): boolean => {
  const given = Buffer.from(secretHash(secret));
  const kept = Buffer.from(hash);
  return given.length === kept.length && timingSafeEqual(given, kept);
};
