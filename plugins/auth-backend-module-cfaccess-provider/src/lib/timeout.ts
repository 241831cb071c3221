/**
 * Runs `task` with a signal that aborts after `timeoutMs` with a
 * `TimeoutError`, and clears the timer as soon as the task settles.
 *
 * Unlike `AbortSignal.timeout`, whose timer outlives the request and then
 * fires anyway (building a DOMException per request, seconds later), a
 * finished request leaves nothing behind. The task must finish all use of
 * the signal (including reading the body) before it settles.
 */
export async function withTimeout<T>(
  timeoutMs: number,
  task: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(
      new DOMException(
        `The operation timed out after ${timeoutMs} ms`,
        'TimeoutError',
      ),
    );
  }, timeoutMs);
  // Never keeps the process alive on its own, like AbortSignal.timeout.
  timer.unref?.();
  try {
    return await task(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether a request failed by its timeout (or was aborted). Duck-typed: the
 * abort reason is a DOMException, not always an Error, and may come from
 * another realm.
 */
export function isTimeout(error: unknown): boolean {
  const name = (error as { name?: unknown } | undefined)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}
