import {
  CloudflareAccessAuthenticationError,
  CloudflareAccessKeysUnavailableError,
  cloudflareAccessRejectionReasons,
  isCloudflareAccessRejection,
  rejectionHint,
  withoutStackTrace,
} from './errors';

describe('errors', () => {
  it('keeps the Backstage error names that map to 401 and 503', () => {
    const auth = new CloudflareAccessAuthenticationError('expired', 'x', {
      subject: 'jane@example.com',
    });
    expect(auth.name).toBe('AuthenticationError');
    expect(auth.reason).toBe('expired');
    expect(auth.subject).toBe('jane@example.com');
    expect(auth.message).toBe(
      'Cloudflare Access token rejected (expired): x; sign in again through Cloudflare Access',
    );
    const unavailable = new CloudflareAccessKeysUnavailableError('y');
    expect(unavailable.name).toBe('ServiceUnavailableError');
    expect(unavailable.reason).toBe('keys_unavailable');
    expect(isCloudflareAccessRejection(auth)).toBe(true);
    expect(isCloudflareAccessRejection(unavailable)).toBe(true);
    expect(isCloudflareAccessRejection(new Error('z'))).toBe(false);
  });

  it('has a hint for every reason', () => {
    for (const reason of cloudflareAccessRejectionReasons) {
      expect(rejectionHint(reason)).toEqual(expect.any(String));
    }
  });

  it('builds rejections without a stack trace, keeping the cause and the limit', () => {
    const cause = new Error('jose said no');
    const limit = Error.stackTraceLimit;
    const error = withoutStackTrace(
      () =>
        new CloudflareAccessAuthenticationError('bad_signature', 'x', {
          cause,
        }),
    );
    expect(error.stack).not.toMatch(/\n\s+at /);
    expect(error.message).toMatch(
      /bad_signature.*caused by Error: jose said no/,
    );
    expect(error.cause).toBe(cause);
    expect(Error.stackTraceLimit).toBe(limit);
    expect(() =>
      withoutStackTrace(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(Error.stackTraceLimit).toBe(limit);
  });
});
