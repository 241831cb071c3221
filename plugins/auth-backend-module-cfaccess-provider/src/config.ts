import { Config } from '@backstage/config';
import { isLoopbackHost, namesThisMachine } from './hostNames';
import {
  parseServiceTokenSubject,
  ServiceTokenSubject,
} from './serviceTokenSubject';

export { isLoopbackHost, namesThisMachine };

/** Defaults and bounds for every numeric setting; the README table mirrors these. */
export const numericSettings = {
  clockToleranceSeconds: { default: 60, min: 0, max: 300 },
  'jwks.cacheMaxAgeSeconds': { default: 600, min: 60, max: 86400 },
  'jwks.cooldownSeconds': { default: 30, min: 1, max: 3600 },
  'jwks.timeoutMs': { default: 5000, min: 100, max: 60000 },
  'jwks.staleMaxAgeSeconds': { default: 3600, min: 0, max: 604800 },
  'identity.timeoutMs': { default: 3000, min: 100, max: 60000 },
  'identity.cacheTtlSeconds': { default: 300, min: 0, max: 3600 },
  maxTokenBytes: { default: 8192, min: 1024, max: 65536 },
  // Access answers with a few KB; the limits stop a broken or hostile answer from using memory.
  'jwks.maxBodyBytes': {
    default: 1048576,
    min: 16384,
    max: 4194304,
    integer: true,
  },
  'identity.maxBodyBytes': {
    default: 1048576,
    min: 16384,
    max: 4194304,
    integer: true,
  },
  'verifiedTokenCache.maxEntries': {
    default: 10000,
    min: 0,
    max: 1000000,
    integer: true,
  },
} as const;

type NumericKey = keyof typeof numericSettings;

/** The validated provider settings. */
export type CfAccessConfig = {
  /** Team domain origin, e.g. `https://myteam.cloudflareaccess.com`; also the issuer. */
  teamDomain: string;
  issuer: string;
  certsUrl: string;
  identityUrl: string;
  audiences: string[];
  /** Service token Client ID -> its subject, parsed (email or User entity ref). */
  serviceTokens: Map<string, ServiceTokenSubject>;
  /** Lower-cased, as Node presents incoming header names. */
  jwtHeaderName: string;
  authorizationCookieName: string;
  clockToleranceSeconds: number;
  maxTokenBytes: number;
  jwks: {
    cacheMaxAgeMs: number;
    cooldownMs: number;
    timeoutMs: number;
    staleMaxAgeMs: number;
    maxBodyBytes: number;
  };
  identity: {
    enabled: boolean;
    timeoutMs: number;
    cacheTtlMs: number;
    maxBodyBytes: number;
  };
  verifiedTokenCache: {
    /** 0 disables the cache. */
    maxEntries: number;
  };
};

export const DEFAULT_JWT_HEADER_NAME = 'cf-access-jwt-assertion';
export const DEFAULT_COOKIE_NAME = 'CF_Authorization';

// A DNS label: keeps teamName from smuggling a path or another host into the URL.
const TEAM_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
// RFC 7230 token characters, so the header name can actually occur.
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;
// RFC 6265 cookie-name (token) characters.
const COOKIE_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;

/**
 * Whether the development allowances (an http or loopback team domain) apply,
 * and why, for error messages.
 */
export type CfAccessDeploymentMode = {
  development: boolean;
  reason: string;
};

/**
 * Development means `auth.environment: development`, set explicitly, and
 * `NODE_ENV` not `production`. Backstage treats an unset `auth.environment`
 * as development; this does not, so a production deployment that forgets it
 * gets the production rules (fail safe). Without the root config (a custom
 * module that did not pass it) the production rules apply too.
 */
export function readDeploymentMode(
  rootConfig: Config | undefined,
  nodeEnv: string | undefined = process.env.NODE_ENV,
): CfAccessDeploymentMode {
  if (!rootConfig) {
    return {
      development: false,
      reason:
        'auth.environment is unknown: the authenticator was created without rootConfig',
    };
  }
  const environment = rootConfig.getOptional('auth.environment');
  if (environment === undefined) {
    return { development: false, reason: 'auth.environment is not set' };
  }
  if (environment !== 'development') {
    return {
      development: false,
      reason: `auth.environment is ${JSON.stringify(environment)}`,
    };
  }
  if (nodeEnv === 'production') {
    return {
      development: false,
      reason: 'auth.environment is development but NODE_ENV is production',
    };
  }
  return { development: true, reason: 'auth.environment is development' };
}

const PRODUCTION_MODE: CfAccessDeploymentMode = readDeploymentMode(undefined);

/**
 * A startup error in the provider's config. `keys` are the offending keys
 * relative to the provider (e.g. `teamDomain`, `serviceTokens[0].token`);
 * `missing` is true when a required value is absent or blank, the case where
 * an unset environment variable is the usual cause.
 */
export class CfAccessConfigError extends Error {
  readonly name = 'CfAccessConfigError';

  constructor(
    message: string,
    readonly keys: string[],
    readonly missing: boolean,
  ) {
    super(message);
  }
}

class ConfigReader {
  constructor(
    private readonly config: Config,
    private readonly prefix: string,
  ) {}

  key(key: string) {
    return `${this.prefix}.${key}`;
  }

  fail(key: string, message: string): never {
    throw new CfAccessConfigError(`${this.key(key)} ${message}`, [key], false);
  }

  /** A required value that is absent or blank. */
  missing(keys: string[], message: string): never {
    throw new CfAccessConfigError(message, keys, true);
  }

  optionalString(key: string): string | undefined {
    const value = this.config.getOptional(key);
    if (value === undefined) {
      return undefined;
    }
    if (typeof value !== 'string') {
      this.fail(key, `must be a string, got ${typeof value}`);
    }
    const trimmed = value.trim();
    if (!trimmed) {
      this.missing([key], `${this.key(key)} must not be empty`);
    }
    return trimmed;
  }

  optionalBoolean(key: string, fallback: boolean): boolean {
    const value = this.config.getOptional(key);
    if (value === undefined) {
      return fallback;
    }
    if (typeof value !== 'boolean') {
      this.fail(key, `must be true or false, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  bounded(key: NumericKey): number {
    const setting: {
      default: number;
      min: number;
      max: number;
      integer?: boolean;
    } = numericSettings[key];
    const { default: fallback, min, max } = setting;
    const value = this.config.getOptional(key);
    if (value === undefined) {
      return fallback;
    }
    const num = typeof value === 'string' ? Number(value) : value;
    if (typeof num !== 'number' || !Number.isFinite(num)) {
      this.fail(key, `must be a number, got ${JSON.stringify(value)}`);
    }
    if (num < min || num > max) {
      this.fail(key, `must be between ${min} and ${max}, got ${num}`);
    }
    if (setting.integer && !Number.isInteger(num)) {
      this.fail(key, `must be a whole number, got ${num}`);
    }
    return num;
  }
}

// A scheme at the start; without one, teamDomain is a host as the dashboard shows it.
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

function readTeamDomain(r: ConfigReader, mode: CfAccessDeploymentMode): string {
  const teamName = r.optionalString('teamName');
  const teamDomain = r.optionalString('teamDomain');
  const allowLoopback = r.optionalBoolean(
    'dangerouslyAllowLoopbackTeamDomain',
    false,
  );
  if (teamName && teamDomain) {
    r.fail(
      'teamName',
      `and ${r.key('teamDomain')} are mutually exclusive; set exactly one`,
    );
  }
  if (teamName) {
    if (!TEAM_NAME_PATTERN.test(teamName)) {
      r.fail(
        'teamName',
        `must be the team name only (letters, digits, dashes), as in <teamName>.cloudflareaccess.com, got ${JSON.stringify(
          teamName,
        )}`,
      );
    }
    return `https://${teamName.toLowerCase()}.cloudflareaccess.com`;
  }
  if (!teamDomain) {
    return r.missing(
      ['teamDomain', 'teamName'],
      `${r.key('teamDomain')} or ${r.key(
        'teamName',
      )} is required: the Zero Trust team domain, <team>.cloudflareaccess.com`,
    );
  }
  let url: URL;
  try {
    url = new URL(
      HAS_SCHEME.test(teamDomain) ? teamDomain : `https://${teamDomain}`,
    );
  } catch {
    return r.fail(
      'teamDomain',
      `must be a team domain such as https://myteam.cloudflareaccess.com, got ${JSON.stringify(
        teamDomain,
      )}`,
    );
  }
  if (url.username || url.password) {
    r.fail('teamDomain', 'must not contain credentials');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    r.fail('teamDomain', `must be an https origin, got ${url.protocol}`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    r.fail(
      'teamDomain',
      `must be https unless the host is loopback, got ${url.origin}`,
    );
  }
  if (!mode.development) {
    const why = `got ${url.origin} (${mode.reason}): whatever answers there would be trusted as Cloudflare Access. Set your team domain, https://<team>.cloudflareaccess.com; only auth.environment: development allows the local Access emulator`;
    if (url.protocol === 'http:') {
      r.fail('teamDomain', `must be https outside development, ${why}`);
    }
    if (namesThisMachine(url.hostname) && !allowLoopback) {
      r.fail(
        'teamDomain',
        `must not be a loopback host outside development, ${why}; a test that runs production mode on this machine sets ${r.key(
          'dangerouslyAllowLoopbackTeamDomain',
        )}: true`,
      );
    }
  }
  return url.origin;
}

function readAudiences(r: ConfigReader, config: Config): string[] {
  const raw = config.getOptional('audience');
  if (raw === undefined) {
    r.missing(
      ['audience'],
      `${r.key(
        'audience',
      )} is required: the Application Audience (AUD) tag of the Access application in front of Backstage (a string or a list of strings)`,
    );
  }
  const list = Array.isArray(raw) ? raw : [raw];
  const audiences = list.map(value => {
    if (typeof value === 'string' && !value.trim()) {
      return r.missing(
        ['audience'],
        `${r.key('audience')} must be a non-empty AUD tag, got ${JSON.stringify(
          value,
        )}`,
      );
    }
    if (typeof value !== 'string') {
      return r.fail(
        'audience',
        `must be a non-empty AUD tag or list of AUD tags, got ${JSON.stringify(
          value,
        )}`,
      );
    }
    return value.trim();
  });
  if (audiences.length === 0) {
    r.fail('audience', 'must list at least one AUD tag');
  }
  return [...new Set(audiences)];
}

function readServiceTokens(
  r: ConfigReader,
  config: Config,
  attempt: Attempt,
): Map<string, ServiceTokenSubject> {
  const tokens = new Map<string, ServiceTokenSubject>();
  const entries = attempt(() => {
    try {
      return config.getOptionalConfigArray('serviceTokens');
    } catch {
      return r.fail('serviceTokens', 'must be a list of { token, subject }');
    }
  }, undefined);
  // Each entry on its own: one bad entry does not hide a problem in the next.
  (entries ?? []).forEach((entry, index) =>
    attempt(() => {
      const key = `serviceTokens[${index}]`;
      const token = entry.getOptional('token');
      const subject = entry.getOptional('subject');
      if (typeof token !== 'string' || !token.trim()) {
        r.fail(
          `${key}.token`,
          'must be the service token Client ID (it ends in .access)',
        );
      }
      if (typeof subject !== 'string' || !subject.trim()) {
        r.fail(
          `${key}.subject`,
          'must be an email or an entity ref such as user:default/ci-bot',
        );
      }
      if (tokens.has(token.trim())) {
        r.fail(`${key}.token`, 'is listed more than once');
      }
      const parsed = parseServiceTokenSubject(subject.trim());
      if (!parsed) {
        r.fail(
          `${key}.subject`,
          `must be an email or a User entity ref such as user:default/ci-bot, got ${JSON.stringify(
            subject,
          )}`,
        );
      }
      tokens.set(token.trim(), parsed);
    }, undefined),
  );
  return tokens;
}

/** Runs one rule; a CfAccessConfigError is collected and `fallback` stands in for the value. */
type Attempt = <T>(read: () => T, fallback: T) => T;

/** Every problem in the provider's config (in reading order), and the settings when there is none. */
export type CfAccessConfigInspection =
  | { config: CfAccessConfig; problems: [] }
  | { config?: undefined; problems: CfAccessConfigError[] };

/**
 * Reads and validates `auth.providers.<providerId>`. Throws a
 * {@link CfAccessConfigError} at startup with a message naming the offending
 * key, so misconfiguration never reaches a request. Without `mode`, the
 * production rules apply. The error is the first of
 * {@link inspectCfAccessConfig}'s problems.
 */
export function readCfAccessConfig(
  config: Config,
  options?: { providerId?: string; mode?: CfAccessDeploymentMode },
): CfAccessConfig {
  const inspection = inspectCfAccessConfig(config, options);
  if (!inspection.config) {
    throw inspection.problems[0];
  }
  return inspection.config;
}

/**
 * Applies every rule of {@link readCfAccessConfig} and collects every
 * problem rather than stopping at the first, for diagnostics (the doctor
 * command). Each setting is read once; a setting with a problem stands in
 * with its default so the rules after it still run.
 */
export function inspectCfAccessConfig(
  config: Config,
  options?: { providerId?: string; mode?: CfAccessDeploymentMode },
): CfAccessConfigInspection {
  const r = new ConfigReader(
    config,
    `auth.providers.${options?.providerId ?? 'cfaccess'}`,
  );
  const problems: CfAccessConfigError[] = [];
  const attempt: Attempt = (read, fallback) => {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof CfAccessConfigError)) {
        throw error;
      }
      problems.push(error);
      return fallback;
    }
  };
  const teamDomain = attempt(
    () => readTeamDomain(r, options?.mode ?? PRODUCTION_MODE),
    '',
  );
  const audiences = attempt(() => readAudiences(r, config), []);
  const serviceTokens = readServiceTokens(r, config, attempt);

  const jwtHeaderName = attempt(() => {
    const name = r.optionalString('jwtHeaderName') ?? DEFAULT_JWT_HEADER_NAME;
    if (!HEADER_NAME_PATTERN.test(name)) {
      r.fail('jwtHeaderName', `is not a valid header name: ${name}`);
    }
    return name;
  }, DEFAULT_JWT_HEADER_NAME);
  const authorizationCookieName = attempt(() => {
    const name =
      r.optionalString('authorizationCookieName') ?? DEFAULT_COOKIE_NAME;
    if (!COOKIE_NAME_PATTERN.test(name)) {
      r.fail('authorizationCookieName', `is not a valid cookie name: ${name}`);
    }
    return name;
  }, DEFAULT_COOKIE_NAME);
  const bounded = (key: NumericKey) =>
    attempt(() => r.bounded(key), numericSettings[key].default);
  const flag = (key: string, fallback: boolean) =>
    attempt(() => r.optionalBoolean(key, fallback), fallback);

  const settings: CfAccessConfig = {
    teamDomain,
    issuer: teamDomain,
    certsUrl: `${teamDomain}/cdn-cgi/access/certs`,
    identityUrl: `${teamDomain}/cdn-cgi/access/get-identity`,
    audiences,
    serviceTokens,
    jwtHeaderName: jwtHeaderName.toLowerCase(),
    authorizationCookieName,
    clockToleranceSeconds: bounded('clockToleranceSeconds'),
    maxTokenBytes: bounded('maxTokenBytes'),
    jwks: {
      cacheMaxAgeMs: bounded('jwks.cacheMaxAgeSeconds') * 1000,
      cooldownMs: bounded('jwks.cooldownSeconds') * 1000,
      timeoutMs: bounded('jwks.timeoutMs'),
      staleMaxAgeMs: bounded('jwks.staleMaxAgeSeconds') * 1000,
      maxBodyBytes: bounded('jwks.maxBodyBytes'),
    },
    identity: {
      enabled: flag('identity.enabled', true),
      timeoutMs: bounded('identity.timeoutMs'),
      cacheTtlMs: bounded('identity.cacheTtlSeconds') * 1000,
      maxBodyBytes: bounded('identity.maxBodyBytes'),
    },
    verifiedTokenCache: {
      maxEntries: bounded('verifiedTokenCache.maxEntries'),
    },
  };
  return problems.length === 0
    ? { config: settings, problems: [] }
    : { problems };
}
