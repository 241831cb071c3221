/*
 * The shared state every route of one emulator instance works with.
 */
import type { DeviceStates } from './deviceStates';
import type { EdgeRules } from './edge';
import type { FaultState } from './faults';
import type { IdentityStore } from './identities';
import type { KeyStore } from './keys';
import type { OidcLoginProvider } from './oidc/client';
import type { PendingLogins } from './oidc/pendingLogins';
import type { RequestStats } from './stats';
import type { EmulatorUser } from './users';

export interface EmulatorContext extends EdgeRules {
  keys: KeyStore;
  identities: IdentityStore;
  /** Each person's device facts now: country, idp, WARP, posture (read by get-identity at every answer). */
  devices: DeviceStates;
  faults: FaultState;
  stats: RequestStats;
  users: EmulatorUser[];
  /** Whether cookies get the Secure attribute (public URL is https). */
  secureCookies: boolean;
  accountId: string;
  country: string;
  /** Upstream OpenID Connect providers offered on the login page, by id. */
  identityProviders: Map<string, OidcLoginProvider>;
  /** Logins started at an identity provider, waiting for the callback. */
  pendingLogins: PendingLogins;
  /** Whether the built-in user list and email form ("One-time PIN") are offered. */
  oneTimePin: boolean;
  /** With exactly one login method, skip the login page. */
  instantAuth: boolean;
  /** Request log, if any (never given tokens, codes or secrets). */
  log?: (line: string) => void;
}
