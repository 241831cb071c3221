/*
 * What the emulator's input schemas (users file, identity-provider config) share: the field types they
 * are built from, and one way to turn a zod error into a message that names the file, the entry and the
 * field, with the value that was given (never a secret's).
 */
import { promises as fs } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export type SchemaPath = Array<string | number>;

/** `users[0].email` */
export function pathText(path: SchemaPath): string {
  return path
    .map(part => (typeof part === 'number' ? `[${part}]` : `.${part}`))
    .join('')
    .replace(/^\./, '');
}

/** A trimmed string that must not be empty. */
export function nonEmptyString(message = 'expected a non-empty string') {
  return z
    .string({ required_error: 'required', invalid_type_error: message })
    .trim()
    .min(1, message);
}

/** Absent, `null` (an empty YAML value) or a non-empty string; `undefined` when absent. */
export function optionalString(message?: string) {
  return nonEmptyString(message)
    .nullish()
    .transform(v => v ?? undefined);
}

/** Absent, `null` or a boolean; `fallback` when absent. */
export function optionalBoolean<T extends boolean | undefined>(fallback: T) {
  return z
    .boolean({ invalid_type_error: 'expected true or false' })
    .nullish()
    .transform(v => v ?? fallback);
}

/** An object that refuses fields outside `shape`, naming the allowed ones. */
export function strictObject<T extends z.ZodRawShape>(
  shape: T,
  notAnObject: string,
) {
  return z
    .object(shape, { invalid_type_error: notAnObject })
    .strict(`allowed: ${Object.keys(shape).join(', ')}`);
}

/** A custom issue that shows no value (`got …`): the message says everything. */
export const NO_VALUE = { noValue: true };

function valueAt(input: unknown, path: SchemaPath): unknown {
  let value = input;
  for (const part of path) {
    if (typeof value !== 'object' || value === null) {
      return undefined;
    }
    value = (value as Record<string | number, unknown>)[part];
  }
  return value;
}

/** The union member's issue that got furthest: past the type check, if any member did. */
function closestIssue(issue: z.ZodIssue): z.ZodIssue {
  if (issue.code !== z.ZodIssueCode.invalid_union) {
    return issue;
  }
  const candidates = issue.unionErrors
    .map(error => error.issues[0])
    .filter(
      i =>
        i &&
        !(
          i.code === z.ZodIssueCode.invalid_type &&
          i.path.length === issue.path.length
        ),
    );
  return candidates.length > 0 ? closestIssue(candidates[0]) : issue;
}

function describeIssue(issue: z.ZodIssue, input: unknown): string {
  if (issue.code === z.ZodIssueCode.unrecognized_keys) {
    return `unknown field "${issue.keys[0]}" (${issue.message})`;
  }
  const last = issue.path[issue.path.length - 1];
  const params = issue.code === z.ZodIssueCode.custom ? issue.params : {};
  if (params?.noValue || (typeof last === 'string' && /secret/i.test(last))) {
    return issue.message;
  }
  const value =
    params && 'value' in params ? params.value : valueAt(input, issue.path);
  if (value === undefined) {
    return issue.message === 'required'
      ? issue.message
      : `${issue.message}, got nothing`;
  }
  return `${issue.message}, got ${JSON.stringify(value)}`;
}

/**
 * Parses `input` with `schema`, or throws an Error for the first problem:
 * `<where>: <field path>: <message>, got <value>`. With `entry: true` the path continues `where`
 * (`identityProviders[0].issuer`), otherwise it follows it (`users.yaml: users[0].email`).
 */
export function parseWithSchema<T extends z.ZodTypeAny>(
  schema: T,
  input: unknown,
  where: string,
  options: { entry?: boolean } = {},
): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) {
    return result.data;
  }
  const issue = closestIssue(result.error.issues[0]);
  const path = pathText(issue.path);
  let location = where;
  if (path) {
    location = options.entry
      ? `${where}${path.startsWith('[') ? '' : '.'}${path}`
      : `${where}: ${path}`;
  }
  throw new Error(`${location}: ${describeIssue(issue, input)}`);
}

/** A file's text; an Error naming `what` and the file if it cannot be read. */
export async function readTextFile(file: string, what: string) {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error: any) {
    throw new Error(`Cannot read ${what} ${file}: ${error.message}`);
  }
}

export function parseYamlText(text: string, source: string): unknown {
  try {
    return parseYaml(text);
  } catch (error: any) {
    throw new Error(`${source}: invalid YAML: ${error.message}`);
  }
}
