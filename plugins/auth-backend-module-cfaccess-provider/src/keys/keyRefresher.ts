import { errorText } from '../lib/errorText';
import { RateLimitedLogger } from '../lib/rateLimitedLogger';
import { KeyCache } from './keyCache';

/** A scheduled callback that can be cancelled. */
export type TimerHandle = { cancel(): void };

/**
 * Schedules a callback; injectable so tests drive time instead of sleeping.
 * The callback's promise (it never rejects) lets a test await the run.
 */
export type SetTimer = (
  callback: () => Promise<void> | void,
  delayMs: number,
) => TimerHandle;

/** Real timers that never keep the process (or a jest worker) alive. */
export const unrefTimer: SetTimer = (callback, delayMs) => {
  const timer = setTimeout(callback, delayMs);
  timer.unref?.();
  return { cancel: () => clearTimeout(timer) };
};

export type KeyRefresherOptions = {
  keyCache: Pick<KeyCache, 'tryRefresh' | 'keysFetchedAt'>;
  certsUrl: string;
  cacheMaxAgeMs: number;
  /** Delay before retrying after a failed fetch (the jwks cooldown). */
  retryMs: number;
  logger: RateLimitedLogger;
  now?: () => number;
  setTimer?: SetTimer;
};

/**
 * Refetch at this fraction of `cacheMaxAgeMs` after a fetch: early enough
 * that a slow or failed refetch still leaves the keys fresh for a while.
 */
const REFRESH_AT_FRACTION = 0.8;
// Never reschedule tighter than this, whatever the clock does.
const MIN_DELAY_MS = 1000;

/**
 * Fetches the signing keys at startup and again before they stop being
 * fresh, so no sign-in waits for the certs endpoint.
 *
 * - Refetches at REFRESH_AT_FRACTION of `cacheMaxAgeMs` after the last
 *   successful fetch, whoever made it (a request-path refetch postpones the
 *   next background one); fetches are single-flight with the request path.
 * - A failure is logged (rate-limited), leaves the last good keys serving
 *   under the usual stale rules, and is retried after `retryMs`.
 * - Its timer is unref'd and `stop()` cancels it, for backend shutdown.
 */
export class KeyRefresher {
  private timer?: TimerHandle;
  private stopped = false;
  private started?: Promise<void>;
  private readonly now: () => number;
  private readonly setTimer: SetTimer;

  constructor(private readonly options: KeyRefresherOptions) {
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? unrefTimer;
  }

  /** Fetches now (the prefetch) and schedules the next refresh. Never throws. */
  start(): Promise<void> {
    this.started ??= this.run();
    return this.started;
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Milliseconds until the keys in use are due for a refresh; 0 when due or absent. */
  private dueInMs(): number {
    const fetchedAt = this.options.keyCache.keysFetchedAt;
    if (fetchedAt === undefined) {
      return 0;
    }
    return Math.max(
      0,
      fetchedAt + REFRESH_AT_FRACTION * this.options.cacheMaxAgeMs - this.now(),
    );
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) {
      return;
    }
    let delay = this.dueInMs();
    if (delay === 0) {
      const result = await this.options.keyCache.tryRefresh();
      if (this.stopped) {
        return;
      }
      if (result.ok) {
        delay = Math.max(MIN_DELAY_MS, this.dueInMs());
      } else {
        delay = Math.max(MIN_DELAY_MS, this.options.retryMs);
        this.warnFailure(result.error, delay);
      }
    }
    this.timer = this.setTimer(() => this.run(), delay);
  }

  private warnFailure(error: unknown, retryInMs: number) {
    const fetchedAt = this.options.keyCache.keysFetchedAt;
    const serving =
      fetchedAt === undefined
        ? 'no keys yet, sign-ins retry on their own'
        : `keys fetched ${Math.round(
            (this.now() - fetchedAt) / 1000,
          )}s ago keep serving while within their stale window`;
    try {
      this.options.logger.warn(
        'key-refresh',
        `Could not refresh Cloudflare Access signing keys from ${
          this.options.certsUrl
        } (${serving}); retrying in ${Math.round(
          retryInMs / 1000,
        )}s: ${errorText(error)}`,
      );
    } catch {
      // Logging must never stop the refresh loop.
    }
  }
}
