import { RateLimitedLogger } from './rateLimitedLogger';

describe('RateLimitedLogger', () => {
  it('suppresses repeats within the window and reports the count', () => {
    let now = 0;
    const warn = jest.fn();
    const logger = new RateLimitedLogger({ warn } as any, 1000, () => now);
    logger.warn('a', 'first');
    logger.warn('a', 'again');
    logger.warn('a', 'again');
    logger.warn('b', 'other');
    expect(warn.mock.calls.map(c => c[0])).toEqual(['first', 'other']);
    now = 1001;
    logger.warn('a', 'later');
    expect(warn).toHaveBeenLastCalledWith(
      'later (2 similar warnings suppressed)',
      undefined,
    );
  });

  it('builds the message and the fields only for a warning it logs', () => {
    const warn = jest.fn();
    const logger = new RateLimitedLogger({ warn } as any, 1000, () => 0);
    const message = jest.fn(() => 'text');
    const meta = jest.fn(() => ({ reason: 'expired' }));
    logger.warn('a', message, meta);
    logger.warn('a', message, meta);
    expect(message).toHaveBeenCalledTimes(1);
    expect(meta).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith('text', { reason: 'expired' });
  });

  it('bounds the number of remembered keys', () => {
    const warn = jest.fn();
    const logger = new RateLimitedLogger({ warn } as any, 1000, () => 0, 2);
    logger.warn('a', 'a');
    logger.warn('b', 'b');
    logger.warn('c', 'c');
    logger.warn('a', 'a again');
    expect(warn).toHaveBeenCalledTimes(4);
  });
});
