import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { navigation } from '../lib/navigation';
import { RELOAD_MARKER_KEY } from '../lib/reloadGuard';

export const BACKEND_BASE_URL = 'http://localhost:7007';
export const AUTH_BASE_URL = `${BACKEND_BASE_URL}/api/auth`;
export const refreshUrl = (provider = 'cfaccess') =>
  `${AUTH_BASE_URL}/${provider}/refresh`;

function base64Url(value: object): string {
  return window
    .btoa(JSON.stringify(value))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** A Backstage token (unsigned; the frontend only reads `exp`). */
export function backstageToken(options: { expiresInSeconds?: number } = {}) {
  const { expiresInSeconds = 3600 } = options;
  const exp = Math.floor(Date.now() / 1000) + expiresInSeconds;
  return `${base64Url({ alg: 'ES256', typ: 'vnd.backstage.user' })}.${base64Url(
    { sub: 'user:default/jane.doe', exp },
  )}.signature`;
}

export function sessionBody(options: { expiresInSeconds?: number } = {}) {
  return {
    profile: {
      email: 'jane.doe@example.com',
      displayName: 'Jane Doe',
    },
    providerInfo: {},
    backstageIdentity: {
      token: backstageToken(options),
      identity: {
        type: 'user',
        userEntityRef: 'user:default/jane.doe',
        ownershipEntityRefs: ['user:default/jane.doe', 'group:default/team-a'],
      },
    },
  };
}

export const refreshOk = (
  provider = 'cfaccess',
  options: { expiresInSeconds?: number } = {},
) =>
  http.get(refreshUrl(provider), () => HttpResponse.json(sessionBody(options)));

export const refreshStatus = (status: number, message: string) =>
  http.get(refreshUrl(), () =>
    HttpResponse.json(
      { error: { name: 'Error', message }, response: { statusCode: status } },
      { status },
    ),
  );

/** The backend's answer when Access signed the person in but the catalog has no user for them. */
export const USER_NOT_FOUND_MESSAGE =
  'Cloudflare Access signed you in as alice@example.com, but Backstage has no user for that email; ask your Backstage admin (sign-in resolvers tried: emailMatchingUserEntityProfileEmail)';

export const refreshUserNotFound = () =>
  http.get(refreshUrl(), () =>
    HttpResponse.json(
      {
        error: {
          name: 'NotAllowedError',
          message: USER_NOT_FOUND_MESSAGE,
          reason: 'user_not_found',
        },
        request: { method: 'GET', url: '/api/auth/cfaccess/refresh' },
        response: { statusCode: 403 },
      },
      { status: 403 },
    ),
  );

/** What the browser sees when Access redirects a fetch to its login page. */
export const refreshNetworkError = () =>
  http.get(refreshUrl(), () => HttpResponse.error());

export const server = setupServer();

export function mockNavigation() {
  return {
    navigateTo: jest
      .spyOn(navigation, 'navigateTo')
      .mockImplementation(() => {}),
    reloadPage: jest
      .spyOn(navigation, 'reloadPage')
      .mockImplementation(() => {}),
  };
}

export function readReloadMarker() {
  return window.sessionStorage.getItem(RELOAD_MARKER_KEY);
}
