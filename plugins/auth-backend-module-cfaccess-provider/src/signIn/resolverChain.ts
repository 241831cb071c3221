import { LoggerService } from '@backstage/backend-plugin-api';
import { SignInResolver } from '@backstage/plugin-auth-node';
import { CloudflareAccessUserNotFoundError } from '../errors';
import { logField, logValue } from '../lib/logValue';
import { RateLimitedLogger } from '../lib/rateLimitedLogger';
import { CloudflareAccessResult } from '../types';

/**
 * Options for {@link createCloudflareAccessSignInResolverChain}.
 *
 * @public
 */
export type CloudflareAccessSignInResolverChainOptions = {
  /** Tried in order; each name appears in the answer when none finds a user. */
  resolvers: ReadonlyArray<{
    name: string;
    resolver: SignInResolver<CloudflareAccessResult>;
  }>;
  /** Gets one warning (rate-limited) per caller without a catalog user. */
  logger?: LoggerService;
};

/** Who Access signed in, in the words the caller knows: their email, or their service token. */
function describeCaller(result: CloudflareAccessResult): {
  sentence: string;
  who: string;
} {
  if (result.tokenType === 'service' && result.serviceToken) {
    const { clientId, subject } = result.serviceToken;
    return {
      sentence: `Cloudflare Access signed in the service token ${clientId}, but Backstage has no user for its subject`,
      who: `service token ${clientId} (subject ${subject})`,
    };
  }
  const email = result.claims.email;
  return {
    sentence: `Cloudflare Access signed you in as ${email}, but Backstage has no user for that email`,
    who: email,
  };
}

/**
 * Tries sign-in resolvers in order, as `signIn.resolvers` does: a resolver
 * that throws `NotFoundError` (no catalog user, or not its kind of token)
 * hands over to the next. When none signs the caller in, the answer is a 403
 * `user_not_found` naming the caller's email or service token and the
 * resolvers tried, rather than Backstage's generic 500.
 *
 * @public
 */
export function createCloudflareAccessSignInResolverChain(
  options: CloudflareAccessSignInResolverChainOptions,
): SignInResolver<CloudflareAccessResult> {
  const resolvers = [...options.resolvers];
  const tried = resolvers.map(r => r.name).join(', ');
  const log = options.logger && new RateLimitedLogger(options.logger);

  return async (info, ctx) => {
    const misses: string[] = [];
    for (const { name, resolver } of resolvers) {
      try {
        return await resolver(info, ctx);
      } catch (error) {
        if ((error as Error | undefined)?.name !== 'NotFoundError') {
          throw error;
        }
        misses.push(`${name}: ${logValue(error)}`);
      }
    }
    const { sentence, who } = describeCaller(info.result);
    log?.warn(
      `no-catalog-user:${who}`,
      `Cloudflare Access sign-in refused (user_not_found): no catalog user for ${logValue(
        who,
      )}; ${misses.join('; ')}`,
      { reason: 'user_not_found', subject: logField(who) },
    );
    throw new CloudflareAccessUserNotFoundError(
      `${sentence}; ask your Backstage admin (sign-in resolvers tried: ${tried})`,
    );
  };
}
