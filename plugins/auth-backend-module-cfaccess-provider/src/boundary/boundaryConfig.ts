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
export const boundaryConfigKey = `${providerConfigKey(DEFAULT_PROVIDER_ID)}.boundary`;

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
    const path = issue.path.join('.');
    const key = path ? `${boundaryConfigKey}.${path}` : boundaryConfigKey;
    throw new CfAccessConfigError(
      `${key} ${issue.message.toLowerCase()}`,
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
        `${boundaryConfigKey}.exemptPaths[${index}] ${(error as Error).message}`,
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
