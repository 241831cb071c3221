import {
  createFrontendModule,
  type StandardSchemaV1,
} from '@backstage/frontend-plugin-api';
import {
  SignInPageBlueprint,
  type SignInPageProps,
} from '@backstage/plugin-app-react';

/**
 * A Standard Schema for an optional string config value, with the JSON Schema
 * conversion that extension config schemas require. Written by hand so that
 * the package does not need a schema library.
 */
const optionalString: StandardSchemaV1<string | undefined> & {
  '~standard': {
    jsonSchema: {
      input(options: unknown): Record<string, unknown>;
      output(options: unknown): Record<string, unknown>;
    };
  };
} = {
  '~standard': {
    version: 1,
    vendor: '@cfaccess/plugin-cfaccess-react',
    validate(value: unknown) {
      if (value === undefined || typeof value === 'string') {
        return { value };
      }
      let received: string = typeof value;
      if (value === null) {
        received = 'null';
      } else if (Array.isArray(value)) {
        received = 'array';
      }
      return {
        issues: [{ message: `Expected a string, but received ${received}` }],
      };
    },
    jsonSchema: {
      input: () => ({ type: 'string' }),
      output: () => ({ type: 'string' }),
    },
  },
};

/**
 * Options for {@link createCloudflareAccessSignInModule}. Values set in the
 * extension's app config take precedence over these.
 *
 * @alpha
 */
export type CloudflareAccessSignInModuleOptions = {
  /**
   * The id of the auth provider in the auth backend.
   *
   * @defaultValue 'cfaccess'
   */
  provider?: string;
  /**
   * Where the browser goes after Backstage's own sign-out, to end the
   * Cloudflare Access session.
   *
   * @defaultValue '/cdn-cgi/access/logout' (on the current origin)
   */
  logoutUrl?: string;
};

/**
 * The `sign-in-page:app` extension. Config values win over `options`.
 *
 * @internal
 */
export function createCloudflareAccessSignInPageExtension(
  options: CloudflareAccessSignInModuleOptions = {},
) {
  return SignInPageBlueprint.makeWithOverrides({
    configSchema: {
      provider: optionalString,
      logoutUrl: optionalString,
    },
    factory(originalFactory, { config }) {
      const provider = config.provider ?? options.provider;
      const logoutUrl = config.logoutUrl ?? options.logoutUrl;
      return originalFactory({
        loader: async () => {
          const { CloudflareAccessSignInPage } = await import(
            '../components/CloudflareAccessSignInPage'
          );
          return (props: SignInPageProps) => (
            <CloudflareAccessSignInPage
              {...props}
              provider={provider}
              logoutUrl={logoutUrl}
            />
          );
        },
      });
    },
  });
}

/**
 * Creates a frontend module for the `app` plugin that installs the Cloudflare
 * Access sign-in page (extension id `sign-in-page:app`).
 *
 * @remarks
 *
 * The extension also reads `provider` and `logoutUrl` from its config:
 *
 * ```yaml
 * app:
 *   extensions:
 *     - sign-in-page:app:
 *         config:
 *           provider: cfaccess
 *           logoutUrl: /cdn-cgi/access/logout
 * ```
 *
 * @alpha
 */
export function createCloudflareAccessSignInModule(
  options: CloudflareAccessSignInModuleOptions = {},
) {
  return createFrontendModule({
    pluginId: 'app',
    extensions: [createCloudflareAccessSignInPageExtension(options)],
  });
}

/**
 * A frontend module for the `app` plugin that signs users in through
 * Cloudflare Access with the `cfaccess` auth provider.
 *
 * @example
 * ```ts
 * const app = createApp({ features: [cloudflareAccessSignInModule] });
 * ```
 *
 * @alpha
 */
export const cloudflareAccessSignInModule =
  createCloudflareAccessSignInModule();
