import { ResponseError } from '@backstage/errors';
import { classifyRefreshError } from './errors';

async function responseError(status: number) {
  return ResponseError.fromResponse(
    new Response(JSON.stringify({ error: { name: 'Error', message: 'x' } }), {
      status,
      headers: { 'content-type': 'application/json' },
    }),
  );
}

describe('classifyRefreshError', () => {
  it('classifies a 401 response as unauthorized', async () => {
    expect(classifyRefreshError(await responseError(401))).toBe('unauthorized');
  });

  it.each([403, 500, 503])(
    'classifies a %s response as other',
    async status => {
      expect(classifyRefreshError(await responseError(status))).toBe('other');
    },
  );

  it('classifies a failed fetch as a network failure', async () => {
    const error = await fetch('http://localhost:1/').then(
      () => undefined,
      e => e,
    );
    expect(error).toBeDefined();
    expect(classifyRefreshError(error)).toBe('network');
    expect(classifyRefreshError(new TypeError('Failed to fetch'))).toBe(
      'network',
    );
  });

  it('classifies an aborted request as aborted', () => {
    expect(
      classifyRefreshError(new DOMException('aborted', 'AbortError')),
    ).toBe('aborted');
  });

  it('classifies anything else as other', () => {
    expect(classifyRefreshError(new Error('boom'))).toBe('other');
    expect(classifyRefreshError(undefined)).toBe('other');
    expect(classifyRefreshError('boom')).toBe('other');
  });
});
