import {
  AccessDouble,
  BenchKey,
  createBenchKey,
  mintTokens,
  startAccessDouble,
} from './fixtures';

/** What every benchmark shares: one key, the Access double, a pool of session tokens. */
export type BenchContext = {
  key: BenchKey;
  access: AccessDouble;
  /** Distinct sessions: token i has sub `sub-i`, email `user<i>@example.com`, nonce `nonce-i`. */
  tokens: string[];
};

export async function createBenchContext(
  poolSize: number,
): Promise<BenchContext> {
  const key = await createBenchKey();
  const access = startAccessDouble(key.jwks);
  const tokens = await mintTokens(key, poolSize);
  return { key, access, tokens };
}
