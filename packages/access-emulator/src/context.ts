/*
 * The shared state every route of one emulator instance works with.
 */
import type { FaultState } from './faults';
import type { IdentityStore } from './identities';
import type { KeyStore } from './keys';
import type { TokenIssuer } from './tokens';
import type { EmulatorUser, ServiceTokenConfig } from './users';

export interface EmulatorContext {
  keys: KeyStore;
  tokens: TokenIssuer;
  identities: IdentityStore;
  faults: FaultState;
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
