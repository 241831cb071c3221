import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { AuthenticationError, serializeError } from '@backstage/errors';
import {
  CloudflareAccessAuthenticationError,
  CloudflareAccessIdentityUnavailableError,
  CloudflareAccessKeysUnavailableError,
  CloudflareAccessUserNotFoundError,
  cloudflareAccessReasonCodes,
  reasonStatus,
  isCloudflareAccessRejection,
  rejectionHint,
  rejectionSentence,
  withoutStackTrace,
  boundaryReasons,
  type CloudflareAccessRejectionReason,
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
      'Cloudflare Access token rejected (expired): The token has expired; sign in again through Cloudflare Access.',
    );
    const unavailable = new CloudflareAccessKeysUnavailableError('y');
    expect(unavailable.name).toBe('ServiceUnavailableError');
    expect(unavailable.reason).toBe('keys_unavailable');
    expect(isCloudflareAccessRejection(auth)).toBe(true);
    expect(isCloudflareAccessRejection(unavailable)).toBe(true);
    expect(isCloudflareAccessRejection(new Error('z'))).toBe(false);
  });

  it('answers each reason code with the status it documents', () => {
    const statusOf: Record<string, number> = {
      AuthenticationError: 401,
      NotAllowedError: 403,
      ServiceUnavailableError: 503,
    };
    for (const reason of cloudflareAccessReasonCodes) {
      let error: Error & { reason: string };
      if (reason === 'user_not_found') {
        error = new CloudflareAccessUserNotFoundError('x');
      } else if (reason === 'identity_unavailable') {
        error = new CloudflareAccessIdentityUnavailableError();
      } else if ((boundaryReasons as string[]).includes(reason)) {
        continue; // answered by the boundary itself, not by an error class
      } else if (reason === 'keys_unavailable') {
        error = new CloudflareAccessKeysUnavailableError('x');
      } else {
        error = new CloudflareAccessAuthenticationError(
          reason as CloudflareAccessRejectionReason,
          'x',
        );
      }
      expect(error.reason).toBe(reason);
      expect(statusOf[error.name]).toBe(reasonStatus(reason));
    }
  });

  it('has one sentence and a hint for every reason code', () => {
    for (const reason of cloudflareAccessReasonCodes) {
      expect(rejectionHint(reason)).toEqual(expect.any(String));
      // One sentence: ends with a full stop and has no other.
      expect(rejectionSentence(reason)).toMatch(/^[A-Z][^.]*\.$/);
    }
  });

  it('keeps detail, subject and cause out of what Backstage serialises into the response', () => {
    const cause = Object.assign(new Error('fetch failed'), {
      payload: { email: 'jane@example.com', sub: 'user-1' },
      cause: new Error('connect ECONNREFUSED 10.0.0.7:443'),
    });
    const errors = [
      new CloudflareAccessAuthenticationError(
        'expired',
        'the token expired at 2026-06-01T11:00:00.000Z',
        { subject: 'jane@example.com', cause },
      ),
      new CloudflareAccessKeysUnavailableError(
        'no signing keys could be fetched from https://testteam.cloudflareaccess.com/cdn-cgi/access/certs',
        cause,
      ),
    ];
    for (const error of errors) {
      const body = serializeError(error);
      expect(body).toEqual({
        name: error.name,
        message: error.message,
        reason: error.reason,
      });
      const text = JSON.stringify(body);
      for (const secret of [
        'jane@example.com',
        'user-1',
        'ECONNREFUSED',
        '10.0.0.7',
        'cloudflareaccess.com',
        '2026-06-01',
        'fetch failed',
      ]) {
        expect(text).not.toContain(secret);
      }
      // ...and all of it is still there for the server log.
      expect(error.details.cause).toBe(cause);
      expect(error.details.detail).toMatch(/expired at|could be fetched/);
    }
  });

  it('builds rejections without a stack trace, keeping the cause for the log and the limit', () => {
    const cause = new Error('jose said no');
    const limit = Error.stackTraceLimit;
    const error = withoutStackTrace(
      () =>
        new CloudflareAccessAuthenticationError('bad_signature', 'x', {
          cause,
        }),
    );
    const capture = Error.captureStackTrace;
    expect(error.stack).not.toMatch(/\n\s+at /);
    expect(error).toBeInstanceOf(CloudflareAccessAuthenticationError);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.name).toBe('AuthenticationError');
    expect(error.message).not.toContain('jose said no');
    expect(error.details.cause).toBe(cause);
    // Otherwise the same error as one built the usual way.
    const usual = new CloudflareAccessAuthenticationError(
      'bad_signature',
      'x',
      {
        cause,
      },
    );
    expect(Object.getOwnPropertyNames(error).sort()).toEqual(
      Object.getOwnPropertyNames(usual).sort(),
    );
    expect(serializeError(error)).toEqual(serializeError(usual));
    expect(error.details).toEqual(usual.details);
    expect(Error.stackTraceLimit).toBe(limit);
    expect(Error.captureStackTrace).toBe(capture);
    expect(() =>
      withoutStackTrace(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(Error.stackTraceLimit).toBe(limit);
    expect(Error.captureStackTrace).toBe(capture);
    expect(new Error('after').stack).toMatch(/\n\s+at /);
  });

  it('matches the troubleshooting table: every reason code, its status and its sentence', () => {
    const page = readFileSync(
      resolvePath(__dirname, '..', 'docs', 'troubleshooting.md'),
      'utf8',
    );
    const rows = new Map<string, string[]>();
    for (const line of page.split('\n')) {
      const m = /^\| `([a-z_]+)` +\|(.*)\|$/.exec(line);
      if (m) {
        rows.set(
          m[1],
          m[2].split('|').map(cell => cell.trim()),
        );
      }
    }
    const reasons = [...rows.keys()].filter(reason =>
      (cloudflareAccessReasonCodes as readonly string[]).includes(reason),
    );
    expect(reasons).toEqual([...cloudflareAccessReasonCodes]);
    for (const reason of cloudflareAccessReasonCodes) {
      const [status, told] = rows.get(reason)!;
      expect(status).toBe(String(reasonStatus(reason)));
      expect(told).toBe(rejectionSentence(reason));
    }
  });
});
