import type { Config } from '@backstage/config';
import { z } from 'zod/v3';
import { CfAccessConfigError } from '../config/readConfig';
import { providerSettings } from '../config/settings';
import { DEFAULT_PROVIDER_ID, providerConfigKey } from '../config/providerId';
import { ExemptPaths, parseExemptPath } from './exemptPaths';
import { AccessRules } from './rules/accessRules';
import {
  accessRuleSchema,
  RuleConfigError,
  RuleLimits,
  ruleKeys,
  toAccessRule,
} from './rules/ruleConfig';

/** What the boundary does with a request that fails it. */
export type BoundaryMode = 'enforce' | 'report' | 'off';

export type BoundaryConfig = {
  mode: BoundaryMode;
  exemptPaths: ExemptPaths;
  /** `backend.auth.externalAccess` subjects that may call without an Access token. */
  externalAccessWithoutAccess: ReadonlySet<string>;
  /** What requests to some paths must also meet: device posture, WARP, country… */
  rules: AccessRules;
};

/** Where the boundary's settings live. */
export const boundaryConfigKey = `${providerConfigKey(
  DEFAULT_PROVIDER_ID,
)}.boundary`;

const schema = z
  .object({
    mode: z
      .enum(['enforce', 'report', 'off'])
      .default(providerSettings['boundary.mode'].default),
    exemptPaths: z.array(z.string()).default([]),
    dangerouslyAllowExternalAccessWithoutAccess: z
      .array(z.string().trim().min(1))
      .default([]),
    rules: z.array(accessRuleSchema).default([]),
  })
  .strict();

/** The keys allowed where an unknown key was found (`rules[0].require`…). */
function keysAt(path: ReadonlyArray<string | number>): string[] {
  const names = path.filter((s): s is string => typeof s === 'string');
  switch (names[names.length - 1]) {
    case 'rules':
      return ruleKeys.rule;
    case 'require':
      return ruleKeys.require;
    case 'devicePosture':
      return ruleKeys.devicePosture;
    default:
      return Object.keys(schema.shape);
  }
}

/** A config path as Backstage writes it: `rules[0].require.warp`. */
function keyPath(segments: ReadonlyArray<string | number>): string {
  return segments
    .map((segment, index) =>
      typeof segment === 'number'
        ? `[${segment}]`
        : `${index ? '.' : ''}${segment}`,
    )
    .join('');
}

/** What the provider's other settings allow rules to ask for, read leniently (readConfig reports their errors). */
function ruleLimits(config: Config): RuleLimits {
  const provider = providerConfigKey(DEFAULT_PROVIDER_ID);
  const audience = config.getOptional(`${provider}.audience`);
  const list = Array.isArray(audience) ? audience : [audience];
  const audiences = list.every(value => typeof value === 'string')
    ? (list as string[]).map(value => value.trim())
    : undefined;
  return {
    ...(audiences && { audiences }),
    identityEnabled:
      config.getOptional(`${provider}.identity.enabled`) !== false,
  };
}

/**
 * Reads `auth.providers.cfaccess.boundary`, failing startup with the key at
 * fault. Absent means the defaults: `enforce` (once the boundary is wired in:
 * that is the opt-in), nothing exempt beyond what
 * Backstage serves before the plugin routes, no external caller without
 * Access.
 */
export function readBoundaryConfig(config: Config): BoundaryConfig {
  const raw = config.getOptional(boundaryConfigKey) ?? {};
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // An unknown key is named itself; list entries as `exemptPaths[0]`, the
    // way the entries' own errors below (and Backstage) name them.
    const segments =
      issue.code === 'unrecognized_keys'
        ? [...issue.path, issue.keys[0]]
        : issue.path;
    const path = keyPath(segments);
    const key = path ? `${boundaryConfigKey}.${path}` : boundaryConfigKey;
    // Only the first letter lowered: the message quotes the value as written.
    const message =
      issue.code === 'unrecognized_keys'
        ? `is not a ${
            issue.path.length ? 'setting here' : 'boundary setting'
          } (${keysAt(issue.path).join(', ')})`
        : `${issue.message.charAt(0).toLowerCase()}${issue.message.slice(1)}`;
    throw new CfAccessConfigError(
      `${key} ${message}`,
      [path ? `boundary.${path}` : 'boundary'],
      false,
    );
  }
  const {
    mode,
    exemptPaths,
    dangerouslyAllowExternalAccessWithoutAccess,
    rules,
  } = parsed.data;
  const patterns = exemptPaths.map((pattern, index) => {
    try {
      return parseExemptPath(pattern);
    } catch (error) {
      throw new CfAccessConfigError(
        `${boundaryConfigKey}.exemptPaths[${index}] ${
          (error as Error).message
        }`,
        [`boundary.exemptPaths[${index}]`],
        false,
      );
    }
  });
  const limits = ruleLimits(config);
  const accessRules = rules.map((rule, index) => {
    try {
      return toAccessRule(rule, rule.name ?? `rules[${index}]`, limits);
    } catch (error) {
      if (!(error instanceof RuleConfigError)) {
        throw error;
      }
      const path = `rules[${index}].${error.key}`;
      throw new CfAccessConfigError(
        `${boundaryConfigKey}.${path} ${error.message}`,
        [`boundary.${path}`],
        false,
      );
    }
  });
  return {
    mode,
    exemptPaths: new ExemptPaths(patterns),
    rules: new AccessRules(accessRules),
    externalAccessWithoutAccess: new Set(
      dangerouslyAllowExternalAccessWithoutAccess,
    ),
  };
}
