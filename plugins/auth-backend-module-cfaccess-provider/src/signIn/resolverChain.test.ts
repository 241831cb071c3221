import { NotAllowedError, NotFoundError } from '@backstage/errors';
import { createCloudflareAccessSignInResolverChain } from './resolverChain';
import { CloudflareAccessResult } from '../types';

const person = {
  result: {
    claims: { email: 'alice@example.com', sub: 'alice' },
    tokenType: 'user',
    token: 'the-token',
  },
  profile: {},
} as unknown as { result: CloudflareAccessResult; profile: {} };

const serviceToken = {
  result: {
    claims: { email: '', sub: '', common_name: 'ci.access' },
    tokenType: 'service',
    token: 'the-token',
    serviceToken: {
      clientId: 'ci.access',
      subject: 'user:default/ci-bot',
      entityRef: 'user:default/ci-bot',
    },
  },
  profile: {},
} as unknown as { result: CloudflareAccessResult; profile: {} };

const notFound = (message: string) => async () => {
  throw new NotFoundError(message);
};

function logger() {
  return {
    warn: jest.fn(),
    error: jest.fn(),
    info: jest.fn(),
    debug: jest.fn(),
    child: jest.fn(),
  };
}

describe('createCloudflareAccessSignInResolverChain', () => {
  it('returns the first resolver that signs the caller in', async () => {
    const second = jest.fn(async () => ({ token: 'backstage' }));
    const third = jest.fn();
    const chain = createCloudflareAccessSignInResolverChain({
      resolvers: [
        { name: 'a', resolver: notFound('User not found') },
        { name: 'b', resolver: second },
        { name: 'c', resolver: third },
      ],
    });
    await expect(chain(person, {} as any)).resolves.toEqual({
      token: 'backstage',
    });
    expect(third).not.toHaveBeenCalled();
  });

  it('passes on every error other than NotFoundError', async () => {
    const chain = createCloudflareAccessSignInResolverChain({
      resolvers: [
        {
          name: 'a',
          resolver: async () => {
            throw new NotAllowedError('not from an allowed domain');
          },
        },
        { name: 'b', resolver: jest.fn() },
      ],
    });
    await expect(chain(person, {} as any)).rejects.toThrow(
      'not from an allowed domain',
    );
  });

  it('answers 403 user_not_found in one sentence, with the details in one rate-limited log line', async () => {
    const log = logger();
    const chain = createCloudflareAccessSignInResolverChain({
      resolvers: [
        { name: 'byEmail', resolver: notFound('User not found') },
        { name: 'byName', resolver: notFound('no entity alice') },
      ],
      logger: log,
    });
    const error = await chain(person, {} as any).catch(e => e);
    expect(error).toMatchObject({
      name: 'NotAllowedError',
      reason: 'user_not_found',
      message:
        'Cloudflare Access signed you in as alice@example.com, but Backstage has no user for that email; ask your Backstage admin (sign-in resolvers tried: byEmail, byName)',
    });
    await expect(chain(person, {} as any)).rejects.toMatchObject({
      reason: 'user_not_found',
    });
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn).toHaveBeenCalledWith(
      'Cloudflare Access sign-in refused (user_not_found): no catalog user for "alice@example.com"; byEmail: "User not found"; byName: "no entity alice"',
      { reason: 'user_not_found', subject: 'alice@example.com' },
    );
    expect(JSON.stringify(log.warn.mock.calls)).not.toContain('the-token');
  });

  it('names the service token to the caller, and its subject only in the log', async () => {
    const log = logger();
    const chain = createCloudflareAccessSignInResolverChain({
      resolvers: [{ name: 'serviceTokenSubject', resolver: notFound('nope') }],
      logger: log,
    });
    const error = await chain(serviceToken, {} as any).catch(e => e);
    expect(error.message).toBe(
      'Cloudflare Access signed in the service token ci.access, but Backstage has no user for its subject; ask your Backstage admin (sign-in resolvers tried: serviceTokenSubject)',
    );
    expect(log.warn.mock.calls[0][0]).toContain(
      'service token ci.access (subject user:default/ci-bot)',
    );
  });
});
