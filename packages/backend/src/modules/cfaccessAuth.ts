import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  authProvidersExtensionPoint,
  createProxyAuthProviderFactory,
} from '@backstage/plugin-auth-node';
import {
  accessGroupsToEntityRefs,
  checkCloudflareAccessConfig,
  cloudflareAccessSignInResolvers,
  createCloudflareAccessAuthenticator,
} from '@cfaccess/plugin-auth-backend-module-cfaccess-provider';

// Service tokens sign in as their configured subject (an entity ref or an email).
const signInServiceToken =
  cloudflareAccessSignInResolvers.serviceTokenSubject();

/**
 * The example's custom sign-in resolver, written the way Backstage documents custom resolvers for the
 * Cloudflare Access provider: a module of our own that registers the `cfaccess` provider with
 * `createCloudflareAccessAuthenticator` and its own `signInResolver`.
 *
 * - A person signs in as the catalog User whose profile email is the verified Access email, and owns what
 *   their catalog groups own plus what their Access groups (from the identity provider behind Access) own.
 * - A service token signs in as the subject configured for its Client ID in `serviceTokens`.
 *
 * When get-identity is unavailable the Access groups are unknown, so none are granted (fail closed), but
 * the person still signs in with their catalog ownership.
 */
export const cfaccessAuthModule = createBackendModule({
  pluginId: 'auth',
  moduleId: 'example-cfaccess-provider',
  register(reg) {
    reg.registerInit({
      deps: {
        providers: authProvidersExtensionPoint,
        cache: coreServices.cache,
        logger: coreServices.logger,
        lifecycle: coreServices.lifecycle,
        rootConfig: coreServices.rootConfig,
      },
      async init({ providers, cache, logger, lifecycle, rootConfig }) {
        // A misconfiguration (a missing variable, an http or loopback team domain in production) stops
        // startup here with a message naming the key, the file and the variable.
        await checkCloudflareAccessConfig({ config: rootConfig, logger });
        providers.registerProvider({
          providerId: 'cfaccess',
          factory: createProxyAuthProviderFactory({
            authenticator: createCloudflareAccessAuthenticator({
              cache,
              logger,
              // Keys fetched at startup and kept fresh in the background; the refresh stops on shutdown.
              prefetchKeys: true,
              lifecycle,
              // auth.environment decides whether the local emulator may be the team domain.
              rootConfig,
            }),
            async signInResolver(info, ctx) {
              const { result } = info;
              if (result.tokenType === 'service') {
                return signInServiceToken(info, ctx);
              }
              const email = result.claims.email;
              if (!email) {
                throw new Error(
                  'Login failed, Cloudflare Access token has no email',
                );
              }
              const { entity } = await ctx.findCatalogUser({
                filter: { 'spec.profile.email': email },
              });
              const { ownershipEntityRefs } =
                await ctx.resolveOwnershipEntityRefs(entity);
              const accessGroupRefs = result.identityAvailable
                ? accessGroupsToEntityRefs(result.cfIdentity.groups)
                : [];
              return ctx.issueToken({
                claims: {
                  sub: stringifyEntityRef(entity),
                  ent: [
                    ...new Set([...ownershipEntityRefs, ...accessGroupRefs]),
                  ],
                },
              });
            },
          }),
        });
      },
    });
  },
});
