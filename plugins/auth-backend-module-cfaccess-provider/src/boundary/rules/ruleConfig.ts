import { ConfigReader, readDurationFromConfig } from '@backstage/config';
import { durationToMilliseconds, JsonValue } from '@backstage/types';
import { z } from 'zod/v3';
import type { AccessRule, PostureRequirement } from './accessRule';
import { parseRequestPattern } from './requestPattern';

/** A duration as Backstage config writes it: `10m`, `10 minutes`, `PT10M`, `{ minutes: 10 }`. */
const duration = z.unknown();

const postureSchema = z
  .object({
    rule: z.string().trim().min(1),
    name: z.string().trim().min(1).optional(),
    maxAge: duration.optional(),
  })
  .strict();

const requireSchema = z
  .object({
    peopleOnly: z.boolean().optional(),
    warp: z.boolean().optional(),
    devicePosture: z.array(postureSchema).min(1).optional(),
    countries: z
      .array(
        z
          .string()
          .trim()
          .regex(/^[A-Za-z]{2}$/, 'must be a two-letter country code'),
      )
      .min(1)
      .optional(),
    identityProviders: z.array(z.string().trim().min(1)).min(1).optional(),
    accessApplication: z.string().trim().min(1).optional(),
  })
  .strict();

export const accessRuleSchema = z
  .object({
    name: z.string().trim().min(1).optional(),
    match: z.union(
      [z.string().trim().min(1), z.array(z.string().trim().min(1)).min(1)],
      {
        errorMap: () => ({
          message:
            'must be a pattern such as "POST /api/scaffolder/v2/tasks", or a list of them',
        }),
      },
    ),
    require: requireSchema,
    identityMaxAge: duration.optional(),
    refuseCallsOnBehalfOfPeople: z.boolean().optional(),
    appliesTo: z
      .enum(['people', 'serviceTokens'], {
        errorMap: () => ({ message: 'must be people or serviceTokens' }),
      })
      .optional(),
  })
  .strict();

/** The keys each level of a rule takes, for the message about an unknown one. */
export const ruleKeys = {
  rule: Object.keys(accessRuleSchema.shape),
  require: Object.keys(requireSchema.shape),
  devicePosture: Object.keys(postureSchema.shape),
};

/** How old a get-identity answer may be for a rule's device checks, unless the rule says. */
export const DEFAULT_IDENTITY_MAX_AGE_MS = 60_000;

const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;

/** An error about one key of one rule, relative to the rule (`require.warp`). */
export class RuleConfigError extends Error {
  constructor(readonly key: string, message: string) {
    super(message);
  }
}

function milliseconds(
  value: z.infer<typeof duration>,
  key: string,
  bounds: { min: number; max: number; text: string },
): number {
  if (typeof value === 'number') {
    throw new RuleConfigError(
      key,
      `must be a duration with a unit (such as 10m or ${value} seconds), got the plain number ${value}`,
    );
  }
  let ms: number;
  try {
    ms = durationToMilliseconds(
      readDurationFromConfig(new ConfigReader({ value: value as JsonValue }), {
        key: 'value',
      }),
    );
  } catch (error) {
    throw new RuleConfigError(
      key,
      `is not a duration (such as 10m, 10 minutes, PT10M or { minutes: 10 }): ${
        (error as Error).message
      }`,
    );
  }
  if (!Number.isFinite(ms) || ms < bounds.min || ms > bounds.max) {
    throw new RuleConfigError(
      key,
      `must be ${bounds.text}, got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

/** What the rest of the provider's config allows a rule to ask for. */
export type RuleLimits = {
  /** The provider's AUD tags, when readable: a stricter application must be one of them. */
  audiences?: readonly string[];
  /** Whether get-identity is on: WARP, posture and identity provider need it. */
  identityEnabled: boolean;
};

/** A rule as parsed by accessRuleSchema, checked and compiled; throws RuleConfigError. */
export function toAccessRule(
  parsed: z.infer<typeof accessRuleSchema>,
  label: string,
  limits: RuleLimits,
): AccessRule {
  const matches =
    typeof parsed.match === 'string' ? [parsed.match] : parsed.match;
  const patterns = matches.map((text, index) => {
    try {
      return parseRequestPattern(text);
    } catch (error) {
      throw new RuleConfigError(
        typeof parsed.match === 'string' ? 'match' : `match[${index}]`,
        (error as Error).message,
      );
    }
  });
  const req = parsed.require;
  const devicePosture = (req.devicePosture ?? []).map(
    (entry, index): PostureRequirement => ({
      ruleId: entry.rule,
      ...(entry.name && { name: entry.name }),
      ...(entry.maxAge !== undefined && {
        maxAgeMs: milliseconds(
          entry.maxAge,
          `require.devicePosture[${index}].maxAge`,
          { min: SECOND, max: 30 * DAY, text: 'between 1 second and 30 days' },
        ),
      }),
    }),
  );
  const needsIdentity =
    req.warp === true ||
    devicePosture.length > 0 ||
    req.identityProviders !== undefined;
  const requires =
    needsIdentity ||
    req.peopleOnly === true ||
    req.countries !== undefined ||
    req.accessApplication !== undefined;
  if (!requires) {
    throw new RuleConfigError(
      'require',
      `must ask for something (${ruleKeys.require.join(', ')})`,
    );
  }
  if (
    parsed.appliesTo === 'serviceTokens' &&
    (needsIdentity || req.peopleOnly === true)
  ) {
    throw new RuleConfigError(
      'appliesTo',
      'is serviceTokens, but the rule asks for a person, WARP, device posture or an identity provider, which a service token never has: no request could meet it',
    );
  }
  if (
    parsed.appliesTo === 'serviceTokens' &&
    parsed.refuseCallsOnBehalfOfPeople === true
  ) {
    throw new RuleConfigError(
      'refuseCallsOnBehalfOfPeople',
      'is true, but the rule applies to service tokens only (appliesTo: serviceTokens), and a plugin calling on behalf of a person is that person: it would never refuse anything',
    );
  }
  if (needsIdentity && !limits.identityEnabled) {
    throw new RuleConfigError(
      'require',
      'asks for WARP, device posture or an identity provider, which come from get-identity, and identity.enabled is false',
    );
  }
  if (
    req.accessApplication !== undefined &&
    limits.audiences &&
    !limits.audiences.includes(req.accessApplication)
  ) {
    throw new RuleConfigError(
      'require.accessApplication',
      "must also be in the provider's audience list, or its tokens are never accepted",
    );
  }
  return {
    label,
    match: matches,
    patterns,
    peopleOnly: req.peopleOnly === true,
    warp: req.warp === true,
    devicePosture,
    ...(req.countries && {
      countries: new Set(req.countries.map(code => code.toUpperCase())),
    }),
    ...(req.identityProviders && {
      identityProviders: new Set(req.identityProviders),
    }),
    ...(req.accessApplication !== undefined && {
      accessApplication: req.accessApplication,
    }),
    needsIdentity,
    refuseCallsOnBehalfOfPeople: parsed.refuseCallsOnBehalfOfPeople === true,
    ...(parsed.appliesTo && { appliesTo: parsed.appliesTo }),
    identityMaxAgeMs:
      parsed.identityMaxAge === undefined
        ? DEFAULT_IDENTITY_MAX_AGE_MS
        : milliseconds(parsed.identityMaxAge, 'identityMaxAge', {
            min: SECOND,
            max: HOUR,
            text: 'between 1 second and 1 hour',
          }),
  };
}
