/*
 * The repository's config files as each mode loads them (README: "Deploying to production"), read by
 * Backstage's own loader and checked by the cfaccess module's startup check: production inherits nothing
 * from development, and every bad production input stops startup with a message naming the key.
 */
import { resolve } from 'node:path';
import { ConfigSources } from '@backstage/config-loader';
// The module's internal entry (not published): its startup check with the argv and environment given,
// which the public checkCloudflareAccessConfig takes from the process.
// eslint-disable-next-line @backstage/no-relative-monorepo-imports
import { inspectCloudflareAccessConfig } from '../../../plugins/auth-backend-module-cfaccess-provider/src/internal';

const repoRoot = resolve(__dirname, '../../..');
const file = (name: string) => resolve(repoRoot, name);
const PRODUCTION_ARGS = [
  '--config',
  file('app-config.yaml'),
  '--config',
  file('app-config.production.yaml'),
];

/** The environment the README tells an operator to set. */
const PRODUCTION_ENV = {
  APP_BASE_URL: 'https://backstage.example.com',
  POSTGRES_HOST: 'db.internal',
  POSTGRES_PORT: '5432',
  POSTGRES_USER: 'backstage',
  POSTGRES_PASSWORD: 'secret',
  REDIS_URL: 'redis://redis.internal:6379',
  CF_ACCESS_TEAM_DOMAIN: 'myteam.cloudflareaccess.com',
  CF_ACCESS_AUD: 'production-aud-tag',
};

/** Runs fn with BACKSTAGE_ENV set (or unset), which Backstage's loader reads from process.env. */
async function withBackstageEnv<T>(
  value: string | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const previous = process.env.BACKSTAGE_ENV;
  if (value === undefined) {
    delete process.env.BACKSTAGE_ENV;
  } else {
    process.env.BACKSTAGE_ENV = value;
  }
  try {
    return await fn();
  } finally {
    if (previous === undefined) {
      delete process.env.BACKSTAGE_ENV;
    } else {
      process.env.BACKSTAGE_ENV = previous;
    }
  }
}

/**
 * Loads a stack as the backend does (the same argv and environment), and runs the module's startup check
 * against it.
 */
async function load(
  args: string[],
  env: Record<string, string | undefined>,
  backstageEnv?: string,
) {
  const argv = ['node', 'packages/backend', ...args];
  return withBackstageEnv(backstageEnv, async () => {
    const config = await ConfigSources.toConfig(
      ConfigSources.default({
        argv,
        env,
        rootDir: repoRoot,
        substitutionFunc: async name => env[name],
      }),
    );
    config.close();
    const report = await inspectCloudflareAccessConfig({ config, argv, env });
    // What startup would stop on: the first problem.
    const error: Error | undefined = report.problems[0];
    return { config, error };
  });
}

describe('config layout', () => {
  it('keeps every development value out of app-config.yaml', async () => {
    const { config } = await load(['--config', file('app-config.yaml')], {});
    expect(config.getOptional('auth')).toBeUndefined();
    expect(config.getOptional('app.baseUrl')).toBeUndefined();
    expect(config.getOptional('backend.baseUrl')).toBeUndefined();
    expect(config.getOptional('backend.database')).toBeUndefined();
    expect(config.getOptional('catalog.locations')).toBeUndefined();
  });

  it('starts the documented production stack from the environment, inheriting nothing from development', async () => {
    const { config, error } = await load(PRODUCTION_ARGS, PRODUCTION_ENV);
    expect(error).toBeUndefined();
    expect(config.getString('auth.environment')).toBe('production');
    expect(config.get('auth.providers.cfaccess')).toEqual({
      teamDomain: 'myteam.cloudflareaccess.com',
      audience: 'production-aud-tag',
      boundary: { mode: 'enforce' },
    });
    expect(config.getString('backend.database.client')).toBe('pg');
    expect(config.getString('app.baseUrl')).toBe(
      'https://backstage.example.com',
    );
  });

  it('accepts service tokens from APP_CONFIG_auth_providers_cfaccess_serviceTokens', async () => {
    const { config, error } = await load(PRODUCTION_ARGS, {
      ...PRODUCTION_ENV,
      APP_CONFIG_auth_providers_cfaccess_serviceTokens: JSON.stringify([
        { token: 'abc.access', subject: 'user:default/ci-bot' },
      ]),
    });
    expect(error).toBeUndefined();
    expect(config.get('auth.providers.cfaccess.serviceTokens')).toEqual([
      { token: 'abc.access', subject: 'user:default/ci-bot' },
    ]);
  });

  it.each([
    ['CF_ACCESS_TEAM_DOMAIN', 'auth.providers.cfaccess.teamDomain'],
    ['CF_ACCESS_AUD', 'auth.providers.cfaccess.audience'],
  ])(
    'refuses to start when %s is not set, naming the key, the file and the variable',
    async (variable, key) => {
      const { error } = await load(PRODUCTION_ARGS, {
        ...PRODUCTION_ENV,
        [variable]: undefined,
      });
      expect(error?.message).toMatch(
        new RegExp(
          `; ${key} comes from the environment variable substitution \\$\\{${variable}\\} in \\S*app-config.production.yaml, and the environment variable ${variable} is not set$`,
        ),
      );
    },
  );

  it.each([
    ['http://localhost:7000', /must be https outside development/],
    [
      'http://myteam.cloudflareaccess.com',
      /must be https unless the host is loopback/,
    ],
    [
      'https://localhost:7443',
      /must not be a loopback host outside development/,
    ],
  ])(
    'refuses the team domain %s in production',
    async (teamDomain, message) => {
      const { error } = await load(PRODUCTION_ARGS, {
        ...PRODUCTION_ENV,
        CF_ACCESS_TEAM_DOMAIN: teamDomain,
      });
      expect(error?.message).toMatch(message);
    },
  );

  it('refuses teamName and teamDomain together in production', async () => {
    const { error } = await load(PRODUCTION_ARGS, {
      ...PRODUCTION_ENV,
      APP_CONFIG_auth_providers_cfaccess_teamName: 'myteam',
    });
    expect(error?.message).toBe(
      'auth.providers.cfaccess.teamName and auth.providers.cfaccess.teamDomain are mutually exclusive; set exactly one',
    );
  });

  it('keeps teamName working for operators who prefer it', async () => {
    const { error } = await load(PRODUCTION_ARGS, {
      ...PRODUCTION_ENV,
      CF_ACCESS_TEAM_DOMAIN: undefined,
      APP_CONFIG_auth_providers_cfaccess_teamName: 'myteam',
    });
    expect(error).toBeUndefined();
  });

  it('loads the emulator as the team domain in development (BACKSTAGE_ENV=development, no --config)', async () => {
    const { config, error } = await load([], {}, 'development');
    expect(error).toBeUndefined();
    expect(config.getString('auth.environment')).toBe('development');
    expect(config.getString('auth.providers.cfaccess.teamDomain')).toBe(
      'http://localhost:7000',
    );
  });
});
