/*
 * The load both HTTP benchmarks (4 and 10) put on their two backends: a short unmeasured load on each,
 * then alternating slices (the one backend under load, the other idle, the order flipping every slice),
 * so that a busy machine slows both alike. Per backend: req/s, latency percentiles over every response
 * of every slice, errors, the backend process's CPU per request, and the Access requests made while
 * measuring (a known session must make none).
 */
import autocannon from 'autocannon';
import type { BackendProcess } from './http';
import { percentile, round } from './report';

export type LoadTarget = {
  process: BackendProcess;
  url: string;
  /** Cycled through by autocannon's connections. */
  requests: Array<{ method: 'GET'; headers: Record<string, string> }>;
};

export type LoadStats = {
  seconds: number;
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** CPU time of the backend process per request, µs (less sensitive to a busy machine than req/s). */
  cpuMicrosPerRequest: number;
  cpuMicros: number;
  /** req/s of each slice, in order. */
  sliceReqPerSec: number[];
  /** Backend CPU µs per request of each slice, in order. */
  sliceCpuMicrosPerRequest: number[];
  accessRequestsWhileMeasuring: { certs: number; identity: number };
};

/** `slices` rounds of `sliceSeconds` per target, taking turns; the targets in `names` order first. */
export async function loadInAlternatingSlices<N extends string>(
  names: readonly N[],
  targetOf: (name: N) => LoadTarget,
  options: { slices: number; sliceSeconds: number; connections: number },
): Promise<Record<N, LoadStats>> {
  const { slices, sliceSeconds, connections } = options;
  const targets = Object.fromEntries(
    names.map(name => [name, targetOf(name)]),
  ) as Record<N, LoadTarget>;
  const stats = {} as Record<N, LoadStats>;
  const latencies = {} as Record<N, number[]>;
  // A short unmeasured load on each, then reset the Access counters.
  for (const name of names) {
    const target = targets[name];
    await autocannon({
      url: target.url,
      connections,
      duration: 1,
      requests: target.requests,
    });
    await target.process.request({ type: 'reset' }, 'reset');
    latencies[name] = [];
    stats[name] = {
      seconds: 0,
      requests: 0,
      reqPerSec: 0,
      p50Ms: 0,
      p90Ms: 0,
      p99Ms: 0,
      maxMs: 0,
      non2xx: 0,
      errors: 0,
      timeouts: 0,
      cpuMicrosPerRequest: 0,
      cpuMicros: 0,
      sliceReqPerSec: [],
      sliceCpuMicrosPerRequest: [],
      accessRequestsWhileMeasuring: { certs: 0, identity: 0 },
    };
  }
  for (let slice = 0; slice < slices; slice++) {
    const order = slice % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const target = targets[name];
      const lat = latencies[name];
      const cpu0 = (await target.process.request({ type: 'cpu' }, 'cpu'))
        .micros;
      const result = await new Promise<autocannon.Result>((res, rej) => {
        const instance = autocannon(
          {
            url: target.url,
            connections,
            duration: sliceSeconds,
            requests: target.requests,
          },
          (error, r) => (error ? rej(error) : res(r)),
        );
        // Every response's latency, so percentiles span all slices.
        instance.on('response', (_client, _status, _bytes, responseTime) => {
          lat.push(responseTime);
        });
      });
      const cpu1 = (await target.process.request({ type: 'cpu' }, 'cpu'))
        .micros;
      const st = stats[name];
      st.cpuMicros += cpu1 - cpu0;
      st.seconds += result.duration;
      st.requests += result.requests.total;
      st.non2xx += result.non2xx;
      st.errors += result.errors;
      st.timeouts += result.timeouts;
      st.sliceReqPerSec.push(round(result.requests.total / result.duration));
      st.sliceCpuMicrosPerRequest.push(
        Math.round((cpu1 - cpu0) / Math.max(1, result.requests.total)),
      );
    }
  }
  for (const name of names) {
    const { counts } = await targets[name].process.request(
      { type: 'counts' },
      'counts',
    );
    const st = stats[name];
    st.accessRequestsWhileMeasuring = {
      certs: counts.certs,
      identity: counts.identity,
    };
    const lat = latencies[name].sort((a, b) => a - b);
    st.reqPerSec = round(st.requests / st.seconds, 1);
    st.cpuMicrosPerRequest = round(st.cpuMicros / st.requests, 0);
    st.p50Ms = round(percentile(lat, 50), 1);
    st.p90Ms = round(percentile(lat, 90), 1);
    st.p99Ms = round(percentile(lat, 99), 1);
    st.maxMs = round(lat[lat.length - 1] ?? NaN, 1);
  }
  return stats;
}
