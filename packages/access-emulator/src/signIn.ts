/*
 * Signing a person in as Access does at login: their application token, and the identity get-identity
 * answers with for its identity_nonce.
 */
import type { EmulatorContext } from './context';
import {
  type AccessIdentity,
  type IdentityProviderRef,
  buildIdentity,
} from './identities';
import { type EmulatorGroup, normalizeEmail } from './users';

/** An identity that came from an identity provider rather than from the users file. */
export interface ExternalIdentity {
  name?: string;
  groups: Array<string | EmulatorGroup>;
  idp: IdentityProviderRef;
  /** Identity-provider claims, as in Access's `custom`. */
  custom?: Record<string, unknown>;
}

/** The person of the users file with this email, if any. */
export function findUser(ctx: EmulatorContext, email: string) {
  return ctx.users.find(u => u.email === normalizeEmail(email));
}

/**
 * The identity Access records for a person at login. Without `identity` the person is looked up in the
 * users file (the built-in login); with one (a login through an identity provider) the name, groups, idp
 * and custom claims are the identity provider's.
 */
export function loginIdentity(
  ctx: EmulatorContext,
  email: string,
  login: {
    iat: number;
    ip: string;
    country: string;
    identity?: ExternalIdentity;
  },
): AccessIdentity {
  const external = login.identity;
  const user = findUser(ctx, email);
  return buildIdentity({
    email,
    user: external
      ? { email, name: external.name, groups: external.groups }
      : user,
    idp: external?.idp ?? user?.identityProvider,
    custom: external?.custom,
    accountId: ctx.accountId,
    iat: login.iat,
    ip: login.ip,
    country: login.country,
  });
}

/**
 * Signs a person in as Access does at login: mints their application token and records the identity
 * that get-identity will answer with for its identity_nonce (see {@link loginIdentity}).
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
  // The country of the person's device facts now (the users file's, or as the login page or an admin set it).
  const { country } = ctx.devices.get(email);
  const minted = await ctx.tokens.mintUserToken(
    { email, country, custom: options.identity?.custom },
    options.expiresInSeconds,
  );
  ctx.identities.set(
    minted.payload.identity_nonce!,
    loginIdentity(ctx, email, {
      iat: minted.payload.iat,
      ip: options.ip,
      country,
      identity: options.identity,
    }),
  );
  return minted;
}
