/* Options, statistics, tables and result files shared by the benchmarks. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolvePackagePath } from '@backstage/backend-plugin-api';

/** `BENCH_QUICK=1` or `--quick`: shorter runs for development (numbers are then only indicative). */
export const QUICK =
  process.env.BENCH_QUICK === '1' || process.argv.includes('--quick');

/** A numeric setting: the env var if set, else the quick or the full default. */
export function setting(envName: string, full: number, quick: number): number {
  const raw = process.env[envName];
  if (raw !== undefined && raw !== '' && Number.isFinite(Number(raw))) {
    return Number(raw);
  }
  return QUICK ? quick : full;
}

/** `BENCH_ACCESS_LATENCY_MS`: how long the Access double takes to answer, for benchmarks 2, 3 and 4. */
export function accessLatencySetting(): number {
  return setting('BENCH_ACCESS_LATENCY_MS', 80, 80);
}

/** `BENCH_COLD_SETTLE_MS`: how long after initialisation a "settled" first request arrives (2 and 3). */
export function settleSetting(): number {
  return setting('BENCH_COLD_SETTLE_MS', 500, 500);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) {
    return NaN;
  }
  const index = Math.min(
    sorted.length - 1,
    Math.max(0, Math.ceil((p / 100) * sorted.length) - 1),
  );
  return sorted[index];
}

export function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** `a / b` as a number with 2 decimals. */
export function ratio(a: number, b: number): number {
  return b === 0 ? NaN : round(a / b, 2);
}

export function fmtRatio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a';
}

export function fmtInt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function heapMb(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return round(process.memoryUsage().heapUsed / 1024 / 1024, 1);
}

/**
 * Heap after GC once it has stopped shrinking: sockets, timers and buffers left by earlier work are
 * released only after a while, and would otherwise count as negative growth.
 */
export async function settledHeapMb(): Promise<number> {
  let last = heapMb();
  for (let i = 0; i < 20; i++) {
    await new Promise(res => setTimeout(res, 250));
    const now = heapMb();
    if (Math.abs(now - last) < 0.3) {
      return now;
    }
    last = now;
  }
  return last;
}

export function hasGc(): boolean {
  return typeof (globalThis as { gc?: unknown }).gc === 'function';
}

/** Prints a table with a title; the first row is the header. */
export function printTable(title: string, rows: string[][]): void {
  const widths = rows[0].map((_, c) =>
    Math.max(...rows.map(r => (r[c] ?? '').length)),
  );
  const line = (r: string[]) =>
    `| ${r.map((cell, c) => (cell ?? '').padEnd(widths[c])).join(' | ')} |`;
  const out = [
    '',
    `## ${title}`,
    '',
    line(rows[0]),
    `| ${widths.map(w => '-'.repeat(w)).join(' | ')} |`,
    ...rows.slice(1).map(line),
    '',
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

export function note(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Progress to stderr, so stdout stays the tables. */
export function progress(text: string): void {
  process.stderr.write(
    `[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`,
  );
}

/** `yarn bench` runs in packages/bench: results land in packages/bench/results/<name>.json. */
export function writeResult(name: string, data: unknown): string {
  const dir = resolvePackagePath('@cfaccess/bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, `${name}.json`);
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        benchmark: name,
        date: new Date().toISOString(),
        node: process.version,
        quick: QUICK,
        ...(data as object),
      },
      null,
      2,
    )}\n`,
  );
  return file;
}
