/*
 * The shared state every route of one emulator instance works with.
 */
import { stringifySetCookie } from 'cookie';
import type { EdgeRules } from './edge';
import type { FaultState } from './faults';
import {
  buildIdentity,
  type IdentityProviderRef,
  type IdentityStore,
} from './identities';
import type { KeyStore } from './keys';
import type { OidcLoginProvider } from './oidcClient';
import type { PendingLogins } from './pendingLogins';
import type { RequestStats } from './stats';
import type { EmulatorGroup, EmulatorUser } from './users';

export interface EmulatorContext extends EdgeRules {
  keys: KeyStore;
  identities: IdentityStore;
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

/** An identity that came from an identity provider rather than from the users file. */
export interface ExternalIdentity {
  name?: string;
  groups: Array<string | EmulatorGroup>;
  idp: IdentityProviderRef;
  /** Identity-provider claims, as in Access's `custom`. */
  custom?: Record<string, unknown>;
}

export function findUser(ctx: EmulatorContext, email: string) {
  return ctx.users.find(u => u.email === email.trim().toLowerCase());
}

/**
 * Signs a person in as Access does at login: mints their application token and records the identity
 * that get-identity will answer with for its identity_nonce. Without `identity` the person is looked up
 * in the users file (the built-in login); with one (a login through an identity provider) the name,
 * groups, idp and custom claims are the identity provider's.
 */
export async function signInUser(
  ctx: EmulatorContext,
  email: string,
  options: {
    ip: string;
    expiresInSeconds?: number;
    identity?: ExternalIdentity;
  },
) {
  const user = findUser(ctx, email);
  const country = user?.country ?? ctx.country;
  const external = options.identity;
  const minted = await ctx.tokens.mintUserToken(
    { email, country, custom: external?.custom },
    options.expiresInSeconds,
  );
  ctx.identities.set(
    minted.payload.identity_nonce!,
    buildIdentity({
      email,
      user: external
        ? { email, name: external.name, groups: external.groups }
        : user,
      idp: external?.idp,
      custom: external?.custom,
      accountId: ctx.accountId,
      iat: minted.payload.iat,
      ip: options.ip,
      country,
    }),
  );
  return minted;
}

/** A `Set-Cookie` value (HttpOnly, SameSite=Lax, Secure for an https public URL); max age 0 clears it. */
export function setCookie(
  ctx: EmulatorContext,
  name: string,
  value: string,
  maxAge: number,
  path = '/',
): string {
  return stringifySetCookie(name, value, {
    httpOnly: true,
    sameSite: 'lax',
    path,
    secure: ctx.secureCookies,
    maxAge,
    ...(maxAge === 0 ? { expires: new Date(0) } : {}),
  });
}
