import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ConfigReader } from '@backstage/core-app-api';
import {
  coreExtensionData,
  createExtension,
  createFrontendPlugin,
  errorApiRef,
  type FrontendFeature,
  useApi,
} from '@backstage/frontend-plugin-api';
import { createApp } from '@backstage/frontend-defaults';
import { registerMswTestHooks } from '@backstage/frontend-test-utils';
import {
  BACKEND_BASE_URL,
  mockNavigation,
  refreshOk,
  server,
} from '../__testUtils__/refresh';
import { refusalBody, scaffolderError } from '../__testUtils__/refusal';
import {
  cloudflareAccessRefusalAdviceModule,
  cloudflareAccessSignInModule,
} from '../alpha';

registerMswTestHooks(server);

/** A page that fails like the scaffolder's "Create" on a refused POST /v2/tasks. */
function CreatePage() {
  const errorApi = useApi(errorApiRef);
  return (
    <button onClick={() => errorApi.post(scaffolderError())}>Create</button>
  );
}

const testPlugin = createFrontendPlugin({
  pluginId: 'test',
  extensions: [
    createExtension({
      name: 'create',
      attachTo: { id: 'app/routes', input: 'routes' },
      output: [coreExtensionData.reactElement, coreExtensionData.routePath],
      factory: () => [
        coreExtensionData.reactElement(<CreatePage />),
        coreExtensionData.routePath('/'),
      ],
    }),
  ],
});

function renderApp(features: FrontendFeature[]) {
  const app = createApp({
    features: [cloudflareAccessSignInModule, ...features, testPlugin],
    advanced: {
      configLoader: async () => ({
        config: ConfigReader.fromConfigs([
          {
            context: 'test',
            data: {
              app: { baseUrl: 'http://localhost' },
              backend: { baseUrl: BACKEND_BASE_URL },
            },
          },
        ]),
      }),
    },
  });
  return render(app.createRoot());
}

async function clickCreate() {
  // The first render of a whole app can take longer than findBy's default second.
  await userEvent.click(
    await screen.findByRole('button', { name: 'Create' }, { timeout: 10_000 }),
  );
}

describe('cloudflareAccessRefusalAdviceModule', () => {
  beforeEach(() => {
    window.sessionStorage.clear();
    mockNavigation();
    jest.spyOn(console, 'warn').mockImplementation(() => {});
    server.use(refreshOk());
  });

  afterEach(() => jest.restoreAllMocks());

  it('is a module for the app plugin', () => {
    expect(cloudflareAccessRefusalAdviceModule).toMatchObject({
      $$type: '@backstage/FrontendModule',
      pluginId: 'app',
    });
  });

  it('without it, the app shows the raw error', async () => {
    renderApp([]);
    await clickCreate();
    expect(
      await screen.findByText(/^Backend request failed, 403 Forbidden \{/),
    ).toBeInTheDocument();
  });

  it('shows a posted refusal as advice naming the posture check', async () => {
    renderApp([cloudflareAccessRefusalAdviceModule]);
    await clickCreate();

    expect(
      await screen.findByText(
        'This device did not pass the check “Disk encryption”',
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByText(
        /^This action is only allowed from a device that passes it\. Use a device your organisation manages/,
      ),
    ).toBeInTheDocument();
    expect(
      screen.queryByText(/Backend request failed/),
    ).not.toBeInTheDocument();
  });

  it('shows the advice for a refusal nobody handled', async () => {
    renderApp([cloudflareAccessRefusalAdviceModule]);
    await screen.findByRole('button', { name: 'Create' }, { timeout: 10_000 });

    const event = new Event('unhandledrejection');
    Object.assign(event, {
      reason: scaffolderError(refusalBody('warp_required', null)),
    });
    act(() => {
      window.dispatchEvent(event);
    });

    expect(
      await screen.findByText('Turn on Cloudflare WARP and try again'),
    ).toBeInTheDocument();
  });
});
