import {
  KubernetesValidatorFunctions,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import {
  AuthResolverContext,
  createSignInResolverFactory,
  SignInInfo,
  SignInResolver,
  SignInResolverFactory,
} from '@backstage/plugin-auth-node';
import { z } from 'zod/v3';
import {
  emailDomain,
  EmailParts,
  readAllowedDomains,
  signInEmailParts,
} from './email';
import { CloudflareAccessIdentityUnavailableError } from '../errors';
import {
  AccessGroupMapping,
  accessGroupsOption,
  createAccessGroupMapper,
} from './accessGroups';
import { CloudflareAccessResult } from '../types';

/**
 * Options of the `emailMatchingUserEntityProfileEmail` resolver.
 *
 * @public
 */
export type CloudflareAccessEmailResolverOptions = {
  /** Only emails of these domains (case-insensitive) may sign in; others get 403. */
  allowedDomains?: string[];
  /** Sign in even when no catalog User matches, with a fallback ref. Avoid in production. */
  dangerouslyAllowSignInWithoutUserInCatalog?: boolean;
};

/**
 * Options of the `emailLocalPartMatchingUserEntityName` resolver. One of
 * `allowedDomains` and `dangerouslyAllowAnyEmailDomain` is required.
 *
 * @public
 */
export type CloudflareAccessEmailLocalPartResolverOptions =
  CloudflareAccessEmailResolverOptions & {
    /** Let `alice@` of any domain sign in as the catalog's `alice`. */
    dangerouslyAllowAnyEmailDomain?: boolean;
  };

/**
 * Options of the `serviceTokenSubject` resolver.
 *
 * @public
 */
export type CloudflareAccessServiceTokenResolverOptions = {
  /** Sign in even when the subject is not in the catalog. Avoid in production. */
  dangerouslyAllowSignInWithoutUserInCatalog?: boolean;
};

/**
 * Options of the `signInWithCatalogUserAndAccessGroups` resolver: one of
 * `accessGroups` and `dangerouslyMapGroupNames` is required (see
 * {@link AccessGroupMapperOptions}).
 *
 * @public
 */
export type CloudflareAccessGroupsResolverOptions = {
  /** Only emails of these domains (case-insensitive) may sign in; others get 403. */
  allowedDomains?: string[];
  accessGroups?: AccessGroupMapping[];
  dangerouslyMapGroupNames?: boolean;
  namespace?: string;
};

/** A resolver's options: these keys and no others (a misspelt key is an error), or none at all. */
const optionsOf = <T extends z.ZodRawShape>(shape: T) =>
  z.object(shape).strict().optional();

const allowedDomainsSchema = z.array(z.string().min(1)).min(1).optional();
const dangerouslyAllowSignInWithoutUserInCatalog = z.boolean().optional();

// Typed explicitly: inferring through createSignInResolverFactory's
// generics is too deep for the compiler.
const emailOptionsSchema: z.ZodType<
  CloudflareAccessEmailResolverOptions | undefined
> = optionsOf({
  allowedDomains: allowedDomainsSchema,
  dangerouslyAllowSignInWithoutUserInCatalog,
});

const localPartOptionsSchema: z.ZodType<
  CloudflareAccessEmailLocalPartResolverOptions | undefined
> = optionsOf({
  allowedDomains: allowedDomainsSchema,
  dangerouslyAllowAnyEmailDomain: z.boolean().optional(),
  dangerouslyAllowSignInWithoutUserInCatalog,
});

const serviceOptionsSchema: z.ZodType<
  CloudflareAccessServiceTokenResolverOptions | undefined
> = optionsOf({ dangerouslyAllowSignInWithoutUserInCatalog });

const groupsOptionsSchema: z.ZodType<
  CloudflareAccessGroupsResolverOptions | undefined
> = optionsOf({
  allowedDomains: allowedDomainsSchema,
  accessGroups: accessGroupsOption.optional() as z.ZodType<
    AccessGroupMapping[] | undefined
  >,
  dangerouslyMapGroupNames: z.boolean().optional(),
  namespace: z.string().optional(),
});

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
 * The email a resolver signs in with: a person's signed `email` claim (not
 * the profile, which a profileTransform may rewrite), or the subject of a
 * service token configured with an email. A service token with an entity-ref
 * subject has none: NotFoundError lets the resolver list move on to
 * `serviceTokenSubject`. Only a plain ASCII email with one "@" goes on to
 * the catalog (see splitEmail): the catalog folds case, so a Unicode one
 * could sign in as someone else.
 */
function signInEmail(
  result: CloudflareAccessResult,
  allowedDomains?: string[],
): { email: string } & EmailParts {
  const email =
    result.tokenType === 'service'
      ? result.serviceToken?.email
      : result.claims.email;
  if (!email) {
    throw new NotFoundError(
      result.tokenType === 'service'
        ? 'the service token subject is an entity ref, which serviceTokenSubject signs in'
        : 'the Cloudflare Access token has no email',
    );
  }
  const parts = signInEmailParts(email);
  // An ASCII hostname, compared exactly (see emailDomain).
  if (allowedDomains) {
    const domain = emailDomain(email);
    if (domain === undefined || !allowedDomains.includes(domain)) {
      throw new NotAllowedError(
        'Sign-in user email is not from an allowed domain',
      );
    }
  }
  return { email, ...parts };
}

/** The resolver's allowedDomains, validated and lower-cased; an InputError names a bad entry. */
function allowedDomainsOption(domains: string[] | undefined) {
  if (domains === undefined) {
    return undefined;
  }
  try {
    return readAllowedDomains(domains);
  } catch (error) {
    throw new InputError((error as Error).message);
  }
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

/** The query for the catalog User whose `spec.profile.email` is this email (compared case-insensitively). */
const byProfileEmail = (email: string) => ({
  filter: { 'spec.profile.email': email },
});

/** Signs in as the User of this profile email; the fallback, when allowed, is named after the email. */
function signInByProfileEmail(
  ctx: AuthResolverContext,
  email: string,
  options: { dangerouslyAllowSignInWithoutUserInCatalog?: boolean },
) {
  return signInWithCatalogUser(ctx, byProfileEmail(email), options, {
    name: email,
  });
}

/**
 * Builds the resolver factories. The module passes its logger, for the
 * warnings of `dangerouslyMapGroupNames`; the exported ones have none.
 */
export function createSignInResolverFactories(logger?: {
  warn(message: string): void;
}) {
  const emailMatchingUserEntityProfileEmail = resolverFactory({
    optionsSchema: emailOptionsSchema,
    create(options = {}) {
      const allowedDomains = allowedDomainsOption(options.allowedDomains);
      return async (
        info: SignInInfo<CloudflareAccessResult>,
        ctx: AuthResolverContext,
      ) => {
        const { email } = signInEmail(info.result, allowedDomains);
        return signInByProfileEmail(ctx, email, options);
      };
    },
  });

  const emailLocalPartMatchingUserEntityName = resolverFactory({
    optionsSchema: localPartOptionsSchema,
    create(options = {}) {
      const { dangerouslyAllowAnyEmailDomain } = options;
      const allowedDomains = allowedDomainsOption(options.allowedDomains);
      if (!allowedDomains && !dangerouslyAllowAnyEmailDomain) {
        throw new InputError(
          'emailLocalPartMatchingUserEntityName requires allowedDomains: without it, alice@ of any domain signs in as the catalog user alice. List your email domains, or set dangerouslyAllowAnyEmailDomain: true',
        );
      }
      if (allowedDomains && dangerouslyAllowAnyEmailDomain) {
        throw new InputError(
          'emailLocalPartMatchingUserEntityName takes allowedDomains or dangerouslyAllowAnyEmailDomain, not both',
        );
      }
      return async (
        info: SignInInfo<CloudflareAccessResult>,
        ctx: AuthResolverContext,
      ) => {
        const { localPart } = signInEmail(info.result, allowedDomains);
        // Only a local part that is an entity name can name a user; anything
        // else (`kate+admin`, `..`) would reach the catalog's path or a fallback ref.
        if (!KubernetesValidatorFunctions.isValidObjectName(localPart)) {
          throw new NotFoundError(
            "the email's local part is not a valid entity name",
          );
        }
        return signInWithCatalogUser(
          ctx,
          { entityRef: { name: localPart } },
          options,
          { name: localPart },
        );
      };
    },
  });

  const serviceTokenSubject = resolverFactory({
    optionsSchema: serviceOptionsSchema,
    create(options = {}) {
      return async (
        info: SignInInfo<CloudflareAccessResult>,
        ctx: AuthResolverContext,
      ) => {
        const { serviceToken } = info.result;
        if (info.result.tokenType !== 'service' || !serviceToken) {
          throw new NotFoundError(
            'serviceTokenSubject only signs in Cloudflare Access service tokens',
          );
        }
        if (serviceToken.entityRef) {
          return signInWithCatalogUser(
            ctx,
            { entityRef: serviceToken.entityRef },
            options,
            serviceToken.entityRef,
          );
        }
        const { email } = signInEmail(info.result);
        return signInByProfileEmail(ctx, email, options);
      };
    },
  });

  const signInWithCatalogUserAndAccessGroups = resolverFactory({
    optionsSchema: groupsOptionsSchema,
    create(options = {}) {
      const { allowedDomains: domains, ...mapping } = options;
      const allowedDomains = allowedDomainsOption(domains);
      const mapAccessGroups = createAccessGroupMapper({ ...mapping, logger });
      return async (
        info: SignInInfo<CloudflareAccessResult>,
        ctx: AuthResolverContext,
      ) => {
        const { result } = info;
        if (result.tokenType !== 'user') {
          throw new NotFoundError(
            'signInWithCatalogUserAndAccessGroups only signs people in',
          );
        }
        const { email } = signInEmail(result, allowedDomains);
        if (!result.identityAvailable) {
          throw new CloudflareAccessIdentityUnavailableError();
        }
        const { entity } = await ctx.findCatalogUser(byProfileEmail(email));
        const { ownershipEntityRefs } = await ctx.resolveOwnershipEntityRefs(
          entity,
        );
        const groupRefs = mapAccessGroups(
          result.cfIdentity.groups,
          result.cfIdentity.idp,
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

  return {
    emailMatchingUserEntityProfileEmail,
    emailLocalPartMatchingUserEntityName,
    serviceTokenSubject,
    signInWithCatalogUserAndAccessGroups,
  };
}

const factories = createSignInResolverFactories();

/**
 * Sign-in resolvers for Cloudflare Access. The module offers them by name in
 * `signIn.resolvers`; in a custom module, call one to get a resolver.
 *
 * @public
 */
export namespace cloudflareAccessSignInResolvers {
  /**
   * Signs in as the catalog user whose `spec.profile.email` is the person's
   * verified email, or a service token's email subject.
   */
  export const emailMatchingUserEntityProfileEmail: SignInResolverFactory<
    CloudflareAccessResult,
    CloudflareAccessEmailResolverOptions | undefined
  > = factories.emailMatchingUserEntityProfileEmail;

  /**
   * Signs in as the catalog user named like the local part of the verified
   * email (`jane.doe@example.com` becomes `user:default/jane.doe`), or of a
   * service token's email subject. Requires `allowedDomains`.
   */
  export const emailLocalPartMatchingUserEntityName: SignInResolverFactory<
    CloudflareAccessResult,
    CloudflareAccessEmailLocalPartResolverOptions | undefined
  > = factories.emailLocalPartMatchingUserEntityName;

  /**
   * Signs a service token in as its configured `subject`: a User entity ref
   * (`user:default/ci-bot`) by ref, an email by `spec.profile.email`. Never
   * signs a person in.
   */
  export const serviceTokenSubject: SignInResolverFactory<
    CloudflareAccessResult,
    CloudflareAccessServiceTokenResolverOptions | undefined
  > = factories.serviceTokenSubject;

  /**
   * Signs a person in as the catalog user matching the verified email, and
   * adds the entity refs their Access groups are mapped to (`accessGroups`)
   * to the ownership refs. Fails closed (503) when get-identity was
   * unavailable, because then the groups are unknown rather than empty.
   */
  export const signInWithCatalogUserAndAccessGroups: SignInResolverFactory<
    CloudflareAccessResult,
    CloudflareAccessGroupsResolverOptions | undefined
  > = factories.signInWithCatalogUserAndAccessGroups;
}
