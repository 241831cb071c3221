import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import {
  authProvidersExtensionPoint,
  createProxyAuthProviderFactory,
  SignInResolver,
} from '@backstage/plugin-auth-node';
import {
  type AccessGroupMapping,
  checkCloudflareAccessConfig,
  cloudflareAccessSignInResolvers,
  type CloudflareAccessResult,
  createAccessGroupMapper,
  createCloudflareAccessAuthenticator,
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
 *   group names only: those are matched by their exact name.
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
  { name: 'engineering', entityRef: 'group:default/engineering' },
  { name: 'admins', entityRef: 'group:default/admins' },
  { name: 'product', entityRef: 'group:default/product' },
];

// Checked once, at startup: a mistyped entity ref stops the backend rather than a sign-in.
const mapAccessGroups = createAccessGroupMapper({
  accessGroups: EXAMPLE_ACCESS_GROUPS,
});

/**
 * A person signs in as the catalog User whose profile email is the verified Access email, and owns what
 * their catalog groups own plus what their mapped Access groups grant. When get-identity is unavailable the
 * Access groups are unknown, so none are granted (fail closed), but the person still signs in with their
 * catalog ownership.
 */
const signInPersonWithAccessGroups: SignInResolver<
  CloudflareAccessResult
> = async ({ result }, ctx) => {
  if (result.tokenType !== 'user') {
    throw new NotFoundError('service tokens are signed in by their subject');
  }
  const { entity } = await ctx.findCatalogUser({
    filter: { 'spec.profile.email': result.claims.email },
  });
  const { ownershipEntityRefs } = await ctx.resolveOwnershipEntityRefs(entity);
  const accessGroupRefs = result.identityAvailable
    ? mapAccessGroups(result.cfIdentity.groups, result.cfIdentity.idp)
    : [];
  return ctx.issueToken({
    claims: {
      sub: stringifyEntityRef(entity),
      ent: [...new Set([...ownershipEntityRefs, ...accessGroupRefs])],
    },
  });
};

/**
 * The example's custom sign-in resolver, written the way Backstage documents custom resolvers for the
 * Cloudflare Access provider: a module of our own that registers the `cfaccess` provider with
 * `createCloudflareAccessAuthenticator` and its own `signInResolver`.
 *
 * A service token signs in as the subject configured for its Client ID in `serviceTokens`; a person as
 * above. When neither finds a catalog user, the chain answers 403 `user_not_found` naming the email, which
 * the sign-in page shows as a state of its own.
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
            signInResolver: createCloudflareAccessSignInResolverChain({
              resolvers: [
                {
                  name: 'serviceTokenSubject',
                  resolver:
                    cloudflareAccessSignInResolvers.serviceTokenSubject(),
                },
                {
                  name: 'catalog user by email, with Access groups',
                  resolver: signInPersonWithAccessGroups,
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
