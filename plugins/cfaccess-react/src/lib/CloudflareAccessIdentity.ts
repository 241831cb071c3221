import type {
  BackstageUserIdentity,
  IdentityApi,
  ProfileInfo,
} from '@backstage/core-plugin-api';
import { classifyRefreshError } from './errors';
import { navigation, resolveUrl } from './navigation';
import { claimAutoReload, clearAutoReloadMarker } from './reloadGuard';

/**
 * The message of the error that replaces a failed token renewal when the
 * Cloudflare Access session is gone and the page was already reloaded once.
 *
 * @internal
 */
export const SESSION_EXPIRED_MESSAGE =
  'Your Cloudflare Access session has expired. Reload the page to sign in again.';

/** @internal */
export type CloudflareAccessIdentityOptions = {
  /** Where to send the browser after sign-out; resolved against the page. */
  logoutUrl: string;
};

/**
 * Wraps the identity produced by `ProxiedSignInPage` so that it
 *
 * - ends the Cloudflare Access session on sign-out: after the wrapped
 *   identity's own `signOut()`, the browser navigates to the Access logout
 *   URL. The returned promise then never settles, on purpose: the app's
 *   identity proxy would otherwise navigate to the app root right after, and
 *   that later navigation would cancel the logout navigation;
 * - recovers when a later token renewal fails because the Access session is
 *   gone (network failure or 401): it reloads the page once, guarded against
 *   loops, so that Access can sign the user in again. While the reload is
 *   under way the call never settles, so the app shows no error for a page
 *   that is going away. If a reload already happened recently, the call fails
 *   with an error that says what happened and what to do.
 *
 * @internal
 */
export class CloudflareAccessIdentity implements IdentityApi {
  readonly #inner: IdentityApi;
  readonly #options: CloudflareAccessIdentityOptions;

  constructor(inner: IdentityApi, options: CloudflareAccessIdentityOptions) {
    this.#inner = inner;
    this.#options = options;
  }

  getProfileInfo(): Promise<ProfileInfo> {
    return this.#recover(() => this.#inner.getProfileInfo());
  }

  getBackstageIdentity(): Promise<BackstageUserIdentity> {
    return this.#recover(() => this.#inner.getBackstageIdentity());
  }

  getCredentials(): Promise<{ token?: string }> {
    return this.#recover(() => this.#inner.getCredentials());
  }

  async signOut(): Promise<void> {
    await this.#inner.signOut();
    clearAutoReloadMarker();
    navigation.navigateTo(resolveUrl(this.#options.logoutUrl));
    await new Promise<never>(() => {});
  }

  async #recover<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      const kind = classifyRefreshError(error);
      if (kind !== 'network' && kind !== 'unauthorized') {
        throw error;
      }
      if (claimAutoReload()) {
        navigation.reloadPage();
        return new Promise<never>(() => {});
      }
      throw new Error(SESSION_EXPIRED_MESSAGE, { cause: error });
    }
  }
}
