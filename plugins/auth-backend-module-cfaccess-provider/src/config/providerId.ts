/**
 * The id the module registers its provider under. A custom module may
 * register the same provider under another id; everything that reads the
 * config takes the id, with this default.
 */
export const DEFAULT_PROVIDER_ID = 'cfaccess';

/** Where a provider's config lives: `auth.providers.<providerId>`. */
export function providerConfigKey(providerId: string): string {
  return `auth.providers.${providerId}`;
}

// One part of a config key as @backstage/config reads it: any other id names no config.
const CONFIG_KEY_PART = /^[a-z][a-z0-9]*(?:[-_:][a-z0-9]+)*$/i;

/** Whether `id` can name a provider's config (`auth.providers.<id>`). */
export function isProviderId(id: string): boolean {
  return CONFIG_KEY_PART.test(id);
}
