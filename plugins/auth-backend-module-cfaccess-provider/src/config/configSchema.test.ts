/*
 * The package's config schema (config.d.ts) as Backstage loads it: nothing of the provider reaches the
 * frontend, and service tokens are secrets, so `backstage-cli config:print` and the frontend config leave
 * them out.
 */
import { resolve } from 'node:path';
import { loadConfigSchema } from '@backstage/config-loader';

const PACKAGE_JSON = resolve(__dirname, '..', '..', 'package.json');

// What the schemas of Backstage's own packages require besides.
const baseConfig = {
  app: { baseUrl: 'https://backstage.example.com' },
  backend: {
    baseUrl: 'https://backstage.example.com',
    listen: { port: 7007 },
    database: { client: 'better-sqlite3', connection: ':memory:' },
  },
};

const appConfig = {
  ...baseConfig,
  auth: {
    providers: {
      cfaccess: {
        teamName: 'myteam',
        audience: 'aud-tag',
        serviceTokens: [
          { token: 'ci-bot.access', subject: 'user:default/ci-bot' },
        ],
        jwks: { timeoutMs: '5000' },
        signIn: {
          resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }],
        },
      },
    },
  },
};

describe('config schema', () => {
  const schemaPromise = loadConfigSchema({
    dependencies: [],
    packagePaths: [PACKAGE_JSON],
  });

  it('accepts the documented config, numbers given as strings included', async () => {
    const schema = await schemaPromise;
    expect(() =>
      schema.process([{ context: 'test', data: appConfig }]),
    ).not.toThrow();
  });

  it('gives the frontend nothing of the provider', async () => {
    const schema = await schemaPromise;
    const [frontend] = schema.process([{ context: 'test', data: appConfig }], {
      visibility: ['frontend'],
    });
    expect(frontend.data).not.toHaveProperty('auth');
    expect(frontend.data).toHaveProperty('app.baseUrl');
  });

  it('treats the service tokens as secrets, and the rest as backend config', async () => {
    const schema = await schemaPromise;
    const [secrets] = schema.process([{ context: 'test', data: appConfig }], {
      visibility: ['secret'],
    });
    expect(secrets.data.auth).toEqual({
      providers: {
        cfaccess: {
          serviceTokens: [
            { token: 'ci-bot.access', subject: 'user:default/ci-bot' },
          ],
        },
      },
    });
  });

  it('refuses a config without an AUD tag', async () => {
    const schema = await schemaPromise;
    const { audience, ...withoutAudience } = appConfig.auth.providers.cfaccess;
    expect(audience).toBeDefined();
    expect(() =>
      schema.process([
        {
          context: 'test',
          data: {
            ...baseConfig,
            auth: { providers: { cfaccess: withoutAudience } },
          },
        },
      ]),
    ).toThrow(/audience/);
  });
});
