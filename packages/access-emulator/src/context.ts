/*
 * The shared state every route of one emulator instance works with.
 */
import type { FaultState } from './faults';
import { buildIdentity, type IdentityStore } from './identities';
import type { KeyStore } from './keys';
import type { RequestStats } from './stats';
import type { TokenIssuer } from './tokens';
import type { EmulatorUser, ServiceTokenConfig } from './users';

export interface EmulatorContext {
  keys: KeyStore;
  tokens: TokenIssuer;
  identities: IdentityStore;
  faults: FaultState;
  stats: RequestStats;
  users: EmulatorUser[];
  serviceTokens: ServiceTokenConfig[];
  /** The emulator's public origin, e.g. `http://localhost:7000`. */
  publicOrigin: string;
  /** Whether cookies get the Secure attribute (public URL is https). */
  secureCookies: boolean;
  accountId: string;
  country: string;
}

export function findUser(
  ctx: EmulatorContext,
  email: string,
): EmulatorUser | undefined {
  const wanted = email.trim().toLowerCase();
  return ctx.users.find(u => u.email === wanted);
}

/**
 * Signs a person in as Access does at login: mints their application token and records the identity
 * that get-identity will answer with for its identity_nonce.
 */
export async function signInUser(
  ctx: EmulatorContext,
  email: string,
  options: { ip: string; expiresInSeconds?: number },
) {
  const user = findUser(ctx, email);
  const country = user?.country ?? ctx.country;
  const minted = await ctx.tokens.mintUserToken(
    { email, country },
    { expiresInSeconds: options.expiresInSeconds },
  );
  ctx.identities.set(
    minted.payload.identity_nonce!,
    buildIdentity({
      email,
      user,
      accountId: ctx.accountId,
      iat: minted.payload.iat,
      ip: options.ip,
      country,
    }),
  );
  return minted;
}
