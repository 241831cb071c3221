import {
  claimAutoReload,
  clearAutoReloadMarker,
  RELOAD_GUARD_WINDOW_MS,
  RELOAD_MARKER_KEY,
} from './reloadGuard';

describe('reload guard', () => {
  beforeEach(() => window.sessionStorage.clear());

  it('allows the first automatic reload and records it', () => {
    expect(claimAutoReload(1_000_000)).toBe(true);
    expect(window.sessionStorage.getItem(RELOAD_MARKER_KEY)).toBe('1000000');
  });

  it('refuses another automatic reload within the window', () => {
    expect(claimAutoReload(1_000_000)).toBe(true);
    expect(claimAutoReload(1_000_000 + RELOAD_GUARD_WINDOW_MS - 1)).toBe(false);
  });

  it('allows an automatic reload again once the window has passed', () => {
    expect(claimAutoReload(1_000_000)).toBe(true);
    expect(claimAutoReload(1_000_000 + RELOAD_GUARD_WINDOW_MS)).toBe(true);
  });

  it('allows an automatic reload again after the marker is cleared', () => {
    expect(claimAutoReload(1_000_000)).toBe(true);
    clearAutoReloadMarker();
    expect(window.sessionStorage.getItem(RELOAD_MARKER_KEY)).toBeNull();
    expect(claimAutoReload(1_000_001)).toBe(true);
  });

  it('refuses to reload when the marker cannot be stored', () => {
    const setItem = jest
      .spyOn(Storage.prototype, 'setItem')
      .mockImplementation(() => {
        throw new Error('QuotaExceededError');
      });
    try {
      expect(claimAutoReload(1_000_000)).toBe(false);
    } finally {
      setItem.mockRestore();
    }
  });
});
