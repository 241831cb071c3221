import path from 'node:path';
import { configSourceName, valueAtKey } from './configSources';

describe('valueAtKey', () => {
  const data = {
    auth: {
      providers: {
        cfaccess: {
          teamName: 'myteam',
          serviceTokens: [{ token: 'a.access' }, { token: 'b.access' }],
        },
      },
    },
  };

  it('follows dotted keys and array indices', () => {
    expect(valueAtKey(data, 'auth.providers.cfaccess.teamName')).toBe('myteam');
    expect(
      valueAtKey(data, 'auth.providers.cfaccess.serviceTokens[1].token'),
    ).toBe('b.access');
    expect(
      valueAtKey(data, 'auth.providers.cfaccess.serviceTokens[2].token'),
    ).toBeUndefined();
  });

  it('finds only values the config sets, never what objects and arrays inherit', () => {
    expect(valueAtKey(data, 'auth.toString')).toBeUndefined();
    expect(valueAtKey(data, 'auth.__proto__')).toBeUndefined();
    expect(
      valueAtKey(data, 'auth.providers.cfaccess.serviceTokens.length'),
    ).toBeUndefined();
    // An index into an object is no key of it.
    expect(valueAtKey({ a: { 0: 'x' } }, 'a[0]')).toBeUndefined();
    expect(valueAtKey('text', 'length')).toBeUndefined();
  });
});

describe('configSourceName', () => {
  const base = path.resolve('/srv/backstage');

  it('names APP_CONFIG_ variables, and files relative to the base directory when inside it', () => {
    expect(configSourceName({ context: 'env' }, base)).toBe(
      'the environment (APP_CONFIG_*)',
    );
    expect(
      configSourceName(
        { context: 'file', path: path.join(base, 'app-config.yaml') },
        base,
      ),
    ).toBe('app-config.yaml');
    expect(
      configSourceName(
        { context: 'file', path: '/etc/backstage/a.yaml' },
        base,
      ),
    ).toBe('/etc/backstage/a.yaml');
    expect(configSourceName({ context: 'remote' }, base)).toBe('remote');
  });
});
