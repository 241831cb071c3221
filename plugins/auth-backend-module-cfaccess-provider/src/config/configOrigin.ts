/*
 * Where a config value comes from, asked of Backstage's own config loader: the same sources the backend
 * loaded (`--config` flags, or app-config.yaml, app-config.<BACKSTAGE_ENV>.yaml and app-config.local.yaml;
 * then APP_CONFIG_* variables), read again with a substitution that keeps a marker where an environment
 * variable is unset or blank, instead of dropping the key. Only used to explain a startup error, so it
 * costs nothing when the config is valid.
 */
import { randomUUID } from 'node:crypto';
import { ConfigSources } from '@backstage/config-loader';
import { configSourceName, valueAtKey } from './configSources';

/** An environment variable a config value substitutes that has no value in the process. */
export type ConfigVariable = { name: string; state: 'unset' | 'empty' };

export type ConfigValueOrigin = {
  /** The source that sets the key last (the one that wins), if any does. */
  source?: string;
  /** The environment variables that source substitutes into the value. */
  variables: ConfigVariable[];
  /** True when that source sets the key to a blank value itself. */
  blankLiteral: boolean;
  /** The config files that were read, in loading order. */
  files: string[];
};

export type ConfigOriginOptions = {
  /** Default `process.argv`, as Backstage's root config reads it. */
  argv?: string[];
  /** Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Where app-config.yaml is looked for without `--config`; default the repository root. */
  rootDir?: string;
};

/** Marks where a variable without a value was substituted; a fresh nonce per lookup never collides. */
function createMarker() {
  const nonce = randomUUID();
  const pattern = new RegExp(`<${nonce}:([^>]*)>`, 'g');
  const names = (value: unknown): string[] => {
    if (typeof value === 'string') {
      return [...value.matchAll(pattern)].map(m => m[1]);
    }
    if (value && typeof value === 'object') {
      return Object.values(value).flatMap(names);
    }
    return [];
  };
  return { mark: (name: string) => `<${nonce}:${name}>`, names };
}

/**
 * Finds the source that sets `key` (a full key such as
 * `auth.providers.cfaccess.teamDomain`) and the environment variables it
 * substitutes. Undefined when the sources cannot be read again (a remote
 * config URL, a file gone since startup).
 */
export async function findConfigValueOrigin(
  key: string,
  options: ConfigOriginOptions = {},
): Promise<ConfigValueOrigin | undefined> {
  const env = options.env ?? process.env;
  const marker = createMarker();
  const controller = new AbortController();
  try {
    const source = ConfigSources.default({
      argv: options.argv ?? process.argv,
      env,
      rootDir: options.rootDir,
      substitutionFunc: async name => {
        const value = env[name];
        return value === undefined || !value.trim() ? marker.mark(name) : value;
      },
    });
    for await (const { configs } of source.readConfigData({
      signal: controller.signal,
    })) {
      const baseDir = options.rootDir ?? process.cwd();
      const sources = configs.map(c => configSourceName(c, baseDir));
      const files = configs
        .filter(c => c.context !== 'env')
        .map(c => configSourceName(c, baseDir));
      for (let i = configs.length - 1; i >= 0; i--) {
        const value = valueAtKey(configs[i].data, key);
        if (value !== undefined) {
          const variables = [...new Set(marker.names(value))].map(name => ({
            name,
            state: (env[name] === undefined ? 'unset' : 'empty') as
              | 'unset'
              | 'empty',
          }));
          return {
            source: sources[i],
            variables,
            blankLiteral:
              variables.length === 0 &&
              typeof value === 'string' &&
              !value.trim(),
            files,
          };
        }
      }
      return { variables: [], blankLiteral: false, files };
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    controller.abort();
  }
}

/** One clause for a startup error: why `key` has no value. */
export function describeConfigValueOrigin(
  key: string,
  origin: ConfigValueOrigin,
): string {
  if (origin.source === undefined) {
    return `neither a config file nor an APP_CONFIG_ variable sets ${key} (files read: ${
      origin.files.join(', ') || 'none'
    })`;
  }
  if (origin.variables.length > 0) {
    const names = origin.variables.map(v => `\${${v.name}}`).join(', ');
    const states = origin.variables
      .map(
        v =>
          `the environment variable ${v.name} is ${
            v.state === 'unset' ? 'not set' : 'empty'
          }`,
      )
      .join(' and ');
    return `${key} comes from the environment variable substitution ${names} in ${origin.source}, and ${states}`;
  }
  if (origin.blankLiteral) {
    return `${key} is set to a blank value in ${origin.source}`;
  }
  return `${key} is set in ${origin.source}`;
}
