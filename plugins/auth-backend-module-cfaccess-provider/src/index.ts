/**
 * Cloudflare Access sign-in for Backstage: verifies Access application
 * tokens and signs people and service tokens in.
 *
 * @packageDocumentation
 */

export { authModuleCfAccessProvider as default } from './module';
export {
  createCloudflareAccessAuthenticator,
  type CloudflareAccessAuthenticatorOptions,
  type CloudflareAccessAuthenticatorContext,
} from './authenticator';
export {
  checkCloudflareAccessConfig,
  type CheckCloudflareAccessConfigOptions,
} from './checkConfig';
export {
  cloudflareAccessSignInResolvers,
  type CloudflareAccessEmailResolverOptions,
  type CloudflareAccessEmailLocalPartResolverOptions,
  type CloudflareAccessGroupsResolverOptions,
  type CloudflareAccessServiceTokenResolverOptions,
} from './resolvers';
export {
  createCloudflareAccessSignInResolverChain,
  type CloudflareAccessSignInResolverChainOptions,
} from './signInResolverChain';
export {
  createAccessGroupMapper,
  normalizeAccessGroups,
  type AccessGroupMapper,
  type AccessGroupIdentityProvider,
  type AccessGroupMapperOptions,
  type AccessGroupMapping,
} from './groups';
export {
  CloudflareAccessAuthenticationError,
  CloudflareAccessIdentityUnavailableError,
  CloudflareAccessKeysUnavailableError,
  CloudflareAccessUserNotFoundError,
  cloudflareAccessRejectionReasons,
  type CloudflareAccessRejection,
  type CloudflareAccessRejectionDetails,
  type CloudflareAccessRejectionReason,
} from './errors';
export type {
  CloudflareAccessClaims,
  CloudflareAccessGroup,
  CloudflareAccessIdentityProfile,
  CloudflareAccessProviderInfo,
  CloudflareAccessResult,
  CloudflareAccessServiceToken,
} from './types';
