import {
  CloudflareAccessAuthenticationError,
  CloudflareAccessKeysUnavailableError,
  cloudflareAccessRejectionReasons,
  isCloudflareAccessRejection,
  rejectionHint,
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
});
