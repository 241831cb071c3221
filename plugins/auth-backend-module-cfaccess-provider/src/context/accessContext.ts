import { deepFreeze } from '../lib/deepFreeze';
import type { VerifiedAccessToken } from '../token';
import type {
  CloudflareAccessDevice,
  CloudflareAccessGroup,
  CloudflareAccessIdentityProfile,
} from '../types';

/**
 * What Cloudflare Access says about one request: who (a person or a service
 * token), from where, on which device, and how old each fact is.
 *
 * The token's facts (email, `sub`, country, AUD tags, times) are as fresh as
 * the request: Access signed them for it. The identity's facts (groups,
 * identity provider, device) come from get-identity and are as old as
 * `identity.fetchedAt` says: at most the identity cache's time to live
 * (`identity.cacheTtlSeconds`), unless the caller asked for a fresher one.
 *
 * @public
 */
export type CloudflareAccessContext = {
  /** `user` for a person, `service` for a service token. */
  tokenType: 'user' | 'service';
  /** The person's email; `''` for a service token. */
  email: string;
  /** The person's user id (`sub`); `''` for a service token. */
  sub: string;
  /** The service token's Client ID (`common_name`), for service tokens only. */
  serviceTokenClientId?: string;
  /** The token's `country` claim (two letters, as Access sends it), `''` when absent. */
  country: string;
  /** The AUD tags of the Access application(s) the token was issued for. */
  audiences: string[];
  /** When Access issued the token (`iat`), in milliseconds since the epoch. */
  issuedAt: number;
  /** When the token expires (`exp`), in milliseconds since the epoch. */
  expiresAt: number;
  /**
   * The person's identity from get-identity. `available` is false for service
   * tokens, when get-identity is turned off, and when it could not be
   * reached: the other fields are then absent, and must be treated as
   * unknown, not as empty.
   */
  identity: {
    available: boolean;
    /** When get-identity answered, in milliseconds since the epoch. */
    fetchedAt?: number;
    groups?: CloudflareAccessGroup[];
    /** The identity provider the person signed in with. */
    identityProvider?: { id: string; type: string };
    /** WARP, Gateway, the device id and its posture results. */
    device?: CloudflareAccessDevice;
  };
};

/** The context of a verified token and the session's identity, frozen. */
export function accessContextOf(
  verified: VerifiedAccessToken,
  identity: CloudflareAccessIdentityProfile | undefined,
): CloudflareAccessContext {
  const { claims } = verified;
  return deepFreeze({
    tokenType: verified.tokenType,
    email: verified.tokenType === 'user' ? claims.email : '',
    sub: claims.sub,
    ...(verified.tokenType === 'service' && {
      serviceTokenClientId: verified.clientId,
    }),
    country: claims.country,
    audiences: [...claims.aud],
    issuedAt: claims.iat * 1000,
    expiresAt: claims.exp * 1000,
    identity: identity
      ? {
          available: true,
          ...(identity.fetchedAt !== undefined && {
            fetchedAt: identity.fetchedAt,
          }),
          groups: identity.groups,
          ...(identity.idp && { identityProvider: identity.idp }),
          ...(identity.device && { device: identity.device }),
        }
      : { available: false },
  });
}
