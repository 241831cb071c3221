/*
 * The config stack as the backend loads it: Backstage's config loader with
 * the `--config` files in order (or, without any, app-config.yaml and
 * app-config.local.yaml in the working directory), then APP_CONFIG_*
 * variables, `${VAR}` substituted from the environment. Each source's data
 * is kept so every effective value can be traced to the file it came from.
 */
import path from 'node:path';
import { ConfigReader, type Config } from '@backstage/config';
import { ConfigSources } from '@backstage/config-loader';
import type { JsonObject } from '@backstage/types';
import { configSourceName } from '../config/configSources';
import { redactUserinfoInText } from '../config/redactUserinfo';
import { UsageError } from './usageError';

export type ConfigSourceData = {
  /** A file path relative to the working directory, or `the environment (APP_CONFIG_*)`. */
  name: string;
  data: JsonObject;
};

export type ConfigStack = {
  /** The merged config, as the backend's root config. */
  config: Config;
  /** Each source in loading order; later ones win. */
  sources: ConfigSourceData[];
  /** The arguments the backend would be given (`--config <file>` …), for the module's origin lookup. */
  argv: string[];
  env: Record<string, string | undefined>;
  /** The directory relative paths are read from. */
  cwd: string;
};

function describeLoadError(error: unknown): string {
  const err = error as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT' && err.path) {
    return `cannot read the config file ${err.path}: it does not exist`;
  }
  if (err?.code && err.path) {
    return `cannot read the config file ${err.path}: ${err.code}`;
  }
  // The loader's message may quote the offending line, credentials and all.
  return `cannot load the config: ${redactUserinfoInText(
    err?.message ?? String(error),
  )}`;
}

export async function loadConfigStack(options: {
  configPaths: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
}): Promise<ConfigStack> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const argv = options.configPaths.flatMap(file => [
    '--config',
    path.resolve(cwd, file),
  ]);
  const controller = new AbortController();
  try {
    const source = ConfigSources.default({
      argv,
      env,
      rootDir: cwd,
      // Backstage's default substitution, with the environment passed in.
      substitutionFunc: async name => env[name]?.trim(),
    });
    for await (const { configs } of source.readConfigData({
      signal: controller.signal,
    })) {
      return {
        config: ConfigReader.fromConfigs(configs),
        sources: configs.map(c => ({
          name: configSourceName(c, cwd),
          data: c.data,
        })),
        argv,
        env,
        cwd,
      };
    }
    throw new Error('the config loader returned no config');
  } catch (error) {
    throw new UsageError(describeLoadError(error));
  } finally {
    controller.abort();
  }
}
