/*
 * Counts of the requests Access answers for applications (certs, get-identity), so tests and benchmarks can
 * prove how often a backend calls out: e.g. one identity fetch per session across replicas.
 */
export interface EmulatorStats {
  /** Requests to /cdn-cgi/access/certs, including those answered with a fault. */
  certsRequests: number;
  /** Requests to /cdn-cgi/access/get-identity, including those answered with a fault. */
  identityRequests: number;
}

export class RequestStats {
  private counts: EmulatorStats = { certsRequests: 0, identityRequests: 0 };

  count(key: keyof EmulatorStats): void {
    this.counts[key] += 1;
  }

  get(): EmulatorStats {
    return { ...this.counts };
  }

  reset(): void {
    this.counts = { certsRequests: 0, identityRequests: 0 };
  }
}
