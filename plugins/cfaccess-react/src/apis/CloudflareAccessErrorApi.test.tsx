import { act, screen } from '@testing-library/react';
import { AlertApiForwarder } from '@backstage/core-app-api';
import { AlertDisplay } from '@backstage/core-components';
import {
  alertApiRef,
  errorApiRef,
  type AlertApi,
  type ErrorApi,
} from '@backstage/core-plugin-api';
import type { ToastApi, ToastApiMessage } from '@backstage/frontend-plugin-api';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import {
  refusalBody,
  refusalResponseError,
  scaffolderError,
} from '../__testUtils__/refusal';
import {
  cloudflareAccessErrorApiFactory,
  createCloudflareAccessErrorApi,
} from './CloudflareAccessErrorApi';

const POSTURE_ALERT =
  'This device did not pass the check “Disk encryption”: This action is only allowed from a device that passes it. Use a device your organisation manages, with Cloudflare WARP turned on, and fix what the check looks for (your IT team can tell you how). Then try again.';

/** The legacy app's display: AlertDisplay over the error API's alerts. */
async function renderLegacyApp() {
  const alertApi = new AlertApiForwarder();
  const errorApi = cloudflareAccessErrorApiFactory.factory({ alertApi });
  await renderInTestApp(
    <TestApiProvider
      apis={[
        [alertApiRef, alertApi],
        [errorApiRef, errorApi],
      ]}
    >
      <AlertDisplay />
    </TestApiProvider>,
  );
  return { errorApi, alertApi };
}

function unhandledRejection(reason: unknown) {
  const event = new Event('unhandledrejection');
  Object.assign(event, { reason });
  act(() => {
    window.dispatchEvent(event);
  });
}

describe('cloudflareAccessErrorApiFactory', () => {
  beforeEach(() => {
    jest.spyOn(console, 'warn').mockImplementation(() => {});
  });
  afterEach(() => jest.restoreAllMocks());

  it("is the app's error API factory, needing the alert API", () => {
    expect(cloudflareAccessErrorApiFactory.api).toBe(errorApiRef);
    expect(cloudflareAccessErrorApiFactory.deps).toEqual({
      alertApi: alertApiRef,
    });
  });

  it("shows the advice for the scaffolder's refused POST /v2/tasks, not the raw message", async () => {
    const { errorApi } = await renderLegacyApp();
    act(() => errorApi.post(scaffolderError()));

    expect(await screen.findByText(POSTURE_ALERT)).toBeInTheDocument();
    expect(
      screen.queryByText(/Backend request failed/),
    ).not.toBeInTheDocument();
  });

  it('shows the advice for a refusal nobody handled (the scaffolder does not catch it)', async () => {
    await renderLegacyApp();
    unhandledRejection(scaffolderError(refusalBody('warp_required', null)));

    expect(
      await screen.findByText(
        /^Turn on Cloudflare WARP and try again: This action only works through the Cloudflare WARP client/,
      ),
    ).toBeInTheDocument();
  });

  it('shows the advice for a ResponseError', async () => {
    const { errorApi } = await renderLegacyApp();
    const error = await refusalResponseError(
      refusalBody('identity_provider_not_allowed', null),
    );
    act(() => errorApi.post(error));
    expect(
      await screen.findByText(/^Sign in with another login method: /),
    ).toBeInTheDocument();
    expect(
      screen.queryByText('Request failed with 403 Forbidden'),
    ).not.toBeInTheDocument();
  });

  it('shows other errors as before', async () => {
    const { errorApi } = await renderLegacyApp();
    act(() => errorApi.post(new Error('Catalog is down')));
    expect(await screen.findByText('Catalog is down')).toBeInTheDocument();
  });
});

describe('createCloudflareAccessErrorApi', () => {
  function setup(withToast: boolean) {
    const alertApi: jest.Mocked<AlertApi> = {
      post: jest.fn(),
      alert$: jest.fn(),
    };
    const toastApi: jest.Mocked<ToastApi> = {
      post: jest.fn((_toast: ToastApiMessage) => ({ close() {} })),
    };
    const errorApi: ErrorApi = createCloudflareAccessErrorApi({
      alertApi,
      ...(withToast && { toastApi }),
    });
    const seen: unknown[] = [];
    errorApi.error$().subscribe(value => seen.push(value));
    return { alertApi, toastApi, errorApi, seen };
  }

  it('shows a refusal as a toast with title and description, when it has the toast API', () => {
    const { alertApi, toastApi, errorApi } = setup(true);
    errorApi.post(scaffolderError());
    expect(toastApi.post).toHaveBeenCalledTimes(1);
    expect(toastApi.post).toHaveBeenCalledWith({
      title: 'This device did not pass the check “Disk encryption”',
      description: expect.stringMatching(
        /^This action is only allowed from a device that passes it\./,
      ),
      status: 'danger',
    });
    expect(alertApi.post).not.toHaveBeenCalled();
  });

  it('shows other errors through the alert API, also when it has the toast API', () => {
    const { alertApi, toastApi, errorApi } = setup(true);
    errorApi.post(new Error('boom'));
    expect(alertApi.post).toHaveBeenCalledWith({
      message: 'boom',
      severity: 'error',
    });
    expect(toastApi.post).not.toHaveBeenCalled();
  });

  it('shows nothing for hidden errors, and forwards every error unchanged', () => {
    const { alertApi, toastApi, errorApi, seen } = setup(true);
    const refused = scaffolderError();
    const other = new Error('boom');
    errorApi.post(refused, { hidden: true });
    errorApi.post(other);
    errorApi.post(refused);
    expect(toastApi.post).toHaveBeenCalledTimes(1);
    expect(alertApi.post).toHaveBeenCalledTimes(1);
    expect(seen).toEqual([
      { error: refused, context: { hidden: true } },
      { error: other, context: undefined },
      { error: refused, context: undefined },
    ]);
  });

  it('shows something for a rejection that is not an Error', () => {
    const { alertApi, errorApi } = setup(false);
    errorApi.post('just a string' as never);
    errorApi.post(null as never);
    expect(alertApi.post.mock.calls).toEqual([
      [{ message: 'just a string', severity: 'error' }],
      [{ message: 'null', severity: 'error' }],
    ]);
  });
});
