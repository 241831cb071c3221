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
import { RateLimitedLogger } from './rateLimitedLogger';
import { createSignInResolverFactories } from './resolvers';
import { readSignInResolverChain } from './signInResolverConfig';

const PROVIDER_ID = 'cfaccess';

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
        // Ours come last so the Access-aware versions win on name clashes.
        const factories = {
          ...commonSignInResolvers,
          ...createSignInResolverFactories({
            warn: message => warnings.warn(message, message),
          }),
        };
        // Read here, not in the provider factory: the auth backend catches a
        // factory's error under NODE_ENV=development, logs it and answers 404
        // at sign-in; an unknown resolver or bad options must stop startup.
        const signInResolver = readSignInResolverChain({
          config: rootConfig.getConfig(`auth.providers.${PROVIDER_ID}`),
          providerId: PROVIDER_ID,
          factories,
          logger,
        });
        if (!signInResolver) {
          throw new Error(
            `auth.providers.${PROVIDER_ID}.signIn.resolvers is required: list the sign-in resolvers, e.g. [{ resolver: emailMatchingUserEntityProfileEmail }]`,
          );
        }
        providers.registerProvider({
          providerId: PROVIDER_ID,
          factory: createProxyAuthProviderFactory({
            authenticator,
            signInResolver,
          }),
        });
      },
    });
  },
});
