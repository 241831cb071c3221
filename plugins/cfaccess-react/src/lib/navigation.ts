/**
 * Every full-page navigation this package performs goes through this object,
 * so that tests (and unusual hosts) can observe or replace it.
 *
 * Cloudflare Access only intercepts navigations, never `fetch`, so recovering
 * an Access session always means letting the browser load a page.
 *
 * @internal
 */
export const navigation = {
  /** Navigates the whole page to `url` (relative URLs resolve against the page). */
  navigateTo(url: string): void {
    window.location.assign(url);
  },
  /** Reloads the current page. */
  reloadPage(): void {
    window.location.reload();
  },
  /** The URL of the current page. */
  currentUrl(): string {
    return window.location.href;
  },
};

/**
 * Resolves a possibly relative URL against the current page.
 *
 * @internal
 */
export function resolveUrl(url: string): string {
  return new URL(url, navigation.currentUrl()).toString();
}
