/*
 * Round-robin over the backend origins with passive health checks, as a load balancer in front of several
 * Backstage replicas: a backend whose connection failed is skipped for a while, then tried again.
 */
export class BackendPool {
  readonly urls: readonly string[];
  private readonly downUntil = new Map<string, number>();
  private readonly downMs: number;
  private readonly now: () => number;
  private cursor = 0;

  constructor(
    urls: string[],
    options: { downMs?: number; now?: () => number } = {},
  ) {
    if (urls.length === 0) {
      throw new Error('At least one backend URL is required');
    }
    this.urls = [...new Set(urls)];
    this.downMs = options.downMs ?? 5000;
    this.now = options.now ?? Date.now;
  }

  /** Whether the backend is skipped after a failure. */
  isDown(url: string): boolean {
    return (this.downUntil.get(url) ?? 0) > this.now();
  }

  /** Skips the backend for the down period. */
  markDown(url: string): void {
    this.downUntil.set(url, this.now() + this.downMs);
  }

  /**
   * The next backend in turn that is not excluded: a healthy one, or when all are down the next anyway
   * (so a recovered pool is noticed); undefined when every backend is excluded.
   */
  next(exclude: ReadonlySet<string> = new Set()): string | undefined {
    const n = this.urls.length;
    const order = this.urls.map((_, i) => (this.cursor + i) % n);
    const candidates = order.filter(i => !exclude.has(this.urls[i]));
    const index =
      candidates.find(i => !this.isDown(this.urls[i])) ?? candidates[0];
    if (index === undefined) {
      return undefined;
    }
    this.cursor = (index + 1) % n;
    return this.urls[index];
  }
}
