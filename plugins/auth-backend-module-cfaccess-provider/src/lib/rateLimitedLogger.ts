import { LoggerService } from '@backstage/backend-plugin-api';
import { JsonObject } from '@backstage/types';

/** Logger used when the caller gives none: sign-in must never depend on logging. */
export const noopLogger: LoggerService = {
  error() {},
  warn() {},
  info() {},
  debug() {},
  child() {
    return noopLogger;
  },
};

/**
 * Suppresses repeats of the same warning within a window, so a flood of bad
 * tokens or an Access outage cannot flood the logs. The first repeat after
 * the window reports how many were suppressed.
 */
export class RateLimitedLogger {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: LoggerService,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
    // Bounds memory when keys vary (e.g. per subject).
    private readonly maxKeys = 1000,
  ) {}

  /** `message` and `meta` may be functions, so a suppressed warning costs no formatting. */
  warn(
    key: string,
    message: string | (() => string),
    meta?: JsonObject | (() => JsonObject),
  ) {
    const now = this.now();
    const entry = this.last.get(key);
    if (entry && now - entry.at < this.windowMs) {
      entry.suppressed += 1;
      return;
    }
    if (!entry && this.last.size >= this.maxKeys) {
      const oldest = this.last.keys().next().value;
      if (oldest !== undefined) {
        this.last.delete(oldest);
      }
    }
    const suppressed = entry?.suppressed ?? 0;
    this.last.delete(key);
    this.last.set(key, { at: now, suppressed: 0 });
    const text = typeof message === 'function' ? message() : message;
    this.logger.warn(
      suppressed > 0
        ? `${text} (${suppressed} similar warnings suppressed)`
        : text,
      typeof meta === 'function' ? meta() : meta,
    );
  }
}
