/*
 * From an OpenID Connect provider's claims (id token, plus userinfo) to the identity Access carries on:
 * email (required, verified), name, groups in every shape IdPs send them, and the configured custom claims.
 */
import type { EmulatorGroup } from '../users';
import { isValidEmail, normalizeEmail } from '../users';
import type { OidcProviderConfig } from './config';
import { OidcLoginError } from './errors';

const MAX_GROUPS = 500;
const MAX_GROUP_NAME = 256;

/** The identity an IdP login yields, before it becomes an Access identity. */
export interface OidcIdentity {
  email: string;
  name?: string;
  groups: Array<string | EmulatorGroup>;
  custom?: Record<string, unknown>;
}

/** A trimmed, non-empty string (at most `max` characters), or undefined. */
function text(v: unknown, max?: number): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim().slice(0, max) : undefined;
}

function getPath(claims: Record<string, unknown>, path: string): unknown {
  if (path in claims) {
    return claims[path];
  }
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * Groups from the groups claim: a list of names, a list of `{ name, id?, email? }` objects (or
 * `{ id }` / `{ display }` shapes), or a single name. Anything else is dropped.
 */
export function groupsFromClaim(value: unknown): Array<string | EmulatorGroup> {
  const groups = new Map<string, string | EmulatorGroup>();
  const list = typeof value === 'string' ? [value] : value;
  for (const item of Array.isArray(list) ? list.slice(0, MAX_GROUPS) : []) {
    const g = Object(item) as Record<string, unknown>;
    const name = [item, g.name, g.display, g.id]
      .map(v => text(v, MAX_GROUP_NAME))
      .find(Boolean);
    if (name && !groups.has(name) && !Array.isArray(item)) {
      const email = text(g.email, MAX_GROUP_NAME);
      const valid = email && isValidEmail(email) ? email : undefined;
      groups.set(
        name,
        typeof item === 'string'
          ? name
          : { name, id: text(g.id, MAX_GROUP_NAME), email: valid },
      );
    }
  }
  return [...groups.values()];
}

/** Turns IdP claims (id token, plus userinfo) into the identity Access would carry on. */
export function identityFromClaims(
  config: OidcProviderConfig,
  claims: Record<string, unknown>,
): OidcIdentity {
  const rawEmail = claims.email;
  const email = typeof rawEmail === 'string' ? normalizeEmail(rawEmail) : '';
  if (!email) {
    throw new OidcLoginError(
      403,
      'No email address',
      `${
        config.name
      } did not send an email address for this account. Request the "email" scope (scopes: ${config.scopes.join(
        ' ',
      )}) and give the account an email address at the identity provider.`,
      'no email claim',
    );
  }
  if (!isValidEmail(email)) {
    throw new OidcLoginError(
      403,
      'Invalid email address',
      `${config.name} sent an email claim that is not an email address.`,
      'invalid email claim',
    );
  }
  if (
    config.requireVerifiedEmail &&
    (claims.email_verified === false || claims.email_verified === 'false')
  ) {
    throw new OidcLoginError(
      403,
      'Email address not verified',
      `${config.name} reports that ${email} is not verified (email_verified: false). Verify it at the identity provider, or set requireVerifiedEmail: false for this provider.`,
      'email not verified',
    );
  }
  const joined = [text(claims.given_name), text(claims.family_name)]
    .filter(Boolean)
    .join(' ');
  const name =
    text(claims.name) ??
    (joined || undefined) ??
    text(claims.preferred_username);
  const groups = groupsFromClaim(getPath(claims, config.groupsClaim));
  let custom: Record<string, unknown> | undefined;
  for (const claim of config.claims) {
    const value = getPath(claims, claim);
    if (value !== undefined) {
      custom = { ...custom, [claim]: value };
    }
  }
  return { email, name, groups, ...(custom ? { custom } : {}) };
}
