import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigReader } from '@backstage/config';
import { ConfigSources } from '@backstage/config-loader';
import { mockServices } from '@backstage/backend-test-utils';
import {
  checkCloudflareAccessConfig,
  type CheckCloudflareAccessConfigOptions,
  inspectCloudflareAccessConfig,
} from './checkConfig';
import * as readConfig from './readConfig';
import { CfAccessConfigError } from './readConfig';

// The reader as it is, except where a test stands in for its result.
jest.mock('./readConfig', () => {
  const actual = jest.requireActual('./readConfig');
  return {
    ...actual,
    inspectCfAccessConfig: jest.fn(actual.inspectCfAccessConfig),
  };
});

const BASE = 'app:\n  title: t\n';
const PRODUCTION = `auth:
  environment: production
  providers:
    cfaccess:
      teamDomain: \${CF_ACCESS_TEAM_DOMAIN}
      audience: \${CF_ACCESS_AUD}
`;

describe('checkCloudflareAccessConfig', () => {
  let dir: string;
  let argv: string[];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfaccess-check-'));
    fs.writeFileSync(path.join(dir, 'base.yaml'), BASE);
    fs.writeFileSync(path.join(dir, 'production.yaml'), PRODUCTION);
    argv = [
      'node',
      'backend',
      '--config',
      path.join(dir, 'base.yaml'),
      '--config',
      path.join(dir, 'production.yaml'),
    ];
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /**
   * The startup check on the root config as the backend loads it from these
   * files with this environment: throws its first problem.
   */
  async function check(env: Record<string, string>) {
    const config = await ConfigSources.toConfig(
      ConfigSources.default({
        argv,
        env,
        substitutionFunc: async name => env[name],
      }),
    );
    try {
      const report = await inspectCloudflareAccessConfig({ config, argv, env });
      if (report.problems.length > 0) {
        throw report.problems[0];
      }
    } finally {
      config.close();
    }
  }

  it('passes the production stack with every variable set', async () => {
    await expect(
      check({
        CF_ACCESS_TEAM_DOMAIN: 'myteam.cloudflareaccess.com',
        CF_ACCESS_AUD: 'aud',
      }),
    ).resolves.toBeUndefined();
  });

  it('names the key, the file and the variable when a variable is not set', async () => {
    const error = await check({ CF_ACCESS_AUD: 'aud' }).catch(e => e);
    expect(error).toBeInstanceOf(CfAccessConfigError);
    expect(error.message).toBe(
      `auth.providers.cfaccess.teamDomain or auth.providers.cfaccess.teamName is required: the Zero Trust team domain, <team>.cloudflareaccess.com; auth.providers.cfaccess.teamDomain comes from the environment variable substitution \${CF_ACCESS_TEAM_DOMAIN} in ${path.join(
        dir,
        'production.yaml',
      )}, and the environment variable CF_ACCESS_TEAM_DOMAIN is not set`,
    );
  });

  it('tells an unset variable from an empty one', async () => {
    await expect(
      check({ CF_ACCESS_TEAM_DOMAIN: 'myteam.cloudflareaccess.com' }),
    ).rejects.toThrow(
      /^auth.providers.cfaccess.audience is required: .*; auth.providers.cfaccess.audience comes from the environment variable substitution \$\{CF_ACCESS_AUD\} in .*production.yaml, and the environment variable CF_ACCESS_AUD is not set$/,
    );
    await expect(
      check({
        CF_ACCESS_TEAM_DOMAIN: 'myteam.cloudflareaccess.com',
        CF_ACCESS_AUD: '',
      }),
    ).rejects.toThrow(
      /^auth.providers.cfaccess.audience must be a non-empty AUD tag, got ""; .* and the environment variable CF_ACCESS_AUD is empty$/,
    );
  });

  it('refuses the development team domain a base file lends when the production variable is unset', async () => {
    // A development value in the base file: production's unset variable must not reveal it.
    fs.writeFileSync(
      path.join(dir, 'base.yaml'),
      'auth:\n  providers:\n    cfaccess:\n      teamDomain: http://localhost:7000\n',
    );
    await expect(check({ CF_ACCESS_AUD: 'aud' })).rejects.toThrow(
      'auth.providers.cfaccess.teamDomain must be https outside development, got http://localhost:7000 (auth.environment is "production")',
    );
  });

  it('refuses an http or loopback team domain in production, and both teamName and teamDomain', async () => {
    await expect(
      check({
        CF_ACCESS_TEAM_DOMAIN: 'http://localhost:7000',
        CF_ACCESS_AUD: 'aud',
      }),
    ).rejects.toThrow(
      /^auth.providers.cfaccess.teamDomain must be https outside development, got http:\/\/localhost:7000 \(auth.environment is "production"\)/,
    );
    await expect(
      check({
        CF_ACCESS_TEAM_DOMAIN: 'https://127.0.0.1:7443',
        CF_ACCESS_AUD: 'aud',
      }),
    ).rejects.toThrow(
      /^auth.providers.cfaccess.teamDomain must not be a loopback host outside development/,
    );
    await expect(
      check({
        CF_ACCESS_TEAM_DOMAIN: 'myteam.cloudflareaccess.com',
        CF_ACCESS_AUD: 'aud',
        APP_CONFIG_auth_providers_cfaccess_teamName: 'myteam',
      }),
    ).rejects.toThrow(
      'auth.providers.cfaccess.teamName and auth.providers.cfaccess.teamDomain are mutually exclusive; set exactly one',
    );
  });

  it('allows a loopback team domain in production with the opt-in, and warns', async () => {
    const logger = mockServices.logger.mock();
    await checkCloudflareAccessConfig({
      config: new ConfigReader({
        auth: {
          environment: 'production',
          providers: {
            cfaccess: {
              teamDomain: 'https://localhost:7443',
              audience: 'aud',
              dangerouslyAllowLoopbackTeamDomain: true,
            },
          },
        },
      }),
      logger,
    });
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringMatching(
        /^auth.providers.cfaccess.dangerouslyAllowLoopbackTeamDomain is on \(auth.environment is "production"\): whatever listens on https:\/\/localhost:7443 is trusted as Cloudflare Access/,
      ),
    );
  });

  it('allows the local emulator in development without a warning', async () => {
    const logger = mockServices.logger.mock();
    await checkCloudflareAccessConfig({
      config: new ConfigReader({
        auth: {
          environment: 'development',
          providers: {
            cfaccess: { teamDomain: 'http://localhost:7000', audience: 'aud' },
          },
        },
      }),
      logger,
    });
    expect(logger.warn).not.toHaveBeenCalled();
  });

  describe("Managed OAuth and Backstage's own OAuth", () => {
    const withOAuth = (managedOAuth: boolean | undefined, own: object) =>
      new ConfigReader({
        auth: {
          environment: 'development',
          ...own,
          providers: {
            cfaccess: {
              teamDomain: 'http://localhost:7000',
              audience: 'aud',
              ...(managedOAuth === undefined ? {} : { managedOAuth }),
            },
          },
        },
      });

    it.each([
      [
        { clientIdMetadataDocuments: { enabled: true } },
        'auth.clientIdMetadataDocuments.enabled',
      ],
      [
        { experimentalDynamicClientRegistration: { enabled: true } },
        'auth.experimentalDynamicClientRegistration.enabled',
      ],
      [
        { experimentalClientIdMetadataDocuments: { enabled: true } },
        'auth.experimentalClientIdMetadataDocuments.enabled',
      ],
    ])(
      'warns when Managed OAuth is expected and %j is on',
      async (own, key) => {
        const logger = mockServices.logger.mock();
        await checkCloudflareAccessConfig({
          config: withOAuth(true, own),
          logger,
        });
        expect(logger.warn).toHaveBeenCalledTimes(1);
        expect(logger.warn).toHaveBeenCalledWith(
          `auth.providers.cfaccess.managedOAuth says Cloudflare Access signs agents in (Managed OAuth), but Backstage's own OAuth is on too (${key}): Backstage then publishes OAuth metadata that sends MCP clients to its own auth backend, which Cloudflare advises against. Turn it off and let Access do the OAuth.`,
        );
      },
    );

    it('names every setting that is on', async () => {
      const report = await inspectCloudflareAccessConfig({
        config: withOAuth(true, {
          clientIdMetadataDocuments: { enabled: true },
          experimentalDynamicClientRegistration: { enabled: true },
        }),
        env: {},
        argv: [],
      });
      expect(report.warnings).toEqual([
        expect.stringContaining(
          '(auth.experimentalDynamicClientRegistration.enabled, auth.clientIdMetadataDocuments.enabled): Backstage then publishes OAuth metadata that sends MCP clients to its own auth backend, which Cloudflare advises against. Turn them off',
        ),
      ]);
    });

    it.each([
      [
        'Managed OAuth is not expected',
        undefined,
        { clientIdMetadataDocuments: { enabled: true } },
      ],
      [
        'Managed OAuth is off',
        false,
        { experimentalDynamicClientRegistration: { enabled: true } },
      ],
      [
        "Backstage's own OAuth is off",
        true,
        { clientIdMetadataDocuments: { enabled: false } },
      ],
      [
        // The auth backend reads the experimental key only when the current one is absent.
        'the current Client ID Metadata Documents key turns the experimental one off',
        true,
        {
          clientIdMetadataDocuments: { enabled: false },
          experimentalClientIdMetadataDocuments: { enabled: true },
        },
      ],
    ])('is quiet when %s', async (_, managedOAuth, own) => {
      const logger = mockServices.logger.mock();
      await checkCloudflareAccessConfig({
        config: withOAuth(managedOAuth, own),
        logger,
      });
      expect(logger.warn).not.toHaveBeenCalled();
    });

    it('refuses a managedOAuth that is not a boolean', async () => {
      await expect(
        checkCloudflareAccessConfig({
          config: withOAuth('yes' as unknown as boolean, {}),
        }),
      ).rejects.toThrow(/auth.providers.cfaccess.managedOAuth/);
    });
  });

  it('fails when the provider is installed but not configured, saying what was read', async () => {
    fs.writeFileSync(path.join(dir, 'production.yaml'), 'auth: {}\n');
    await expect(check({})).rejects.toThrow(
      `auth.providers.cfaccess is required: the Cloudflare Access provider is installed but not configured; neither a config file nor an APP_CONFIG_ variable sets auth.providers.cfaccess (files read: ${path.join(
        dir,
        'base.yaml',
      )}, ${path.join(dir, 'production.yaml')})`,
    );
  });

  it('uses the provider id', async () => {
    const report = await inspectCloudflareAccessConfig({
      config: new ConfigReader({
        auth: { providers: { cloudflare: { teamName: 't' } } },
      }),
      providerId: 'cloudflare',
      argv,
      env: {},
    });
    expect(report.problems[0].message).toMatch(
      /^auth.providers.cloudflare.audience is required: .*; neither a config file nor an APP_CONFIG_ variable sets auth.providers.cloudflare.audience/,
    );
    await expect(
      checkCloudflareAccessConfig({
        config: new ConfigReader({
          auth: { providers: { cloudflare: { teamName: 't' } } },
        }),
        providerId: 'cloudflare',
      }),
    ).rejects.toThrow(/^auth.providers.cloudflare.audience is required: /);
  });

  it("warns from the reader's decision about the loopback opt-in, not from the URL", async () => {
    const inspect = jest.mocked(readConfig.inspectCfAccessConfig);
    const settings = readConfig.readCfAccessConfig(
      new ConfigReader({
        teamDomain: 'https://localhost:7443',
        audience: 'aud',
        dangerouslyAllowLoopbackTeamDomain: true,
      }),
    );
    const config = new ConfigReader({
      auth: { providers: { cfaccess: { teamName: 't', audience: 'aud' } } },
    });

    const logger = mockServices.logger.mock();
    inspect.mockReturnValueOnce({
      config: {
        ...settings,
        teamDomain: 'https://myteam.cloudflareaccess.com',
        loopbackOptInInEffect: true,
      },
      problems: [],
    });
    await checkCloudflareAccessConfig({ config, logger });
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringMatching(
        /^auth.providers.cfaccess.dangerouslyAllowLoopbackTeamDomain is on/,
      ),
    );

    const quiet = mockServices.logger.mock();
    inspect.mockReturnValueOnce({
      config: { ...settings, loopbackOptInInEffect: false },
      problems: [],
    });
    await checkCloudflareAccessConfig({ config, logger: quiet });
    expect(quiet.warn).not.toHaveBeenCalled();
  });

  it('takes no test-only options', () => {
    const options: CheckCloudflareAccessConfigOptions = {
      config: new ConfigReader({}),
      // @ts-expect-error where a missing value is looked up is internal (inspectCloudflareAccessConfig)
      argv: [],
    };
    expect(options.config).toBeDefined();
  });
});
