/*
 * Round-robin over the backend origins with passive health checks, as a load
 * balancer in front of several Backstage replicas: a backend whose connection
 * failed is skipped for a while, then tried again.
 */

/** How long a backend whose connection failed is skipped, by default. */
export const DEFAULT_BACKEND_DOWN_MS = 5000;

export interface BackendPoolOptions {
  /** How long a failed backend is skipped. Default {@link DEFAULT_BACKEND_DOWN_MS}. */
  downMs?: number;
  /** For tests: clock in ms. */
  now?: () => number;
}

export class BackendPool {
  readonly urls: readonly string[];
  private readonly downUntil = new Map<string, number>();
  private readonly downMs: number;
  private readonly now: () => number;
  private cursor = 0;

  constructor(urls: string[], options: BackendPoolOptions = {}) {
    if (urls.length === 0) {
      throw new Error('At least one backend URL is required');
    }
    this.urls = [...new Set(urls)];
    this.downMs = options.downMs ?? DEFAULT_BACKEND_DOWN_MS;
    this.now = options.now ?? Date.now;
  }

  /** Whether the backend is currently skipped after a failure. */
  isDown(url: string): boolean {
    const until = this.downUntil.get(url);
    if (until === undefined) {
      return false;
    }
    if (until <= this.now()) {
      this.downUntil.delete(url);
      return false;
    }
    return true;
  }

  /** Skips the backend for the down period. */
  markDown(url: string): void {
    this.downUntil.set(url, this.now() + this.downMs);
  }

  /**
   * The next backend in turn: healthy ones first; when every candidate is
   * down, the next candidate anyway (so a recovered pool is noticed).
   * Returns undefined when every backend is excluded.
   */
  next(exclude: ReadonlySet<string> = new Set()): string | undefined {
    const n = this.urls.length;
    let fallback: number | undefined;
    for (let i = 0; i < n; i++) {
      const index = (this.cursor + i) % n;
      const url = this.urls[index];
      if (exclude.has(url)) {
        continue;
      }
      if (!this.isDown(url)) {
        this.cursor = (index + 1) % n;
        return url;
      }
      fallback ??= index;
    }
    if (fallback === undefined) {
      return undefined;
    }
    this.cursor = (fallback + 1) % n;
    return this.urls[fallback];
  }
}
