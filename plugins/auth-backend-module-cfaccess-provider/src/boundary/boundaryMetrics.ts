import { Counter, metrics } from '@opentelemetry/api';

export const boundaryMetricName = 'cfaccess.boundary.requests';

/** The boundary's one counter: each request by outcome, with how it passed or why not. */
export class BoundaryMetrics {
  private readonly counter: Counter;
  private readonly sets = new Map<string, Readonly<Record<string, string>>>();

  constructor(
    meter = metrics.getMeter(
      '@cfaccess/plugin-auth-backend-module-cfaccess-provider',
    ),
  ) {
    this.counter = meter.createCounter(boundaryMetricName, {
      description:
        'Requests seen by the Cloudflare Access boundary: passed (by how), refused or (in report mode) reported (by reason)',
    });
  }

  record(outcome: 'passed' | 'refused' | 'reported', detail: string): void {
    const key = `${outcome}:${detail}`;
    let attributes = this.sets.get(key);
    if (!attributes) {
      const made: Record<string, string> =
        outcome === 'passed'
          ? { outcome, via: detail }
          : { outcome, reason: detail };
      attributes = Object.freeze(made);
      this.sets.set(key, attributes);
    }
    this.counter.add(1, attributes);
  }
}
