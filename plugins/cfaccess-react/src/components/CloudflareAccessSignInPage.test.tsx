import { useEffect, useState } from 'react';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import {
  discoveryApiRef,
  identityApiRef,
  useApi,
  type IdentityApi,
} from '@backstage/core-plugin-api';
import {
  mockApis,
  registerMswTestHooks,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import {
  BACKEND_BASE_URL,
  mockNavigation,
  readReloadMarker,
  refreshNetworkError,
  refreshOk,
  refreshStatus,
  refreshUrl,
  refreshUserNotFound,
  server,
  sessionBody,
  USER_NOT_FOUND_MESSAGE,
} from '../__testUtils__/refresh';
import { RELOAD_MARKER_KEY } from '../lib/reloadGuard';
import {
  CloudflareAccessSignInPage,
  type CloudflareAccessSignInPageProps,
} from './CloudflareAccessSignInPage';

registerMswTestHooks(server);

const discoveryApi = mockApis.discovery({ baseUrl: BACKEND_BASE_URL });

async function renderPage(
  props: Partial<CloudflareAccessSignInPageProps> = {},
) {
  const onSignInSuccess = jest.fn<void, [IdentityApi]>();
  const result = await renderInTestApp(
    <TestApiProvider apis={[[discoveryApiRef, discoveryApi]]}>
      <CloudflareAccessSignInPage
        onSignInSuccess={onSignInSuccess}
        {...props}
      />
    </TestApiProvider>,
  );
  return { onSignInSuccess, ...result };
}

async function signedInIdentity(onSignInSuccess: jest.Mock) {
  await waitFor(() => expect(onSignInSuccess).toHaveBeenCalledTimes(1));
  return onSignInSuccess.mock.calls[0][0] as IdentityApi;
}

const flush = () => new Promise(resolve => setTimeout(resolve, 0));

describe('CloudflareAccessSignInPage', () => {
  let nav: ReturnType<typeof mockNavigation>;

  beforeEach(() => {
    window.sessionStorage.clear();
    nav = mockNavigation();
  });

  afterEach(() => jest.restoreAllMocks());

  it('hands the signed-in identity to the app', async () => {
    const requests: Request[] = [];
    server.use(
      http.get(refreshUrl(), ({ request }) => {
        requests.push(request);
        return HttpResponse.json(sessionBody());
      }),
    );
    window.sessionStorage.setItem(RELOAD_MARKER_KEY, String(Date.now()));

    const { onSignInSuccess } = await renderPage();
    const identity = await signedInIdentity(onSignInSuccess);

    expect(requests.map(r => r.url)).toEqual([refreshUrl('cfaccess')]);
    expect(requests[0].headers.get('x-requested-with')).toBe('XMLHttpRequest');
    await expect(identity.getProfileInfo()).resolves.toEqual({
      email: 'jane.doe@example.com',
      displayName: 'Jane Doe',
    });
    await expect(identity.getBackstageIdentity()).resolves.toEqual({
      type: 'user',
      userEntityRef: 'user:default/jane.doe',
      ownershipEntityRefs: ['user:default/jane.doe', 'group:default/team-a'],
    });
    await expect(identity.getCredentials()).resolves.toEqual({
      token: expect.stringMatching(/^[\w-]+\.[\w-]+\.signature$/),
    });
    // A successful sign-in forgets any earlier automatic reload.
    expect(readReloadMarker()).toBeNull();
    expect(nav.reloadPage).not.toHaveBeenCalled();
    expect(nav.navigateTo).not.toHaveBeenCalled();
  });

  it('uses a custom provider id and sends custom headers', async () => {
    let seenHeader: string | null = null;
    server.use(
      http.get(refreshUrl('my-access'), ({ request }) => {
        seenHeader = request.headers.get('x-extra');
        return HttpResponse.json(sessionBody());
      }),
    );

    const { onSignInSuccess } = await renderPage({
      provider: 'my-access',
      headers: { 'x-extra': 'yes' },
    });
    const identity = await signedInIdentity(onSignInSuccess);
    await expect(identity.getBackstageIdentity()).resolves.toMatchObject({
      userEntityRef: 'user:default/jane.doe',
    });
    expect(seenHeader).toBe('yes');
  });

  it('explains a 401 and signs in again through Access with a full-page navigation', async () => {
    server.use(refreshStatus(401, 'Missing Cloudflare Access token'));
    const { onSignInSuccess } = await renderPage();

    expect(
      await screen.findByRole('heading', {
        name: 'Sign in through Cloudflare Access',
      }),
    ).toBeInTheDocument();
    expect(
      screen.getByText(/did not come through Cloudflare Access/),
    ).toBeInTheDocument();
    expect(nav.navigateTo).not.toHaveBeenCalled();
    expect(nav.reloadPage).not.toHaveBeenCalled();

    await userEvent.click(
      screen.getByRole('button', { name: 'Sign in with Cloudflare Access' }),
    );
    expect(nav.navigateTo).toHaveBeenCalledTimes(1);
    expect(nav.navigateTo).toHaveBeenCalledWith(window.location.href);
    expect(onSignInSuccess).not.toHaveBeenCalled();
  });

  it.each([
    [undefined, 'http://localhost/cdn-cgi/access/logout'],
    ['/custom/logout', 'http://localhost/custom/logout'],
  ])(
    'says that Backstage has no user for the person, and signs out of Access from there (logoutUrl=%s)',
    async (logoutUrl, expected) => {
      server.use(refreshUserNotFound());
      window.sessionStorage.setItem(RELOAD_MARKER_KEY, String(Date.now()));
      const { onSignInSuccess } = await renderPage({ logoutUrl });

      expect(
        await screen.findByRole('heading', {
          name: 'No Backstage user for your Cloudflare Access sign-in',
        }),
      ).toBeInTheDocument();
      expect(screen.getByText(USER_NOT_FOUND_MESSAGE)).toBeInTheDocument();
      await flush();
      expect(nav.reloadPage).not.toHaveBeenCalled();
      expect(nav.navigateTo).not.toHaveBeenCalled();

      await userEvent.click(
        screen.getByRole('button', { name: 'Sign out of Cloudflare Access' }),
      );
      expect(nav.navigateTo).toHaveBeenCalledTimes(1);
      expect(nav.navigateTo).toHaveBeenCalledWith(expected);
      expect(readReloadMarker()).toBeNull();
      expect(onSignInSuccess).not.toHaveBeenCalled();
    },
  );

  it('reloads once automatically when the refresh fails at the network level', async () => {
    server.use(refreshNetworkError());
    const { onSignInSuccess } = await renderPage();

    await waitFor(() => expect(nav.reloadPage).toHaveBeenCalledTimes(1));
    expect(
      screen.getByText(/Reconnecting to Cloudflare Access/),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('heading', {
        name: 'Your Cloudflare Access session has expired',
      }),
    ).not.toBeInTheDocument();
    expect(Number(readReloadMarker())).toBeGreaterThan(Date.now() - 5_000);
    expect(onSignInSuccess).not.toHaveBeenCalled();
  });

  it('shows the expired session instead of reloading again right after an automatic reload', async () => {
    server.use(refreshNetworkError());
    // The previous page load reloaded automatically a moment ago.
    window.sessionStorage.setItem(
      RELOAD_MARKER_KEY,
      String(Date.now() - 2_000),
    );

    await renderPage();

    expect(
      await screen.findByRole('heading', {
        name: 'Your Cloudflare Access session has expired',
      }),
    ).toBeInTheDocument();
    await flush();
    expect(nav.reloadPage).not.toHaveBeenCalled();

    await userEvent.click(screen.getByRole('button', { name: 'Reload page' }));
    expect(nav.reloadPage).toHaveBeenCalledTimes(1);
  });

  it('reloads automatically again once the guard window has passed', async () => {
    server.use(refreshNetworkError());
    window.sessionStorage.setItem(
      RELOAD_MARKER_KEY,
      String(Date.now() - 5 * 60_000),
    );
    await renderPage();
    await waitFor(() => expect(nav.reloadPage).toHaveBeenCalledTimes(1));
  });

  it.each([
    [503, 'Unable to fetch Cloudflare Access signing keys'],
    [500, 'Something broke'],
  ])(
    'shows an error panel with the message for a %s',
    async (status, message) => {
      server.use(refreshStatus(status, message));
      await renderPage();

      expect(
        await screen.findByText(
          `Error: Could not sign in with Cloudflare Access: ${message} (Request failed with ${status} ${
            status === 503 ? 'Service Unavailable' : 'Internal Server Error'
          })`,
        ),
      ).toBeInTheDocument();
      expect(
        screen.queryByRole('button', {
          name: /Sign in with Cloudflare Access/,
        }),
      ).not.toBeInTheDocument();
      expect(nav.reloadPage).not.toHaveBeenCalled();
      expect(nav.navigateTo).not.toHaveBeenCalled();

      await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
      expect(nav.reloadPage).toHaveBeenCalledTimes(1);
    },
  );

  it('shows an error panel for a malformed response', async () => {
    server.use(
      http.get(refreshUrl(), () => HttpResponse.json({ profile: 'nope' })),
    );
    await renderPage();
    expect(
      await screen.findByText(/Could not sign in with Cloudflare Access/),
    ).toBeInTheDocument();
    expect(nav.reloadPage).not.toHaveBeenCalled();
  });

  it.each([
    [undefined, 'http://localhost/cdn-cgi/access/logout'],
    ['/custom/logout', 'http://localhost/custom/logout'],
    [
      'https://team.cloudflareaccess.com/cdn-cgi/access/logout',
      'https://team.cloudflareaccess.com/cdn-cgi/access/logout',
    ],
  ])(
    'signs out of Backstage, then navigates to the logout URL (logoutUrl=%s)',
    async (logoutUrl, expected) => {
      server.use(refreshOk());
      const { onSignInSuccess } = await renderPage({ logoutUrl });
      const identity = await signedInIdentity(onSignInSuccess);

      identity.signOut();
      await waitFor(() => expect(nav.navigateTo).toHaveBeenCalledTimes(1));
      expect(nav.navigateTo).toHaveBeenCalledWith(expected);
    },
  );

  it('stops renewing the Backstage session on sign-out', async () => {
    let refreshes = 0;
    server.use(
      http.get(refreshUrl(), () => {
        refreshes += 1;
        return HttpResponse.json(sessionBody({ expiresInSeconds: 60 }));
      }),
    );
    const { onSignInSuccess } = await renderPage();
    const identity = await signedInIdentity(onSignInSuccess);
    expect(refreshes).toBe(1);

    identity.signOut();
    await waitFor(() => expect(nav.navigateTo).toHaveBeenCalled());
    // The short-lived token forces a renewal, which the aborted session refuses.
    await expect(identity.getCredentials()).rejects.toThrow();
    expect(refreshes).toBe(1);
    expect(nav.reloadPage).not.toHaveBeenCalled();
  });

  it('reloads once when token renewal fails later while the app is in use', async () => {
    // Tokens expiring within the renewal margin make every call renew.
    server.use(refreshOk('cfaccess', { expiresInSeconds: 60 }));
    const { onSignInSuccess } = await renderPage();
    const identity = await signedInIdentity(onSignInSuccess);

    server.use(refreshNetworkError());
    const settled = jest.fn();
    identity.getCredentials().then(settled, settled);
    await waitFor(() => expect(nav.reloadPage).toHaveBeenCalledTimes(1));
    await flush();
    expect(settled).not.toHaveBeenCalled();

    // Had that reload not helped, a second failure reports instead of looping.
    await expect(identity.getBackstageIdentity()).rejects.toThrow(
      'Your Cloudflare Access session has expired. Reload the page to sign in again.',
    );
    expect(nav.reloadPage).toHaveBeenCalledTimes(1);
  });
});

describe('CloudflareAccessSignInPage in a legacy app', () => {
  let nav: ReturnType<typeof mockNavigation>;

  beforeEach(() => {
    window.sessionStorage.clear();
    nav = mockNavigation();
  });

  afterEach(() => jest.restoreAllMocks());

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

  it('signs in through createApp({ components: { SignInPage } })', async () => {
    server.use(refreshOk());
    await renderInTestApp(<WhoAmI />, {
      components: {
        SignInPage: props => (
          <TestApiProvider apis={[[discoveryApiRef, discoveryApi]]}>
            <CloudflareAccessSignInPage {...props} />
          </TestApiProvider>
        ),
      },
    });
    expect(
      await screen.findByText('Signed in as user:default/jane.doe'),
    ).toBeInTheDocument();
  });

  it('ends the Access session when the app signs out', async () => {
    server.use(refreshOk());
    await renderInTestApp(<WhoAmI />, {
      components: {
        SignInPage: props => (
          <TestApiProvider apis={[[discoveryApiRef, discoveryApi]]}>
            <CloudflareAccessSignInPage
              {...props}
              logoutUrl="https://backstage.example.com/cdn-cgi/access/logout"
            />
          </TestApiProvider>
        ),
      },
    });
    await screen.findByText('Signed in as user:default/jane.doe');

    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    await waitFor(() =>
      expect(nav.navigateTo).toHaveBeenCalledWith(
        'https://backstage.example.com/cdn-cgi/access/logout',
      ),
    );
    expect(nav.navigateTo).toHaveBeenCalledTimes(1);
  });
});
