import { useEffect, useState } from 'react';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ConfigReader } from '@backstage/core-app-api';
import {
  coreExtensionData,
  createExtension,
  createFrontendPlugin,
  type FrontendFeature,
  identityApiRef,
  type IdentityApi,
  useApi,
} from '@backstage/frontend-plugin-api';
import { createApp } from '@backstage/frontend-defaults';
import {
  createExtensionTester,
  registerMswTestHooks,
  renderInTestApp,
} from '@backstage/frontend-test-utils';
import { SignInPageBlueprint } from '@backstage/plugin-app-react';
import { http, HttpResponse } from 'msw';
import {
  BACKEND_BASE_URL,
  mockNavigation,
  refreshNetworkError,
  refreshOk,
  refreshUrl,
  server,
  sessionBody,
} from '../__testUtils__/refresh';
import { RELOAD_MARKER_KEY } from '../lib/reloadGuard';
import cloudflareAccessSignInModuleDefault, {
  cloudflareAccessSignInModule,
  createCloudflareAccessSignInModule,
} from '../alpha';
import { createCloudflareAccessSignInPageExtension } from './cloudflareAccessSignInModule';

registerMswTestHooks(server);

function WhoAmI() {
  const identityApi = useApi(identityApiRef);
  const [ref, setRef] = useState<string>();
  useEffect(() => {
    identityApi.getBackstageIdentity().then(i => setRef(i.userEntityRef));
  }, [identityApi]);
  return (
    <div>
      <p>Signed in as {ref ?? '…'}</p>
      <button onClick={() => identityApi.signOut()}>Sign out</button>
    </div>
  );
}

const testPlugin = createFrontendPlugin({
  pluginId: 'test',
  extensions: [
    createExtension({
      name: 'who-am-i',
      attachTo: { id: 'app/routes', input: 'routes' },
      output: [coreExtensionData.reactElement, coreExtensionData.routePath],
      factory: () => [
        coreExtensionData.reactElement(<WhoAmI />),
        coreExtensionData.routePath('/'),
      ],
    }),
  ],
});

const baseConfig = {
  app: { baseUrl: 'http://localhost' },
  backend: { baseUrl: BACKEND_BASE_URL },
};

/** Renders a complete new-frontend-system app, as `createApp` builds it. */
function renderApp(
  features: FrontendFeature[],
  appConfig: Record<string, unknown> = {},
) {
  const app = createApp({
    features: [...features, testPlugin],
    advanced: {
      configLoader: async () => ({
        config: ConfigReader.fromConfigs([
          {
            context: 'test',
            data: { ...baseConfig, app: { ...baseConfig.app, ...appConfig } },
          },
        ]),
      }),
    },
  });
  return render(app.createRoot());
}

describe('cloudflareAccessSignInModule', () => {
  let nav: ReturnType<typeof mockNavigation>;

  beforeEach(() => {
    window.sessionStorage.clear();
    nav = mockNavigation();
  });

  afterEach(() => jest.restoreAllMocks());

  it('is the default export and a module for the app plugin', () => {
    expect(cloudflareAccessSignInModuleDefault).toBe(
      cloudflareAccessSignInModule,
    );
    expect(cloudflareAccessSignInModule).toMatchObject({
      $$type: '@backstage/FrontendModule',
      pluginId: 'app',
    });
  });

  it('signs the user in to a new frontend system app', async () => {
    server.use(refreshOk());
    renderApp([cloudflareAccessSignInModule]);

    // The file's first render of a whole app compiles and mounts every default extension: on a loaded CI
    // machine that alone can take longer than findBy's default second.
    expect(
      await screen.findByText(
        'Signed in as user:default/jane.doe',
        {},
        { timeout: 10_000 },
      ),
    ).toBeInTheDocument();
  });

  it('keeps the app behind the sign-in page until Access is satisfied', async () => {
    server.use(refreshNetworkError());
    window.sessionStorage.setItem(RELOAD_MARKER_KEY, String(Date.now()));
    renderApp([cloudflareAccessSignInModule]);

    expect(
      await screen.findByRole('heading', {
        name: 'Your Cloudflare Access session has expired',
      }),
    ).toBeInTheDocument();
    expect(screen.queryByText(/Signed in as/)).not.toBeInTheDocument();
  });

  it('ends the Access session on sign-out', async () => {
    server.use(refreshOk());
    renderApp([cloudflareAccessSignInModule]);
    await screen.findByText('Signed in as user:default/jane.doe');

    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    await waitFor(() =>
      expect(nav.navigateTo).toHaveBeenCalledWith(
        'http://localhost/cdn-cgi/access/logout',
      ),
    );
    expect(nav.navigateTo).toHaveBeenCalledTimes(1);
  });

  it('takes the provider and logout URL from factory options', async () => {
    server.use(refreshOk('factory-provider'));
    renderApp([
      createCloudflareAccessSignInModule({
        provider: 'factory-provider',
        logoutUrl: '/factory/logout',
      }),
    ]);
    await screen.findByText('Signed in as user:default/jane.doe');

    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    await waitFor(() =>
      expect(nav.navigateTo).toHaveBeenCalledWith(
        'http://localhost/factory/logout',
      ),
    );
  });

  it('lets app config override the provider and logout URL', async () => {
    server.use(refreshOk('config-provider'));
    renderApp(
      [
        createCloudflareAccessSignInModule({
          provider: 'factory-provider',
          logoutUrl: '/factory/logout',
        }),
      ],
      {
        extensions: [
          {
            'sign-in-page:app': {
              config: {
                provider: 'config-provider',
                logoutUrl: 'https://example.com/config/logout',
              },
            },
          },
        ],
      },
    );
    await screen.findByText('Signed in as user:default/jane.doe');

    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    await waitFor(() =>
      expect(nav.navigateTo).toHaveBeenCalledWith(
        'https://example.com/config/logout',
      ),
    );
  });
});

describe('createCloudflareAccessSignInPageExtension', () => {
  beforeEach(() => {
    window.sessionStorage.clear();
    mockNavigation();
  });

  afterEach(() => jest.restoreAllMocks());

  it('outputs a sign-in page that signs in with the configured provider', async () => {
    let requestedUrl: string | undefined;
    server.use(
      http.get(refreshUrl('tester-provider'), ({ request }) => {
        requestedUrl = request.url;
        return HttpResponse.json(sessionBody());
      }),
    );
    const SignInPage = createExtensionTester(
      createCloudflareAccessSignInPageExtension(),
      { config: { provider: 'tester-provider' } },
    ).get(SignInPageBlueprint.dataRefs.component);

    const onSignInSuccess = jest.fn<void, [IdentityApi]>();
    renderInTestApp(<SignInPage onSignInSuccess={onSignInSuccess} />);

    await waitFor(() => expect(onSignInSuccess).toHaveBeenCalledTimes(1));
    expect(requestedUrl).toBe(refreshUrl('tester-provider'));
    await expect(
      onSignInSuccess.mock.calls[0][0].getBackstageIdentity(),
    ).resolves.toMatchObject({ userEntityRef: 'user:default/jane.doe' });
  });

  it('rejects config values that are not strings', () => {
    expect(() =>
      createExtensionTester(createCloudflareAccessSignInPageExtension(), {
        config: { provider: 42 as unknown as string },
      }).get(SignInPageBlueprint.dataRefs.component),
    ).toThrow(/Expected a string, but received number/);
  });
});
