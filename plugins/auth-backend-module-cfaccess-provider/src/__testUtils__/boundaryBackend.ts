/*
 * A real backend with the Access boundary for integration tests:
 * createBackend() with the real root HTTP router and
 * withCloudflareAccessBoundary(), the given config (mockServices.rootConfig)
 * and features, and a root logger that keeps every line.
 */
import { createBackend } from '@backstage/backend-defaults';
import {
  RootHttpRouterConfigureContext,
  rootHttpRouterServiceFactory,
} from '@backstage/backend-defaults/rootHttpRouter';
import {
  BackendFeature,
  coreServices,
  createBackendModule,
  createServiceFactory,
  RootLoggerService,
} from '@backstage/backend-plugin-api';
import { authProvidersExtensionPoint } from '@backstage/plugin-auth-node';
import { mockServices } from '@backstage/backend-test-utils';
import type { JsonObject } from '@backstage/types';
import { withCloudflareAccessBoundary } from '../boundary';
import { cloudflareAccessServiceRef } from '../service';

export type LogLine = { level: string; message: string; meta: JsonObject };

export function capturingRootLogger(lines: LogLine[]) {
  const make = (meta: JsonObject): RootLoggerService => {
    const log =
      (level: string) =>
      (message: string, extra?: Error | JsonObject): void => {
        const line = {
          level,
          message,
          meta: { ...meta, ...(extra instanceof Error ? {} : extra) },
        };
        lines.push(line);
        if (process.env.CFACCESS_BOUNDARY_TEST_LOGS) {
          // eslint-disable-next-line no-console
          console.log(level, message, extra);
        }
      };
    return {
      error: log('error'),
      warn: log('warn'),
      info: log('info'),
      debug: log('debug'),
      child: childMeta => make({ ...meta, ...childMeta }),
    };
  };
  return createServiceFactory({
    service: coreServices.rootLogger,
    deps: {},
    factory: () => make({}),
  });
}

export type TestBackend = {
  base: string;
  port: number;
  logs: LogLine[];
  stop(): Promise<void>;
};

export async function startBoundaryBackend(options: {
  port: number;
  config: JsonObject;
  features: Array<BackendFeature>;
  configure?: (context: RootHttpRouterConfigureContext) => void;
  logs?: LogLine[];
}): Promise<TestBackend> {
  const logs = options.logs ?? [];
  const backend = createBackend();
  backend.add(mockServices.rootConfig.factory({ data: options.config }));
  backend.add(capturingRootLogger(logs));
  backend.add(
    rootHttpRouterServiceFactory({
      configure: options.configure ?? withCloudflareAccessBoundary(),
    }),
  );
  for (const feature of options.features) {
    backend.add(feature);
  }
  try {
    await backend.start();
  } catch (error) {
    await backend.stop().catch(() => {});
    throw error;
  }
  return {
    base: `http://127.0.0.1:${options.port}`,
    port: options.port,
    logs,
    stop: () => backend.stop(),
  };
}

/**
 * A custom module registering the cfaccess provider through
 * cloudflareAccessServiceRef, with no catalog: a service token signs in as
 * its configured entity ref, a person as user:default/<local part of the
 * email>; `onResolve` hears each resolution.
 */
export function localPartCfaccessModule(
  onResolve: (ref: string) => void = () => {},
) {
  return createBackendModule({
    pluginId: 'auth',
    moduleId: 'local-part-cfaccess-provider',
    register(reg) {
      reg.registerInit({
        deps: {
          providers: authProvidersExtensionPoint,
          cloudflareAccess: cloudflareAccessServiceRef,
        },
        async init({ providers, cloudflareAccess }) {
          providers.registerProvider({
            providerId: 'cfaccess',
            factory: cloudflareAccess.authProviderFactory({
              async signInResolver({ result }, ctx) {
                const ref =
                  result.serviceToken?.entityRef ??
                  `user:default/${result.claims.email.split('@')[0]}`;
                onResolve(ref);
                return ctx.issueToken({ claims: { sub: ref, ent: [ref] } });
              },
            }),
          });
        },
      });
    },
  });
}
