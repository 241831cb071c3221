import type { IncomingMessage } from 'node:http';
import type {
  AuthService,
  CacheService,
  DiscoveryService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import type {
  AuthResolverContext,
  BackstageSignInResult,
  ProxyAuthenticator,
  SignInResolver,
} from '@backstage/plugin-auth-node';
import {
  authenticatorState,
  AuthenticatorState,
  CloudflareAccessAuthenticatorContext,
  createAuthenticator,
} from '../authenticator';
import { DEFAULT_PROVIDER_ID, providerConfigKey } from '../config';
import {
  BackstageTokens,
  staticExternalAccessSubjects,
} from '../boundary/backstageTokens';
import { PluginTokenVerifier } from '../boundary/pluginTokens';
import {
  accessSessionKey,
  SessionSignIn,
  SessionSignIns,
  SignInPurpose,
} from '../boundary/sessionSignIns';
import { identityRequestFor } from '../identity/identityClient';
import type { VerifiedAccessToken } from '../token';
import type {
  CloudflareAccessIdentityProfile,
  CloudflareAccessProviderInfo,
  CloudflareAccessResult,
} from '../types';

type Authenticator = ProxyAuthenticator<
  CloudflareAccessAuthenticatorContext,
  CloudflareAccessResult,
  CloudflareAccessProviderInfo
>;

/** What the auth plugin hands over when it registers the provider. */
export type ProviderRegistration = {
  auth: AuthService;
  discovery: DiscoveryService;
  cache: CacheService;
  logger: LoggerService;
  lifecycle: { addShutdownHook(hook: () => void | Promise<void>): void };
  signInResolver: SignInResolver<CloudflareAccessResult>;
};

type Provider = {
  authenticator: Authenticator;
  context: CloudflareAccessAuthenticatorContext;
  state: AuthenticatorState;
  signInResolver: SignInResolver<CloudflareAccessResult>;
  backstageTokens: BackstageTokens;
  sessions: SessionSignIns;
  logger: LoggerService;
};

/** How long a request that arrives during startup waits for the provider. */
const STARTUP_WAIT_MS = 30_000;

type ReadyProvider = Provider & { resolverContext: AuthResolverContext };

/**
 * The one Cloudflare Access verifier of a backend: key cache, verified-token
 * cache, identity cache and the sign-in of each Access session, shared by the
 * `cfaccess` sign-in provider and the Access boundary. There is one per root
 * config (so one per backend, and separate ones for test backends in one
 * process); see accessHubFor.
 */
export class AccessHub {
  private provider?: Provider;
  private readyProvider?: ReadyProvider;
  private readonly waiters: Array<() => void> = [];
  private started = false;

  constructor(private readonly rootConfig: Config) {}

  /** Called once, by the plugin that registers the `cfaccess` provider. */
  registerProvider(registration: ProviderRegistration): void {
    if (this.provider) {
      throw new Error(
        'The Cloudflare Access provider is registered twice in this backend: add either the cfaccess module or a custom module that registers it, not both',
      );
    }
    const authenticator = createAuthenticator({
      cache: registration.cache,
      logger: registration.logger,
      providerId: DEFAULT_PROVIDER_ID,
      rootConfig: this.rootConfig,
      prefetchKeys: true,
      lifecycle: registration.lifecycle,
    });
    const context = authenticator.initialize({
      config: this.rootConfig.getConfig(providerConfigKey(DEFAULT_PROVIDER_ID)),
    });
    const state = authenticatorState(context);
    const { discovery } = registration;
    const maxEntries = state.config.verifiedTokenCache.maxEntries;
    this.provider = {
      authenticator,
      context,
      state,
      signInResolver: registration.signInResolver,
      backstageTokens: new BackstageTokens({
        auth: registration.auth,
        pluginTokens: new PluginTokenVerifier(id => discovery.getBaseUrl(id)),
        maxEntries,
        staticExternalSubjects: staticExternalAccessSubjects(this.rootConfig),
      }),
      sessions: new SessionSignIns(maxEntries),
      logger: registration.logger,
    };
  }

  /** The auth backend created the provider: sign-ins can be issued from now on. */
  providerCreated(resolverContext: AuthResolverContext): void {
    if (this.provider) {
      this.readyProvider = { ...this.provider, resolverContext };
    }
    this.waiters.splice(0).forEach(wake => wake());
  }

  /** The provider and its resolver context, once both are there. */
  get ready(): ReadyProvider | undefined {
    return this.readyProvider;
  }

  /**
   * The backend has started: a request waiting for the provider stops
   * waiting, as it will not come any more.
   */
  startupFinished(): void {
    this.started = true;
    this.waiters.splice(0).forEach(wake => wake());
  }

  /**
   * Ready now, or once the auth plugin has created the provider while the
   * backend is still starting (plugins call each other during startup).
   */
  async whenReady(): Promise<boolean> {
    if (!this.ready && !this.started) {
      await new Promise<void>(resolve => {
        // Never longer than this, should startup hang.
        const timer = setTimeout(resolve, STARTUP_WAIT_MS);
        timer.unref?.();
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.ready !== undefined;
  }

  /** The authenticator the provider registers: its context is the shared one. */
  sharedAuthenticator(): Authenticator {
    const provider = this.requireProvider();
    return { ...provider.authenticator, initialize: () => provider.context };
  }

  /**
   * The sign-in resolver the provider registers: the registered one, through
   * the per-session cache, so a session the boundary signed in is not
   * resolved again at `/refresh`, and the other way round.
   */
  sharedSignInResolver(): SignInResolver<CloudflareAccessResult> {
    const provider = this.requireProvider();
    return async (info, ctx) => {
      const { result } = info;
      const verified: VerifiedAccessToken =
        result.tokenType === 'service' && result.serviceToken
          ? {
              tokenType: 'service',
              claims: result.claims,
              clientId: result.serviceToken.clientId,
              subject: result.serviceToken,
            }
          : { tokenType: 'user', claims: result.claims };
      const signIn = await provider.sessions.signIn(
        accessSessionKey(verified),
        result.claims.exp,
        'refresh',
        () => provider.signInResolver(info, ctx),
      );
      return signIn.result;
    };
  }

  /**
   * The Backstage sign-in of the request's Access session, as `/refresh`
   * would make it (identity, profile, the same sign-in resolver), shared
   * with `/refresh` through the per-session cache.
   */
  async signInForRequest(
    req: IncomingMessage,
    verified: VerifiedAccessToken,
    purpose: SignInPurpose = 'request',
  ): Promise<SessionSignIn> {
    const ready = this.ready;
    if (!ready) {
      throw new Error('the cfaccess provider is not ready');
    }
    return ready.sessions.signIn(
      accessSessionKey(verified),
      verified.claims.exp,
      purpose,
      async (): Promise<BackstageSignInResult> => {
        const { result } = await ready.authenticator.authenticate(
          { req: req as any },
          ready.context,
        );
        const { profile } = await ready.authenticator.defaultProfileTransform(
          result,
          ready.resolverContext,
        );
        return ready.signInResolver({ profile, result }, ready.resolverContext);
      },
    );
  }

  /**
   * The identity of a verified person's Access session, no older than
   * `maxAgeMs` (fetched again when it is); undefined when get-identity is
   * off, unreachable, or the token is a service token's.
   */
  async identityFor(
    access: { verified: VerifiedAccessToken; token: string },
    maxAgeMs?: number,
  ): Promise<CloudflareAccessIdentityProfile | undefined> {
    const client = this.ready?.state.identityClient;
    const { verified } = access;
    if (!client || verified.tokenType !== 'user') {
      return undefined;
    }
    try {
      return await client.getIdentity(
        identityRequestFor(access.token, verified.claims),
        maxAgeMs === undefined ? {} : { maxAgeMs },
      );
    } catch {
      // The client handles what it expects; anything else is no identity.
      return undefined;
    }
  }

  private requireProvider(): Provider {
    if (!this.provider) {
      throw new Error('The Cloudflare Access provider is not registered');
    }
    return this.provider;
  }
}

const hubs = new WeakMap<Config, AccessHub>();

/**
 * The AccessHub of the backend whose root config this is. Keyed by the
 * root config object, which every service of one backend shares: the Access
 * boundary (in the root HTTP router's configure, which cannot depend on
 * services) and the cfaccess provider (through cloudflareAccessServiceRef)
 * find the same hub.
 */
export function accessHubFor(rootConfig: Config): AccessHub {
  let hub = hubs.get(rootConfig);
  if (!hub) {
    hub = new AccessHub(rootConfig);
    hubs.set(rootConfig, hub);
  }
  return hub;
}
