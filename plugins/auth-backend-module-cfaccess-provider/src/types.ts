import { JsonObject } from '@backstage/types';

/**
 * Claims of a Cloudflare Access application token, as verified.
 *
 * For a person `sub` and `email` are set; for a service token `sub` is empty
 * and `common_name` holds the service token's Client ID.
 *
 * @public
 */
export type CloudflareAccessClaims = {
  /** Application Audience (AUD) tags. */
  aud: string[];
  email: string;
  exp: number;
  iat: number;
  nbf: number;
  iss: string;
  /** `"app"` for application tokens. */
  type: string;
  identity_nonce: string;
  /** The user's id; empty for service tokens. */
  sub: string;
  country: string;
  /** The service token Client ID, only for service tokens. */
  common_name?: string;
  /** Identity-provider claims, when Access passes them on. */
  custom?: JsonObject;
};

/**
 * A group as reported by Access get-identity.
 *
 * Identity providers report groups in different shapes (objects or plain
 * strings); both are normalised to this, values exactly as reported. A field
 * the identity provider did not report is `''`: a plain string is a `name`
 * with no `id`.
 *
 * @public
 */
export type CloudflareAccessGroup = {
  id: string;
  name: string;
  email: string;
};

/**
 * The identity of the signed-in user.
 *
 * From get-identity when it answered; otherwise built from the token claims
 * with no groups (see `CloudflareAccessResult.identityAvailable`).
 *
 * @public
 */
export type CloudflareAccessIdentityProfile = {
  id: string;
  name: string;
  email: string;
  groups: CloudflareAccessGroup[];
  /** The identity provider Access used, when known. */
  idp?: { id: string; type: string };
  /** Identity-provider claims from get-identity, when present. */
  custom?: JsonObject;
  /**
   * The device and network facts get-identity reported for the session (WARP,
   * Gateway, device id, posture results). Absent when the identity is built
   * from the token's claims.
   */
  device?: CloudflareAccessDevice;
  /** When get-identity answered, in milliseconds since the epoch. */
  fetchedAt?: number;
};

/**
 * One device posture result from get-identity's `devicePosture`: whether the
 * device passed the posture rule, and when the check ran.
 *
 * @public
 */
export type CloudflareAccessPostureResult = {
  /** The posture rule's id (the key in `devicePosture`). */
  ruleId: string;
  /** The posture rule's name (`rule_name`), `''` when absent. */
  name: string;
  /** The kind of check (`type`, e.g. `disk_encryption`), `''` when absent. */
  type: string;
  /** `true` only when Access reported the boolean `true`. */
  success: boolean;
  /**
   * When the check ran (`timestamp`), in milliseconds since the epoch; absent
   * when Access gave no date-time with a time zone.
   */
  checkedAt?: number;
};

/**
 * The device and network facts of an Access session, as get-identity reported
 * them. Read leniently: a field of an unexpected type counts as absent (and a
 * posture result as failed), never as passed.
 *
 * @public
 */
export type CloudflareAccessDevice = {
  /** `device_id`: the WARP client's device, when the request came through it. */
  id?: string;
  /** `is_warp`: the request came through the WARP client. */
  warp: boolean;
  /** `is_gateway`: the request came through Gateway. */
  gateway: boolean;
  /** `devicePosture`, one entry per posture rule. */
  posture: CloudflareAccessPostureResult[];
};

/**
 * The result of a successful authentication, handed to sign-in resolvers.
 *
 * It stays on the server: the browser only gets {@link CloudflareAccessProviderInfo}.
 *
 * @public
 */
export type CloudflareAccessResult = {
  claims: CloudflareAccessClaims;
  cfIdentity: CloudflareAccessIdentityProfile;
  /** Seconds until the Access token expires. */
  expiresInSeconds?: number;
  /** The raw Access application token, for custom resolvers that need it. */
  token: string;
  /** `user` for a person, `service` for a service token. */
  tokenType: 'user' | 'service';
  /**
   * Whether `cfIdentity` came from get-identity. When `false` the groups are
   * unknown (not empty) and group-based decisions must fail closed.
   */
  identityAvailable: boolean;
  /** Set for service tokens: the Client ID and its configured subject. */
  serviceToken?: CloudflareAccessServiceToken;
};

/**
 * A service token that signed in, with its `subject` from
 * `auth.providers.cfaccess.serviceTokens`, read at startup. Exactly one of
 * `email` and `entityRef` is set.
 *
 * @public
 */
export type CloudflareAccessServiceToken = {
  /** The service token's Client ID (the token's `common_name`). */
  clientId: string;
  /** The configured subject, as written. */
  subject: string;
  /** Set when the subject is an email: sign-in resolvers match it like a person's email. */
  email?: string;
  /** Set when the subject is a User entity ref, in full form (`user:default/ci-bot`). */
  entityRef?: string;
};

/**
 * What the frontend receives as `providerInfo`. Never contains the token.
 *
 * @public
 */
export type CloudflareAccessProviderInfo = {
  email?: string;
  name?: string;
  /** Access group names, when the identity was available. */
  groups?: string[];
  expiresInSeconds?: number;
};
