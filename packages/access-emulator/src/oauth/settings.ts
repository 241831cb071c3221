/*
 * The Managed OAuth options of one emulator (one Access application), checked at start. Each mirrors a
 * field of the application's `oauth_configuration` in Cloudflare's API.
 */
import { type DurationInput, durationSeconds } from '../duration';
import { type RedirectUriRules, parseAllowedRedirectUri } from './redirectUris';

export interface ManagedOAuthOptions {
  /** `oauth_configuration.enabled`. Default true when the object is given. */
  enabled?: boolean;
  /** `dynamic_client_registration.allow_any_on_localhost`: any `http(s)://localhost:<port>/<path>`. Default true. */
  allowAnyOnLocalhost?: boolean;
  /** `dynamic_client_registration.allow_any_on_loopback`: any `http(s)://127.0.0.1:<port>/<path>`. Default true. */
  allowAnyOnLoopback?: boolean;
  /**
   * `dynamic_client_registration.allowed_uris`: exact URIs; http(s) ones may end in `/*` for every
   * sub-path; custom schemes (`cursor://…`, `com.example.app:/cb`) exactly, no wildcards. Default none.
   */
  allowedRedirectUris?: string[];
  /** `grant.access_token_lifetime`. Default 15m (Cloudflare's default). */
  accessTokenLifetime?: DurationInput;
  /** `grant.session_duration`: how long the grant (its refresh token) lives. Default 24h. */
  grantSessionDuration?: DurationInput;
}

export const DEFAULT_ACCESS_TOKEN_LIFETIME = '15m';
export const DEFAULT_GRANT_SESSION_DURATION = '24h';

export interface ManagedOAuthSettings extends RedirectUriRules {
  accessTokenLifetimeSeconds: number;
  grantSessionDurationSeconds: number;
}

function seconds(value: DurationInput, field: string): number {
  try {
    // A config key cannot have a dot: the field's own name, prefixed in the message.
    return durationSeconds(value, field);
  } catch (error: any) {
    throw new Error(`managedOAuth.${error.message}`);
  }
}

/** The settings when Managed OAuth is on, undefined when off; throws an Error naming a bad option. */
export function resolveManagedOAuth(
  value: boolean | ManagedOAuthOptions | undefined,
): ManagedOAuthSettings | undefined {
  if (value === undefined || value === false) {
    return undefined;
  }
  const options = value === true ? {} : value;
  if (typeof options !== 'object' || options === null) {
    throw new Error('managedOAuth: expected true, false or an object');
  }
  const uris = options.allowedRedirectUris ?? [];
  if (!Array.isArray(uris)) {
    throw new Error('managedOAuth.allowedRedirectUris: expected a list');
  }
  // Checked even when disabled: a mistake should not wait until the day it is turned on.
  const settings: ManagedOAuthSettings = {
    allowAnyOnLocalhost: options.allowAnyOnLocalhost ?? true,
    allowAnyOnLoopback: options.allowAnyOnLoopback ?? true,
    allowedRedirectUris: uris.map((uri, i) =>
      parseAllowedRedirectUri(uri, `managedOAuth.allowedRedirectUris[${i}]`),
    ),
    accessTokenLifetimeSeconds: seconds(
      options.accessTokenLifetime ?? DEFAULT_ACCESS_TOKEN_LIFETIME,
      'accessTokenLifetime',
    ),
    grantSessionDurationSeconds: seconds(
      options.grantSessionDuration ?? DEFAULT_GRANT_SESSION_DURATION,
      'grantSessionDuration',
    ),
  };
  return options.enabled === false ? undefined : settings;
}
