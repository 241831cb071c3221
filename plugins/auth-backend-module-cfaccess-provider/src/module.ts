import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  authProvidersExtensionPoint,
  commonSignInResolvers,
  createProxyAuthProviderFactory,
} from '@backstage/plugin-auth-node';
import { createCloudflareAccessAuthenticator } from './authenticator';
import { RateLimitedLogger } from './rateLimitedLogger';
import { createSignInResolverFactories } from './resolvers';
import { readSignInResolverChain } from './signInResolverConfig';

/**
 * Cloudflare Access sign-in for the auth backend, configured under
 * `auth.providers.cfaccess`.
 *
 * @public
 */
export const authModuleCfAccessProvider = createBackendModule({
  pluginId: 'auth',
  moduleId: 'cfaccess-provider',
  register(reg) {
    reg.registerInit({
      deps: {
        providers: authProvidersExtensionPoint,
        cache: coreServices.cache,
        logger: coreServices.logger,
        lifecycle: coreServices.lifecycle,
      },
      async init({ providers, cache, logger, lifecycle }) {
        const authenticator = createCloudflareAccessAuthenticator({
          cache,
          logger,
          // Keys fetched at startup and kept fresh; stopped on shutdown.
          prefetchKeys: true,
          lifecycle,
        });
        const warnings = new RateLimitedLogger(logger);
        // Ours come last so the Access-aware versions win on name clashes.
        const factories = {
          ...commonSignInResolvers,
          ...createSignInResolverFactories({
            warn: message => warnings.warn(message, message),
          }),
        };
        providers.registerProvider({
          providerId: 'cfaccess',
          factory: ctx =>
            createProxyAuthProviderFactory({
              authenticator,
              // Undefined without signIn.resolvers: auth-node then reports that none is configured.
              signInResolver: readSignInResolverChain({
                config: ctx.config,
                providerId: ctx.providerId,
                factories,
                logger,
              }),
            })(ctx),
        });
      },
    });
  },
});
