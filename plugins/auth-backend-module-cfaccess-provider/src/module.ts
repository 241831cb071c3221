import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  authProvidersExtensionPoint,
  createProxyAuthProviderFactory,
} from '@backstage/plugin-auth-node';
import { createCloudflareAccessAuthenticator } from './authenticator';
import { checkCloudflareAccessConfig } from './checkConfig';
import { RateLimitedLogger } from './rateLimitedLogger';
import {
  moduleSignInResolverFactories,
  readSignInResolverChain,
} from './signInResolverConfig';

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
        rootConfig: coreServices.rootConfig,
      },
      async init({ providers, cache, logger, lifecycle, rootConfig }) {
        // A misconfiguration stops startup here, naming the key (and the unset variable).
        await checkCloudflareAccessConfig({ config: rootConfig, logger });
        const authenticator = createCloudflareAccessAuthenticator({
          cache,
          logger,
          // Keys fetched at startup and kept fresh; stopped on shutdown.
          prefetchKeys: true,
          lifecycle,
          rootConfig,
        });
        const warnings = new RateLimitedLogger(logger);
        const factories = moduleSignInResolverFactories(message =>
          warnings.warn(message, message),
        );
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
