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
import { checkCloudflareAccessConfig } from './checkConfig';
import { cloudflareAccessSignInResolvers } from './resolvers';

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
        providers.registerProvider({
          providerId: 'cfaccess',
          factory: createProxyAuthProviderFactory({
            authenticator: createCloudflareAccessAuthenticator({
              cache,
              logger,
              // Keys fetched at startup and kept fresh; stopped on shutdown.
              prefetchKeys: true,
              lifecycle,
              rootConfig,
            }),
            // Ours come last so the Access-aware versions win on name clashes.
            signInResolverFactories: {
              ...commonSignInResolvers,
              ...cloudflareAccessSignInResolvers,
            },
          }),
        });
      },
    });
  },
});
