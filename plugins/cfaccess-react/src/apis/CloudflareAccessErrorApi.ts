import {
  ErrorApiForwarder,
  UnhandledErrorForwarder,
} from '@backstage/core-app-api';
import {
  alertApiRef,
  createApiFactory,
  errorApiRef,
  type AlertApi,
  type ErrorApi,
  type ErrorApiError,
  type ErrorApiErrorContext,
} from '@backstage/core-plugin-api';
import type { ToastApi } from '@backstage/frontend-plugin-api';
import {
  formatCloudflareAccessAdvice,
  getCloudflareAccessAdvice,
} from '../lib/advice';
import { getCloudflareAccessRefusal } from '../lib/refusal';

/**
 * Options for {@link createCloudflareAccessErrorApi}.
 *
 * @public
 */
export type CloudflareAccessErrorApiOptions = {
  /** Where errors are shown, as by Backstage's default error API. */
  alertApi: AlertApi;
  /**
   * Where Cloudflare Access refusals are shown instead, with the advice as
   * title and description. The new frontend system has it; without it the
   * advice goes to `alertApi` as one line.
   */
  toastApi?: ToastApi;
};

function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** Backstage's `ErrorAlerter`, with the advice for Access refusals. */
class CloudflareAccessErrorAlerter implements ErrorApi {
  readonly #alertApi: AlertApi;
  readonly #toastApi?: ToastApi;
  readonly #forwarder = new ErrorApiForwarder();

  constructor(options: CloudflareAccessErrorApiOptions) {
    this.#alertApi = options.alertApi;
    this.#toastApi = options.toastApi;
  }

  post(error: ErrorApiError, context?: ErrorApiErrorContext) {
    if (!context?.hidden) {
      this.#display(error);
    }
    this.#forwarder.post(error, context);
  }

  error$() {
    return this.#forwarder.error$();
  }

  #display(error: ErrorApiError) {
    const refusal = getCloudflareAccessRefusal(error);
    if (!refusal) {
      this.#alertApi.post({ message: messageOf(error), severity: 'error' });
      return;
    }
    const advice = getCloudflareAccessAdvice(refusal);
    if (this.#toastApi) {
      this.#toastApi.post({
        title: advice.title,
        description: advice.action,
        status: 'danger',
      });
    } else {
      this.#alertApi.post({
        message: formatCloudflareAccessAdvice(advice),
        severity: 'error',
      });
    }
  }
}

/**
 * Creates the app's error API: Backstage's default one (errors posted to it
 * are shown through the alert API, and rejected promises nobody handled are
 * posted to it), except that a request refused by Cloudflare Access checks is
 * shown as advice ({@link getCloudflareAccessAdvice}) instead of the raw
 * message.
 *
 * @remarks
 *
 * Errors posted with `hidden: true` are not shown, as before. Every error,
 * refusal or not, still reaches `error$()` unchanged (for error trackers).
 * Like the default, it listens for `unhandledrejection` on `window`: create it
 * once, from the app's API factory.
 *
 * @public
 */
export function createCloudflareAccessErrorApi(
  options: CloudflareAccessErrorApiOptions,
): ErrorApi {
  const errorApi = new CloudflareAccessErrorAlerter(options);
  UnhandledErrorForwarder.forward(errorApi, { hidden: false });
  return errorApi;
}

/**
 * The error API factory for the legacy app (`createApp` from
 * `@backstage/app-defaults`): add it to the app's `apis` to show Cloudflare
 * Access refusals as advice. See {@link createCloudflareAccessErrorApi}.
 *
 * @example
 * ```ts
 * // packages/app/src/apis.ts
 * export const apis: AnyApiFactory[] = [
 *   // ...the factories already there, then:
 *   cloudflareAccessErrorApiFactory,
 * ];
 * ```
 *
 * @public
 */
export const cloudflareAccessErrorApiFactory = createApiFactory({
  api: errorApiRef,
  deps: { alertApi: alertApiRef },
  factory: ({ alertApi }) => createCloudflareAccessErrorApi({ alertApi }),
});
