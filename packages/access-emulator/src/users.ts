/*
 * The users file (YAML): demo users shown on the login page and service tokens accepted at the edge.
 */
import { z } from 'zod';
import {
  type EmulatorDevice,
  type EmulatorIdentityProvider,
  deviceSchema,
  identityProviderSchema,
  optionalCountry,
} from './devices';
import {
  NO_VALUE,
  nonEmptyString,
  optionalString,
  parseWithSchema,
  parseYamlText,
  readTextFile,
  strictObject,
} from './schemas';

export interface EmulatorGroup {
  /** Defaults to a stable UUID derived from the name. */
  id?: string;
  name: string;
  /** Defaults to `<name>@<the user's email domain>`. */
  email?: string;
}

export interface EmulatorUser {
  email: string;
  name?: string;
  groups?: Array<string | EmulatorGroup>;
  /** Two-letter country code for the `country` claim and `geo.country`. */
  country?: string;
  /** get-identity's `idp` after a login with the user list (default: One-time PIN). */
  identityProvider?: EmulatorIdentityProvider;
  /** The person's device: `device_id`, `is_warp`, `is_gateway`, `devicePosture`. Default: none. */
  device?: EmulatorDevice;
}

const EMAIL_PATTERN = /^[^\s@<>"'`]+@[^\s@<>"'`]+$/;

export const isValidEmail = (value: unknown): value is string =>
  typeof value === 'string' && value.length <= 254 && EMAIL_PATTERN.test(value);

/** An email as Access compares it: trimmed and lower-cased. */
export const normalizeEmail = (email: string): string =>
  email.trim().toLowerCase();

const email = (message: string) =>
  z
    .string({ required_error: message, invalid_type_error: message })
    .trim()
    .refine(isValidEmail, message);

const GROUP = 'expected a group name or { name, id?, email? }';
const groupSchema = z.union(
  [
    nonEmptyString(GROUP),
    strictObject(
      {
        name: nonEmptyString(),
        id: optionalString(),
        email: email('not an email address').optional(),
      },
      GROUP,
    ),
  ],
  { errorMap: () => ({ message: GROUP }) },
);

const userSchema = strictObject(
  {
    email: email('expected an email address').transform(normalizeEmail),
    name: optionalString(),
    groups: z
      .array(groupSchema, { invalid_type_error: 'expected a list' })
      .nullish()
      .transform(v => v ?? []),
    country: optionalCountry(),
    identityProvider: identityProviderSchema
      .nullish()
      .transform(v => v ?? undefined),
    device: deviceSchema.nullish().transform(v => v ?? undefined),
  },
  'expected a mapping with an email',
);

const serviceTokenSchema = strictObject(
  {
    /** Client ID, ends in `.access` like Cloudflare's. */
    clientId: nonEmptyString('expected a Client ID ending in ".access"').refine(
      v => v.endsWith('.access'),
      'expected a Client ID ending in ".access"',
    ),
    clientSecret: z
      .string({
        required_error: 'required (a non-empty string)',
        invalid_type_error: 'required (a non-empty string)',
      })
      .min(1, 'required (a non-empty string)'),
    name: optionalString(),
  },
  'expected a mapping with clientId and clientSecret',
);

function unique<T>(
  ctx: z.RefinementCtx,
  list: T[],
  listName: string,
  field: keyof T & string,
) {
  const seen = new Set<unknown>();
  list.forEach((item, i) => {
    if (seen.has(item[field])) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [listName, i, field],
        message: `duplicate ${item[field]}`,
        params: NO_VALUE,
      });
    }
    seen.add(item[field]);
  });
}

const usersConfigSchema = strictObject(
  {
    users: z
      .array(userSchema, { invalid_type_error: 'expected a list' })
      .default([]),
    serviceTokens: z
      .array(serviceTokenSchema, { invalid_type_error: 'expected a list' })
      .default([]),
  },
  'expected a mapping with "users" and/or "serviceTokens"',
)
  .nullish()
  .transform(v => v ?? { users: [], serviceTokens: [] })
  .superRefine((config, ctx) => {
    unique(ctx, config.users, 'users', 'email');
    unique(ctx, config.serviceTokens, 'serviceTokens', 'clientId');
  });

export type ServiceTokenConfig = z.output<typeof serviceTokenSchema>;
export type UsersConfig = z.output<typeof usersConfigSchema>;

/** Validates parsed users configuration; throws an Error naming the bad field. */
export function validateUsersConfig(
  value: unknown,
  source = 'users',
): UsersConfig {
  return parseWithSchema(usersConfigSchema, value, source);
}

/** Parses and validates users YAML text. */
export function parseUsersConfig(text: string, source = 'users'): UsersConfig {
  return validateUsersConfig(parseYamlText(text, source), source);
}

/** Reads, parses and validates a users file. */
export async function loadUsersFile(file: string): Promise<UsersConfig> {
  return parseUsersConfig(await readTextFile(file, 'users file'), file);
}
