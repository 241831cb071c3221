/*
 * One autocannon run against /api/auth/cfaccess/refresh with a fixed mix of request kinds. Each request
 * takes the next slot of the mix (e.g. 9 valid sessions, 1 invalid token), and each response is checked
 * against what its kind must get, exactly. Counts per kind: sent, expected, unexpected (by status), 5xx.
 */
import autocannon from 'autocannon';
import { REFRESH_PATH } from '../processes/http';

export interface RequestKind {
  name: string;
  /** Headers for the i-th request of this kind. */
  headers(i: number): { headers: Record<string, string>; expect: string };
  /** Whether the response is exactly what this kind must get. */
  check(
    status: number,
    headers: Record<string, string>,
    body: string,
    expect: string,
  ): boolean;
}

export interface KindCounts {
  responses: number;
  expected: number;
  unexpected: Record<string, number>;
  serverErrors: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  timeouts: number;
  kinds: Record<string, KindCounts>;
}

interface Context {
  kind?: RequestKind;
  expect?: string;
}

function lowerKeys(headers: Record<string, unknown>) {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    out[k.toLowerCase()] = String(v);
  }
  return out;
}

export async function runLoad(options: {
  url: string;
  seconds: number;
  connections: number;
  /** The kinds in order; the mix repeats. */
  mix: RequestKind[];
  /** Requests per second across all connections (default: as fast as possible). */
  overallRate?: number;
}): Promise<LoadResult> {
  const kinds: Record<string, KindCounts> = {};
  const perKind = new Map<string, number>();
  for (const kind of options.mix) {
    kinds[kind.name] ??= {
      responses: 0,
      expected: 0,
      unexpected: {},
      serverErrors: 0,
    };
  }
  let slot = 0;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    overallRate: options.overallRate,
    timeout: 10,
    requests: [
      {
        method: 'GET',
        path: REFRESH_PATH,
        setupRequest: (req: any, context: Context) => {
          const kind = options.mix[slot++ % options.mix.length];
          const i = perKind.get(kind.name) ?? 0;
          perKind.set(kind.name, i + 1);
          const { headers, expect } = kind.headers(i);
          context.kind = kind;
          context.expect = expect;
          return {
            ...req,
            headers: {
              accept: 'application/json',
              'x-requested-with': 'XMLHttpRequest',
              ...headers,
            },
          };
        },
        onResponse: (
          status: number,
          body: string,
          context: Context,
          headers: Record<string, unknown>,
        ) => {
          const kind = context.kind;
          if (!kind) {
            return;
          }
          const counts = kinds[kind.name];
          counts.responses += 1;
          if (status >= 500) {
            counts.serverErrors += 1;
          }
          if (kind.check(status, lowerKeys(headers), body, context.expect!)) {
            counts.expected += 1;
          } else {
            counts.unexpected[status] = (counts.unexpected[status] ?? 0) + 1;
          }
        },
      } as any,
    ],
  });
  return {
    requests: result.requests.total,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    timeouts: result.timeouts,
    kinds,
  };
}
