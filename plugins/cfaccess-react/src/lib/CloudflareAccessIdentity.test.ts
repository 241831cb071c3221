import type { IdentityApi } from '@backstage/core-plugin-api';
import { mockNavigation } from '../__testUtils__/refresh';
import {
  CloudflareAccessIdentity,
  SESSION_EXPIRED_MESSAGE,
} from './CloudflareAccessIdentity';
import { RELOAD_MARKER_KEY } from './reloadGuard';

function mockInner(overrides: Partial<IdentityApi> = {}) {
  return {
    getProfileInfo: jest.fn(async () => ({ email: 'jane.doe@example.com' })),
    getBackstageIdentity: jest.fn(async () => ({
      type: 'user' as const,
      userEntityRef: 'user:default/jane.doe',
      ownershipEntityRefs: ['user:default/jane.doe'],
    })),
    getCredentials: jest.fn(async () => ({ token: 'token' })),
    signOut: jest.fn(async () => {}),
    ...overrides,
  };
}

const flush = () => new Promise(resolve => setTimeout(resolve, 0));

describe('CloudflareAccessIdentity', () => {
  let nav: ReturnType<typeof mockNavigation>;

  beforeEach(() => {
    window.sessionStorage.clear();
    nav = mockNavigation();
  });

  afterEach(() => jest.restoreAllMocks());

  it('passes identity calls through', async () => {
    const inner = mockInner();
    const identity = new CloudflareAccessIdentity(inner, {
      logoutUrl: '/cdn-cgi/access/logout',
    });
    await expect(identity.getProfileInfo()).resolves.toEqual({
      email: 'jane.doe@example.com',
    });
    await expect(identity.getBackstageIdentity()).resolves.toMatchObject({
      userEntityRef: 'user:default/jane.doe',
    });
    await expect(identity.getCredentials()).resolves.toEqual({
      token: 'token',
    });
    expect(nav.reloadPage).not.toHaveBeenCalled();
  });

  it('signs out of Backstage first, then navigates to the Access logout URL', async () => {
    let releaseSignOut = () => {};
    const inner = mockInner({
      signOut: jest.fn(
        () =>
          new Promise<void>(resolve => {
            releaseSignOut = resolve;
          }),
      ),
    });
    const identity = new CloudflareAccessIdentity(inner, {
      logoutUrl: '/cdn-cgi/access/logout',
    });
    window.sessionStorage.setItem(RELOAD_MARKER_KEY, String(Date.now()));

    const settled = jest.fn();
    identity.signOut().then(settled, settled);
    await flush();
    expect(inner.signOut).toHaveBeenCalledTimes(1);
    expect(nav.navigateTo).not.toHaveBeenCalled();

    releaseSignOut();
    await flush();
    expect(nav.navigateTo).toHaveBeenCalledTimes(1);
    expect(nav.navigateTo).toHaveBeenCalledWith(
      'http://localhost/cdn-cgi/access/logout',
    );
    expect(window.sessionStorage.getItem(RELOAD_MARKER_KEY)).toBeNull();
    // Never settles, so the app's own post-sign-out navigation cannot
    // cancel the logout navigation.
    expect(settled).not.toHaveBeenCalled();
  });

  it('navigates to a custom absolute logout URL', async () => {
    const identity = new CloudflareAccessIdentity(mockInner(), {
      logoutUrl: 'https://backstage.example.com/cdn-cgi/access/logout?x=1',
    });
    identity.signOut();
    await flush();
    expect(nav.navigateTo).toHaveBeenCalledWith(
      'https://backstage.example.com/cdn-cgi/access/logout?x=1',
    );
  });

  it('does not navigate when Backstage sign-out fails', async () => {
    const identity = new CloudflareAccessIdentity(
      mockInner({
        signOut: jest.fn(async () => Promise.reject(new Error('nope'))),
      }),
      { logoutUrl: '/cdn-cgi/access/logout' },
    );
    await expect(identity.signOut()).rejects.toThrow('nope');
    expect(nav.navigateTo).not.toHaveBeenCalled();
  });

  it('reloads the page once when renewal fails at the network level, then reports the expired session', async () => {
    const inner = mockInner({
      getCredentials: jest.fn(async () =>
        Promise.reject(new TypeError('Failed to fetch')),
      ),
    });
    const identity = new CloudflareAccessIdentity(inner, {
      logoutUrl: '/cdn-cgi/access/logout',
    });

    const first = jest.fn();
    identity.getCredentials().then(first, first);
    await flush();
    expect(nav.reloadPage).toHaveBeenCalledTimes(1);
    expect(first).not.toHaveBeenCalled();

    // Same tab, within the guard window: no second reload.
    const error = await identity.getCredentials().catch(e => e);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe(SESSION_EXPIRED_MESSAGE);
    expect(error.cause).toBeInstanceOf(TypeError);
    expect(nav.reloadPage).toHaveBeenCalledTimes(1);
  });

  it('passes other renewal errors through untouched', async () => {
    const original = new Error('Request failed with 503 Service Unavailable');
    const identity = new CloudflareAccessIdentity(
      mockInner({
        getBackstageIdentity: jest.fn(async () => Promise.reject(original)),
      }),
      { logoutUrl: '/cdn-cgi/access/logout' },
    );
    await expect(identity.getBackstageIdentity()).rejects.toBe(original);
    expect(nav.reloadPage).not.toHaveBeenCalled();
  });
});
