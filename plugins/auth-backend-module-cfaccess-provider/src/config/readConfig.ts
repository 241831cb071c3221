import { Config } from '@backstage/config';
import { isLoopbackHost, namesThisMachine } from './hostNames';
import { DEFAULT_PROVIDER_ID, providerConfigKey } from './providerId';
import { redactUserinfo } from './redactUserinfo';
import {
  type FlagSettingKey,
  type NameSettingKey,
  type NumericSettingKey,
  providerSettings,
} from './settings';
import {
  parseServiceTokenSubject,
  ServiceTokenSubject,
} from '../signIn/serviceTokenSubject';

export { isLoopbackHost, namesThisMachine };

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
  /** The Access application has Cloudflare's Managed OAuth on: Access signs agents (MCP clients) in. */
  managedOAuth: boolean;
  /**
   * True when the team domain names this machine outside development and
   * `dangerouslyAllowLoopbackTeamDomain` is what let it through: the reader's
   * decision, which the startup check warns about.
   */
  loopbackOptInInEffect: boolean;
};

// A DNS label: keeps teamName from smuggling a path or another host into the URL.
const TEAM_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
// RFC 7230 token characters: a header name (so it can actually occur) and,
// RFC 6265's cookie-name being a token too, a cookie name.
const TOKEN_PATTERN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;

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

/** Reads the provider's settings, each failure an error naming its key (not @backstage/config's ConfigReader). */
class ProviderSettingsReader {
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

  flag(key: FlagSettingKey): boolean {
    const value = this.config.getOptional(key);
    if (value === undefined) {
      return providerSettings[key].default;
    }
    if (typeof value !== 'boolean') {
      this.fail(key, `must be true or false, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  /** A header or cookie name: the default when unset; made of RFC 7230's token characters. */
  name(key: NameSettingKey, what: string): string {
    const name = this.optionalString(key) ?? providerSettings[key].default;
    if (!TOKEN_PATTERN.test(name)) {
      this.fail(key, `is not a valid ${what} name: ${name}`);
    }
    return name;
  }

  bounded(key: NumericSettingKey): number {
    const setting: {
      default: number;
      min: number;
      max: number;
      integer?: boolean;
    } = providerSettings[key];
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

/** The team domain's origin, and whether only the loopback opt-in let it through. */
type TeamDomain = { origin: string; loopbackOptInInEffect: boolean };

function readTeamDomain(
  r: ProviderSettingsReader,
  mode: CfAccessDeploymentMode,
): TeamDomain {
  const teamName = r.optionalString('teamName');
  const teamDomain = r.optionalString('teamDomain');
  const allowLoopback = r.flag('dangerouslyAllowLoopbackTeamDomain');
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
          redactUserinfo(teamName),
        )}`,
      );
    }
    return {
      origin: `https://${teamName.toLowerCase()}.cloudflareaccess.com`,
      loopbackOptInInEffect: false,
    };
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
        redactUserinfo(teamDomain),
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
  // Outside development, only the opt-in lets a team domain on this machine through.
  const needsOptIn = !mode.development && namesThisMachine(url.hostname);
  if (!mode.development) {
    const why = `got ${url.origin} (${mode.reason}): whatever answers there would be trusted as Cloudflare Access. Set your team domain, https://<team>.cloudflareaccess.com; only auth.environment: development allows the local Access emulator`;
    if (url.protocol === 'http:') {
      r.fail('teamDomain', `must be https outside development, ${why}`);
    }
    if (needsOptIn && !allowLoopback) {
      r.fail(
        'teamDomain',
        `must not be a loopback host outside development, ${why}; a test that runs production mode on this machine sets ${r.key(
          'dangerouslyAllowLoopbackTeamDomain',
        )}: true`,
      );
    }
  }
  return { origin: url.origin, loopbackOptInInEffect: needsOptIn };
}

function readAudiences(r: ProviderSettingsReader, config: Config): string[] {
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
  r: ProviderSettingsReader,
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
  const r = new ProviderSettingsReader(
    config,
    providerConfigKey(options?.providerId ?? DEFAULT_PROVIDER_ID),
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
  const { origin: teamDomain, loopbackOptInInEffect } = attempt(
    () => readTeamDomain(r, options?.mode ?? PRODUCTION_MODE),
    { origin: '', loopbackOptInInEffect: false },
  );
  const audiences = attempt(() => readAudiences(r, config), []);
  const serviceTokens = readServiceTokens(r, config, attempt);

  const name = (key: NameSettingKey, what: string) =>
    attempt(() => r.name(key, what), providerSettings[key].default);
  const bounded = (key: NumericSettingKey) =>
    attempt(() => r.bounded(key), providerSettings[key].default);
  const flag = (key: FlagSettingKey) =>
    attempt(() => r.flag(key), providerSettings[key].default);

  const settings: CfAccessConfig = {
    teamDomain,
    issuer: teamDomain,
    certsUrl: `${teamDomain}/cdn-cgi/access/certs`,
    identityUrl: `${teamDomain}/cdn-cgi/access/get-identity`,
    audiences,
    serviceTokens,
    jwtHeaderName: name('jwtHeaderName', 'header').toLowerCase(),
    authorizationCookieName: name('authorizationCookieName', 'cookie'),
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
      enabled: flag('identity.enabled'),
      timeoutMs: bounded('identity.timeoutMs'),
      cacheTtlMs: bounded('identity.cacheTtlSeconds') * 1000,
      maxBodyBytes: bounded('identity.maxBodyBytes'),
    },
    verifiedTokenCache: {
      maxEntries: bounded('verifiedTokenCache.maxEntries'),
    },
    managedOAuth: flag('managedOAuth'),
    loopbackOptInInEffect,
  };
  return problems.length === 0
    ? { config: settings, problems: [] }
    : { problems };
}
