/*
 * Loading and validating the users file (YAML): demo users shown on the login
 * page and service tokens accepted at the edge.
 */
import { promises as fs } from 'node:fs';
import { parse as parseYaml } from 'yaml';

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
}

export interface ServiceTokenConfig {
  /** Client ID, ends in `.access` like Cloudflare's. */
  clientId: string;
  clientSecret: string;
  name?: string;
}

export interface UsersConfig {
  users: EmulatorUser[];
  serviceTokens: ServiceTokenConfig[];
}

const EMAIL_PATTERN = /^[^\s@<>"'`]+@[^\s@<>"'`]+$/;

export function isValidEmail(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length <= 254 &&
    EMAIL_PATTERN.test(value)
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

function checkKeys(
  where: string,
  value: Record<string, unknown>,
  allowed: string[],
) {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new Error(
        `${where}: unknown field "${key}" (allowed: ${allowed.join(', ')})`,
      );
    }
  }
}

function optionalString(where: string, value: unknown): string | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'string' || !value.trim()) {
    throw new Error(
      `${where}: expected a non-empty string, got ${describe(value)}`,
    );
  }
  return value.trim();
}

function validateGroup(where: string, value: unknown): string | EmulatorGroup {
  if (typeof value === 'string' && value.trim()) {
    return value.trim();
  }
  if (isRecord(value)) {
    checkKeys(where, value, ['id', 'name', 'email']);
    const name = optionalString(`${where}.name`, value.name);
    if (!name) {
      throw new Error(`${where}.name: required`);
    }
    const email = optionalString(`${where}.email`, value.email);
    if (email !== undefined && !isValidEmail(email)) {
      throw new Error(
        `${where}.email: not an email address: ${describe(email)}`,
      );
    }
    return { id: optionalString(`${where}.id`, value.id), name, email };
  }
  throw new Error(
    `${where}: expected a group name or { name, id?, email? }, got ${describe(
      value,
    )}`,
  );
}

function validateUser(where: string, value: unknown): EmulatorUser {
  if (!isRecord(value)) {
    throw new Error(
      `${where}: expected a mapping with an email, got ${describe(value)}`,
    );
  }
  checkKeys(where, value, ['email', 'name', 'groups', 'country']);
  const email =
    typeof value.email === 'string' ? value.email.trim() : value.email;
  if (!isValidEmail(email)) {
    throw new Error(
      `${where}.email: expected an email address, got ${describe(value.email)}`,
    );
  }
  const groups = value.groups ?? [];
  if (!Array.isArray(groups)) {
    throw new Error(
      `${where}.groups: expected a list, got ${describe(groups)}`,
    );
  }
  const country = optionalString(`${where}.country`, value.country);
  if (country !== undefined && !/^[A-Za-z]{2}$/.test(country)) {
    throw new Error(
      `${where}.country: expected a two-letter country code, got ${describe(
        country,
      )}`,
    );
  }
  return {
    email: email.toLowerCase(),
    name: optionalString(`${where}.name`, value.name),
    groups: groups.map((g, i) => validateGroup(`${where}.groups[${i}]`, g)),
    country: country?.toUpperCase(),
  };
}

function validateServiceToken(
  where: string,
  value: unknown,
): ServiceTokenConfig {
  if (!isRecord(value)) {
    throw new Error(
      `${where}: expected a mapping with clientId and clientSecret, got ${describe(
        value,
      )}`,
    );
  }
  checkKeys(where, value, ['clientId', 'clientSecret', 'name']);
  const clientId = optionalString(`${where}.clientId`, value.clientId);
  if (!clientId || !clientId.endsWith('.access')) {
    throw new Error(
      `${where}.clientId: expected a Client ID ending in ".access", got ${describe(
        value.clientId,
      )}`,
    );
  }
  if (typeof value.clientSecret !== 'string' || !value.clientSecret) {
    throw new Error(`${where}.clientSecret: required (a non-empty string)`);
  }
  return {
    clientId,
    clientSecret: value.clientSecret,
    name: optionalString(`${where}.name`, value.name),
  };
}

/** Validates parsed users configuration; throws an Error naming the bad field. */
export function validateUsersConfig(
  value: unknown,
  source = 'users',
): UsersConfig {
  if (value === null || value === undefined) {
    return { users: [], serviceTokens: [] };
  }
  if (!isRecord(value)) {
    throw new Error(
      `${source}: expected a mapping with "users" and/or "serviceTokens"`,
    );
  }
  checkKeys(source, value, ['users', 'serviceTokens']);
  const users = value.users ?? [];
  const serviceTokens = value.serviceTokens ?? [];
  if (!Array.isArray(users)) {
    throw new Error(`${source}: "users" must be a list`);
  }
  if (!Array.isArray(serviceTokens)) {
    throw new Error(`${source}: "serviceTokens" must be a list`);
  }
  const config: UsersConfig = {
    users: users.map((u, i) => validateUser(`${source}: users[${i}]`, u)),
    serviceTokens: serviceTokens.map((t, i) =>
      validateServiceToken(`${source}: serviceTokens[${i}]`, t),
    ),
  };
  const emails = new Set<string>();
  config.users.forEach((u, i) => {
    if (emails.has(u.email)) {
      throw new Error(`${source}: users[${i}].email: duplicate ${u.email}`);
    }
    emails.add(u.email);
  });
  const ids = new Set<string>();
  config.serviceTokens.forEach((t, i) => {
    if (ids.has(t.clientId)) {
      throw new Error(
        `${source}: serviceTokens[${i}].clientId: duplicate ${t.clientId}`,
      );
    }
    ids.add(t.clientId);
  });
  return config;
}

/** Parses and validates users YAML text. */
export function parseUsersConfig(text: string, source = 'users'): UsersConfig {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error: any) {
    throw new Error(`${source}: invalid YAML: ${error.message}`);
  }
  return validateUsersConfig(parsed, source);
}

/** Reads, parses and validates a users file. */
export async function loadUsersFile(file: string): Promise<UsersConfig> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error: any) {
    throw new Error(`Cannot read users file ${file}: ${error.message}`);
  }
  return parseUsersConfig(text, file);
}
