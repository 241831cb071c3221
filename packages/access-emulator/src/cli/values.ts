/*
 * Parsers for command-line values shared by the emulator's commands.
 */
import { InvalidArgumentError } from 'commander';
import { durationSeconds } from '../duration';
import { splitList } from '../options';

export function integer(min: number, max: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `expected an integer from ${min} to ${max}`,
      );
    }
    return n;
  };
}

/** A repeatable, comma-separated flag whose first occurrence replaces the default `fallback`. */
export function collect(fallback?: unknown) {
  return (value: string, previous: unknown) => [
    ...(previous === fallback ? [] : (previous as string[])),
    ...splitList(value),
  ];
}

/** A parser for a duration flag: the value checked, but kept as written. */
export function durationFlag(flag: string) {
  return (value: string) => {
    try {
      durationSeconds(value, flag);
    } catch (error: any) {
      throw new InvalidArgumentError(error.message);
    }
    return value;
  };
}

/** A duration as `--session-duration` takes it, checked but kept as written. */
export const duration = durationFlag('--session-duration');
