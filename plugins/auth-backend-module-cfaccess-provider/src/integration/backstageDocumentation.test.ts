/*
 * Backstage's Cloudflare Access documentation (the provider page upstream users follow), run as written with
 * only the package name changed, through the real /api/auth/cfaccess/refresh route.
 */
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  authProvidersExtensionPoint,
  createProxyAuthProviderFactory,
} from '@backstage/plugin-auth-node';
import * as cfaccessPackage from '@cfaccess/plugin-auth-backend-module-cfaccess-provider';
import { createCloudflareAccessAuthenticator } from '@cfaccess/plugin-auth-backend-module-cfaccess-provider';
import {
  AUD,
  createAccessServer,
  createTestKey,
  errorUnlessLoopback,
  mintToken,
  serviceClaims,
  TestClock,
  TestKey,
  userClaims,
} from '../__testUtils__/fixtures';
import {
  catalogUsers,
  refresh,
  startAuthBackend,
} from '../__testUtils__/authBackend';

const { server, state } = createAccessServer();

const botUser = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'User',
  metadata: { name: 'bot-user', namespace: 'default' },
  spec: { profile: { email: 'bot-user@your-company.com' } },
};
const entities = [...catalogUsers, botUser];

/**
 * The documentation's `auth.providers.cfaccess` block with its placeholder team name filled in. It omits
 * `audience`, which the upstream module reads as a required value too (`config.getString('audience')`).
 */
const documentedConfig = {
  // You can find the team name in the Cloudflare Zero Trust dashboard.
  teamName: 'testteam',
  audience: AUD,
  // This service tokens section is optional -- you only need it if you have
  // some Cloudflare Service Tokens that you want to be able to log in to your
  // Backstage instance.
  serviceTokens: [
    {
      token: '1uh2fh19efvfh129f1f919u21f2f19jf2.access',
      subject: 'bot-user@your-company.com',
    },
  ],
  // This picks what sign in resolver(s) you want to use.
  signIn: {
    resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }],
  },
};

/** The documentation's "Advanced: Custom Sign-in Resolver" module, verbatim apart from the import path. */
const customAuth = createBackendModule({
  // This ID must be exactly "auth" because that's the plugin it targets
  pluginId: 'auth',
  // This ID must be unique, but can be anything
  moduleId: 'custom-auth-provider',
  register(reg) {
    reg.registerInit({
      deps: {
        providers: authProvidersExtensionPoint,
        cache: coreServices.cache,
      },
      async init({ providers, cache }) {
        providers.registerProvider({
          // This ID must match the actual provider config, e.g. addressing
          // auth.providers.github means that this must be "github".
          providerId: 'cfaccess',
          // Use createProxyAuthProviderFactory instead if it's one of the proxy
          // based providers rather than an OAuth based one
          factory: createProxyAuthProviderFactory({
            authenticator: createCloudflareAccessAuthenticator({ cache }),
            async signInResolver(info, ctx) {
              // This is where the body of the sign-in resolver goes!
              const { profile } = info;
              if (!profile.email) {
                throw new Error(
                  'Login failed, user profile does not contain an email',
                );
              }
              return ctx.signInWithCatalogUser({
                filter: {
                  'spec.profile.email': profile.email,
                },
              });
            },
          }),
        });
      },
    });
  },
});

describe("Backstage's Cloudflare Access documentation, as written", () => {
  let key: TestKey;
  const clock = new TestClock();

  beforeAll(async () => {
    server.listen({ onUnhandledRequest: errorUnlessLoopback });
    key = await createTestKey('kid-a');
    state.jwks = [key.publicJwk];
  });
  afterAll(() => server.close());
  beforeEach(() => {
    // The backend runs on the real clock.
    clock.ms = Date.now();
  });

  /** Signs in through /refresh with a token of these claims: the status, the user and the profile email. */
  async function signIn(
    backend: { server: any },
    claims: Parameters<typeof mintToken>[1],
  ) {
    const res = await refresh(backend, await mintToken(key, claims));
    return {
      status: res.status,
      user: res.body.backstageIdentity?.identity.userEntityRef,
      email: res.body.profile?.email,
    };
  }

  describe('the config block with backend.add(import(...))', () => {
    let backend: Awaited<ReturnType<typeof startAuthBackend>>;

    beforeAll(async () => {
      backend = await startAuthBackend({
        // backend.add(import('@cfaccess/plugin-auth-backend-module-cfaccess-provider')): jest runs without
        // ESM support, so the dynamic import is given as the module namespace it resolves to.
        features: [Promise.resolve(cfaccessPackage)],
        cfaccess: documentedConfig,
        entities,
      });
    });
    afterAll(() => backend.stop());

    it('signs a person in as the catalog user with their email', async () => {
      expect(await signIn(backend, userClaims(clock))).toEqual({
        status: 200,
        user: 'user:default/jane',
        email: 'jane@example.com',
      });
    });

    it("signs the service token in as the catalog user with its subject's email", async () => {
      // The profile email handed to resolvers is the configured subject.
      expect(await signIn(backend, serviceClaims(clock))).toEqual({
        status: 200,
        user: 'user:default/bot-user',
        email: 'bot-user@your-company.com',
      });
    });

    it('answers a person without a catalog user with a 403 that says so, not a 500', async () => {
      const token = await mintToken(
        key,
        userClaims(clock, {
          email: 'alice@example.com',
          sub: 'alice-sub',
          identity_nonce: 'alice-nonce',
        }),
      );
      const res = await refresh(backend, token);
      expect(res.status).toBe(403);
      expect(res.body.error).toEqual({
        name: 'NotAllowedError',
        reason: 'user_not_found',
        message:
          'Cloudflare Access signed you in as alice@example.com, but Backstage has no user for that email; ask your Backstage admin (sign-in resolvers tried: emailMatchingUserEntityProfileEmail)',
      });
      expect(JSON.stringify(res.body)).not.toContain(token);
    });
  });

  describe('the custom sign-in resolver module', () => {
    let backend: Awaited<ReturnType<typeof startAuthBackend>>;

    beforeAll(async () => {
      const { signIn: _resolversAreTheModules, ...config } = documentedConfig;
      backend = await startAuthBackend({
        features: [customAuth],
        cfaccess: config,
        entities,
      });
    });
    afterAll(() => backend.stop());

    it('signs a person in, and the service token through profile.email', async () => {
      expect(await signIn(backend, userClaims(clock))).toMatchObject({
        status: 200,
        user: 'user:default/jane',
      });
      expect(await signIn(backend, serviceClaims(clock))).toMatchObject({
        status: 200,
        user: 'user:default/bot-user',
      });
    });
  });
});
