/*
 * The startup check: the provider's config read with the deployment mode (development allowances only in
 * development), and a missing value explained by where it should have come from (which file, which
 * environment variable). The module runs it in its init, before any request; a custom module can too.
 */
import type { Config } from '@backstage/config';
import type { LoggerService } from '@backstage/backend-plugin-api';
import { managedOAuthClashWarning } from './backstageOAuth';
import {
  type ConfigOriginOptions,
  describeConfigValueOrigin,
  findConfigValueOrigin,
} from './configOrigin';
import { DEFAULT_PROVIDER_ID, providerConfigKey } from './providerId';
import {
  CfAccessConfig,
  CfAccessConfigError,
  CfAccessDeploymentMode,
  inspectCfAccessConfig,
  readDeploymentMode,
} from './readConfig';

/**
 * Options for {@link checkCloudflareAccessConfig}.
 *
 * @public
 */
export type CheckCloudflareAccessConfigOptions = {
  /** Backstage's root config (`coreServices.rootConfig`). */
  config: Config;
  /** The provider id the config lives under. Default `cfaccess`. */
  providerId?: string;
  /** Warned when a dangerous option is in effect. */
  logger?: LoggerService;
};

/**
 * Options for {@link inspectCloudflareAccessConfig}: the check's, and where
 * a missing value is looked up (by default the sources Backstage's root
 * config reads, `process.argv` and `process.env`; the doctor and tests pass
 * their own).
 */
export type InspectCloudflareAccessConfigOptions = Omit<
  CheckCloudflareAccessConfigOptions,
  'logger'
> &
  ConfigOriginOptions;

/**
 * Adds to a missing-value error where the value should have come from: the
 * first of its keys that some source sets (e.g. to an unset variable), or
 * else that no source sets it. The error unchanged when the sources cannot
 * be read again.
 */
export async function explainMissingValue(
  error: CfAccessConfigError,
  prefix: string,
  options: ConfigOriginOptions = {},
): Promise<CfAccessConfigError> {
  const keys = error.keys.length
    ? error.keys.map(key => `${prefix}.${key}`)
    : [prefix];
  let clause: string | undefined;
  for (const key of keys) {
    const origin = await findConfigValueOrigin(key, options);
    if (origin && (origin.source || !clause)) {
      clause = describeConfigValueOrigin(key, origin);
      if (origin.source) {
        break;
      }
    }
  }
  return clause
    ? new CfAccessConfigError(`${error.message}; ${clause}`, error.keys, true)
    : error;
}

/** What {@link inspectCloudflareAccessConfig} found. */
export type CloudflareAccessConfigReport = {
  /** `auth.providers.<providerId>`. */
  prefix: string;
  mode: CfAccessDeploymentMode;
  /** The settings, when there is no problem. */
  config?: CfAccessConfig;
  /** Every startup error, missing values explained by where they should have come from. */
  problems: CfAccessConfigError[];
  /** Dangerous options in effect; startup logs them as warnings. */
  warnings: string[];
};

/**
 * The startup check without stopping at the first problem: every problem
 * with the text startup would fail with, and the warnings it would log.
 */
export async function inspectCloudflareAccessConfig(
  options: InspectCloudflareAccessConfigOptions,
): Promise<CloudflareAccessConfigReport> {
  const providerId = options.providerId ?? DEFAULT_PROVIDER_ID;
  const prefix = providerConfigKey(providerId);
  const originOptions = {
    argv: options.argv,
    env: options.env,
    rootDir: options.rootDir,
  };
  const mode = readDeploymentMode(options.config);
  const providerConfig = options.config.getOptionalConfig(prefix);
  if (!providerConfig) {
    const problem = await explainMissingValue(
      new CfAccessConfigError(
        `${prefix} is required: the Cloudflare Access provider is installed but not configured`,
        [],
        true,
      ),
      prefix,
      originOptions,
    );
    return { prefix, mode, problems: [problem], warnings: [] };
  }
  const inspection = inspectCfAccessConfig(providerConfig, {
    providerId,
    mode,
  });
  const problems: CfAccessConfigError[] = [];
  for (const problem of inspection.problems) {
    problems.push(
      problem.missing
        ? await explainMissingValue(problem, prefix, originOptions)
        : problem,
    );
  }
  const warnings: string[] = [];
  // The reader decided whether the opt-in let the team domain through; the warning only reports it.
  if (inspection.config?.loopbackOptInInEffect) {
    warnings.push(
      `${prefix}.dangerouslyAllowLoopbackTeamDomain is on (${mode.reason}): whatever listens on ${inspection.config.teamDomain} is trusted as Cloudflare Access. Only for tests on this machine, never in a deployment.`,
    );
  }
  const clash = managedOAuthClashWarning(
    prefix,
    options.config,
    inspection.config?.managedOAuth ?? false,
  );
  if (clash) {
    warnings.push(clash);
  }
  return { prefix, mode, config: inspection.config, problems, warnings };
}

/**
 * Validates the Cloudflare Access provider's config as the provider will
 * read it, and throws an error naming the key when it is invalid. When a
 * required value is missing, the error also says which config file and
 * which environment variable it should have come from. Call it in a custom
 * module's `init` (the module does) so a misconfiguration stops startup with
 * that message.
 *
 * @public
 */
export async function checkCloudflareAccessConfig(
  options: CheckCloudflareAccessConfigOptions,
): Promise<void> {
  const { config, providerId, logger } = options;
  // The sources the root config was read from, as Backstage reads them: process.argv and process.env.
  const report = await inspectCloudflareAccessConfig({ config, providerId });
  if (report.problems.length > 0) {
    throw report.problems[0];
  }
  for (const warning of report.warnings) {
    logger?.warn(warning);
  }
}
