import {
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { NotFoundError } from '@backstage/errors';
import { AuthResolverContext } from '@backstage/plugin-auth-node';

/**
 * How a catalog compares text. Backstage's lower-cases filter values and
 * refs (`toLowerCase`, which turns the Kelvin sign into "k"); a database
 * collation may also fold through upper case (the long s "ſ" becomes "S")
 * and compatibility forms (NFKC: fullwidth "ｋ" is "k", "ﬁ" is "fi"). The
 * mock folds all three, so a test shows whether any of them could match.
 */
const fold = (text: string) =>
  text.normalize('NFKC').toUpperCase().toLowerCase();

function user(name: string, email: string): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name, namespace: 'default' },
    spec: { profile: { email }, memberOf: [] },
  };
}

/** The people of the folding catalog: Kate's email is the target of every look-alike. */
export const CATALOG_USERS = [
  user('kate', 'kate@example.com'),
  user('steve', 'steve@example.com'),
  user('fiona', 'fiona@example.com'),
  user('jane', 'jane@example.com'),
];

type Query = Parameters<AuthResolverContext['findCatalogUser']>[0];

/**
 * An AuthResolverContext over {@link CATALOG_USERS} that looks users up as
 * Backstage's does (by ref, or by a `spec.profile.email` filter), with the
 * folding above, and records every query it is asked.
 */
export function foldingCatalogContext() {
  const queries: Query[] = [];

  const find = (query: Query): Entity => {
    queries.push(query);
    let matches: Entity[];
    if ('entityRef' in query) {
      const ref = stringifyEntityRef(
        parseEntityRef(query.entityRef, {
          defaultKind: 'user',
          defaultNamespace: 'default',
        }),
      );
      matches = CATALOG_USERS.filter(
        e => fold(stringifyEntityRef(e)) === fold(ref),
      );
    } else if ('filter' in query) {
      const email = (query.filter as Record<string, unknown>)[
        'spec.profile.email'
      ];
      matches = CATALOG_USERS.filter(
        e =>
          typeof email === 'string' &&
          fold(String(e.spec?.profile && (e.spec.profile as any).email)) ===
            fold(email),
      );
    } else {
      throw new Error('the folding catalog answers refs and email filters');
    }
    if (matches.length !== 1) {
      throw new NotFoundError('User not found');
    }
    return matches[0];
  };

  const issueToken = jest.fn(async (params: { claims: { sub: string } }) => ({
    token: `token for ${params.claims.sub}`,
  }));

  const context = {
    issueToken,
    findCatalogUser: jest.fn(async (query: Query) => ({
      entity: find(query),
    })),
    resolveOwnershipEntityRefs: jest.fn(async (entity: Entity) => ({
      ownershipEntityRefs: [stringifyEntityRef(entity)],
    })),
    signInWithCatalogUser: jest.fn(
      async (
        query: Query,
        options?: Parameters<AuthResolverContext['signInWithCatalogUser']>[1],
      ) => {
        let sub: string;
        try {
          sub = stringifyEntityRef(find(query));
        } catch (error) {
          const fallback = options?.dangerousEntityRefFallback?.entityRef;
          if (!fallback) {
            throw error;
          }
          sub = stringifyEntityRef(
            parseEntityRef(fallback, {
              defaultKind: 'user',
              defaultNamespace: 'default',
            }),
          );
        }
        return issueToken({ claims: { sub } });
      },
    ),
  } satisfies AuthResolverContext;

  return { context, queries };
}
