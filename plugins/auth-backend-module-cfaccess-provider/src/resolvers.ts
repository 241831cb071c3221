import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import {
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import {
  AuthResolverContext,
  createSignInResolverFactory,
  SignInInfo,
  SignInResolver,
  SignInResolverFactory,
} from '@backstage/plugin-auth-node';
import { z } from 'zod/v3';
import { accessGroupsToEntityRefs } from './groups';
import { CloudflareAccessResult } from './types';

/**
 * Options of the email resolvers (`emailMatchingUserEntityProfileEmail`,
 * `emailLocalPartMatchingUserEntityName`).
 *
 * @public
 */
export type CloudflareAccessEmailResolverOptions = {
  allowedDomains?: string[];
  dangerouslyAllowSignInWithoutUserInCatalog?: boolean;
};
/**
 * Options of the `serviceTokenSubject` resolver.
 *
 * @public
 */
export type CloudflareAccessServiceTokenResolverOptions = {
  dangerouslyAllowSignInWithoutUserInCatalog?: boolean;
};
/**
 * Options of the `signInWithCatalogUserAndAccessGroups` resolver.
 *
 * @public
 */
export type CloudflareAccessGroupsResolverOptions = {
  namespace?: string;
  allowedDomains?: string[];
};

// Typed explicitly: inferring through createSignInResolverFactory's
// generics is too deep for the compiler.
const userOptionsSchema: z.ZodType<
  CloudflareAccessEmailResolverOptions | undefined
> = z
  .object({
    allowedDomains: z.array(z.string()).optional(),
    dangerouslyAllowSignInWithoutUserInCatalog: z.boolean().optional(),
  })
  .optional();

const serviceOptionsSchema: z.ZodType<
  CloudflareAccessServiceTokenResolverOptions | undefined
> = z
  .object({
    dangerouslyAllowSignInWithoutUserInCatalog: z.boolean().optional(),
  })
  .optional();

const groupsOptionsSchema: z.ZodType<
  CloudflareAccessGroupsResolverOptions | undefined
> = z
  .object({
    namespace: z.string().optional(),
    allowedDomains: z.array(z.string()).optional(),
  })
  .optional();

/**
 * createSignInResolverFactory with the options type given rather than
 * inferred from the zod schema; the inference is too deep for the compiler
 * across zod 3/4 type definitions.
 */
function resolverFactory<TOptions>(options: {
  optionsSchema: z.ZodType<TOptions | undefined>;
  create(options: TOptions | undefined): SignInResolver<CloudflareAccessResult>;
}): SignInResolverFactory<CloudflareAccessResult, TOptions | undefined> {
  return createSignInResolverFactory(options as any) as any;
}

/**
 * The verified email of a person. Service tokens are not people: a
 * NotFoundError lets a configured resolver list move on to
 * `serviceTokenSubject` instead of signing the token in as a user.
 */
function userEmail(
  info: SignInInfo<CloudflareAccessResult>,
  allowedDomains?: string[],
): { email: string; localPart: string } {
  const { result } = info;
  if (result?.tokenType !== 'user') {
    throw new NotFoundError(
      'Cloudflare Access service tokens are not signed in by user resolvers; use serviceTokenSubject',
    );
  }
  // The signed claim, not the profile, which a profileTransform may rewrite.
  const email = result.claims.email;
  if (!email) {
    throw new Error('Login failed, Cloudflare Access token has no email');
  }
  const at = email.lastIndexOf('@');
  const localPart = email.slice(0, at);
  const domain = email.slice(at + 1).toLowerCase();
  if (allowedDomains && !allowedDomains.some(d => d.toLowerCase() === domain)) {
    throw new NotAllowedError(
      'Sign-in user email is not from an allowed domain',
    );
  }
  return { email, localPart };
}

/**
 * Signs in as the catalog user found by `query`. Only when the resolver's
 * `dangerouslyAllowSignInWithoutUserInCatalog` is set does a missing user
 * still get a token, for `fallbackRef`.
 */
function signInWithCatalogUser(
  ctx: AuthResolverContext,
  query: Parameters<AuthResolverContext['signInWithCatalogUser']>[0],
  options: { dangerouslyAllowSignInWithoutUserInCatalog?: boolean },
  fallbackRef: string | { name: string },
) {
  return ctx.signInWithCatalogUser(query, {
    dangerousEntityRefFallback:
      options.dangerouslyAllowSignInWithoutUserInCatalog
        ? { entityRef: fallbackRef }
        : undefined,
  });
}

function isEntityRefSubject(subject: string): boolean {
  return (
    subject.includes(':') || subject.includes('/') || !subject.includes('@')
  );
}

/**
 * Sign-in resolvers for Cloudflare Access. Pass them (after auth-node's
 * `commonSignInResolvers`) as `signInResolverFactories`.
 *
 * @public
 */
export namespace cloudflareAccessSignInResolvers {
  /**
   * Signs a person in as the catalog user whose `spec.profile.email` is the
   * verified email of the Access token. Never signs a service token in.
   */
  export const emailMatchingUserEntityProfileEmail = resolverFactory({
    optionsSchema: userOptionsSchema,
    create(options = {}) {
      return async (
        info: SignInInfo<CloudflareAccessResult>,
        ctx: AuthResolverContext,
      ) => {
        const { email } = userEmail(info, options.allowedDomains);
        return signInWithCatalogUser(
          ctx,
          { filter: { 'spec.profile.email': email } },
          options,
          { name: email },
        );
      };
    },
  });

  /**
   * Signs a person in as the catalog user named like the local part of the
   * verified email (`jane.doe@example.com` becomes `user:default/jane.doe`).
   * Never signs a service token in.
   */
  export const emailLocalPartMatchingUserEntityName = resolverFactory({
    optionsSchema: userOptionsSchema,
    create(options = {}) {
      return async (
        info: SignInInfo<CloudflareAccessResult>,
        ctx: AuthResolverContext,
      ) => {
        const { localPart } = userEmail(info, options.allowedDomains);
        return signInWithCatalogUser(
          ctx,
          { entityRef: { name: localPart } },
          options,
          { name: localPart },
        );
      };
    },
  });

  /**
   * Signs a service token in as its configured `subject`: an entity ref
   * (`user:default/ci-bot`) is looked up by ref, an email by
   * `spec.profile.email`. Never signs a person in.
   */
  export const serviceTokenSubject = resolverFactory({
    optionsSchema: serviceOptionsSchema,
    create(options = {}) {
      return async (
        info: SignInInfo<CloudflareAccessResult>,
        ctx: AuthResolverContext,
      ) => {
        const { result } = info;
        if (result?.tokenType !== 'service' || !result.serviceToken) {
          throw new NotFoundError(
            'serviceTokenSubject only signs in Cloudflare Access service tokens',
          );
        }
        const { subject } = result.serviceToken;
        if (isEntityRefSubject(subject)) {
          const ref = parseEntityRef(subject, {
            defaultKind: 'user',
            defaultNamespace: 'default',
          });
          return signInWithCatalogUser(
            ctx,
            { entityRef: ref },
            options,
            stringifyEntityRef(ref),
          );
        }
        return signInWithCatalogUser(
          ctx,
          { filter: { 'spec.profile.email': subject } },
          options,
          { name: subject },
        );
      };
    },
  });

  /**
   * Signs a person in as the catalog user matching the verified email, and
   * adds their Access groups as ownership refs (`group:<namespace>/<slug>`).
   * Fails closed (503) when get-identity was unavailable, because then the
   * groups are unknown rather than empty.
   */
  export const signInWithCatalogUserAndAccessGroups = resolverFactory({
    optionsSchema: groupsOptionsSchema,
    create(options = {}) {
      return async (
        info: SignInInfo<CloudflareAccessResult>,
        ctx: AuthResolverContext,
      ) => {
        const { email } = userEmail(info, options.allowedDomains);
        if (!info.result.identityAvailable) {
          throw new ServiceUnavailableError(
            'Cloudflare Access identity (groups) is unavailable right now; try signing in again shortly',
          );
        }
        const { entity } = await ctx.findCatalogUser({
          filter: { 'spec.profile.email': email },
        });
        const { ownershipEntityRefs } = await ctx.resolveOwnershipEntityRefs(
          entity,
        );
        const groupRefs = accessGroupsToEntityRefs(
          info.result.cfIdentity.groups,
          { namespace: options.namespace },
        );
        return ctx.issueToken({
          claims: {
            sub: stringifyEntityRef(entity),
            ent: [...new Set([...ownershipEntityRefs, ...groupRefs])],
          },
        });
      };
    },
  });
}
