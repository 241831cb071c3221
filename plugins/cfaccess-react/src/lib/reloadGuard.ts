/**
 * Guards the automatic page reload that recovers an expired Cloudflare Access
 * session against reload loops.
 *
 * Before reloading, a timestamp is written to `sessionStorage` (which survives
 * reloads of the same tab). If another automatic reload is requested while a
 * recent marker exists, it is refused and the caller shows a page instead.
 * The marker is cleared on a successful sign-in and on sign-out.
 */

/** @internal */
export const RELOAD_MARKER_KEY =
  '@cfaccess/plugin-cfaccess-react:auto-reload-at';

/** @internal */
export const RELOAD_GUARD_WINDOW_MS = 30_000;

function getStorage(): Storage | undefined {
  try {
    return window.sessionStorage ?? undefined;
  } catch {
    // Storage can be disabled (privacy settings, sandboxed frames).
    return undefined;
  }
}

/**
 * Claims the right to reload the page automatically. Returns true (and records
 * the reload) when no automatic reload happened within the guard window;
 * returns false otherwise, or when the guard cannot be stored, since an
 * unguarded reload could loop forever.
 *
 * @internal
 */
export function claimAutoReload(now: number = Date.now()): boolean {
  const storage = getStorage();
  if (!storage) {
    return false;
  }
  try {
    const raw = storage.getItem(RELOAD_MARKER_KEY);
    const last = raw === null ? NaN : Number(raw);
    if (
      Number.isFinite(last) &&
      Math.abs(now - last) < RELOAD_GUARD_WINDOW_MS
    ) {
      return false;
    }
    storage.setItem(RELOAD_MARKER_KEY, String(now));
    return true;
  } catch {
    return false;
  }
}

/**
 * Forgets any recorded automatic reload.
 *
 * @internal
 */
export function clearAutoReloadMarker(): void {
  try {
    getStorage()?.removeItem(RELOAD_MARKER_KEY);
  } catch {
    // Nothing to clear if storage is unavailable.
  }
}
