import { ConfigReader } from '@backstage/config';
import { CfAccessConfigError } from '../config/readConfig';
import { boundaryConfigKey, readBoundaryConfig } from './boundaryConfig';
import type { AccessRule } from './rules/accessRule';

const withBoundary = (boundary: unknown) =>
  new ConfigReader({
    auth: {
      providers: {
        cfaccess: { teamName: 'testteam', audience: 'aud', boundary },
      },
    },
  } as any);

/** The error readBoundaryConfig throws for this boundary section. */
function failure(boundary: unknown): CfAccessConfigError {
  try {
    readBoundaryConfig(withBoundary(boundary));
  } catch (error) {
    expect(error).toBeInstanceOf(CfAccessConfigError);
    return error as CfAccessConfigError;
  }
  throw new Error(`${JSON.stringify(boundary)} was accepted`);
}

describe('readBoundaryConfig', () => {
  it('lives under auth.providers.cfaccess.boundary', () => {
    expect(boundaryConfigKey).toBe('auth.providers.cfaccess.boundary');
  });

  it('defaults to enforce, nothing exempt, no external caller without Access', () => {
    for (const config of [
      new ConfigReader({}),
      new ConfigReader({
        auth: { providers: { cfaccess: { audience: 'a' } } },
      }),
      withBoundary({}),
    ]) {
      const read = readBoundaryConfig(config);
      expect(read.mode).toBe('enforce');
      expect(read.exemptPaths.size).toBe(0);
      expect(read.exemptPaths.matches('/api/catalog/entities')).toBe(false);
      expect([...read.externalAccessWithoutAccess]).toEqual([]);
    }
  });

  it('reads every setting', () => {
    const read = readBoundaryConfig(
      withBoundary({
        mode: 'report',
        exemptPaths: ['/api/events/http/*', '/api/webhook'],
        dangerouslyAllowExternalAccessWithoutAccess: ['ci-robot', ' metrics '],
      }),
    );
    expect(read.mode).toBe('report');
    expect(read.exemptPaths.size).toBe(2);
    expect(read.exemptPaths.matches('/api/events/http/github')).toBe(true);
    expect(read.exemptPaths.matches('/api/webhook')).toBe(true);
    expect(read.exemptPaths.matches('/api/webhook/x')).toBe(false);
    expect([...read.externalAccessWithoutAccess]).toEqual([
      'ci-robot',
      'metrics',
    ]);
    expect(readBoundaryConfig(withBoundary({ mode: 'off' })).mode).toBe('off');
    expect(readBoundaryConfig(withBoundary({ mode: 'enforce' })).mode).toBe(
      'enforce',
    );
  });

  it.each([
    ['Enforce', "'Enforce'"],
    ['enforced', "'enforced'"],
    ['', "''"],
    [true, 'boolean'],
    [1, 'number'],
  ])(
    'refuses mode %j naming auth.providers.cfaccess.boundary.mode and the value',
    (mode, quoted) => {
      const error = failure({ mode });
      expect(error.message).toMatch(
        /^auth\.providers\.cfaccess\.boundary\.mode /,
      );
      expect(error.message).toContain("'enforce' | 'report' | 'off'");
      // What was written, as written: 'Enforce' must not read as 'enforce'.
      expect(error.message).toContain(quoted);
      expect(error.keys).toEqual(['boundary.mode']);
      expect(error.missing).toBe(false);
    },
  );

  it.each([
    [{ exemptPaths: '/api/webhook' }, 'exemptPaths'],
    [{ exemptPaths: [5] }, 'exemptPaths[0]'],
    [{ exemptPaths: ['/api/webhook', { path: '/x' }] }, 'exemptPaths[1]'],
    [
      { dangerouslyAllowExternalAccessWithoutAccess: 'ci' },
      'dangerouslyAllowExternalAccessWithoutAccess',
    ],
    [
      { dangerouslyAllowExternalAccessWithoutAccess: ['ci', ''] },
      'dangerouslyAllowExternalAccessWithoutAccess[1]',
    ],
    [
      { dangerouslyAllowExternalAccessWithoutAccess: ['   '] },
      'dangerouslyAllowExternalAccessWithoutAccess[0]',
    ],
    [
      { dangerouslyAllowExternalAccessWithoutAccess: [7] },
      'dangerouslyAllowExternalAccessWithoutAccess[0]',
    ],
  ])('refuses %j naming the full key', (boundary, key) => {
    const error = failure(boundary);
    expect(error.message).toMatch(
      new RegExp(
        `^auth\\.providers\\.cfaccess\\.boundary\\.${key.replace(
          /[[\]]/g,
          '\\$&',
        )} `,
      ),
    );
    expect(error.keys).toEqual([`boundary.${key}`]);
  });

  it.each([
    [['api/webhook'], 0, 'must start with /, got "api/webhook"'],
    [['/api/webhook', '/api/../catalog/*'], 1, 'must be a plain path'],
    [['/api/events/http/*', '/api/x/', '/ok'], 1, 'must be a plain path'],
    [['/*'], 0, 'must be a plain path'],
    [['/api/%2e%2e/catalog'], 0, 'must be a plain path'],
  ])('refuses exemptPaths %j naming the entry', (exemptPaths, index, why) => {
    const error = failure({ exemptPaths });
    expect(error.message).toContain(
      `auth.providers.cfaccess.boundary.exemptPaths[${index}] ${why}`,
    );
    expect(error.keys).toEqual([`boundary.exemptPaths[${index}]`]);
  });

  it('refuses an unknown key, naming it in full', () => {
    const error = failure({ mode: 'report', exemptPath: ['/api/webhook'] });
    expect(error.message).toBe(
      'auth.providers.cfaccess.boundary.exemptPath is not a boundary setting (mode, exemptPaths, dangerouslyAllowExternalAccessWithoutAccess, rules)',
    );
    expect(error.keys).toEqual(['boundary.exemptPath']);
  });

  it.each(['enforce', ['enforce'], 5])(
    'refuses a boundary section that is %j, naming it',
    boundary => {
      const error = failure(boundary);
      expect(error.message).toMatch(
        /^auth\.providers\.cfaccess\.boundary expected object/,
      );
      expect(error.keys).toEqual(['boundary']);
    },
  );
});

describe('readBoundaryConfig rules', () => {
  const withRules = (rules: unknown, provider: Record<string, unknown> = {}) =>
    new ConfigReader({
      auth: {
        providers: {
          cfaccess: {
            teamName: 'testteam',
            audience: ['aud-main', 'aud-admin'],
            ...provider,
            boundary: { rules },
          },
        },
      },
    } as any);

  const readRules = (
    rules: unknown[],
    provider?: Record<string, unknown>,
  ): AccessRule[] => [
    ...readBoundaryConfig(withRules(rules, provider)).rules.rules,
  ];

  /** The error for these rules, with its key checked: message starts with the full key, keys holds it below boundary. */
  function ruleFailure(
    rules: unknown,
    key: string,
    provider?: Record<string, unknown>,
  ): string {
    let thrown: unknown;
    try {
      readBoundaryConfig(withRules(rules, provider));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CfAccessConfigError);
    const error = thrown as CfAccessConfigError;
    expect(error.message.startsWith(`${boundaryConfigKey}.${key} `)).toBe(true);
    expect(error.keys).toEqual([`boundary.${key}`]);
    expect(error.missing).toBe(false);
    return error.message.slice(`${boundaryConfigKey}.${key} `.length);
  }

  it('has no rules by default', () => {
    expect(readBoundaryConfig(new ConfigReader({})).rules.size).toBe(0);
    expect(readBoundaryConfig(withBoundary({})).rules.size).toBe(0);
    expect(readRules([])).toEqual([]);
  });

  it('reads a rule with every requirement', () => {
    const [read] = readRules([
      {
        name: 'Scaffolder runs',
        match: ['POST /api/scaffolder/v2/tasks', '/api/scaffolder/v2/dry-run'],
        require: {
          peopleOnly: true,
          warp: true,
          devicePosture: [
            { rule: 'disk-id', name: 'Disk encrypted', maxAge: '10m' },
            { rule: ' firewall-id ' },
          ],
          countries: ['nl', 'DE'],
          identityProviders: ['okta', 'idp-123'],
          accessApplication: 'aud-admin',
        },
        identityMaxAge: '30s',
      },
    ]);
    expect(read).toEqual({
      label: 'Scaffolder runs',
      match: ['POST /api/scaffolder/v2/tasks', '/api/scaffolder/v2/dry-run'],
      patterns: [
        {
          methods: new Set(['POST']),
          segments: ['api', 'scaffolder', 'v2', 'tasks'],
          below: false,
        },
        { segments: ['api', 'scaffolder', 'v2', 'dry-run'], below: false },
      ],
      peopleOnly: true,
      warp: true,
      devicePosture: [
        { ruleId: 'disk-id', name: 'Disk encrypted', maxAgeMs: 600_000 },
        { ruleId: 'firewall-id' },
      ],
      countries: new Set(['NL', 'DE']),
      identityProviders: new Set(['okta', 'idp-123']),
      accessApplication: 'aud-admin',
      needsIdentity: true,
      refuseCallsOnBehalfOfPeople: false,
      identityMaxAgeMs: 30_000,
    });
  });

  it('reads a minimal rule with the defaults', () => {
    const [read] = readRules([
      { match: '/api/catalog/*', require: { peopleOnly: true } },
    ]);
    expect(read).toEqual({
      label: 'rules[0]',
      match: ['/api/catalog/*'],
      patterns: [{ segments: ['api', 'catalog', '*'], below: true }],
      peopleOnly: true,
      warp: false,
      devicePosture: [],
      needsIdentity: false,
      refuseCallsOnBehalfOfPeople: false,
      identityMaxAgeMs: 60_000,
    });
  });

  it.each(['people', 'serviceTokens'] as const)(
    'reads appliesTo %s',
    appliesTo => {
      const [read] = readRules([
        { match: '/api/x', require: { countries: ['NL'] }, appliesTo },
      ]);
      expect(read.appliesTo).toBe(appliesTo);
    },
  );

  it.each([
    { peopleOnly: true },
    { warp: true },
    { devicePosture: [{ rule: 'disk' }] },
    { identityProviders: ['okta'] },
  ])(
    'refuses a rule for service tokens that only a person could meet: %j',
    require => {
      expect(
        ruleFailure(
          [{ match: '/api/x', require, appliesTo: 'serviceTokens' }],
          'rules[0].appliesTo',
        ),
      ).toBe(
        'is serviceTokens, but the rule asks for a person, WARP, device posture or an identity provider, which a service token never has: no request could meet it',
      );
    },
  );

  it('refuses refuseCallsOnBehalfOfPeople on a rule for service tokens, where it could never refuse', () => {
    expect(
      ruleFailure(
        [
          {
            match: '/api/x',
            require: { countries: ['NL'] },
            appliesTo: 'serviceTokens',
            refuseCallsOnBehalfOfPeople: true,
          },
        ],
        'rules[0].refuseCallsOnBehalfOfPeople',
      ),
    ).toBe(
      'is true, but the rule applies to service tokens only (appliesTo: serviceTokens), and a plugin calling on behalf of a person is that person: it would never refuse anything',
    );
  });

  it('labels an unnamed rule by where it is configured', () => {
    const read = readRules([
      { name: 'first', match: '/api/a', require: { peopleOnly: true } },
      { match: '/api/b', require: { peopleOnly: true } },
    ]);
    expect(read.map(r => r.label)).toEqual(['first', 'rules[1]']);
  });

  it.each([
    [{ warp: true }, true],
    [{ devicePosture: [{ rule: 'x' }] }, true],
    [{ identityProviders: ['okta'] }, true],
    [{ peopleOnly: true }, false],
    [{ countries: ['NL'] }, false],
    [{ accessApplication: 'aud-main' }, false],
    [{ peopleOnly: true, warp: false }, false],
  ])('reads whether %j needs get-identity', (require, needsIdentity) => {
    const [read] = readRules([{ match: '/api/x', require }]);
    expect(read.needsIdentity).toBe(needsIdentity);
  });

  it.each([
    ['10m', 600_000],
    ['10 minutes', 600_000],
    ['PT10M', 600_000],
    [{ minutes: 10 }, 600_000],
    ['1s', 1000],
    ['30d', 30 * 24 * 3600_000],
    [{ days: 30 }, 30 * 24 * 3600_000],
  ])('reads devicePosture maxAge %j', (maxAge, ms) => {
    const [read] = readRules([
      {
        match: '/api/x',
        require: { devicePosture: [{ rule: 'disk', maxAge }] },
      },
    ]);
    expect(read.devicePosture).toEqual([{ ruleId: 'disk', maxAgeMs: ms }]);
  });

  it.each([
    ['10m', 600_000],
    ['10 minutes', 600_000],
    ['PT10M', 600_000],
    [{ minutes: 10 }, 600_000],
    ['1s', 1000],
    ['1h', 3600_000],
  ])('reads identityMaxAge %j', (identityMaxAge, ms) => {
    const [read] = readRules([
      { match: '/api/x', require: { warp: true }, identityMaxAge },
    ]);
    expect(read.identityMaxAgeMs).toBe(ms);
  });

  it('matches requests with the rules read', () => {
    const { rules } = readBoundaryConfig(
      withRules([
        {
          name: 'a',
          match: 'POST /api/scaffolder/v2/tasks',
          require: { warp: true },
        },
        {
          name: 'b',
          match: ['/api/scaffolder/*'],
          require: { peopleOnly: true },
        },
        {
          name: 'c',
          match: 'GET /api/catalog/*',
          require: { peopleOnly: true },
        },
      ]),
    );
    expect(rules.size).toBe(3);
    const labels = (method: string | undefined, path: string) =>
      rules.matching(method, path).map(r => r.label);
    expect(labels('POST', '/api/scaffolder/v2/tasks')).toEqual(['a', 'b']);
    expect(labels('post', '/API/Scaffolder/v2/tasks/')).toEqual(['a', 'b']);
    expect(labels('GET', '/api/scaffolder/v2/tasks')).toEqual(['b']);
    expect(labels('HEAD', '/api/catalog/entities')).toEqual(['c']);
    expect(labels(undefined, '/api/catalog/entities')).toEqual(['c']);
    expect(labels('DELETE', '/api/catalog/entities')).toEqual([]);
    expect(labels('GET', '/api/search/query')).toEqual([]);
  });

  describe('refuses at startup, naming the key', () => {
    it('an unknown key in a rule, listing the keys of a rule', () => {
      expect(
        ruleFailure(
          [{ match: '/api/x', require: { warp: true }, requires: {} }],
          'rules[0].requires',
        ),
      ).toBe(
        'is not a setting here (name, match, require, identityMaxAge, refuseCallsOnBehalfOfPeople, appliesTo)',
      );
    });

    it('an unknown key in require, listing the keys of require', () => {
      expect(
        ruleFailure(
          [
            { match: '/api/x', require: { peopleOnly: true } },
            { match: '/api/y', require: { warp: true, posture: ['disk'] } },
          ],
          'rules[1].require.posture',
        ),
      ).toBe(
        'is not a setting here (peopleOnly, warp, devicePosture, countries, identityProviders, accessApplication)',
      );
    });

    it('an unknown key in a devicePosture entry, listing its keys', () => {
      expect(
        ruleFailure(
          [
            {
              match: '/api/x',
              require: {
                devicePosture: [{ rule: 'a' }, { rule: 'b', maxage: '5m' }],
              },
            },
          ],
          'rules[0].require.devicePosture[1].maxage',
        ),
      ).toBe('is not a setting here (rule, name, maxAge)');
    });

    it('an unknown key beside rules, listing the boundary settings', () => {
      const error = failure({ rule: [] });
      expect(error.message).toBe(
        `${boundaryConfigKey}.rule is not a boundary setting (mode, exemptPaths, dangerouslyAllowExternalAccessWithoutAccess, rules)`,
      );
    });

    it.each([
      [{ match: '/api/x', require: { warp: true } }, 'rules'],
      ['rule', 'rules'],
    ])('rules that are not a list (%j)', (rules, key) => {
      expect(ruleFailure(rules, key)).toMatch(/^expected array/);
    });

    const EMPTY_STRING = 'string must contain at least 1 character(s)';
    const EMPTY_LIST = 'array must contain at least 1 element(s)';
    const MATCH =
      'must be a pattern such as "POST /api/scaffolder/v2/tasks", or a list of them';
    it.each([
      [{ require: { warp: true } }, 'rules[0].match', MATCH],
      [{ match: '', require: { warp: true } }, 'rules[0].match', EMPTY_STRING],
      [{ match: [], require: { warp: true } }, 'rules[0].match', EMPTY_LIST],
      [{ match: 5, require: { warp: true } }, 'rules[0].match', MATCH],
      [{ match: '/api/x' }, 'rules[0].require', 'required'],
      [
        { match: '/api/x', require: true },
        'rules[0].require',
        'expected object, received boolean',
      ],
      [
        { match: '/api/x', require: { warp: 'yes' } },
        'rules[0].require.warp',
        'expected boolean, received string',
      ],
      [
        { match: '/api/x', require: { peopleOnly: 1 } },
        'rules[0].require.peopleOnly',
        'expected boolean, received number',
      ],
      [
        { match: '/api/x', require: { devicePosture: [] } },
        'rules[0].require.devicePosture',
        EMPTY_LIST,
      ],
      [
        { match: '/api/x', require: { devicePosture: [{ name: 'Disk' }] } },
        'rules[0].require.devicePosture[0].rule',
        'required',
      ],
      [
        { match: '/api/x', require: { devicePosture: [{ rule: '  ' }] } },
        'rules[0].require.devicePosture[0].rule',
        EMPTY_STRING,
      ],
      [
        { match: '/api/x', require: { devicePosture: ['disk'] } },
        'rules[0].require.devicePosture[0]',
        'expected object, received string',
      ],
      [
        {
          match: '/api/x',
          require: { devicePosture: [{ rule: 'd', maxAge: 600 }] },
        },
        'rules[0].require.devicePosture[0].maxAge',
        'must be a duration with a unit (such as 10m or 600 seconds), got the plain number 600',
      ],
      [
        { match: '/api/x', require: { identityProviders: [] } },
        'rules[0].require.identityProviders',
        EMPTY_LIST,
      ],
      [
        { match: '/api/x', require: { identityProviders: ['okta', ''] } },
        'rules[0].require.identityProviders[1]',
        EMPTY_STRING,
      ],
      [
        { match: '/api/x', require: { accessApplication: ' ' } },
        'rules[0].require.accessApplication',
        EMPTY_STRING,
      ],
      [
        { match: '/api/x', require: { warp: true }, name: '' },
        'rules[0].name',
        EMPTY_STRING,
      ],
      [
        { match: '/api/x', require: { warp: true }, identityMaxAge: 60 },
        'rules[0].identityMaxAge',
        'must be a duration with a unit (such as 10m or 60 seconds), got the plain number 60',
      ],
      [
        { match: '/api/x', require: { countries: [] } },
        'rules[0].require.countries',
        EMPTY_LIST,
      ],
      [
        { match: '/api/x', require: { warp: true }, appliesTo: 'robots' },
        'rules[0].appliesTo',
        'must be people or serviceTokens',
      ],
    ])('a value of the wrong shape: %j', (rule, key, message) => {
      expect(ruleFailure([rule], key)).toBe(message);
    });

    it('a bad pattern in match, as a string', () => {
      expect(
        ruleFailure(
          [{ match: 'POST api/scaffolder', require: { warp: true } }],
          'rules[0].match',
        ),
      ).toBe('must have a path starting with /, got "POST api/scaffolder"');
    });

    it.each([
      [
        ['/api/ok', 'FETCH /api/x'],
        'rules[0].match[1]',
        'names an HTTP method that is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS: "FETCH"',
      ],
      [
        ['/api/%74asks'],
        'rules[0].match[0]',
        'must be a plain path (no query, %, \\, empty, . or .. segments; * only as a whole segment, not the first), got "/api/%74asks"',
      ],
      [
        ['/api/ok', '/api/ok/*', '/api/../x'],
        'rules[0].match[2]',
        'must be a plain path (no query, %, \\, empty, . or .. segments; * only as a whole segment, not the first), got "/api/../x"',
      ],
      [
        ['/*'],
        'rules[0].match[0]',
        'must be a plain path (no query, %, \\, empty, . or .. segments; * only as a whole segment, not the first), got "/*"',
      ],
      [
        ['GET POST /api/x'],
        'rules[0].match[0]',
        'must be "[METHOD] /path", got "GET POST /api/x"',
      ],
    ])('a bad pattern in a match list: %j', (match, key, message) => {
      expect(ruleFailure([{ match, require: { warp: true } }], key)).toBe(
        message,
      );
    });

    it.each(['soon', '10', '-5m', {}, { mins: 10 }])(
      'a devicePosture maxAge that is not a duration: %j',
      maxAge => {
        expect(
          ruleFailure(
            [
              {
                match: '/api/x',
                require: {
                  devicePosture: [{ rule: 'a' }, { rule: 'b', maxAge }],
                },
              },
            ],
            'rules[0].require.devicePosture[1].maxAge',
          ),
        ).toMatch(
          /^is not a duration \(such as 10m, 10 minutes, PT10M or \{ minutes: 10 \}\): /,
        );
      },
    );

    it.each([
      '0s',
      'PT0S',
      '999ms',
      { minutes: 0 },
      { minutes: -5 },
      '31d',
      { days: 30, seconds: 1 },
      '1y',
    ])('a devicePosture maxAge out of range: %j', maxAge => {
      expect(
        ruleFailure(
          [
            {
              match: '/api/x',
              require: { devicePosture: [{ rule: 'a', maxAge }] },
            },
          ],
          'rules[0].require.devicePosture[0].maxAge',
        ),
      ).toBe(
        `must be between 1 second and 30 days, got ${JSON.stringify(maxAge)}`,
      );
    });

    it.each([
      '0s',
      '500ms',
      '61m',
      '2h',
      { hours: 1, seconds: 1 },
      { minutes: -1 },
    ])('an identityMaxAge out of range: %j', identityMaxAge => {
      expect(
        ruleFailure(
          [
            { match: '/api/a', require: { peopleOnly: true } },
            { match: '/api/x', require: { warp: true }, identityMaxAge },
          ],
          'rules[1].identityMaxAge',
        ),
      ).toBe(
        `must be between 1 second and 1 hour, got ${JSON.stringify(
          identityMaxAge,
        )}`,
      );
    });

    it('an identityMaxAge that is not a duration', () => {
      expect(
        ruleFailure(
          [
            {
              match: '/api/x',
              require: { warp: true },
              identityMaxAge: 'later',
            },
          ],
          'rules[0].identityMaxAge',
        ),
      ).toMatch(/^is not a duration /);
    });

    it.each([
      {},
      { warp: false },
      { peopleOnly: false },
      { warp: false, peopleOnly: false },
    ])('a require that asks for nothing: %j', require => {
      expect(
        ruleFailure([{ match: '/api/x', require }], 'rules[0].require'),
      ).toBe(
        'must ask for something (peopleOnly, warp, devicePosture, countries, identityProviders, accessApplication)',
      );
    });

    it.each(['NLD', 'N', '', '12', 'N1', 'é'])(
      'a country that is not two letters: %j',
      country => {
        expect(
          ruleFailure(
            [{ match: '/api/x', require: { countries: ['NL', country] } }],
            'rules[0].require.countries[1]',
          ),
        ).toBe('must be a two-letter country code');
      },
    );

    it.each([
      ['a string', 'aud-main'],
      ['a list', ['aud-main', 'aud-other']],
    ])(
      'an accessApplication not in the audience, when the audience is %s',
      (_, audience) => {
        expect(
          ruleFailure(
            [
              {
                match: '/api/x',
                require: { accessApplication: 'aud-admin' },
              },
            ],
            'rules[0].require.accessApplication',
            { audience },
          ),
        ).toBe(
          "must also be in the provider's audience list, or its tokens are never accepted",
        );
      },
    );

    it('accepts an accessApplication that is in the audience, string or list', () => {
      for (const audience of [
        'aud-admin',
        ' aud-admin ',
        ['aud-main', 'aud-admin'],
      ]) {
        const [read] = readRules(
          [{ match: '/api/x', require: { accessApplication: ' aud-admin ' } }],
          { audience },
        );
        expect(read.accessApplication).toBe('aud-admin');
      }
    });

    it('leaves an unreadable audience to the provider config check', () => {
      for (const audience of [undefined, 5, ['aud-main', 7]]) {
        const [read] = readRules(
          [{ match: '/api/x', require: { accessApplication: 'aud-admin' } }],
          { audience },
        );
        expect(read.accessApplication).toBe('aud-admin');
      }
    });

    it.each([
      { warp: true },
      { devicePosture: [{ rule: 'disk' }] },
      { identityProviders: ['okta'] },
      { peopleOnly: true, warp: true },
    ])(
      'a rule that needs get-identity (%j) with identity.enabled false',
      require => {
        expect(
          ruleFailure([{ match: '/api/x', require }], 'rules[0].require', {
            identity: { enabled: false },
          }),
        ).toBe(
          'asks for WARP, device posture or an identity provider, which come from get-identity, and identity.enabled is false',
        );
      },
    );

    it('accepts rules that do not need get-identity with identity.enabled false', () => {
      expect(
        readRules(
          [
            {
              match: '/api/x',
              require: {
                peopleOnly: true,
                countries: ['NL'],
                accessApplication: 'aud-main',
                warp: false,
              },
            },
          ],
          { identity: { enabled: false } },
        ),
      ).toHaveLength(1);
      expect(
        readRules([{ match: '/api/x', require: { warp: true } }], {
          identity: { enabled: true },
        }),
      ).toHaveLength(1);
    });

    it('reports the first rule at fault', () => {
      expect(
        ruleFailure(
          [
            { match: '/api/ok', require: { peopleOnly: true } },
            { match: '/api/x', require: {} },
            { match: 'bad', require: {} },
          ],
          'rules[1].require',
        ),
      ).toMatch(/^must ask for something /);
    });
  });
});
