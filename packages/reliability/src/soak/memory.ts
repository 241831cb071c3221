/*
 * RSS of the backend processes during the soak: sampled every few seconds from /proc/<pid>/status.
 */
import { rssMb } from '../processes/backend';

export interface RssSeries {
  name: string;
  pid: number;
  samples: { t: number; mb: number }[];
}

export function sampleRss(
  processes: { name: string; pid: number }[],
  intervalMs: number,
) {
  const started = Date.now();
  const series: RssSeries[] = processes.map(p => ({ ...p, samples: [] }));
  const take = () => {
    const t = Math.round((Date.now() - started) / 1000);
    for (const s of series) {
      const mb = rssMb(s.pid);
      if (mb !== undefined) {
        s.samples.push({ t, mb });
      }
    }
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    series,
    stop() {
      clearInterval(timer);
      take();
      return series;
    },
  };
}

/** RSS at start, after the warm-up (the first sample at or after warmupSeconds), peak and end. */
export function summarize(series: RssSeries, warmupSeconds: number) {
  const mbs = series.samples.map(s => s.mb);
  const warm =
    series.samples.find(s => s.t >= warmupSeconds) ??
    series.samples[series.samples.length - 1];
  return {
    name: series.name,
    pid: series.pid,
    startMb: mbs[0],
    warmMb: warm.mb,
    peakMb: Math.max(...mbs),
    endMb: mbs[mbs.length - 1],
  };
}
