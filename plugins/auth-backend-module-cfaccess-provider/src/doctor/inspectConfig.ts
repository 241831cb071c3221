/*
 * The offline half of the doctor: each `auth.providers.<providerId>` setting
 * with its effective value and the source it came from, then every problem
 * the backend's startup check would stop on, in the module's own words
 * (inspectCloudflareAccessConfig runs the module's config reader), plus the
 * sign-in resolver list read the way the module reads it, and the Access
 * boundary's settings read by the boundary's own reader.
 */
import type { Config } from '@backstage/config';
import type { JsonValue } from '@backstage/types';
import {
  boundaryConfigKey,
  BoundaryMode,
  readBoundaryConfig,
} from '../boundary/boundaryConfig';
import { ruleSummary, ruleWarnings } from '../boundary/rules/ruleSummary';
import { inspectCloudflareAccessConfig } from '../config/checkConfig';
import { findConfigValueOrigin } from '../config/configOrigin';
import { valueAtKey } from '../config/configSources';
import { DEFAULT_PROVIDER_ID, providerConfigKey } from '../config/providerId';
import type {
  CfAccessConfig,
  CfAccessDeploymentMode,
} from '../config/readConfig';
import { redactUserinfo } from '../config/redactUserinfo';
import { providerSettings } from '../config/settings';
import {
  moduleSignInResolverFactories,
  readRequiredSignInResolverChain,
} from '../signIn/resolverConfig';
import type { ConfigStack } from './loadConfigStack';

/** The module's settings, in the order they are listed, each with its default when it has one. */
const ALL_SETTINGS: Array<{ key: string; default?: JsonValue }> =
  Object.entries(providerSettings).map(([key, setting]) => ({
    key,
    default: 'default' in setting ? setting.default : undefined,
  }));

/** The settings under `boundary`: the boundary reads them under the module's own id only. */
export const BOUNDARY_SETTINGS_PREFIX = 'boundary.';

/**
 * The settings the backend reads under `auth.providers.<providerId>`: all
 * of them for the module's own id; for another id (a custom module's), all
 * but the boundary's, which the boundary reads from
 * `auth.providers.cfaccess.boundary` whatever id the provider has.
 */
function settingsFor(providerId: string) {
  return providerId === DEFAULT_PROVIDER_ID
    ? ALL_SETTINGS
    : ALL_SETTINGS.filter(s => !s.key.startsWith(BOUNDARY_SETTINGS_PREFIX));
}

export type SettingRow = {
  /** The full key, e.g. `auth.providers.cfaccess.audience`. */
  key: string;
  /**
   * The effective value as displayed (service token Client IDs shortened,
   * credentials in a team domain hidden); undefined when unset.
   */
  value?: JsonValue;
  /** The source that sets it last (the one that wins), `default` or `not set`. */
  source: string;
};

/** The Access boundary's settings, as the boundary reads them. */
export type BoundaryInspection = {
  /** What the boundary does with a request that fails it. */
  mode: BoundaryMode;
  /** Where the mode comes from: a source, or `default`. */
  modeSource: string;
  /** How many `exemptPaths` entries there are. */
  exemptPaths: number;
  /** The `backend.auth.externalAccess` subjects allowed without an Access token. */
  externalAccessWithoutAccess: string[];
  /** Each boundary rule in one line: what it matches and needs. */
  rules: string[];
};

export type ConfigInspection = {
  settings: SettingRow[];
  /**
   * The Access boundary's settings when they are valid (for the module's own
   * provider id only); a bad one is among the problems instead.
   */
  boundary?: BoundaryInspection;
  /** Development or production rules, and why. */
  mode: CfAccessDeploymentMode & { nodeEnv?: string };
  /** The startup errors, each in the module's words. */
  problems: string[];
  warnings: string[];
  /** The validated settings, when there is no problem. */
  config?: CfAccessConfig;
  /** `auth.providers.<providerId>` as the provider gets it. */
  providerConfig?: Config;
};

/**
 * The last source that sets `key` (arrays are replaced, not merged, so the
 * last one is the value), named as the startup error names it.
 */
export function originOf(stack: ConfigStack, key: string): string | undefined {
  for (let i = stack.sources.length - 1; i >= 0; i--) {
    if (valueAtKey(stack.sources[i].data, key) !== undefined) {
      return stack.sources[i].name;
    }
  }
  return undefined;
}

/**
 * A Client ID shortened to its first characters: enough to tell entries
 * apart, while the schema marks the list secret (the config is not
 * shown to the frontend), so the doctor does not print it whole.
 */
export function shortClientId(clientId: string): string {
  const id = clientId.replace(/\.access$/, '');
  return `${id.slice(0, 6)}….access`;
}

function display(key: string, value: JsonValue): JsonValue {
  // A mistake the reader refuses, but the credentials are shown to nobody.
  if (
    (key === 'teamDomain' || key === 'teamName') &&
    typeof value === 'string'
  ) {
    return redactUserinfo(value);
  }
  if (key === 'serviceTokens' && Array.isArray(value)) {
    return value.map(entry => {
      const { token, subject } = (entry ?? {}) as Record<string, JsonValue>;
      return {
        token: typeof token === 'string' ? shortClientId(token) : token ?? null,
        subject: subject ?? null,
      };
    });
  }
  if (key === 'signIn.resolvers' && Array.isArray(value)) {
    return value.map(entry =>
      entry && typeof entry === 'object' && !Array.isArray(entry)
        ? (entry as Record<string, JsonValue>).resolver ?? null
        : entry,
    );
  }
  return value;
}

/** Keys under the provider that it does not read: usually a typo (`audiences`). */
function unknownKeys(
  value: unknown,
  knownKeys: ReadonlySet<string>,
  prefix = '',
): string[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return [];
  }
  return Object.entries(value).flatMap(([name, child]) => {
    const key = prefix ? `${prefix}.${name}` : name;
    if (knownKeys.has(key)) {
      return [];
    }
    const nested = [...knownKeys].some(k => k.startsWith(`${key}.`));
    return nested ? unknownKeys(child, knownKeys, key) : [key];
  });
}

/**
 * The boundary's settings read with the boundary's own reader, as
 * `withCloudflareAccessBoundary()` reads them at startup (a bad value stops
 * the backend there, naming the key), and the warnings that go with them.
 */
function inspectBoundary(
  stack: ConfigStack,
  modeSource: string,
  problems: string[],
  warnings: string[],
): BoundaryInspection | undefined {
  let boundary;
  try {
    boundary = readBoundaryConfig(stack.config);
  } catch (error) {
    problems.push((error as Error).message);
    return undefined;
  }
  const externalAccessWithoutAccess = [...boundary.externalAccessWithoutAccess];
  warnings.push(...boundary.rules.rules.flatMap(ruleWarnings));
  if (boundary.mode === 'off') {
    // What startup logs for it.
    warnings.push(
      `Cloudflare Access boundary is off (${boundaryConfigKey}.mode): requests reach the plugins without an Access check`,
    );
  }
  if (externalAccessWithoutAccess.length > 0) {
    warnings.push(
      `${boundaryConfigKey}.dangerouslyAllowExternalAccessWithoutAccess lets the backend.auth.externalAccess ${
        externalAccessWithoutAccess.length === 1 ? 'subject' : 'subjects'
      } ${externalAccessWithoutAccess
        .map(subject => JSON.stringify(subject))
        .join(', ')} call without Cloudflare Access: ${
        externalAccessWithoutAccess.length === 1
          ? 'its token works'
          : 'their tokens work'
      } from anywhere that reaches the backend`,
    );
  }
  return {
    mode: boundary.mode,
    modeSource,
    exemptPaths: boundary.exemptPaths.size,
    externalAccessWithoutAccess,
    rules: boundary.rules.rules.map(ruleSummary),
  };
}

export async function inspectConfig(
  stack: ConfigStack,
  providerId: string,
): Promise<ConfigInspection> {
  const prefix = providerConfigKey(providerId);
  const report = await inspectCloudflareAccessConfig({
    config: stack.config,
    providerId,
    argv: stack.argv,
    env: stack.env,
    rootDir: stack.cwd,
  });
  const raw = stack.config.getOptional(prefix);
  const settings = settingsFor(providerId);
  const rows: SettingRow[] = [
    {
      key: 'auth.environment',
      value: stack.config.getOptional('auth.environment'),
      source: originOf(stack, 'auth.environment') ?? 'not set',
    },
    ...settings.map(({ key, default: fallback }) => {
      const value = valueAtKey(raw, key) as JsonValue | undefined;
      if (value !== undefined) {
        return {
          key: `${prefix}.${key}`,
          value: display(key, value),
          source: originOf(stack, `${prefix}.${key}`) ?? 'unknown',
        };
      }
      return fallback === undefined
        ? { key: `${prefix}.${key}`, source: 'not set' }
        : { key: `${prefix}.${key}`, value: fallback, source: 'default' };
    }),
  ];

  // A later file that sets a value from an unset variable drops out of the merge: the earlier value applies.
  const fellThrough: string[] = [];
  for (const row of rows) {
    if (row.source === 'default' || row.source === 'not set') {
      continue;
    }
    const origin = await findConfigValueOrigin(row.key, {
      argv: stack.argv,
      env: stack.env,
      rootDir: stack.cwd,
    });
    if (
      origin?.source &&
      origin.source !== row.source &&
      origin.variables.length
    ) {
      fellThrough.push(
        `${row.key} is set in ${origin.source} from ${origin.variables
          .map(v => `\${${v.name}}`)
          .join(', ')}, which ${
          origin.variables.length === 1 ? 'is' : 'are'
        } ${origin.variables
          .map(v => (v.state === 'unset' ? 'not set' : 'empty'))
          .join(' and ')}, so the value from ${row.source} applies`,
      );
    }
  }

  const problems = report.problems.map(p => p.message);
  const warnings = [...report.warnings, ...fellThrough];
  const ownId = providerId === DEFAULT_PROVIDER_ID;
  for (const key of unknownKeys(raw, new Set(settings.map(s => s.key)))) {
    if (ownId && key.startsWith(BOUNDARY_SETTINGS_PREFIX)) {
      continue; // not ignored: the boundary's reader refuses it, a problem below
    }
    warnings.push(
      `${prefix}.${key} is not a setting of the Cloudflare Access provider and is ignored (set in ${
        originOf(stack, `${prefix}.${key}`) ?? 'unknown'
      })`,
    );
  }

  const providerConfig = stack.config.getOptionalConfig(prefix);
  if (providerConfig) {
    try {
      readRequiredSignInResolverChain({
        config: providerConfig,
        providerId,
        // The warnings startup would log for the resolvers (an unscoped group name).
        factories: moduleSignInResolverFactories(message =>
          warnings.push(message),
        ),
      });
    } catch (error) {
      problems.push((error as Error).message);
    }
  }

  const boundary = ownId
    ? inspectBoundary(
        stack,
        rows.find(row => row.key === `${boundaryConfigKey}.mode`)?.source ??
          'default',
        problems,
        warnings,
      )
    : undefined;

  return {
    settings: rows,
    ...(boundary && { boundary }),
    mode: { ...report.mode, nodeEnv: stack.env.NODE_ENV },
    problems,
    warnings,
    config: problems.length === 0 ? report.config : undefined,
    providerConfig,
  };
}
