/*
 * Durations as Backstage operators write them everywhere else (`24h`, `30 minutes`, ISO 8601 `PT24H`,
 * `{ hours: 24 }`), through Backstage's own helpers, plus a bare number of seconds as before.
 */
import { ConfigReader, readDurationFromConfig } from '@backstage/config';
import { type HumanDuration, durationToMilliseconds } from '@backstage/types';

export type DurationInput = string | number | HumanDuration;

/** Whole seconds (at least one) from a duration; throws an Error naming `field` otherwise. */
export function durationSeconds(value: DurationInput, field: string): number {
  const invalid = `${field}: invalid duration ${JSON.stringify(value)}`;
  let milliseconds: number;
  if (
    typeof value === 'number' ||
    (typeof value === 'string' && /^\s*\d+\s*$/.test(value))
  ) {
    milliseconds = Number(value) * 1000;
  } else {
    // A flag name (`--session-duration`) is not a config key; without its dashes it is.
    const key = field.replace(/^-+/, '');
    try {
      milliseconds = durationToMilliseconds(
        readDurationFromConfig(new ConfigReader({ [key]: value }), { key }),
      );
    } catch (error: any) {
      throw new Error(
        `${invalid} (${error.message}); use seconds, a number with a unit (90s, 30m, 24h, 7d), ISO 8601 (PT24H) or { hours: 24 }`,
      );
    }
  }
  if (!Number.isFinite(milliseconds) || milliseconds < 1000) {
    throw new Error(`${invalid}: must be at least one second`);
  }
  return Math.floor(milliseconds / 1000);
}
