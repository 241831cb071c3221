import { LoggerService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import {
  commonSignInResolvers,
  SignInResolver,
  SignInResolverFactory,
} from '@backstage/plugin-auth-node';
import { JsonObject } from '@backstage/types';
import { createCloudflareAccessSignInResolverChain } from './resolverChain';
import { createSignInResolverFactories } from './resolvers';
import { providerConfigKey } from '../config/providerId';
import { CloudflareAccessResult } from '../types';

/**
 * The resolvers `signIn.resolvers` can name: Backstage's common ones and
 * ours, ours last so the Access-aware versions win on name clashes.
 */
export function moduleSignInResolverFactories(
  warn?: (message: string) => void,
): Record<string, SignInResolverFactory<CloudflareAccessResult>> {
  return {
    ...commonSignInResolvers,
    ...createSignInResolverFactories(warn && { warn }),
  } as Record<string, SignInResolverFactory<CloudflareAccessResult>>;
}

/**
 * Reads `signIn.resolvers` of the provider config into a resolver chain, as
 * auth-node's declarative reader does, but with startup errors that name the
 * entry and an explained 403 when no resolver finds a user. `undefined` when
 * none are configured.
 */
export function readSignInResolverChain(options: {
  /** The provider's config, `auth.providers.<providerId>`. */
  config: Config;
  providerId: string;
  factories: Record<string, SignInResolverFactory<CloudflareAccessResult>>;
  logger?: LoggerService;
}): SignInResolver<CloudflareAccessResult> | undefined {
  const { config, providerId, factories, logger } = options;
  const key = `${providerConfigKey(providerId)}.signIn.resolvers`;
  const entries = config.getOptionalConfigArray('signIn.resolvers') ?? [];
  if (entries.length === 0) {
    return undefined;
  }
  const resolvers = entries.map((entry, index) => {
    const at = `${key}[${index}]`;
    const name = entry.getOptional('resolver');
    if (typeof name !== 'string' || !Object.hasOwn(factories, name)) {
      throw new Error(
        `${at}.resolver must name a sign-in resolver (${Object.keys(
          factories,
        ).join(', ')}), got ${JSON.stringify(name)}`,
      );
    }
    const { resolver: _name, ...resolverOptions } = entry.get<JsonObject>();
    try {
      return {
        name,
        resolver: factories[name](
          Object.keys(resolverOptions).length > 0 ? resolverOptions : undefined,
        ),
      };
    } catch (error) {
      throw new Error(`${at} (${name}): ${(error as Error).message}`);
    }
  });
  return createCloudflareAccessSignInResolverChain({ resolvers, logger });
}

/**
 * readSignInResolverChain, with the list required: without resolvers the
 * provider would sign nobody in, so startup stops with this error.
 */
export function readRequiredSignInResolverChain(
  options: Parameters<typeof readSignInResolverChain>[0],
): SignInResolver<CloudflareAccessResult> {
  const chain = readSignInResolverChain(options);
  if (!chain) {
    throw new Error(
      `${providerConfigKey(
        options.providerId,
      )}.signIn.resolvers is required: list the sign-in resolvers, e.g. [{ resolver: emailMatchingUserEntityProfileEmail }]`,
    );
  }
  return chain;
}
