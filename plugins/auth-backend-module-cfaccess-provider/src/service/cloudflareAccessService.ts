import {
  coreServices,
  createServiceFactory,
  createServiceRef,
} from '@backstage/backend-plugin-api';
import {
  AuthProviderFactory,
  createProxyAuthProviderFactory,
  SignInResolver,
} from '@backstage/plugin-auth-node';
import type { CloudflareAccessResult } from '../types';
import { accessHubFor } from './accessHub';

/**
 * Cloudflare Access for a Backstage plugin: one verifier per backend (key
 * cache, verified-token cache, identity cache, and the sign-in of each Access
 * session), shared by the `cfaccess` sign-in provider and the Access
 * boundary, so turning the boundary on costs no extra certs or get-identity
 * request.
 *
 * @public
 */
export interface CloudflareAccessService {
  /**
   * The `cfaccess` provider's factory for `authProvidersExtensionPoint`,
   * signing people and service tokens in with `signInResolver`. Use it in
   * place of `createProxyAuthProviderFactory` with
   * `createCloudflareAccessAuthenticator`: the Access boundary then issues
   * Backstage tokens to Access-only callers through the same resolver. Call
   * it once per backend, from the auth plugin.
   */
  authProviderFactory(options: {
    signInResolver: SignInResolver<CloudflareAccessResult>;
  }): AuthProviderFactory;
}

/**
 * The {@link CloudflareAccessService} of a plugin; its default factory needs
 * no setup.
 *
 * @public
 */
export const cloudflareAccessServiceRef =
  createServiceRef<CloudflareAccessService>({
    id: 'cfaccess.access',
    scope: 'plugin',
    defaultFactory: async service =>
      createServiceFactory({
        service,
        deps: {
          rootConfig: coreServices.rootConfig,
          auth: coreServices.auth,
          discovery: coreServices.discovery,
          cache: coreServices.cache,
          logger: coreServices.logger,
          lifecycle: coreServices.lifecycle,
        },
        factory({ rootConfig, auth, discovery, cache, logger, lifecycle }) {
          const hub = accessHubFor(rootConfig);
          return {
            authProviderFactory({ signInResolver }) {
              hub.registerProvider({
                auth,
                discovery,
                cache,
                logger,
                lifecycle,
                signInResolver,
              });
              const factory = createProxyAuthProviderFactory({
                authenticator: hub.sharedAuthenticator(),
                signInResolver: hub.sharedSignInResolver(),
              });
              return options => {
                const handlers = factory(options);
                hub.providerCreated(options.resolverContext);
                return handlers;
              };
            },
          };
        },
      }),
  });
