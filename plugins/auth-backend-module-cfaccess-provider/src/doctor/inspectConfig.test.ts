import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RootHttpRouterConfigureContext } from '@backstage/backend-defaults/rootHttpRouter';
import { mockServices } from '@backstage/backend-test-utils';
import { withCloudflareAccessBoundary } from '../boundary/withCloudflareAccessBoundary';
import { findConfigValueOrigin } from '../config/configOrigin';
import { DEFAULT_PROVIDER_ID } from '../config/providerId';
import { providerSettings } from '../config/settings';
import { exitCodes } from './exitCodes';
import { inspectConfig, originOf } from './inspectConfig';
import { loadConfigStack } from './loadConfigStack';
import { runDoctor } from './runDoctor';
import { UsageError } from './usageError';

let dir: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cfaccess-doctor-config-'));
});

afterEach(() => fs.rm(dir, { recursive: true, force: true }));

async function load(
  files: Record<string, string>,
  env: Record<string, string | undefined> = {},
) {
  for (const [name, yaml] of Object.entries(files)) {
    await fs.writeFile(path.join(dir, name), yaml);
  }
  return loadConfigStack({
    configPaths: Object.keys(files),
    env,
    cwd: dir,
  });
}

async function inspect(
  files: Record<string, string>,
  env: Record<string, string | undefined> = {},
  providerId = DEFAULT_PROVIDER_ID,
) {
  return inspectConfig(await load(files, env), providerId);
}

const base = `app:
  baseUrl: https://backstage.example.com
auth:
  providers:
    cfaccess:
      teamName: myteam
      audience: \${CF_ACCESS_AUD}
      jwks:
        timeoutMs: 2000
      signIn:
        resolvers:
          - resolver: emailMatchingUserEntityProfileEmail
`;

describe('inspecting a production config stack', () => {
  it('shows each effective value and the file it came from', async () => {
    const result = await inspect(
      {
        'app-config.yaml': base,
        'app-config.production.yaml':
          'auth:\n  providers:\n    cfaccess:\n      audience: [aud-production]\n',
      },
      { CF_ACCESS_AUD: 'aud-base' },
    );
    expect(result.problems).toEqual([]);
    expect(result.mode).toMatchObject({
      development: false,
      reason: 'auth.environment is not set',
    });
    const row = (key: string) =>
      result.settings.find(s => s.key === `auth.providers.cfaccess.${key}`);
    expect(row('audience')).toEqual({
      key: 'auth.providers.cfaccess.audience',
      value: ['aud-production'],
      source: 'app-config.production.yaml',
    });
    expect(row('teamName')).toMatchObject({
      value: 'myteam',
      source: 'app-config.yaml',
    });
    expect(row('jwks.timeoutMs')).toMatchObject({
      value: 2000,
      source: 'app-config.yaml',
    });
    expect(row('clockToleranceSeconds')).toMatchObject({
      value: 60,
      source: 'default',
    });
    expect(result.config?.teamDomain).toBe(
      'https://myteam.cloudflareaccess.com',
    );
  });

  it('refuses teamName and teamDomain together, in the startup words', async () => {
    const result = await inspect(
      {
        'app-config.yaml': base,
        'app-config.production.yaml':
          'auth:\n  providers:\n    cfaccess:\n      teamDomain: https://myteam.cloudflareaccess.com\n',
      },
      { CF_ACCESS_AUD: 'aud' },
    );
    expect(result.problems).toEqual([
      'auth.providers.cfaccess.teamName and auth.providers.cfaccess.teamDomain are mutually exclusive; set exactly one',
    ]);
    expect(result.config).toBeUndefined();
  });

  it('refuses an http team domain and a loopback one in production', async () => {
    const http = await inspect({
      'app-config.yaml':
        'auth:\n  providers:\n    cfaccess:\n      teamDomain: http://localhost:7000\n      audience: aud\n',
    });
    expect(http.problems).toEqual([
      expect.stringMatching(
        /^auth\.providers\.cfaccess\.teamDomain must be https outside development, got http:\/\/localhost:7000 \(auth\.environment is not set\)/,
      ),
      // Startup requires the resolver list too.
      'auth.providers.cfaccess.signIn.resolvers is required: list the sign-in resolvers, e.g. [{ resolver: emailMatchingUserEntityProfileEmail }]',
    ]);
    const loopback = await inspect({
      'app-config.yaml':
        'auth:\n  providers:\n    cfaccess:\n      teamDomain: https://127.0.0.1:7443\n      audience: aud\n',
    });
    expect(loopback.problems[0]).toMatch(
      /^auth\.providers\.cfaccess\.teamDomain must not be a loopback host outside development/,
    );
  });

  it('names the variable that substituted to nothing, and the file', async () => {
    const unset = await inspect({ 'app-config.yaml': base });
    expect(unset.problems).toEqual([
      'auth.providers.cfaccess.audience is required: the Application Audience (AUD) tag of the Access application in front of Backstage (a string or a list of strings); auth.providers.cfaccess.audience comes from the environment variable substitution ${CF_ACCESS_AUD} in app-config.yaml, and the environment variable CF_ACCESS_AUD is not set',
    ]);
    const empty = await inspect(
      { 'app-config.yaml': base },
      { CF_ACCESS_AUD: ' ' },
    );
    expect(empty.problems[0]).toMatch(
      /and the environment variable CF_ACCESS_AUD is empty$/,
    );
  });

  it('says when no file sets the audience at all', async () => {
    const result = await inspect({
      'app-config.yaml':
        'auth:\n  providers:\n    cfaccess:\n      teamName: myteam\n',
    });
    expect(result.problems).toEqual([
      expect.stringMatching(
        /audience is required: .*; neither a config file nor an APP_CONFIG_ variable sets auth\.providers\.cfaccess\.audience \(files read: app-config\.yaml\)$/,
      ),
      expect.stringMatching(/signIn\.resolvers is required/),
    ]);
  });

  it('reports every problem at once, not only the first', async () => {
    const result = await inspect({
      'app-config.yaml': `auth:
  providers:
    cfaccess:
      teamDomain: http://backstage.internal
      clockToleranceSeconds: 900
      audiences: aud
      serviceTokens:
        - token: ''
          subject: user:default/ci
        - token: b.access
          subject: not a subject
      signIn:
        resolvers:
          - resolver: noSuchResolver
`,
    });
    expect(result.problems).toEqual([
      'auth.providers.cfaccess.teamDomain must be https unless the host is loopback, got http://backstage.internal',
      expect.stringMatching(/^auth\.providers\.cfaccess\.audience is required/),
      'auth.providers.cfaccess.serviceTokens[0].token must be the service token Client ID (it ends in .access)',
      'auth.providers.cfaccess.serviceTokens[1].subject must be an email or a User entity ref such as user:default/ci-bot, got "not a subject"',
      'auth.providers.cfaccess.clockToleranceSeconds must be between 0 and 300, got 900',
      expect.stringMatching(
        /^auth\.providers\.cfaccess\.signIn\.resolvers\[0\]\.resolver must name a sign-in resolver \(.*emailMatchingUserEntityProfileEmail.*\), got "noSuchResolver"$/,
      ),
    ]);
    expect(result.warnings).toEqual([
      'auth.providers.cfaccess.audiences is not a setting of the Cloudflare Access provider and is ignored (set in app-config.yaml)',
    ]);
  });

  it('lists every setting of the module, each default as the module applies it', async () => {
    const result = await inspect(
      { 'app-config.yaml': base },
      { CF_ACCESS_AUD: 'aud' },
    );
    expect(result.settings.map(s => s.key)).toEqual([
      'auth.environment',
      ...Object.keys(providerSettings).map(k => `auth.providers.cfaccess.${k}`),
    ]);
    const defaults = result.settings.filter(s => s.source === 'default');
    expect(Object.fromEntries(defaults.map(s => [s.key, s.value]))).toEqual(
      Object.fromEntries(
        Object.entries(providerSettings)
          .filter(
            ([key, setting]) =>
              'default' in setting && key !== 'jwks.timeoutMs',
          )
          .map(([key, setting]) => [
            `auth.providers.cfaccess.${key}`,
            (setting as { default: unknown }).default,
          ]),
      ),
    );
  });

  it('names the origin of a key inside a list as the startup error does', async () => {
    const files = {
      'app-config.yaml': base,
      'app-config.production.yaml': `auth:
  providers:
    cfaccess:
      serviceTokens:
        - token: 0123456789abcdef0123456789abcdef.access
          subject: user:default/ci-bot
`,
    };
    for (const [name, yaml] of Object.entries(files)) {
      await fs.writeFile(path.join(dir, name), yaml);
    }
    const stack = await loadConfigStack({
      configPaths: Object.keys(files),
      env: { CF_ACCESS_AUD: 'aud' },
      cwd: dir,
    });
    const key = 'auth.providers.cfaccess.serviceTokens[0].token';
    const startup = await findConfigValueOrigin(key, {
      argv: stack.argv,
      env: stack.env,
      rootDir: stack.cwd,
    });
    expect(startup?.source).toBe('app-config.production.yaml');
    expect(originOf(stack, key)).toBe(startup?.source);
    expect(
      originOf(stack, 'auth.providers.cfaccess.serviceTokens[1].token'),
    ).toBeUndefined();
  });

  it('shows service token Client IDs shortened', async () => {
    const result = await inspect({
      'app-config.yaml': `auth:
  providers:
    cfaccess:
      teamName: myteam
      audience: aud
      serviceTokens:
        - token: 0123456789abcdef0123456789abcdef.access
          subject: user:default/ci-bot
`,
    });
    const row = result.settings.find(s => s.key.endsWith('serviceTokens'));
    expect(row?.value).toEqual([
      { token: '012345….access', subject: 'user:default/ci-bot' },
    ]);
    expect(JSON.stringify(result.settings)).not.toContain('0123456789abcdef');
  });
});

describe('the warnings startup logs for the sign-in resolvers', () => {
  it('reports a group name mapped without idp, and not one scoped to its identity provider', async () => {
    const groups = (entry: string) => `auth:
  providers:
    cfaccess:
      teamName: myteam
      audience: aud
      signIn:
        resolvers:
          - resolver: signInWithCatalogUserAndAccessGroups
            accessGroups:
              - ${entry}
`;
    const unscoped = await inspect({
      'app-config.yaml': groups(
        '{ name: admins, entityRef: group:default/admins }',
      ),
    });
    expect(unscoped.problems).toEqual([]);
    expect(unscoped.warnings).toEqual([
      expect.stringMatching(
        /accessGroups\[0\] maps the Access group "admins" without idp/,
      ),
    ]);
    const scoped = await inspect({
      'app-config.yaml': groups(
        '{ name: admins, idp: { type: oidc }, entityRef: group:default/admins }',
      ),
    });
    expect(scoped.warnings).toEqual([]);
  });
});

describe('runDoctor on a config with problems', () => {
  it('exits 1 and skips the online checks', async () => {
    await fs.writeFile(
      path.join(dir, 'app-config.yaml'),
      'auth:\n  providers:\n    cfaccess:\n      teamName: a\n      teamDomain: https://a.cloudflareaccess.com\n      audience: x\n',
    );
    const report = await runDoctor({
      configPaths: ['app-config.yaml'],
      cwd: dir,
      env: {},
    });
    expect(report.exitCode).toBe(exitCodes.problems);
    expect(report.teamDomain).toEqual({
      skipped: 'the config has problems; fix them first',
    });
  });

  it('is a usage error when a config file cannot be read', async () => {
    await expect(
      loadConfigStack({ configPaths: ['missing.yaml'], cwd: dir, env: {} }),
    ).rejects.toThrow(UsageError);
  });

  it('quotes no credentials from a line the YAML parser refuses', async () => {
    await fs.writeFile(
      path.join(dir, 'broken.yaml'),
      'auth:\n  providers:\n    cfaccess:\n      teamDomain: https://admin:S3/cr3t@team.example.com: [\n',
    );
    const error = await loadConfigStack({
      configPaths: ['broken.yaml'],
      cwd: dir,
      env: {},
    }).catch(e => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(/^cannot load the config: /);
    expect(error.message).not.toContain('S3');
  });
});

describe('the Access boundary settings', () => {
  const valid = `auth:
  providers:
    cfaccess:
      teamName: myteam
      audience: aud
      signIn:
        resolvers:
          - resolver: emailMatchingUserEntityProfileEmail
`;
  const withBoundary = (lines: string) =>
    `auth:\n  providers:\n    cfaccess:\n      boundary:\n${lines
      .split('\n')
      .map(line => `        ${line}`)
      .join('\n')}\n`;

  /**
   * What withCloudflareAccessBoundary() does with this config at startup:
   * the error it stops with, or the warnings it logs.
   */
  async function startup(files: Record<string, string>) {
    const stack = await load(files);
    const logger = mockServices.logger.mock();
    const context = {
      config: stack.config,
      logger,
      applyDefaults: jest.fn(),
    } as unknown as RootHttpRouterConfigureContext;
    try {
      withCloudflareAccessBoundary()(context);
    } catch (error) {
      return { error: (error as Error).message, warnings: [] };
    }
    return {
      error: undefined,
      warnings: logger.warn.mock.calls.map(([message]) => message),
    };
  }

  it('reads the defaults when nothing is set: enforce, nothing exempt', async () => {
    const result = await inspect({ 'app-config.yaml': valid });
    expect(result.problems).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.boundary).toEqual({
      mode: 'enforce',
      modeSource: 'default',
      exemptPaths: 0,
      externalAccessWithoutAccess: [],
      rules: [],
    });
  });

  it('reads each setting from the file that sets it', async () => {
    const result = await inspect({
      'app-config.yaml': valid,
      'app-config.production.yaml': withBoundary(
        'mode: report\nexemptPaths: [/api/events/http/*, /api/webhook]',
      ),
    });
    expect(result.problems).toEqual([]);
    expect(result.boundary).toEqual({
      mode: 'report',
      modeSource: 'app-config.production.yaml',
      exemptPaths: 2,
      externalAccessWithoutAccess: [],
      rules: [],
    });
    expect(
      result.settings.find(
        s => s.key === 'auth.providers.cfaccess.boundary.exemptPaths',
      ),
    ).toEqual({
      key: 'auth.providers.cfaccess.boundary.exemptPaths',
      value: ['/api/events/http/*', '/api/webhook'],
      source: 'app-config.production.yaml',
    });
  });

  it.each([
    ['mode: block', /^auth\.providers\.cfaccess\.boundary\.mode /],
    [
      'exemptPaths: [/api/ok, api/events/*]',
      /^auth\.providers\.cfaccess\.boundary\.exemptPaths\[1\] must start with \/, got "api\/events\/\*"$/,
    ],
    [
      'exemptPaths: [/api/events/%2e%2e/*]',
      /^auth\.providers\.cfaccess\.boundary\.exemptPaths\[0\] must be a plain path/,
    ],
    [
      'exemptPaths: /api/events/*',
      /^auth\.providers\.cfaccess\.boundary\.exemptPaths /,
    ],
    [
      'dangerouslyAllowExternalAccessWithoutAccess: [" "]',
      /^auth\.providers\.cfaccess\.boundary\.dangerouslyAllowExternalAccessWithoutAccess\[0\] /,
    ],
    [
      'exempt: [/api/events/*]',
      /^auth\.providers\.cfaccess\.boundary\.exempt is not a boundary setting/,
    ],
  ])(
    'reports %s as a problem naming the key, in the words startup stops with',
    async (lines, message) => {
      const files = {
        'app-config.yaml': valid,
        'app-config.production.yaml': withBoundary(lines),
      };
      const result = await inspect(files);
      expect(result.problems).toEqual([expect.stringMatching(message)]);
      // Not "ignored": a backend with the boundary does not start.
      expect(result.warnings).toEqual([]);
      expect(result.boundary).toBeUndefined();
      expect(result.config).toBeUndefined();
      expect((await startup(files)).error).toBe(result.problems[0]);
    },
  );

  it('warns as startup does when the boundary is off', async () => {
    const files = {
      'app-config.yaml': valid,
      'app-config.production.yaml': withBoundary('mode: off'),
    };
    const result = await inspect(files);
    expect(result.problems).toEqual([]);
    expect(result.boundary?.mode).toBe('off');
    expect(result.warnings).toEqual((await startup(files)).warnings);
    expect(result.warnings).toEqual([
      expect.stringMatching(/^Cloudflare Access boundary is off /),
    ]);
  });

  it('warns about external access callers let in without Access', async () => {
    const result = await inspect({
      'app-config.yaml': valid,
      'app-config.production.yaml': withBoundary(
        'dangerouslyAllowExternalAccessWithoutAccess: [ci-bot]',
      ),
    });
    expect(result.problems).toEqual([]);
    expect(result.boundary?.externalAccessWithoutAccess).toEqual(['ci-bot']);
    expect(result.warnings).toEqual([
      'auth.providers.cfaccess.boundary.dangerouslyAllowExternalAccessWithoutAccess lets the backend.auth.externalAccess subject "ci-bot" call without Cloudflare Access: its token works from anywhere that reaches the backend',
    ]);
  });

  it('lists the rules, and warns about a posture age shorter than the WARP client reports', async () => {
    const result = await inspect({
      'app-config.yaml': valid,
      'app-config.production.yaml': withBoundary(
        [
          'rules:',
          '  - name: Run templates',
          '    match: [POST /api/scaffolder/v2/tasks, /api/scaffolder/v2/actions/*]',
          '    require:',
          '      peopleOnly: true',
          '      warp: true',
          '      devicePosture:',
          '        - { rule: disk-id, name: Disk encryption, maxAge: 10m }',
          '        - { rule: fw-id, maxAge: 90s }',
          '  - match: GET /api/search/*',
          '    require: { countries: [de] }',
        ].join('\n'),
      ),
    });
    expect(result.problems).toEqual([]);
    expect(result.boundary?.rules).toEqual([
      'Run templates: POST /api/scaffolder/v2/tasks, /api/scaffolder/v2/actions/* needs a person, WARP, posture Disk encryption within 10 min, posture fw-id within 90 s (get-identity at most 1 min old)',
      'rules[1]: GET /api/search/* needs country DE',
    ]);
    expect(result.warnings).toEqual([
      'boundary rule "Run templates": posture fw-id must have passed within 90 s, but the WARP client reports posture every 5 min by default: most requests will be refused with posture_stale unless the check runs more often',
    ]);
  });

  it('says whom a rule applies to', async () => {
    const result = await inspect({
      'app-config.yaml': valid,
      'app-config.production.yaml': withBoundary(
        [
          'rules:',
          '  - name: Agents',
          '    match: POST /api/mcp-actions/*',
          '    appliesTo: people',
          '    require: { warp: true }',
          '  - match: POST /api/ci/*',
          '    appliesTo: serviceTokens',
          '    require: { countries: [de] }',
        ].join('\n'),
      ),
    });
    expect(result.problems).toEqual([]);
    expect(result.boundary?.rules).toEqual([
      'Agents: POST /api/mcp-actions/* (people only) needs WARP (get-identity at most 1 min old)',
      'rules[1]: POST /api/ci/* (service tokens only) needs country DE',
    ]);
  });

  it("warns when Managed OAuth is expected and Backstage's own OAuth is on", async () => {
    const result = await inspect({
      'app-config.yaml': valid,
      'app-config.production.yaml': [
        'auth:',
        '  clientIdMetadataDocuments:',
        '    enabled: true',
        '  providers:',
        '    cfaccess:',
        '      managedOAuth: true',
      ].join('\n'),
    });
    expect(result.problems).toEqual([]);
    expect(result.warnings).toEqual([
      expect.stringMatching(
        /^auth.providers.cfaccess.managedOAuth says Cloudflare Access signs agents in \(Managed OAuth\), but Backstage's own OAuth is on too \(auth.clientIdMetadataDocuments.enabled\)/,
      ),
    ]);
  });

  it('reports a rule that cannot be met as a problem naming the key', async () => {
    const result = await inspect({
      'app-config.yaml': valid,
      'app-config.production.yaml': withBoundary(
        'rules:\n  - { match: POST /api/x, require: { accessApplication: other-aud } }',
      ),
    });
    expect(result.problems).toEqual([
      "auth.providers.cfaccess.boundary.rules[0].require.accessApplication must also be in the provider's audience list, or its tokens are never accepted",
    ]);
  });

  it("is read under the module's own id only", async () => {
    const result = await inspect(
      {
        'app-config.yaml': `auth:
  providers:
    other:
      teamName: myteam
      audience: aud
      boundary:
        mode: report
      signIn:
        resolvers:
          - resolver: emailMatchingUserEntityProfileEmail
`,
      },
      {},
      'other',
    );
    expect(result.problems).toEqual([]);
    expect(result.boundary).toBeUndefined();
    expect(result.settings.map(s => s.key)).not.toContainEqual(
      expect.stringMatching(/\.boundary\./),
    );
    expect(result.warnings).toEqual([
      'auth.providers.other.boundary is not a setting of the Cloudflare Access provider and is ignored (set in app-config.yaml)',
    ]);
  });
});
