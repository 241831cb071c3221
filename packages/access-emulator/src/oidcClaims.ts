/*
 * From an OpenID Connect provider's claims (id token, plus userinfo) to the identity Access carries on:
 * email (required, verified), name, groups in every shape IdPs send them, and the configured custom claims.
 */
import type { OidcProviderConfig } from './oidcConfig';
import { OidcLoginError } from './oidcErrors';
import type { EmulatorGroup } from './users';
import { isValidEmail } from './users';

const MAX_GROUPS = 500;
const MAX_GROUP_NAME = 256;

/** The identity an IdP login yields, before it becomes an Access identity. */
export interface OidcIdentity {
  email: string;
  name?: string;
  groups: Array<string | EmulatorGroup>;
  custom?: Record<string, unknown>;
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
  let list: unknown[] = [];
  if (Array.isArray(value)) {
    list = value;
  } else if (typeof value === 'string') {
    list = [value];
  }
  const groups: Array<string | EmulatorGroup> = [];
  const seen = new Set<string>();
  for (const item of list.slice(0, MAX_GROUPS)) {
    let group: string | EmulatorGroup | undefined;
    if (typeof item === 'string' && item.trim()) {
      group = item.trim().slice(0, MAX_GROUP_NAME);
    } else if (item && typeof item === 'object' && !Array.isArray(item)) {
      const g = item as Record<string, unknown>;
      const str = (v: unknown) =>
        typeof v === 'string' && v.trim()
          ? v.trim().slice(0, MAX_GROUP_NAME)
          : undefined;
      const name = str(g.name) ?? str(g.display) ?? str(g.id);
      if (name) {
        const email = str(g.email);
        group = {
          name,
          id: str(g.id),
          email: email && isValidEmail(email) ? email : undefined,
        };
      }
    }
    if (group) {
      const key = typeof group === 'string' ? group : group.name;
      if (!seen.has(key)) {
        seen.add(key);
        groups.push(group);
      }
    }
  }
  return groups;
}

/** Turns IdP claims (id token, plus userinfo) into the identity Access would carry on. */
export function identityFromClaims(
  config: OidcProviderConfig,
  claims: Record<string, unknown>,
): OidcIdentity {
  const rawEmail = claims.email;
  const email =
    typeof rawEmail === 'string' ? rawEmail.trim().toLowerCase() : '';
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
  const str = (v: unknown) =>
    typeof v === 'string' && v.trim() ? v.trim() : undefined;
  const joined = [str(claims.given_name), str(claims.family_name)]
    .filter(Boolean)
    .join(' ');
  const name =
    str(claims.name) ?? (joined || undefined) ?? str(claims.preferred_username);
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
