import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { authProvidersExtensionPoint } from '@backstage/plugin-auth-node';
import {
  checkCloudflareAccessConfig,
  DEFAULT_PROVIDER_ID,
  providerConfigKey,
} from './config';
import { RateLimitedLogger } from './lib';
import { cloudflareAccessServiceRef } from './service';
import {
  moduleSignInResolverFactories,
  readRequiredSignInResolverChain,
} from './signIn';

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
        cloudflareAccess: cloudflareAccessServiceRef,
        logger: coreServices.logger,
        rootConfig: coreServices.rootConfig,
      },
      async init({ providers, cloudflareAccess, logger, rootConfig }) {
        // A misconfiguration stops startup here, naming the key (and the unset variable).
        await checkCloudflareAccessConfig({
          config: rootConfig,
          providerId: DEFAULT_PROVIDER_ID,
          logger,
        });
        const warnings = new RateLimitedLogger(logger);
        const factories = moduleSignInResolverFactories(message =>
          warnings.warn(message, message),
        );
        // Read here, not in the provider factory: the auth backend catches a
        // factory's error under NODE_ENV=development, logs it and answers 404
        // at sign-in; an unknown resolver or bad options must stop startup.
        const signInResolver = readRequiredSignInResolverChain({
          config: rootConfig.getConfig(providerConfigKey(DEFAULT_PROVIDER_ID)),
          providerId: DEFAULT_PROVIDER_ID,
          factories,
          logger,
        });
        providers.registerProvider({
          providerId: DEFAULT_PROVIDER_ID,
          // The backend's one Access verifier (keys fetched at startup and
          // kept fresh), shared with the Access boundary when it is on.
          factory: cloudflareAccess.authProviderFactory({ signInResolver }),
        });
      },
    });
  },
});
