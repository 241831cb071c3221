/*
 * Parsers for command-line values shared by the emulator's commands.
 */
import { InvalidArgumentError } from 'commander';
import { splitList } from './options';

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

/** A repeatable, comma-separated flag. */
export function collect(value: string, previous: string[] | undefined) {
  return [...(previous ?? []), ...splitList(value)];
}

/** Like collect, but the first occurrence replaces the default `fallback` instead of adding to it. */
export function collectReplacing(fallback: unknown) {
  return (value: string, previous: unknown) =>
    collect(value, previous === fallback ? undefined : (previous as string[]));
}
