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
} from './config';
export {
  cloudflareAccessSignInResolvers,
  type CloudflareAccessEmailResolverOptions,
  type CloudflareAccessEmailLocalPartResolverOptions,
  type CloudflareAccessGroupsResolverOptions,
  type CloudflareAccessServiceTokenResolverOptions,
} from './signIn';
export {
  createCloudflareAccessSignInResolverChain,
  type CloudflareAccessSignInResolverChainOptions,
} from './signIn';
export {
  createAccessGroupMapper,
  type AccessGroupMapper,
  type AccessGroupIdentityProvider,
  type AccessGroupMapperOptions,
  type AccessGroupMapping,
} from './signIn';
export {
  CloudflareAccessAuthenticationError,
  CloudflareAccessIdentityUnavailableError,
  CloudflareAccessKeysUnavailableError,
  CloudflareAccessUserNotFoundError,
  type CloudflareAccessRejection,
  type CloudflareAccessReasonCode,
  type CloudflareAccessBoundaryReason,
  type CloudflareAccessRuleReason,
  type CloudflareAccessRejectionDetails,
  type CloudflareAccessRejectionReason,
} from './errors';
export {
  cloudflareAccessServiceRef,
  type CloudflareAccessService,
} from './service';
export { withCloudflareAccessBoundary } from './boundary';
export {
  cloudflareAccessContextServiceRef,
  type CloudflareAccessContext,
  type CloudflareAccessContextOptions,
  type CloudflareAccessContextService,
} from './context';
export type {
  CloudflareAccessClaims,
  CloudflareAccessDevice,
  CloudflareAccessGroup,
  CloudflareAccessIdentityProfile,
  CloudflareAccessPostureResult,
  CloudflareAccessProviderInfo,
  CloudflareAccessResult,
  CloudflareAccessServiceToken,
} from './types';
