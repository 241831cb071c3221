import { ResponseError } from '@backstage/errors';
import { classifyRefreshError, userNotFoundMessage } from './errors';

async function responseError(
  status: number,
  error: object = { name: 'Error', message: 'x' },
) {
  return ResponseError.fromResponse(
    new Response(JSON.stringify({ error, response: { statusCode: status } }), {
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

  it("classifies the backend's 403 user_not_found, and reads its sentence", async () => {
    const error = await responseError(403, {
      name: 'NotAllowedError',
      message: 'Cloudflare Access signed you in as a@example.com, but ...',
      reason: 'user_not_found',
    });
    expect(classifyRefreshError(error)).toBe('user_not_found');
    expect(userNotFoundMessage(error)).toBe(
      'Cloudflare Access signed you in as a@example.com, but ...',
    );
    // The reason decides, not the status alone.
    const otherForbidden = await responseError(403, {
      name: 'NotAllowedError',
      message: 'Sign-in user email is not from an allowed domain',
    });
    expect(classifyRefreshError(otherForbidden)).toBe('other');
    expect(userNotFoundMessage(otherForbidden)).toBeUndefined();
    expect(
      classifyRefreshError(
        await responseError(500, { name: 'Error', reason: 'user_not_found' }),
      ),
    ).toBe('other');
  });

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
