import { NotFoundError } from '@backstage/errors';
import { cloudflareAccessSignInResolvers } from './resolvers';
import { CloudflareAccessResult } from './types';

function userResult(overrides: Partial<CloudflareAccessResult> = {}) {
  return {
    claims: { email: 'jane+ci@example.com', sub: 'u1' } as any,
    cfIdentity: {
      id: 'u1',
      name: 'Jane',
      email: 'jane+ci@example.com',
      groups: [{ id: 'g1', name: 'Platform Team', email: '' }],
    },
    token: 't',
    tokenType: 'user',
    identityAvailable: true,
    ...overrides,
  } as CloudflareAccessResult;
}

function serviceResult(subject: string) {
  return {
    claims: { email: '', sub: '', common_name: 'c.access' } as any,
    cfIdentity: { id: 'c.access', name: subject, email: '', groups: [] },
    token: 't',
    tokenType: 'service',
    identityAvailable: false,
    serviceToken: { clientId: 'c.access', subject },
  } as CloudflareAccessResult;
}

function mockContext() {
  return {
    signInWithCatalogUser: jest.fn(async () => ({ token: 'backstage' })),
    findCatalogUser: jest.fn(async () => ({
      entity: {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'User',
        metadata: { name: 'jane', namespace: 'default' },
      },
    })),
    resolveOwnershipEntityRefs: jest.fn(async () => ({
      ownershipEntityRefs: ['user:default/jane', 'group:default/team-a'],
    })),
    issueToken: jest.fn(async () => ({ token: 'issued' })),
  };
}

const profile = { email: 'spoofed@example.com' };

describe('cloudflareAccessSignInResolvers', () => {
  describe('emailMatchingUserEntityProfileEmail', () => {
    it('matches on the verified email claim', async () => {
      const ctx = mockContext();
      await cloudflareAccessSignInResolvers.emailMatchingUserEntityProfileEmail()(
        { profile, result: userResult() },
        ctx as any,
      );
      expect(ctx.signInWithCatalogUser).toHaveBeenCalledWith(
        { filter: { 'spec.profile.email': 'jane+ci@example.com' } },
        { dangerousEntityRefFallback: undefined },
      );
    });

    it('supports allowedDomains and the catalog-less fallback', async () => {
      const ctx = mockContext();
      const resolver =
        cloudflareAccessSignInResolvers.emailMatchingUserEntityProfileEmail({
          allowedDomains: ['Example.com'],
          dangerouslyAllowSignInWithoutUserInCatalog: true,
        });
      await resolver({ profile, result: userResult() }, ctx as any);
      expect(ctx.signInWithCatalogUser).toHaveBeenCalledWith(
        expect.anything(),
        {
          dangerousEntityRefFallback: {
            entityRef: { name: 'jane+ci@example.com' },
          },
        },
      );
      await expect(
        cloudflareAccessSignInResolvers.emailMatchingUserEntityProfileEmail({
          allowedDomains: ['other.com'],
        })({ profile, result: userResult() }, ctx as any),
      ).rejects.toMatchObject({ name: 'NotAllowedError' });
    });

    it('never signs a service token in', async () => {
      const ctx = mockContext();
      await expect(
        cloudflareAccessSignInResolvers.emailMatchingUserEntityProfileEmail()(
          {
            profile: { email: 'bot@example.com' },
            result: serviceResult('bot@example.com'),
          },
          ctx as any,
        ),
      ).rejects.toBeInstanceOf(NotFoundError);
      expect(ctx.signInWithCatalogUser).not.toHaveBeenCalled();
    });
  });

  describe('emailLocalPartMatchingUserEntityName', () => {
    it('looks the local part up as entity name', async () => {
      const ctx = mockContext();
      await cloudflareAccessSignInResolvers.emailLocalPartMatchingUserEntityName(
        {
          dangerouslyAllowSignInWithoutUserInCatalog: true,
        },
      )({ profile, result: userResult() }, ctx as any);
      expect(ctx.signInWithCatalogUser).toHaveBeenCalledWith(
        { entityRef: { name: 'jane+ci' } },
        { dangerousEntityRefFallback: { entityRef: { name: 'jane+ci' } } },
      );
    });

    it('never signs a service token in', async () => {
      await expect(
        cloudflareAccessSignInResolvers.emailLocalPartMatchingUserEntityName()(
          { profile, result: serviceResult('bot@example.com') },
          mockContext() as any,
        ),
      ).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('serviceTokenSubject', () => {
    it('signs in an entity ref subject', async () => {
      const ctx = mockContext();
      await cloudflareAccessSignInResolvers.serviceTokenSubject({
        dangerouslyAllowSignInWithoutUserInCatalog: true,
      })({ profile, result: serviceResult('user:default/ci-bot') }, ctx as any);
      expect(ctx.signInWithCatalogUser).toHaveBeenCalledWith(
        { entityRef: { kind: 'user', namespace: 'default', name: 'ci-bot' } },
        { dangerousEntityRefFallback: { entityRef: 'user:default/ci-bot' } },
      );
    });

    it('signs in an email subject by profile email', async () => {
      const ctx = mockContext();
      await cloudflareAccessSignInResolvers.serviceTokenSubject()(
        { profile, result: serviceResult('bot@example.com') },
        ctx as any,
      );
      expect(ctx.signInWithCatalogUser).toHaveBeenCalledWith(
        { filter: { 'spec.profile.email': 'bot@example.com' } },
        { dangerousEntityRefFallback: undefined },
      );
    });

    it('never signs a user token in', async () => {
      const ctx = mockContext();
      await expect(
        cloudflareAccessSignInResolvers.serviceTokenSubject()(
          { profile, result: userResult() },
          ctx as any,
        ),
      ).rejects.toBeInstanceOf(NotFoundError);
      expect(ctx.signInWithCatalogUser).not.toHaveBeenCalled();
    });

    it('rejects unknown options', () => {
      expect(() =>
        cloudflareAccessSignInResolvers.serviceTokenSubject({
          dangerouslyAllowSignInWithoutUserInCatalog: 'yes' as any,
        }),
      ).toThrow(/Invalid sign-in resolver options/);
    });
  });

  describe('signInWithCatalogUserAndAccessGroups', () => {
    it('adds group refs to the ownership refs', async () => {
      const ctx = mockContext();
      await cloudflareAccessSignInResolvers.signInWithCatalogUserAndAccessGroups(
        {
          namespace: 'access',
        },
      )({ profile, result: userResult() }, ctx as any);
      expect(ctx.issueToken).toHaveBeenCalledWith({
        claims: {
          sub: 'user:default/jane',
          ent: [
            'user:default/jane',
            'group:default/team-a',
            'group:access/platform-team',
          ],
        },
      });
    });

    it('fails closed when the identity was unavailable', async () => {
      const ctx = mockContext();
      await expect(
        cloudflareAccessSignInResolvers.signInWithCatalogUserAndAccessGroups()(
          { profile, result: userResult({ identityAvailable: false }) },
          ctx as any,
        ),
      ).rejects.toMatchObject({ name: 'ServiceUnavailableError' });
      expect(ctx.issueToken).not.toHaveBeenCalled();
    });

    it('never signs a service token in', async () => {
      await expect(
        cloudflareAccessSignInResolvers.signInWithCatalogUserAndAccessGroups()(
          { profile, result: serviceResult('bot@example.com') },
          mockContext() as any,
        ),
      ).rejects.toBeInstanceOf(NotFoundError);
    });
  });
});
