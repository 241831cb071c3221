/*
 * What a sign-in resolver gets from the auth backend (its AuthResolverContext),
 * with the catalog asked over HTTP through Backstage's catalog client: the
 * same lookups and ownership rules as the auth backend's own context, but
 * issuing no Backstage token, only recording what it would carry.
 */
import { CatalogClient } from '@backstage/catalog-client';
import {
  DEFAULT_NAMESPACE,
  Entity,
  parseEntityRef,
  RELATION_MEMBER_OF,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import type {
  AuthResolverCatalogUserQuery,
  AuthResolverContext,
  TokenParams,
} from '@backstage/plugin-auth-node';

export type IssuedIdentity = { sub: string; ent: string[] };

export type CatalogResolverContext = AuthResolverContext & {
  /** What the last issueToken would have put in the Backstage token. */
  readonly issued?: IssuedIdentity;
};

/** Backstage's default ownership: the user and the groups it is a member of. */
function defaultOwnershipEntityRefs(entity: Entity): string[] {
  const groups =
    entity.relations
      ?.filter(
        r => r.type === RELATION_MEMBER_OF && r.targetRef.startsWith('group:'),
      )
      .map(r => r.targetRef) ?? [];
  return [...new Set([stringifyEntityRef(entity), ...groups])];
}

export function createCatalogResolverContext(options: {
  /** The backend's base URL; the catalog is at `<backendUrl>/api/catalog`. */
  backendUrl: string;
  /** A token the catalog accepts (e.g. a static external-access token); never printed. */
  backendToken?: string;
  fetch?: typeof fetch;
}): CatalogResolverContext {
  const base = options.backendUrl.replace(/\/+$/, '');
  const catalog = new CatalogClient({
    discoveryApi: { getBaseUrl: async pluginId => `${base}/api/${pluginId}` },
    ...(options.fetch && { fetchApi: { fetch: options.fetch } }),
  });
  const request = { token: options.backendToken };
  let issued: IssuedIdentity | undefined;

  const context: CatalogResolverContext = {
    get issued() {
      return issued;
    },
    async issueToken(params: TokenParams) {
      const { sub, ent = [sub] } = params.claims;
      issued = { sub, ent: [...ent] };
      // No token is issued: the doctor only reports who would be signed in.
      return { token: '' };
    },
    async findCatalogUser(query: AuthResolverCatalogUserQuery) {
      let result: Entity | Entity[] | undefined;
      if ('entityRef' in query) {
        const ref = parseEntityRef(query.entityRef, {
          defaultKind: 'User',
          defaultNamespace: DEFAULT_NAMESPACE,
        });
        result = await catalog.getEntityByRef(ref, request);
      } else if ('annotations' in query) {
        const filter: Record<string, string> = { kind: 'user' };
        for (const [key, value] of Object.entries(query.annotations)) {
          filter[`metadata.annotations.${key}`] = value;
        }
        result = (await catalog.getEntities({ filter }, request)).items;
      } else if ('filter' in query) {
        const filter = [query.filter]
          .flat()
          .map(value =>
            Object.keys(value).some(key => key.toLowerCase() === 'kind')
              ? value
              : { ...value, kind: 'user' },
          );
        result = (await catalog.getEntities({ filter }, request)).items;
      } else {
        throw new InputError('Invalid user lookup query');
      }
      if (Array.isArray(result)) {
        if (result.length > 1) {
          throw new ConflictError('User lookup resulted in multiple matches');
        }
        result = result[0];
      }
      if (!result) {
        throw new NotFoundError('User not found');
      }
      return { entity: result };
    },
    async signInWithCatalogUser(query, signInOptions) {
      try {
        const { entity } = await context.findCatalogUser(query);
        const { ownershipEntityRefs } =
          await context.resolveOwnershipEntityRefs(entity);
        return await context.issueToken({
          claims: { sub: stringifyEntityRef(entity), ent: ownershipEntityRefs },
        });
      } catch (error) {
        const fallback = signInOptions?.dangerousEntityRefFallback;
        if ((error as Error)?.name !== 'NotFoundError' || !fallback) {
          throw error;
        }
        const ref = stringifyEntityRef(
          parseEntityRef(fallback.entityRef, {
            defaultKind: 'User',
            defaultNamespace: DEFAULT_NAMESPACE,
          }),
        );
        return context.issueToken({ claims: { sub: ref, ent: [ref] } });
      }
    },
    async resolveOwnershipEntityRefs(entity: Entity) {
      return { ownershipEntityRefs: defaultOwnershipEntityRefs(entity) };
    },
  };
  return context;
}
