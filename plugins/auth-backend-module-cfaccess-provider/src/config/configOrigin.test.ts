import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  describeConfigValueOrigin,
  findConfigValueOrigin,
} from './configOrigin';

const KEY = 'auth.providers.cfaccess.teamDomain';

describe('findConfigValueOrigin', () => {
  let dir: string;
  const file = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const argvFor = (...files: string[]) => [
    'node',
    'backend',
    ...files.flatMap(f => ['--config', f]),
  ];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfaccess-origin-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const base = () => file('base.yaml', 'app:\n  title: t\n');
  const production = () =>
    file(
      'production.yaml',
      'auth:\n  providers:\n    cfaccess:\n      teamDomain: ${TEAM_DOMAIN}\n      audience: https://${AUD_PREFIX}${AUD}\n',
    );

  it('finds the file whose substitution of an unset variable dropped the key', async () => {
    const origin = await findConfigValueOrigin(KEY, {
      argv: argvFor(base(), production()),
      env: {},
    });
    expect(origin).toEqual({
      source: path.join(dir, 'production.yaml'),
      variables: [{ name: 'TEAM_DOMAIN', state: 'unset' }],
      blankLiteral: false,
      files: [path.join(dir, 'base.yaml'), path.join(dir, 'production.yaml')],
    });
    expect(describeConfigValueOrigin(KEY, origin!)).toBe(
      `${KEY} comes from the environment variable substitution \${TEAM_DOMAIN} in ${path.join(
        dir,
        'production.yaml',
      )}, and the environment variable TEAM_DOMAIN is not set`,
    );
  });

  it('tells an empty variable from an unset one, and names only the variables without a value', async () => {
    const origin = await findConfigValueOrigin(
      'auth.providers.cfaccess.audience',
      {
        argv: argvFor(production()),
        env: { AUD_PREFIX: 'x', AUD: '  ' },
      },
    );
    expect(origin?.variables).toEqual([{ name: 'AUD', state: 'empty' }]);
    expect(
      describeConfigValueOrigin('auth.providers.cfaccess.audience', origin!),
    ).toMatch(/and the environment variable AUD is empty$/);
  });

  it('takes the source that wins: an APP_CONFIG_ variable over the files', async () => {
    const origin = await findConfigValueOrigin(KEY, {
      argv: argvFor(production()),
      env: { APP_CONFIG_auth_providers_cfaccess_teamDomain: '""' },
    });
    expect(origin).toMatchObject({
      source: 'the environment (APP_CONFIG_*)',
      variables: [],
      blankLiteral: true,
    });
    expect(describeConfigValueOrigin(KEY, origin!)).toBe(
      `${KEY} is set to a blank value in the environment (APP_CONFIG_*)`,
    );
  });

  it('says when no source sets the key, listing what was read', async () => {
    const origin = await findConfigValueOrigin(KEY, {
      argv: argvFor(base()),
      env: {},
    });
    expect(origin?.source).toBeUndefined();
    expect(describeConfigValueOrigin(KEY, origin!)).toBe(
      `neither a config file nor an APP_CONFIG_ variable sets ${KEY} (files read: ${path.join(
        dir,
        'base.yaml',
      )})`,
    );
  });

  it('reads app-config.yaml and app-config.<BACKSTAGE_ENV>.yaml without --config, as Backstage does', async () => {
    fs.writeFileSync(path.join(dir, 'app-config.yaml'), 'app:\n  title: t\n');
    fs.writeFileSync(
      path.join(dir, 'app-config.production.yaml'),
      'auth:\n  providers:\n    cfaccess:\n      teamDomain: ${TEAM_DOMAIN}\n',
    );
    const previous = process.env.BACKSTAGE_ENV;
    process.env.BACKSTAGE_ENV = 'production';
    try {
      const origin = await findConfigValueOrigin(KEY, {
        argv: ['node', 'backend'],
        env: {},
        rootDir: dir,
      });
      // Named relative to the root directory it was found in.
      expect(origin?.source).toBe('app-config.production.yaml');
      expect(origin?.variables).toEqual([
        { name: 'TEAM_DOMAIN', state: 'unset' },
      ]);
    } finally {
      if (previous === undefined) {
        delete process.env.BACKSTAGE_ENV;
      } else {
        process.env.BACKSTAGE_ENV = previous;
      }
    }
  });

  it('finds keys inside lists', async () => {
    const tokens = file(
      'tokens.yaml',
      'auth:\n  providers:\n    cfaccess:\n      serviceTokens:\n        - token: ${CI_CLIENT_ID}\n          subject: user:default/ci-bot\n',
    );
    const origin = await findConfigValueOrigin(
      'auth.providers.cfaccess.serviceTokens[0].token',
      { argv: argvFor(tokens), env: {} },
    );
    expect(origin?.variables).toEqual([
      { name: 'CI_CLIENT_ID', state: 'unset' },
    ]);
  });

  it('gives up quietly when the sources cannot be read again', async () => {
    await expect(
      findConfigValueOrigin(KEY, {
        argv: argvFor('https://config.example.com/app-config.yaml'),
        env: {},
      }),
    ).resolves.toBeUndefined();
    await expect(
      findConfigValueOrigin(KEY, {
        argv: argvFor(path.join(dir, 'gone.yaml')),
        env: {},
      }),
    ).resolves.toBeUndefined();
  });
});
