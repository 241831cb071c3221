import {
  alertApiRef,
  ApiBlueprint,
  createFrontendModule,
  errorApiRef,
  toastApiRef,
} from '@backstage/frontend-plugin-api';
import { createCloudflareAccessErrorApi } from '../apis/CloudflareAccessErrorApi';

/**
 * The `api:app/error` extension: the app's error API, with Cloudflare Access
 * refusals shown as advice in a toast. It replaces the `app` plugin's own.
 *
 * @internal
 */
export const cloudflareAccessErrorApiExtension = ApiBlueprint.make({
  name: 'error',
  params: defineParams =>
    defineParams({
      api: errorApiRef,
      deps: { alertApi: alertApiRef, toastApi: toastApiRef },
      factory: ({ alertApi, toastApi }) =>
        createCloudflareAccessErrorApi({ alertApi, toastApi }),
    }),
});

/**
 * A frontend module for the `app` plugin that shows requests refused by
 * Cloudflare Access checks (e.g. running a Software Template on a device that
 * fails a posture check) as advice: what went wrong and what to do, instead of
 * the raw error message.
 *
 * @remarks
 *
 * It replaces the app's error API (extension `api:app/error`) with one made by
 * `createCloudflareAccessErrorApi`: errors that plugins post to the error API,
 * and rejected promises nobody handled, are shown as before, except Access
 * refusals, which are shown as a toast with the advice.
 *
 * @example
 * ```ts
 * const app = createApp({
 *   features: [cloudflareAccessSignInModule, cloudflareAccessRefusalAdviceModule],
 * });
 * ```
 *
 * @alpha
 */
export const cloudflareAccessRefusalAdviceModule = createFrontendModule({
  pluginId: 'app',
  extensions: [cloudflareAccessErrorApiExtension],
});
