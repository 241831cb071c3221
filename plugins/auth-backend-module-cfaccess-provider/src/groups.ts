import { stringifyEntityRef } from '@backstage/catalog-model';
import { CloudflareAccessGroup } from './types';

const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() ? value.trim() : undefined;

/**
 * Normalises the `groups` of a get-identity answer. Identity providers
 * report either `{ id, name, email }` objects or plain strings; anything
 * else is dropped rather than guessed at.
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
        result.push({ id: name, name, email: '' });
      }
    } else if (group && typeof group === 'object' && !Array.isArray(group)) {
      const g = group as Record<string, unknown>;
      const id = str(g.id) ?? str(g.name);
      const name = str(g.name) ?? str(g.id);
      if (id && name) {
        result.push({ id, name, email: str(g.email) ?? '' });
      }
    }
  }
  return result;
}

/**
 * Turns a group name into a valid entity name: lower case, runs of other
 * characters become `-`, at most 63 characters. Returns `undefined` when
 * nothing usable is left.
 *
 * @public
 */
export function slugifyAccessGroupName(name: string): string | undefined {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .slice(0, 63)
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return slug || undefined;
}

/**
 * Options for {@link accessGroupsToEntityRefs}.
 *
 * @public
 */
export type AccessGroupsToEntityRefsOptions = {
  /** Entity kind of the refs; `group` by default. */
  kind?: string;
  /** Catalog namespace; `default` by default. */
  namespace?: string;
  /** Use the group `name` (default) or its `id` as the source of the entity name. */
  use?: 'name' | 'id';
};

/**
 * Turns Access groups into ownership entity refs such as
 * `group:default/platform-team`, deduplicated and in input order.
 *
 * Note that anyone who can create groups in the identity provider behind
 * Access can influence these refs; use a dedicated namespace if that matters.
 *
 * @public
 */
export function accessGroupsToEntityRefs(
  groups: ReadonlyArray<CloudflareAccessGroup | string>,
  options?: AccessGroupsToEntityRefsOptions,
): string[] {
  const kind = options?.kind ?? 'group';
  const namespace = options?.namespace ?? 'default';
  const refs = new Set<string>();
  for (const group of normalizeAccessGroups(groups)) {
    const name = slugifyAccessGroupName(
      options?.use === 'id' ? group.id : group.name,
    );
    if (name) {
      refs.add(stringifyEntityRef({ kind, namespace, name }));
    }
  }
  return [...refs];
}
