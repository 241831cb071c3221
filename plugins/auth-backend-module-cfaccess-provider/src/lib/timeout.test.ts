import { withTimeout } from './timeout';

describe('withTimeout', () => {
  it('returns the result and clears its timer', async () => {
    const clear = jest.spyOn(global, 'clearTimeout');
    let seen: AbortSignal | undefined;
    await expect(
      withTimeout(1000, async signal => {
        seen = signal;
        return 'ok';
      }),
    ).resolves.toBe('ok');
    expect(clear).toHaveBeenCalledTimes(1);
    expect(seen?.aborted).toBe(false);
    clear.mockRestore();
  });

  it('aborts with a TimeoutError after timeoutMs', async () => {
    const error = await withTimeout<never>(
      20,
      signal =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason)),
        ),
    ).catch((e: Error) => e);
    expect(error.name).toBe('TimeoutError');
    expect(error.message).toMatch(/timed out after 20 ms/);
  });

  it('clears its timer when the task fails', async () => {
    const clear = jest.spyOn(global, 'clearTimeout');
    await expect(
      withTimeout(1000, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(clear).toHaveBeenCalledTimes(1);
    clear.mockRestore();
  });
});
