/**
 * True when `token` is a compact JWS written exactly as a signer writes it:
 * three segments of unpadded base64url, each in canonical form, header and
 * payload not empty (an empty signature is left to jose, which refuses the
 * unsigned `alg: none` as an algorithm it does not allow).
 *
 * Decoders are lenient (they skip whitespace and `=`, accept `+` and `/`, and
 * ignore the unused low bits of the last character), so many strings decode
 * to the same token. Accepting only the canonical one means one token has one
 * spelling: one verified-token cache entry, and nothing for CR/LF, spaces or
 * padding to smuggle through. Node's decoder and encoder decide; a segment is
 * canonical when encoding what it decodes to gives it back unchanged.
 */
export function isCanonicalCompactJws(token: string): boolean {
  const segments = token.split('.');
  if (segments.length !== 3) {
    return false;
  }
  if (segments[0] === '' || segments[1] === '') {
    return false;
  }
  for (const segment of segments) {
    if (Buffer.from(segment, 'base64url').toString('base64url') !== segment) {
      return false;
    }
  }
  return true;
}
