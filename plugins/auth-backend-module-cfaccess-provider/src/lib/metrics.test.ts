import { createCfAccessMetrics, metricNames } from './metrics';

describe('metrics', () => {
  it('records outcomes, fetches and cache lookups on the meter', () => {
    const instruments: Record<string, { add?: jest.Mock; record?: jest.Mock }> =
      {};
    const meter = {
      createCounter: (name: string) => (instruments[name] = { add: jest.fn() }),
      createHistogram: (name: string) =>
        (instruments[name] = { record: jest.fn() }),
    };
    const metrics = createCfAccessMetrics(meter as any);
    metrics.authentication({ ok: true, tokenType: 'user' }, 0.01);
    metrics.authentication({ ok: false, reason: 'expired' }, 0.02);
    metrics.jwksFetch('error');
    metrics.identityFetch('timeout');
    metrics.identityCache('hit');
    metrics.verifiedTokenCache!('miss');

    expect(instruments[metricNames.authentications].add).toHaveBeenCalledWith(
      1,
      { outcome: 'success', token_type: 'user' },
    );
    expect(instruments[metricNames.authentications].add).toHaveBeenCalledWith(
      1,
      { outcome: 'rejected', reason: 'expired' },
    );
    expect(
      instruments[metricNames.verificationDuration].record,
    ).toHaveBeenCalledWith(0.02, { outcome: 'rejected' });
    expect(instruments[metricNames.jwksFetches].add).toHaveBeenCalledWith(1, {
      result: 'error',
    });
    expect(instruments[metricNames.identityFetches].add).toHaveBeenCalledWith(
      1,
      { result: 'timeout' },
    );
    expect(instruments[metricNames.identityCache].add).toHaveBeenCalledWith(1, {
      result: 'hit',
    });
    expect(
      instruments[metricNames.verifiedTokenCache].add,
    ).toHaveBeenCalledWith(1, { result: 'miss' });
  });

  it('passes one frozen attribute set per outcome, never a new object per measurement', () => {
    const add = jest.fn();
    const meter = {
      createCounter: () => ({ add }),
      createHistogram: () => ({ record: jest.fn() }),
    };
    const metrics = createCfAccessMetrics(meter as any);
    metrics.authentication({ ok: false, reason: 'bad_signature' }, 0);
    metrics.authentication({ ok: false, reason: 'bad_signature' }, 0);
    metrics.authentication({ ok: false, reason: 'expired' }, 0);
    const [first, second, third] = add.mock.calls.map(c => c[1]);
    expect(first).toBe(second);
    expect(Object.isFrozen(first)).toBe(true);
    expect(third).toEqual({ outcome: 'rejected', reason: 'expired' });
  });

  it('works with the global no-op meter', () => {
    expect(() =>
      createCfAccessMetrics().authentication(
        { ok: true, tokenType: 'service' },
        0,
      ),
    ).not.toThrow();
  });
});
