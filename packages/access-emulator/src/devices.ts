/*
 * A person's device in the users file (and the `users` option): its id, WARP and Gateway, and the posture
 * checks its WARP client reports. The person's country and identity provider stay on the user.
 */
import { z } from 'zod';
import {
  NO_VALUE,
  nonEmptyString,
  optionalBoolean,
  optionalString,
} from './schemas';

/** One device posture check, as get-identity reports it under `devicePosture.<id>`. */
export interface EmulatorPostureCheck {
  /** The posture rule id: the key in `devicePosture`, and its `id`. */
  id: string;
  /** `rule_name`; default: the id. */
  name?: string;
  /** `type`, e.g. `disk_encryption`, `firewall`, `os_version`. */
  type: string;
  success: boolean;
  /** When the check ran (ISO 8601): fixed. Not with `ageSeconds`. */
  timestamp?: string;
  /** How long ago the check ran at each get-identity answer. Neither this nor `timestamp`: just now. */
  ageSeconds?: number;
  description?: string;
  error?: string;
}

export interface EmulatorDevice {
  /** `device_id`; default: a stable UUID derived from the email. */
  id?: string;
  /** `is_warp`; default false. */
  warp?: boolean;
  /** `is_gateway`; default false. */
  gateway?: boolean;
  posture?: EmulatorPostureCheck[];
}

/** `idp` in get-identity: which identity provider the person signed in with. */
export interface EmulatorIdentityProvider {
  id: string;
  type: string;
}

const COUNTRY = 'expected a two-letter country code';

/** A two-letter country code, upper-cased. */
export function countryCode() {
  return nonEmptyString(COUNTRY)
    .refine(v => /^[A-Za-z]{2}$/.test(v), COUNTRY)
    .transform(v => v.toUpperCase());
}

/** Absent, `null` or a two-letter country code (upper-cased); `undefined` when absent. */
export function optionalCountry() {
  return countryCode()
    .nullish()
    .transform(v => v ?? undefined);
}

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;
const TIMESTAMP =
  'expected an ISO 8601 date and time, e.g. 2026-12-07T10:00:00Z';

/** The time of an ISO 8601 date and time, if it is one (no 30 February, no hour 24). */
function parseIso(text: string): Date | undefined {
  const parts = ISO_8601.exec(text.trim());
  if (!parts) {
    return undefined;
  }
  const [year, month, day, hour, minute, second = 0] = parts
    .slice(1, 7)
    .map(v => (v === undefined ? undefined : Number(v))) as number[];
  const fields = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const exists =
    fields.getUTCMonth() === month - 1 &&
    fields.getUTCDate() === day &&
    fields.getUTCHours() === hour &&
    fields.getUTCMinutes() === minute &&
    fields.getUTCSeconds() === second;
  const date = new Date(text.trim());
  return exists && !Number.isNaN(date.getTime()) ? date : undefined;
}

/** An ISO 8601 date and time (or a Date), as `2026-12-07T10:00:00.000Z`. */
export function isoTimestamp() {
  return z
    .union([z.string(), z.date()], {
      errorMap: () => ({ message: TIMESTAMP }),
    })
    .transform((v, ctx) => {
      const date = typeof v === 'string' ? parseIso(v) : v;
      if (!date || Number.isNaN(date.getTime())) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: TIMESTAMP });
        return z.NEVER;
      }
      return date.toISOString();
    });
}

const AGE = 'expected a number of seconds (0 or more)';

/** A check's age in seconds: a number, 0 or more. */
export function ageSeconds() {
  return z
    .number({ invalid_type_error: AGE, required_error: AGE })
    .finite(AGE)
    .min(0, AGE);
}

/** A refinement: not both `timestamp` and `ageSeconds`. */
export function timestampOrAge(
  check: { timestamp?: unknown; ageSeconds?: unknown },
  ctx: z.RefinementCtx,
) {
  if (
    check.timestamp !== undefined &&
    check.timestamp !== null &&
    check.ageSeconds !== undefined &&
    check.ageSeconds !== null
  ) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ['ageSeconds'],
      message: 'give either timestamp or ageSeconds, not both',
      params: NO_VALUE,
    });
  }
}

export const identityProviderSchema = z
  .object(
    {
      id: nonEmptyString(),
      type: nonEmptyString(),
    },
    { invalid_type_error: 'expected { id, type }' },
  )
  .strict('allowed: id, type');

const postureCheckSchema = z
  .object(
    {
      id: nonEmptyString('expected the posture rule id'),
      name: optionalString(),
      type: nonEmptyString('expected the check type, e.g. disk_encryption'),
      success: z.boolean({
        required_error: 'required',
        invalid_type_error: 'expected true or false',
      }),
      timestamp: isoTimestamp()
        .nullish()
        .transform(v => v ?? undefined),
      ageSeconds: ageSeconds()
        .nullish()
        .transform(v => v ?? undefined),
      description: optionalString(),
      error: optionalString(),
    },
    {
      invalid_type_error:
        'expected a mapping with id, type and success (a posture check)',
    },
  )
  .strict(
    'allowed: id, name, type, success, timestamp, ageSeconds, description, error',
  )
  .superRefine(timestampOrAge);

export const deviceSchema = z
  .object(
    {
      id: optionalString(),
      warp: optionalBoolean(false),
      gateway: optionalBoolean(false),
      posture: z
        .array(postureCheckSchema, { invalid_type_error: 'expected a list' })
        .nullish()
        .transform(v => v ?? []),
    },
    { invalid_type_error: 'expected a mapping (id, warp, gateway, posture)' },
  )
  .strict(
    'allowed: id, warp, gateway, posture; country and identityProvider are set on the user',
  )
  .superRefine((device, ctx) => {
    const seen = new Set<string>();
    device.posture.forEach((check, i) => {
      if (seen.has(check.id)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['posture', i, 'id'],
          message: `duplicate ${check.id}`,
          params: NO_VALUE,
        });
      }
      seen.add(check.id);
    });
  });
