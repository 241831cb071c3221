import * as crypto from 'node:crypto';

/**
 * SHA-256 of a string. One-shot `crypto.hash` (Node >= 20.12) skips building
 * a Hash object, which is most of the cost for inputs this small; older Nodes
 * get the same digest from createHash.
 */
export function sha256(data: string, encoding: 'hex' | 'base64url'): string {
  return typeof crypto.hash === 'function'
    ? crypto.hash('sha256', data, encoding)
    : crypto.createHash('sha256').update(data).digest(encoding);
}
