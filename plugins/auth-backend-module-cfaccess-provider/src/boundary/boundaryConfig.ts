import type { Config } from '@backstage/config';
import { z } from 'zod/v3';
import { CfAccessConfigError } from '../config/readConfig';
import { providerSettings } from '../config/settings';
import { DEFAULT_PROVIDER_ID, providerConfigKey } from '../config/providerId';
import { ExemptPaths, parseExemptPath } from './exemptPaths';

/** What the boundary does with a request that fails it. */
export type BoundaryMode = 'enforce' | 'report' | 'off';

export type BoundaryConfig = {
  mode: BoundaryMode;
  exemptPaths: ExemptPaths;
  /** `backend.auth.externalAccess` subjects that may call without an Access token. */
  externalAccessWithoutAccess: ReadonlySet<string>;
};

/** Where the boundary's settings live. */
export const boundaryConfigKey = `${providerConfigKey(
  DEFAULT_PROVIDER_ID,
)}.boundary`;

const schema = z
  .object({
    mode: z
      .enum(['enforce', 'report', 'off'])
      .default(providerSettings['boundary.mode'].default),
    exemptPaths: z.array(z.string()).default([]),
    dangerouslyAllowExternalAccessWithoutAccess: z
      .array(z.string().trim().min(1))
      .default([]),
  })
  .strict();

/**
 * Reads `auth.providers.cfaccess.boundary`, failing startup with the key at
 * fault. Absent means the defaults: `enforce` (once the boundary is wired in:
 * that is the opt-in), nothing exempt beyond what
 * Backstage serves before the plugin routes, no external caller without
 * Access.
 */
export function readBoundaryConfig(config: Config): BoundaryConfig {
  const raw = config.getOptional(boundaryConfigKey) ?? {};
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // An unknown key is named itself; list entries as `exemptPaths[0]`, the
    // way the entries' own errors below (and Backstage) name them.
    const segments =
      issue.code === 'unrecognized_keys'
        ? [...issue.path, issue.keys[0]]
        : issue.path;
    const path = segments
      .map((segment, index) =>
        typeof segment === 'number'
          ? `[${segment}]`
          : `${index ? '.' : ''}${segment}`,
      )
      .join('');
    const key = path ? `${boundaryConfigKey}.${path}` : boundaryConfigKey;
    // Only the first letter lowered: the message quotes the value as written.
    const message =
      issue.code === 'unrecognized_keys'
        ? `is not a boundary setting (${Object.keys(schema.shape).join(', ')})`
        : `${issue.message.charAt(0).toLowerCase()}${issue.message.slice(1)}`;
    throw new CfAccessConfigError(
      `${key} ${message}`,
      [path ? `boundary.${path}` : 'boundary'],
      false,
    );
  }
  const { mode, exemptPaths, dangerouslyAllowExternalAccessWithoutAccess } =
    parsed.data;
  const patterns = exemptPaths.map((pattern, index) => {
    try {
      return parseExemptPath(pattern);
    } catch (error) {
      throw new CfAccessConfigError(
        `${boundaryConfigKey}.exemptPaths[${index}] ${
          (error as Error).message
        }`,
        [`boundary.exemptPaths[${index}]`],
        false,
      );
    }
  });
  return {
    mode,
    exemptPaths: new ExemptPaths(patterns),
    externalAccessWithoutAccess: new Set(
      dangerouslyAllowExternalAccessWithoutAccess,
    ),
  };
}
