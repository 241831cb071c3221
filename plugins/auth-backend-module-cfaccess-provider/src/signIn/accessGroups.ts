import {
  KubernetesValidatorFunctions,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import { z } from 'zod/v3';
import { logValue } from '../lib/logValue';
import { CloudflareAccessGroup } from '../types';

// Kept verbatim: trimming or folding a name would let " admins " pass for "admins".
const nonBlankText = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() ? value : undefined;

/** The group's id as text: `''` when it reports none, `undefined` when it reports one we cannot read. */
function groupId(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') {
    return '';
  }
  if (typeof value === 'number' && Number.isSafeInteger(value)) {
    return String(value);
  }
  return nonBlankText(value);
}

/**
 * Normalises the `groups` of a get-identity answer (for the identity schema;
 * not part of the package's API). Identity providers
 * report either `{ id, name, email }` objects or plain strings (a name, no
 * id); anything else, including a group whose id is neither text nor a
 * whole number, is dropped rather than guessed at. Values are kept
 * exactly as reported, and a missing `id` or `name` stays `''`, so a name is
 * never taken for an id.
 */
export function normalizeAccessGroups(
  groups: unknown,
): CloudflareAccessGroup[] {
  if (!Array.isArray(groups)) {
    return [];
  }
  const result: CloudflareAccessGroup[] = [];
  for (const group of groups) {
    if (typeof group === 'string') {
      const name = nonBlankText(group);
      if (name) {
        result.push({ id: '', name, email: '' });
      }
    } else if (group && typeof group === 'object' && !Array.isArray(group)) {
      const g = group as Record<string, unknown>;
      const id = groupId(g.id);
      const name = nonBlankText(g.name);
      // A group that reports an id we cannot read is dropped: kept id-less, its name alone would match
      // `name` entries, which are meant only for identity providers that report no ids at all.
      if (id === undefined) {
        continue;
      }
      if (id || name) {
        result.push({
          id,
          name: name ?? '',
          email: nonBlankText(g.email) ?? '',
        });
      }
    }
  }
  return result;
}

/**
 * The identity provider a mapping entry is scoped to, as get-identity reports
 * it in `idp`: its `id` (the identity provider's id in Zero Trust), its
 * `type` (`okta`, `azureAD`, `github`, …), or both. Each one given must match.
 *
 * @public
 */
export type AccessGroupIdentityProvider = { id?: string; type?: string };

/**
 * One entry of an explicit Access group mapping: the Access group, by its
 * stable `id` (preferred) or, for identity providers that report no ids, by
 * its exact `name`, and the entity ref it grants. A `name` entry matches only
 * groups reported without an id: a group with an id is matched by its id
 * only, so a group created with a mapped group's name in an identity provider
 * with ids grants nothing. With `idp`, the entry matches only groups of
 * people signed in through that identity provider.
 *
 * @public
 */
export type AccessGroupMapping =
  | {
      id: string;
      name?: undefined;
      entityRef: string;
      idp?: AccessGroupIdentityProvider;
    }
  | {
      name: string;
      id?: undefined;
      entityRef: string;
      idp?: AccessGroupIdentityProvider;
    };

/**
 * Options for {@link createAccessGroupMapper}; the same keys are the options
 * of the `signInWithCatalogUserAndAccessGroups` resolver.
 *
 * @public
 */
export type AccessGroupMapperOptions = {
  /**
   * The Access groups that grant ownership, each with the entity ref it
   * grants. Matched exactly (case, spaces and all); a `name` entry only
   * matches groups reported without an id. Groups not listed grant nothing.
   */
  accessGroups?: ReadonlyArray<AccessGroupMapping>;
  /**
   * Also grant `group:<namespace>/<name>` for every other Access group whose
   * name already is a lower-case entity name (`platform-team`; `Platform Team`
   * or `ådmins` are skipped with a warning). Dangerous: whoever can create or
   * rename groups in the identity provider chooses these refs. Two groups of
   * one person with the same name grant neither.
   */
  dangerouslyMapGroupNames?: boolean;
  /** Namespace of the refs from `dangerouslyMapGroupNames`. Default `access`. */
  namespace?: string;
  /**
   * Receives the warnings of `dangerouslyMapGroupNames`, of groups with an id
   * that a `name` entry does not map, and, once when the mapper is created, of
   * each `name` entry without `idp`.
   */
  logger?: { warn(message: string): void };
};

/**
 * Turns a person's Access groups into ownership entity refs. `idp` is the
 * identity provider get-identity reported for them; entries scoped to an
 * identity provider match only when it is given and matches.
 *
 * @public
 */
export type AccessGroupMapper = (
  groups: ReadonlyArray<CloudflareAccessGroup | string>,
  idp?: { id: string; type: string },
) => string[];

// A type error that says what was expected, whether the value is missing or of another type.
const expecting = (message: string) => ({
  invalid_type_error: message,
  required_error: message,
});

const NON_EMPTY = 'must be a non-empty string';

// The rule of reported names and ids, for configured ones: compared exactly, so only blank text is refused.
const nonBlankString = z
  .string(expecting(NON_EMPTY))
  .refine(text => nonBlankText(text) !== undefined, NON_EMPTY);

/** Refs are compared case-insensitively by the catalog; keep one spelling. */
function canonicalRef(ref: string): string {
  let parsed;
  try {
    parsed = parseEntityRef(ref, {
      defaultKind: 'group',
      defaultNamespace: 'default',
    });
  } catch (error) {
    throw new Error(`is not an entity ref: ${error}`);
  }
  const { kind, namespace, name } = parsed;
  if (
    !KubernetesValidatorFunctions.isValidKind(kind) ||
    !KubernetesValidatorFunctions.isValidNamespace(namespace.toLowerCase()) ||
    !KubernetesValidatorFunctions.isValidObjectName(name)
  ) {
    throw new Error(`is not a valid entity ref, got ${JSON.stringify(ref)}`);
  }
  return stringifyEntityRef(parsed).toLocaleLowerCase('en-US');
}

const identityProviderSchema = z
  .object(
    { id: nonBlankString.optional(), type: nonBlankString.optional() },
    expecting('must be { id, type } of an identity provider (either or both)'),
  )
  .strict('takes only id and type')
  .refine(
    idp => idp.id !== undefined || idp.type !== undefined,
    'must have an id, a type or both',
  );

/**
 * One `accessGroups` entry ({@link AccessGroupMapping}), with its entity ref
 * made canonical. Each message reads after the entry's path
 * (`accessGroups[1].idp.type must be a non-empty string`).
 */
const accessGroupEntrySchema = z
  .object(
    {
      id: nonBlankString.optional(),
      name: nonBlankString.optional(),
      entityRef: z.string(expecting('must be an entity ref')),
      idp: identityProviderSchema.optional(),
    },
    expecting('must be { id or name, entityRef }'),
  )
  .strict('takes only id, name, entityRef and idp')
  .superRefine((entry, ctx) => {
    if ((entry.id === undefined) === (entry.name === undefined)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: 'must have exactly one of id and name',
      });
    }
  })
  .transform((entry, ctx) => {
    try {
      return { ...entry, entityRef: canonicalRef(entry.entityRef) };
    } catch (error) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['entityRef'],
        message: (error as Error).message,
      });
      return z.NEVER;
    }
  });

/** The one schema of `accessGroups`, for the mapper and the resolver's options alike. */
const accessGroupsSchema = z.array(
  accessGroupEntrySchema,
  expecting('must be a list of { id or name, entityRef }'),
);

/** A validated entry: exactly one of `id` and `name`, a canonical `entityRef`. */
type AccessGroupEntry = z.output<typeof accessGroupEntrySchema>;

/** The first problem, as one sentence naming the entry: `accessGroups[1].idp.type must be …`. */
function describeIssue({ issues: [issue] }: z.ZodError): string {
  const where = issue.path.reduce<string>(
    (path, key) =>
      typeof key === 'number' ? `${path}[${key}]` : `${path}.${key}`,
    'accessGroups',
  );
  const got =
    issue.code === z.ZodIssueCode.unrecognized_keys
      ? `, got ${issue.keys.join(', ')}`
      : '';
  return `${where} ${issue.message}${got}`;
}

/**
 * The `accessGroups` option of a sign-in resolver's options schema: the one
 * schema, its first problem as one sentence naming the entry.
 */
export const accessGroupsOption = z.unknown().transform((value, ctx) => {
  const parsed = accessGroupsSchema.safeParse(value);
  if (!parsed.success) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: describeIssue(parsed.error),
    });
    return z.NEVER;
  }
  return parsed.data;
});

/** Validates `accessGroups` (possibly untyped input); an InputError (400) names the first bad entry. */
function readAccessGroups(value: unknown): AccessGroupEntry[] {
  const parsed = accessGroupsOption.safeParse(value);
  if (!parsed.success) {
    throw new InputError(parsed.error.issues[0].message);
  }
  return parsed.data;
}

/** An entry without `idp` matches every identity provider; with it, only that one. */
function idpMatches(
  scope: AccessGroupIdentityProvider | undefined,
  idp: { id: string; type: string } | undefined,
): boolean {
  if (!scope) {
    return true;
  }
  return (
    !!idp &&
    (scope.id === undefined || scope.id === idp.id) &&
    (scope.type === undefined || scope.type === idp.type)
  );
}

/** A name that is already a lower-case entity name maps to itself; nothing else maps. */
function isLosslessEntityName(name: string): boolean {
  return (
    name === name.toLowerCase() &&
    KubernetesValidatorFunctions.isValidObjectName(name)
  );
}

const describeGroup = (group: CloudflareAccessGroup) =>
  group.id
    ? `${logValue(group.name)} (id ${logValue(group.id)})`
    : logValue(group.name);

/**
 * Validates the mapping once (an invalid entry throws, naming it) and
 * returns the function that maps a person's groups. Only listed groups grant
 * refs, unless `dangerouslyMapGroupNames` is on.
 *
 * @public
 */
export function createAccessGroupMapper(
  options: AccessGroupMapperOptions,
): AccessGroupMapper {
  const entries = readAccessGroups(options.accessGroups ?? []);
  if (entries.length === 0 && !options.dangerouslyMapGroupNames) {
    throw new InputError(
      'accessGroups must list the Access groups (by id, or by exact name) that grant ownership, each with its entityRef; or set dangerouslyMapGroupNames: true to map group names automatically',
    );
  }
  if (options.namespace !== undefined && !options.dangerouslyMapGroupNames) {
    throw new InputError(
      'namespace only applies to dangerouslyMapGroupNames; map groups to refs in any namespace with accessGroups',
    );
  }
  const warn = (message: string) => options.logger?.warn(message);
  const byId = new Map<string, AccessGroupEntry[]>();
  const byName = new Map<string, AccessGroupEntry[]>();
  entries.forEach((entry, index) => {
    const [map, key] =
      entry.id !== undefined ? [byId, entry.id] : [byName, entry.name!];
    map.set(key, [...(map.get(key) ?? []), entry]);
    // Anyone who can create a group in an identity provider without ids can give it this name.
    if (entry.name !== undefined && !entry.idp) {
      warn(
        `accessGroups[${index}] maps the Access group ${logValue(
          entry.name,
        )} without idp: a group of that name from any identity provider that reports no ids grants ${
          entry.entityRef
        }; add idp: { type } or idp: { id } to accept it only from the identity provider you mean`,
      );
    }
  });

  const namespace = options.namespace ?? 'access';
  if (!KubernetesValidatorFunctions.isValidNamespace(namespace)) {
    throw new InputError(
      `namespace must be a lower-case catalog namespace, got ${JSON.stringify(
        namespace,
      )}`,
    );
  }
  const matching = (
    mapped: AccessGroupEntry[] | undefined,
    idp: { id: string; type: string } | undefined,
  ) => (mapped ?? []).filter(entry => idpMatches(entry.idp, idp));

  return (groups, idp) => {
    const refs = new Set<string>();
    // Automatic candidates by ref, with every distinct group that produced it.
    const automatic = new Map<string, Map<string, CloudflareAccessGroup>>();
    for (const group of normalizeAccessGroups(groups)) {
      // A group with an id is known by its id alone: anyone may name a group "Admins".
      const explicit = group.id
        ? matching(byId.get(group.id), idp)
        : matching(byName.get(group.name), idp);
      if (explicit.length > 0) {
        explicit.forEach(entry => refs.add(entry.entityRef));
        continue;
      }
      if (group.id && matching(byName.get(group.name), idp).length > 0) {
        warn(
          `Cloudflare Access group ${describeGroup(
            group,
          )} grants nothing by its name: its identity provider reports an id, and a group with an id is mapped by that id only (accessGroups: { id })`,
        );
      }
      if (!options.dangerouslyMapGroupNames || !group.name) {
        continue;
      }
      if (!isLosslessEntityName(group.name)) {
        warn(
          `Cloudflare Access group ${describeGroup(
            group,
          )} grants nothing: its name is not a lower-case entity name, and names are never changed to fit; map it in accessGroups`,
        );
        continue;
      }
      const ref = `group:${namespace}/${group.name}`;
      const sources = automatic.get(ref) ?? new Map();
      sources.set(`${group.id}\u0000${group.name}`, group);
      automatic.set(ref, sources);
    }
    for (const [ref, sources] of automatic) {
      if (sources.size > 1) {
        warn(
          `Cloudflare Access groups ${[...sources.values()]
            .map(describeGroup)
            .join(' and ')} all map to ${ref}; none of them grants it`,
        );
      } else {
        refs.add(ref);
      }
    }
    return [...refs];
  };
}
