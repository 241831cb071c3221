/*
 * From a verified token to a Backstage user: the sign-in resolvers, the rules
 * for emails and service token subjects, the Access group mapping, and the
 * resolver chain read from `signIn.resolvers`.
 */
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
} from './resolverChain';
export {
  createAccessGroupMapper,
  type AccessGroupMapper,
  type AccessGroupIdentityProvider,
  type AccessGroupMapperOptions,
  type AccessGroupMapping,
} from './accessGroups';
export {
  moduleSignInResolverFactories,
  readRequiredSignInResolverChain,
} from './resolverConfig';
