import {
  KubernetesValidatorFunctions,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import { CloudflareAccessGroup } from './types';

// Kept verbatim: trimming or folding a name would let " admins " pass for "admins".
const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() ? value : undefined;

/**
 * Normalises the `groups` of a get-identity answer. Identity providers
 * report either `{ id, name, email }` objects or plain strings (a name, no
 * id); anything else is dropped rather than guessed at. Values are kept
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
      const id = str(g.id);
      const name = str(g.name);
      if (id || name) {
        result.push({
          id: id ?? '',
          name: name ?? '',
          email: str(g.email) ?? '',
        });
      }
    }
  }
  return result;
}

/**
 * One entry of an explicit Access group mapping: the Access group, by its
 * stable `id` (preferred) or, for identity providers that report no ids, by
 * its exact `name`, and the entity ref it grants.
 *
 * @public
 */
export type AccessGroupMapping =
  | { id: string; name?: undefined; entityRef: string }
  | { name: string; id?: undefined; entityRef: string };

/**
 * Options for {@link createAccessGroupMapper}; the same keys are the options
 * of the `signInWithCatalogUserAndAccessGroups` resolver.
 *
 * @public
 */
export type AccessGroupMapperOptions = {
  /**
   * The Access groups that grant ownership, each with the entity ref it
   * grants. Matched exactly (case, spaces and all). Groups not listed grant
   * nothing.
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
  /** Receives the warnings of `dangerouslyMapGroupNames`. */
  logger?: { warn(message: string): void };
};

/**
 * Turns a person's Access groups into ownership entity refs.
 *
 * @public
 */
export type AccessGroupMapper = (
  groups: ReadonlyArray<CloudflareAccessGroup | string>,
) => string[];

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
    ? `${JSON.stringify(group.name)} (id ${group.id})`
    : JSON.stringify(group.name);

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
  const byId = new Map<string, string[]>();
  const byName = new Map<string, string[]>();
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
    const map = id !== undefined ? byId : byName;
    map.set(key, [...(map.get(key) ?? []), ref]);
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

  return groups => {
    const refs = new Set<string>();
    // Automatic candidates by ref, with every distinct group that produced it.
    const automatic = new Map<string, Map<string, CloudflareAccessGroup>>();
    for (const group of normalizeAccessGroups(groups)) {
      const explicit = [
        ...((group.id && byId.get(group.id)) || []),
        ...((group.name && byName.get(group.name)) || []),
      ];
      if (explicit.length > 0) {
        explicit.forEach(ref => refs.add(ref));
        continue;
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
