/*
 * How a config source is named and how a key is found in its data, for
 * everything that says where a value comes from: the startup error
 * (configOrigin) and the doctor (its settings table and warnings).
 */
import path from 'node:path';

/** A source as Backstage's config loader reads it. */
export type ConfigSourceEntry = { context: string; path?: string };

/**
 * `the environment (APP_CONFIG_*)`, or a file relative to `baseDir` (the
 * root directory, else the working directory) when inside it, else whole.
 */
export function configSourceName(
  entry: ConfigSourceEntry,
  baseDir: string,
): string {
  if (entry.context === 'env') {
    return 'the environment (APP_CONFIG_*)';
  }
  if (!entry.path) {
    return entry.context;
  }
  const relative = path.relative(baseDir, entry.path);
  return relative && !relative.startsWith('..') ? relative : entry.path;
}

/** `auth.providers.cfaccess.serviceTokens[0].token` -> its path segments. */
function segmentsOf(key: string): (string | number)[] {
  return key.split('.').flatMap(part =>
    part
      .split(/\[(\d+)\]/)
      .filter(Boolean)
      .map(s => (/^\d+$/.test(s) ? Number(s) : s)),
  );
}

/**
 * The value a source's data sets at `key` (dots between keys, `[n]` for a
 * list entry), or undefined. Only what the data itself sets counts: no
 * inherited property (`toString`, a list's `length`) is a value.
 */
export function valueAtKey(data: unknown, key: string): unknown {
  let value: unknown = data;
  for (const segment of segmentsOf(key)) {
    const found =
      typeof segment === 'number'
        ? Array.isArray(value) && segment < value.length
        : value !== null &&
          typeof value === 'object' &&
          !Array.isArray(value) &&
          Object.hasOwn(value, segment);
    if (!found) {
      return undefined;
    }
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}
