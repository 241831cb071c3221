import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { authProvidersExtensionPoint } from '@backstage/plugin-auth-node';
import {
  type AccessGroupMapping,
  checkCloudflareAccessConfig,
  cloudflareAccessServiceRef,
  cloudflareAccessSignInResolvers,
  createCloudflareAccessSignInResolverChain,
} from '@cfaccess/plugin-auth-backend-module-cfaccess-provider';

/**
 * The Access groups that grant ownership in the example, and what each grants. No other group grants
 * anything, so a group someone creates in the identity provider with a look-alike name ("Admins",
 * "admins " or "ａｄｍｉｎｓ") is worth nothing.
 *
 * - The emulator's users (examples/access-users.yaml) report groups with stable ids, as Okta or Microsoft
 *   Entra ID do: those are matched by id.
 * - OpenID Connect providers such as PocketID or Authentik (and the local IdP of `CFACCESS_IDP=local`) send
 *   group names only: those are matched by their exact name, and only for people who signed in through an
 *   OpenID Connect identity provider (get-identity's `idp.type` is `oidc`), so a group of that name from
 *   another identity provider without ids grants nothing. With more than one OpenID Connect provider in
 *   Zero Trust, scope each name to its provider's id instead (`idp: { id }`).
 */
export const EXAMPLE_ACCESS_GROUPS: AccessGroupMapping[] = [
  {
    id: '8f8d10cf-fc14-4035-915e-45c11e91b9e1',
    entityRef: 'group:default/engineering',
  },
  {
    id: 'ac170820-0566-423a-90d8-2e6bf72c9c0b',
    entityRef: 'group:default/admins',
  },
  {
    id: 'f9aa38c6-bee3-4f7d-ac58-3e144ff232aa',
    entityRef: 'group:default/product',
  },
  {
    name: 'engineering',
    idp: { type: 'oidc' },
    entityRef: 'group:default/engineering',
  },
  {
    name: 'admins',
    idp: { type: 'oidc' },
    entityRef: 'group:default/admins',
  },
  {
    name: 'product',
    idp: { type: 'oidc' },
    entityRef: 'group:default/product',
  },
];

/**
 * The example's custom sign-in resolver, written the way Backstage documents custom resolvers: a module of
 * our own that registers the `cfaccess` provider with its own `signInResolver`, through
 * `cloudflareAccessServiceRef` so that the Access boundary (index.ts) signs Access-only callers in with the
 * same resolver and shares the backend's one Access verifier.
 *
 * A service token signs in as the subject configured for its Client ID in `serviceTokens`. A person signs
 * in as the catalog User whose profile email is the verified Access email, and owns what their catalog
 * groups own plus what their mapped Access groups grant (the library's
 * `signInWithCatalogUserAndAccessGroups`). When get-identity is unavailable their Access groups are unknown,
 * not empty, so the sign-in fails closed with 503 `identity_unavailable` rather than going ahead without
 * them. When neither resolver finds a catalog user, the chain answers 403 `user_not_found` naming the email,
 * which the sign-in page shows as a state of its own.
 */
export const cfaccessAuthModule = createBackendModule({
  pluginId: 'auth',
  moduleId: 'example-cfaccess-provider',
  register(reg) {
    reg.registerInit({
      deps: {
        providers: authProvidersExtensionPoint,
        cloudflareAccess: cloudflareAccessServiceRef,
        logger: coreServices.logger,
        rootConfig: coreServices.rootConfig,
      },
      async init({ providers, cloudflareAccess, logger, rootConfig }) {
        // A misconfiguration (a missing variable, an http or loopback team domain in production) stops
        // startup here with a message naming the key, the file and the variable.
        await checkCloudflareAccessConfig({ config: rootConfig, logger });
        // Checked here, at startup: a mistyped entity ref stops the backend rather than a sign-in.
        const signInWithCatalogUserAndAccessGroups =
          cloudflareAccessSignInResolvers.signInWithCatalogUserAndAccessGroups({
            accessGroups: EXAMPLE_ACCESS_GROUPS,
          });
        providers.registerProvider({
          providerId: 'cfaccess',
          // Keys fetched at startup and kept fresh in the background; auth.environment decides whether the
          // local emulator may be the team domain.
          factory: cloudflareAccess.authProviderFactory({
            signInResolver: createCloudflareAccessSignInResolverChain({
              resolvers: [
                {
                  name: 'serviceTokenSubject',
                  resolver:
                    cloudflareAccessSignInResolvers.serviceTokenSubject(),
                },
                {
                  name: 'signInWithCatalogUserAndAccessGroups',
                  resolver: signInWithCatalogUserAndAccessGroups,
                },
              ],
              logger,
            }),
          }),
        });
      },
    });
  },
});
