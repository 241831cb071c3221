import { ConfigReader } from '@backstage/config';
import { CfAccessConfigError } from '../config/readConfig';
import { boundaryConfigKey, readBoundaryConfig } from './boundaryConfig';

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
      'auth.providers.cfaccess.boundary.exemptPath is not a boundary setting (mode, exemptPaths, dangerouslyAllowExternalAccessWithoutAccess)',
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
