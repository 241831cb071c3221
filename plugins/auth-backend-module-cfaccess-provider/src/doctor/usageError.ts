/**
 * Bad input to the command itself (an unknown flag, an unreadable file, a
 * value that is not a JWT): one line on stderr and exit code 2, never a
 * stack trace.
 */
export class UsageError extends Error {
  readonly name = 'UsageError';
}
