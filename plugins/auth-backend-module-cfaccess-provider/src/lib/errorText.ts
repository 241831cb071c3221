import { logValue } from './logValue';
import { isTimeout } from './timeout';

/**
 * A request's error for the log: `request timed out` for a timeout, else its
 * message quoted and capped (logValue), as it may come from the network.
 */
export function errorText(error: unknown): string {
  if (isTimeout(error)) {
    return 'request timed out';
  }
  return logValue(error ?? 'unknown');
}
