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
  cloudflareAccessSignInResolvers,
  type CloudflareAccessEmailResolverOptions,
  type CloudflareAccessGroupsResolverOptions,
  type CloudflareAccessServiceTokenResolverOptions,
} from './resolvers';
export {
  accessGroupsToEntityRefs,
  normalizeAccessGroups,
  slugifyAccessGroupName,
  type AccessGroupsToEntityRefsOptions,
} from './groups';
export {
  CloudflareAccessAuthenticationError,
  CloudflareAccessKeysUnavailableError,
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
} from './types';
