/*
 * Identities as Access saw them at login, kept by identity_nonce and served by get-identity.
 */
import { stableUuid, subjectForEmail } from './tokens';
import { type EmulatorGroup, type EmulatorUser, normalizeEmail } from './users';

export interface AccessIdentityGroup {
  id: string;
  name: string;
  email: string;
}

/**
 * The get-identity response body (the fields Access returns for a person). The device fields (`geo`,
 * `is_warp`, `is_gateway`, `device_id`, `device_sessions`, `devicePosture`) and an admin's `idp` are the
 * person's facts at the time of the answer (see deviceIdentity.ts).
 */
export interface AccessIdentity {
  id: string;
  name: string;
  email: string;
  groups: AccessIdentityGroup[];
  idp: { id: string; type: string };
  user_uuid: string;
  account_id: string;
  iat: number;
  ip: string;
  geo: { country: string };
  auth_status: string;
  common_name: string;
  service_token_id: string;
  service_token_status: boolean;
  is_warp: boolean;
  is_gateway: boolean;
  version: number;
  /** Only for a person with a device. */
  device_id?: string;
  /** `{ "<device id>": { last_authenticated: <seconds since epoch> } }`. */
  device_sessions: Record<string, unknown>;
  /** Keyed by posture rule id; an admin may replace it with any JSON (malformed-data tests). */
  devicePosture: unknown;
  /** Identity-provider claims configured on the provider (OpenID Connect logins only). */
  custom?: Record<string, unknown>;
}

/** `idp` in get-identity: which identity provider the person signed in with. */
export type IdentityProviderRef = AccessIdentity['idp'];

/** The built-in login (the user list / email form), shown as Access's One-time PIN provider. */
export const EMULATOR_IDP: IdentityProviderRef = {
  id: stableUuid('idp', 'cfaccess-emulator'),
  type: 'onetimepin',
};

const MAX_IDENTITIES = 10_000;

function toGroup(
  group: string | EmulatorGroup,
  email: string,
): AccessIdentityGroup {
  const domain = email.split('@')[1] ?? 'example.com';
  const g = typeof group === 'string' ? { name: group } : group;
  return {
    // A group known by name only (a plain name in the users file, an OpenID Connect groups claim) has no id,
    // as identity providers that send names only report it: inventing one would hide that from the module,
    // which matches such groups by their exact name.
    id: g.id ?? '',
    name: g.name,
    email:
      g.email ??
      `${g.name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-')}@${domain}`,
  };
}

/**
 * Builds the identity for an email, from the configured user (or the identity provider's view of the
 * person) when there is one.
 */
export function buildIdentity(options: {
  email: string;
  user?: EmulatorUser;
  /** Default: the built-in login ({@link EMULATOR_IDP}). */
  idp?: IdentityProviderRef;
  custom?: Record<string, unknown>;
  accountId: string;
  iat: number;
  ip: string;
  country: string;
}): AccessIdentity {
  const email = normalizeEmail(options.email);
  const sub = subjectForEmail(email);
  return {
    id: sub,
    name: options.user?.name ?? email.split('@')[0],
    email,
    groups: (options.user?.groups ?? []).map(g => toGroup(g, email)),
    idp: { ...(options.idp ?? EMULATOR_IDP) },
    user_uuid: sub,
    account_id: options.accountId,
    iat: options.iat,
    ip: options.ip,
    geo: { country: options.country },
    auth_status: 'NONE',
    common_name: '',
    service_token_id: '',
    service_token_status: false,
    is_warp: false,
    is_gateway: false,
    version: 2,
    device_sessions: {},
    devicePosture: {},
    ...(options.custom ? { custom: options.custom } : {}),
  };
}

/** In-memory identities by identity_nonce, oldest dropped past a bound. */
export class IdentityStore {
  readonly #byNonce = new Map<string, AccessIdentity>();

  set(nonce: string, identity: AccessIdentity) {
    this.#byNonce.set(nonce, identity);
    if (this.#byNonce.size > MAX_IDENTITIES) {
      this.#byNonce.delete(this.#byNonce.keys().next().value as string);
    }
  }

  get(nonce: string): AccessIdentity | undefined {
    return this.#byNonce.get(nonce);
  }
}
