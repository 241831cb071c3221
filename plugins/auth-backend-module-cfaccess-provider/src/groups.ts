import {
  KubernetesValidatorFunctions,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import { logValue } from './logValue';
import { CloudflareAccessGroup } from './types';

// Kept verbatim: trimming or folding a name would let " admins " pass for "admins".
const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() ? value : undefined;

/** The group's id as text: `''` when it reports none, `undefined` when it reports one we cannot read. */
function groupId(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') {
    return '';
  }
  if (typeof value === 'number' && Number.isSafeInteger(value)) {
    return String(value);
  }
  return str(value);
}

/**
 * Normalises the `groups` of a get-identity answer. Identity providers
 * report either `{ id, name, email }` objects or plain strings (a name, no
 * id); anything else, including a group whose id is neither text nor a
 * whole number, is dropped rather than guessed at. Values are kept
 * exactly as reported, and a missing `id` or `name` stays `''`, so a name is
 * never taken for an id.
 *
 * @public
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
      const name = str(group);
      if (name) {
        result.push({ id: '', name, email: '' });
      }
    } else if (group && typeof group === 'object' && !Array.isArray(group)) {
      const g = group as Record<string, unknown>;
      const id = groupId(g.id);
      const name = str(g.name);
      // A group that reports an id we cannot read is dropped: kept id-less, its name alone would match
      // `name` entries, which are meant only for identity providers that report no ids at all.
      if (id === undefined) {
        continue;
      }
      if (id || name) {
        result.push({
          id,
          name: name ?? '',
          email: str(g.email) ?? '',
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
   * Receives the warnings of `dangerouslyMapGroupNames`, and of groups with an
   * id that a `name` entry does not map.
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

/** A validated mapping entry. */
type MappedRef = { ref: string; idp?: AccessGroupIdentityProvider };

function readIdentityProvider(
  idp: unknown,
  where: string,
): AccessGroupIdentityProvider | undefined {
  if (idp === undefined) {
    return undefined;
  }
  if (!idp || typeof idp !== 'object' || Array.isArray(idp)) {
    throw new InputError(
      `${where}.idp must be { id, type } of an identity provider (either or both)`,
    );
  }
  const { id, type, ...rest } = idp as Record<string, unknown>;
  if (Object.keys(rest).length > 0) {
    throw new InputError(
      `${where}.idp takes only id and type, got ${Object.keys(rest).join(
        ', ',
      )}`,
    );
  }
  for (const [key, value] of [
    ['id', id],
    ['type', type],
  ] as const) {
    if (value !== undefined && (typeof value !== 'string' || !value.trim())) {
      throw new InputError(`${where}.idp.${key} must be a non-empty string`);
    }
  }
  if (id === undefined && type === undefined) {
    throw new InputError(`${where}.idp must have an id, a type or both`);
  }
  return {
    ...(id !== undefined && { id: id as string }),
    ...(type !== undefined && { type: type as string }),
  };
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

/** Refs are compared case-insensitively by the catalog; keep one spelling. */
function canonicalRef(ref: string, where: string): string {
  let parsed;
  try {
    parsed = parseEntityRef(ref, {
      defaultKind: 'group',
      defaultNamespace: 'default',
    });
  } catch (error) {
    throw new InputError(`${where} is not an entity ref: ${error}`);
  }
  const { kind, namespace, name } = parsed;
  if (
    !KubernetesValidatorFunctions.isValidKind(kind) ||
    !KubernetesValidatorFunctions.isValidNamespace(namespace.toLowerCase()) ||
    !KubernetesValidatorFunctions.isValidObjectName(name)
  ) {
    throw new InputError(
      `${where} is not a valid entity ref, got ${JSON.stringify(ref)}`,
    );
  }
  return stringifyEntityRef(parsed).toLocaleLowerCase('en-US');
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
  const entries = options.accessGroups ?? [];
  if (!Array.isArray(entries)) {
    throw new InputError(
      'accessGroups must be a list of { id or name, entityRef }',
    );
  }
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
  const byId = new Map<string, MappedRef[]>();
  const byName = new Map<string, MappedRef[]>();
  entries.forEach((entry, index) => {
    const where = `accessGroups[${index}]`;
    const id = entry?.id;
    const name = entry?.name;
    if ((id === undefined) === (name === undefined)) {
      throw new InputError(`${where} must have exactly one of id and name`);
    }
    const key = id ?? name;
    if (typeof key !== 'string' || !key.trim()) {
      throw new InputError(
        `${where}.${
          id !== undefined ? 'id' : 'name'
        } must be a non-empty string`,
      );
    }
    if (typeof entry.entityRef !== 'string') {
      throw new InputError(`${where}.entityRef must be an entity ref`);
    }
    const ref = canonicalRef(entry.entityRef, `${where}.entityRef`);
    const idp = readIdentityProvider(entry.idp, where);
    const map = id !== undefined ? byId : byName;
    map.set(key, [...(map.get(key) ?? []), { ref, ...(idp && { idp }) }]);
  });

  const namespace = options.namespace ?? 'access';
  if (!KubernetesValidatorFunctions.isValidNamespace(namespace)) {
    throw new InputError(
      `namespace must be a lower-case catalog namespace, got ${JSON.stringify(
        namespace,
      )}`,
    );
  }
  const warn = (message: string) => options.logger?.warn(message);

  const matching = (
    mapped: MappedRef[] | undefined,
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
        explicit.forEach(entry => refs.add(entry.ref));
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
