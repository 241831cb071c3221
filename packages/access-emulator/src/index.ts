/*
 * @cfaccess/access-emulator: a local stand-in for Cloudflare Access.
 */
export {
  startAccessEmulator,
  type AccessEmulator,
  type AccessEmulatorOptions,
  type ManagedOAuthInfo,
} from './server';
export type { ManagedOAuthOptions } from './oauth/settings';
export { runCli, createProgram } from './cli';
export {
  createTlsCertificates,
  type TlsCertificateOptions,
  type TlsCertificates,
} from './certificates';
export type { TlsOptions } from './httpServer';
export type { Faults } from './faults';
export type { EmulatorStats } from './stats';
export type { AccessIdentity, AccessIdentityGroup } from './identities';
export type {
  EmulatorDevice,
  EmulatorIdentityProvider,
  EmulatorPostureCheck,
} from './devices';
export type {
  DeviceFacts,
  DevicePatch,
  PersonFacts,
  PostureCheckPatch,
  PostureCheckState,
} from './deviceStates';
export type { DevicePostureResult } from './deviceIdentity';
export type { AccessTokenPayload } from './tokens';
export { subjectForEmail } from './tokens';
export type {
  EmulatorGroup,
  EmulatorUser,
  ServiceTokenConfig,
  UsersConfig,
} from './users';
export { loadUsersFile, parseUsersConfig } from './users';
export type { CertsDocument } from './keys';
export type {
  IdentityProvidersConfig,
  OidcProviderConfig,
  OidcProviderInput,
  TokenEndpointAuthMethod,
} from './oidc/config';
export {
  OIDC_CALLBACK_PATH,
  loadIdentityProvidersFile,
  validateIdentityProvidersConfig,
} from './oidc/config';
export type {
  IdentityProviderSummary,
  LoginMethodOptions,
} from './loginMethods';
export {
  ADMIN_HEADER,
  ASSERTION_HEADER,
  COOKIE_NAME,
  DEFAULT_AUD,
  DEFAULT_PORT,
  DEFAULT_SESSION_DURATION,
} from './defaults';
