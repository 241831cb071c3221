import { importJWK, JWK } from 'jose';

/** The keys published under one kid: normally one. */
export type KeysForKid = readonly [CryptoKey, ...CryptoKey[]];

/** Most keys tried for one kid: bounds the RSA checks a forged token can cost. */
export const MAX_KEYS_PER_KID = 4;

/** The usable signing keys of a certs answer, by kid. */
export type SigningKeys = Map<
  string,
  {
    keys: KeysForKid;
    /** What the keys were imported from, so a refetch can keep unchanged keys. */
    material: string;
  }
>;

/** Access signs with RS256 RSA keys only; anything else in the set is not a signing key of Access. */
function isAccessSigningKey(jwk: unknown): jwk is JWK & { kid: string } {
  if (!jwk || typeof jwk !== 'object') {
    return false;
  }
  const { kty, kid, use, alg, d } = jwk as JWK;
  return (
    kty === 'RSA' &&
    typeof kid === 'string' &&
    kid !== '' &&
    (use === undefined || use === 'sig') &&
    (alg === undefined || alg === 'RS256') &&
    d === undefined
  );
}

/**
 * Imports the signing keys of a certs answer (`{ keys: [JWK…] }`): RS256 RSA
 * public keys with a kid, each imported with jose. Keys of another type or
 * use, private keys and keys jose cannot import are skipped; identical
 * duplicates under one kid count once, and at most MAX_KEYS_PER_KID
 * different keys are kept per kid. The key cache and the doctor both read
 * certs answers with this, so "usable" means the same to both.
 */
export async function importSigningKeys(body: unknown): Promise<SigningKeys> {
  const jwks = (body as { keys?: unknown } | null | undefined)?.keys;
  const found = new Map<string, { keys: CryptoKey[]; material: string[] }>();
  for (const jwk of Array.isArray(jwks) ? jwks : []) {
    if (!isAccessSigningKey(jwk)) {
      continue;
    }
    const { kid, kty, n, e } = jwk;
    const fingerprint = `${n}.${e}`;
    const entry = found.get(kid) ?? { keys: [], material: [] };
    if (
      entry.material.includes(fingerprint) ||
      entry.keys.length >= MAX_KEYS_PER_KID
    ) {
      continue;
    }
    try {
      entry.keys.push((await importJWK({ kty, n, e }, 'RS256')) as CryptoKey);
      entry.material.push(fingerprint);
      found.set(kid, entry);
    } catch {
      // An unimportable key is skipped; the rest may still be fine.
    }
  }
  const keys: SigningKeys = new Map();
  for (const [kid, entry] of found) {
    keys.set(kid, {
      keys: entry.keys as unknown as KeysForKid,
      material: entry.material.join(' '),
    });
  }
  return keys;
}
