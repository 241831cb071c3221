// Three segments of the base64url alphabet, without padding; the signature may be empty.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

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
 * padding to smuggle through.
 */
export function isCanonicalCompactJws(token: string): boolean {
  if (!COMPACT_JWS.test(token)) {
    return false;
  }
  const [header, payload, signature] = token.split('.');
  return (
    hasCanonicalEnd(header) &&
    hasCanonicalEnd(payload) &&
    hasCanonicalEnd(signature)
  );
}

/**
 * In the base64url alphabet, every full group of four characters stands for
 * exactly three bytes, so only the last, partial group can be spelled more
 * than one way (or be one character too long to mean anything). Node's
 * decoder and encoder decide: the group is canonical when encoding what it
 * decodes to gives it back unchanged.
 */
function hasCanonicalEnd(segment: string): boolean {
  const last = segment.slice(segment.length - (segment.length % 4 || 4));
  return Buffer.from(last, 'base64url').toString('base64url') === last;
}
