/*
 * The table of settings is the one place a default or a bound is written: the reader applies it, the
 * doctor lists it, and it covers exactly what the config schema (config.d.ts) declares.
 */
import { resolve } from 'node:path';
import { ConfigReader } from '@backstage/config';
import { loadConfigSchema } from '@backstage/config-loader';
import { readCfAccessConfig } from './readConfig';
import { providerSettings } from './settings';

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
};

/** The provider's keys in config.d.ts: nested objects walked, lists and values taken whole. */
function schemaKeys(schema: JsonSchema, prefix = ''): string[] {
  return Object.entries(schema.properties ?? {}).flatMap(([name, child]) => {
    const key = prefix ? `${prefix}.${name}` : name;
    return child.type === 'object' && child.properties
      ? schemaKeys(child, key)
      : [key];
  });
}

describe('providerSettings', () => {
  it('lists every key config.d.ts declares, and no other', async () => {
    const schema = await loadConfigSchema({
      dependencies: [],
      packagePaths: [resolve(__dirname, '..', '..', 'package.json')],
    });
    const ours = (
      schema.serialize().schemas as Array<{
        packageName: string;
        value: JsonSchema;
      }>
    ).find(
      ({ packageName }) =>
        packageName ===
        '@cfaccess/plugin-auth-backend-module-cfaccess-provider',
    );
    const provider =
      ours!.value.properties!.auth.properties!.providers.properties!.cfaccess;
    expect(Object.keys(providerSettings).sort()).toEqual(
      schemaKeys(provider).sort(),
    );
  });

  it('is what the reader applies when a setting is not set', () => {
    const config = readCfAccessConfig(
      new ConfigReader({ teamName: 'myteam', audience: 'aud' }),
    );
    const s = providerSettings;
    expect(config.jwtHeaderName).toBe(s.jwtHeaderName.default.toLowerCase());
    expect(config.authorizationCookieName).toBe(
      s.authorizationCookieName.default,
    );
    expect(config.clockToleranceSeconds).toBe(s.clockToleranceSeconds.default);
    expect(config.maxTokenBytes).toBe(s.maxTokenBytes.default);
    expect(config.jwks).toEqual({
      cacheMaxAgeMs: s['jwks.cacheMaxAgeSeconds'].default * 1000,
      cooldownMs: s['jwks.cooldownSeconds'].default * 1000,
      timeoutMs: s['jwks.timeoutMs'].default,
      staleMaxAgeMs: s['jwks.staleMaxAgeSeconds'].default * 1000,
      maxBodyBytes: s['jwks.maxBodyBytes'].default,
    });
    expect(config.identity).toEqual({
      enabled: s['identity.enabled'].default,
      timeoutMs: s['identity.timeoutMs'].default,
      cacheTtlMs: s['identity.cacheTtlSeconds'].default * 1000,
      maxBodyBytes: s['identity.maxBodyBytes'].default,
    });
    expect(config.verifiedTokenCache.maxEntries).toBe(
      s['verifiedTokenCache.maxEntries'].default,
    );
  });

  it('bounds every number, the default within them', () => {
    const outOfBounds = Object.entries(providerSettings).filter(
      ([, setting]) =>
        'min' in setting &&
        !(setting.min <= setting.default && setting.default <= setting.max),
    );
    expect(outOfBounds).toEqual([]);
  });
});
