/*
 * Every setting under `auth.providers.<providerId>`, once: its key, its
 * default when it has one, and for a number its bounds. The reader applies
 * these defaults and bounds; the doctor lists these keys with these defaults
 * and warns about any other key. The order is the doctor's listing order;
 * the settings table of the docs mirrors it. A test holds it to config.d.ts.
 */

type SettingDescription =
  /** No default: required (audience, signIn.resolvers), one of a pair (teamName, teamDomain), or optional (serviceTokens). */
  | { default?: undefined }
  | { default: string | boolean }
  | { default: number; min: number; max: number; integer?: boolean };

// Access answers (certs, get-identity) with a few KB; the limit stops a broken or hostile answer from using memory.
const ACCESS_ANSWER_BYTES = {
  default: 1048576,
  min: 16384,
  max: 4194304,
  integer: true,
} as const;

export const providerSettings = {
  teamName: {},
  teamDomain: {},
  dangerouslyAllowLoopbackTeamDomain: { default: false },
  audience: {},
  serviceTokens: {},
  jwtHeaderName: { default: 'cf-access-jwt-assertion' },
  authorizationCookieName: { default: 'CF_Authorization' },
  clockToleranceSeconds: { default: 60, min: 0, max: 300 },
  maxTokenBytes: { default: 8192, min: 1024, max: 65536 },
  'jwks.cacheMaxAgeSeconds': { default: 600, min: 60, max: 86400 },
  'jwks.cooldownSeconds': { default: 30, min: 1, max: 3600 },
  'jwks.timeoutMs': { default: 5000, min: 100, max: 60000 },
  'jwks.staleMaxAgeSeconds': { default: 3600, min: 0, max: 604800 },
  'jwks.maxBodyBytes': ACCESS_ANSWER_BYTES,
  'identity.timeoutMs': { default: 3000, min: 100, max: 60000 },
  'identity.cacheTtlSeconds': { default: 300, min: 0, max: 3600 },
  'identity.maxBodyBytes': ACCESS_ANSWER_BYTES,
  'identity.enabled': { default: true },
  'verifiedTokenCache.maxEntries': {
    default: 10000,
    min: 0,
    max: 1000000,
    integer: true,
  },
  'signIn.resolvers': {},
  managedOAuth: { default: false },
  'boundary.mode': { default: 'enforce' },
  'boundary.exemptPaths': {},
  'boundary.dangerouslyAllowExternalAccessWithoutAccess': {},
  'boundary.rules': {},
} as const satisfies Record<string, SettingDescription>;

type Settings = typeof providerSettings;
type SettingKey = keyof Settings;
type KeysOf<Shape> = {
  [K in SettingKey]: Settings[K] extends Shape ? K : never;
}[SettingKey];

/** The settings that are numbers within bounds. */
export type NumericSettingKey = KeysOf<{ min: number }>;
/** The settings that are true or false. */
export type FlagSettingKey = KeysOf<{ default: boolean }>;
/** The settings that are names with a default (a header, a cookie). */
export type NameSettingKey = KeysOf<{ default: string }>;
