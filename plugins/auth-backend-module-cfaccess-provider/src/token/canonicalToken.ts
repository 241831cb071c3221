// Three segments of the base64url alphabet, without padding; the signature may be empty.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const BASE64URL_ALPHABET =
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The characters that may end a segment whose last group has 2 or 3
 * characters, as Node's decoder and encoder decide: the group is canonical
 * when encoding what it decodes to gives it back unchanged. Only the last
 * character has unused bits, so asking once per character, at load, answers
 * for every segment.
 */
const canonicalLast = (groupLength: 2 | 3) =>
  new Set(
    [...BASE64URL_ALPHABET].filter(c => {
      const group = `${'A'.repeat(groupLength - 1)}${c}`;
      return Buffer.from(group, 'base64url').toString('base64url') === group;
    }),
  );
const CANONICAL_LAST: Record<2 | 3, ReadonlySet<string>> = {
  2: canonicalLast(2),
  3: canonicalLast(3),
};

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
  // The pattern allows exactly two dots.
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  return (
    hasCanonicalEnd(token, 0, first) &&
    hasCanonicalEnd(token, first + 1, second) &&
    hasCanonicalEnd(token, second + 1, token.length)
  );
}

/**
 * In the base64url alphabet, every full group of four characters stands for
 * exactly three bytes, so only the last, partial group can be spelled more
 * than one way (or be one character too long to mean anything). Works on the
 * token in place: no segment or buffer is made.
 */
function hasCanonicalEnd(token: string, start: number, end: number): boolean {
  const partial = (end - start) % 4;
  if (partial === 0) {
    return true;
  }
  return partial !== 1 && CANONICAL_LAST[partial as 2 | 3].has(token[end - 1]);
}
