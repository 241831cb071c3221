import { NotFoundError } from '@backstage/errors';
import {
  cloudflareAccessSignInResolvers,
  createSignInResolverFactories,
} from './resolvers';
import { createAccessGroupMapper } from './accessGroups';
import { parseServiceTokenSubject } from './serviceTokenSubject';
import { CloudflareAccessResult } from '../types';

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
  const parsed = parseServiceTokenSubject(subject)!;
  return {
    claims: { email: '', sub: '', common_name: 'c.access' } as any,
    cfIdentity: {
      id: 'c.access',
      name: subject,
      email: parsed.email ?? '',
      groups: [],
    },
    token: 't',
    tokenType: 'service',
    identityAvailable: false,
    serviceToken: { clientId: 'c.access', ...parsed },
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

    it('signs a service token with an email subject in by that email, as upstream does', async () => {
      const ctx = mockContext();
      await cloudflareAccessSignInResolvers.emailMatchingUserEntityProfileEmail(
        {
          allowedDomains: ['example.com'],
        },
      )(
        {
          profile: { email: 'bot@example.com' },
          result: serviceResult('bot@example.com'),
        },
        ctx as any,
      );
      expect(ctx.signInWithCatalogUser).toHaveBeenCalledWith(
        { filter: { 'spec.profile.email': 'bot@example.com' } },
        { dangerousEntityRefFallback: undefined },
      );
    });

    it('passes a service token with an entity-ref subject on to serviceTokenSubject', async () => {
      const ctx = mockContext();
      await expect(
        cloudflareAccessSignInResolvers.emailMatchingUserEntityProfileEmail()(
          { profile: {}, result: serviceResult('user:default/ci-bot') },
          ctx as any,
        ),
      ).rejects.toBeInstanceOf(NotFoundError);
      expect(ctx.signInWithCatalogUser).not.toHaveBeenCalled();
    });

    it('rejects unknown options, such as a misspelt allowedDomains', () => {
      expect(() =>
        cloudflareAccessSignInResolvers.emailMatchingUserEntityProfileEmail({
          allowedDomain: ['example.com'],
        } as any),
      ).toThrow(/Invalid sign-in resolver options/);
      expect(() =>
        cloudflareAccessSignInResolvers.emailMatchingUserEntityProfileEmail({
          allowedDomains: [],
        }),
      ).toThrow(/Invalid sign-in resolver options/);
    });
  });

  describe('emailLocalPartMatchingUserEntityName', () => {
    it('looks the local part up as entity name, within allowedDomains', async () => {
      const ctx = mockContext();
      const resolver =
        cloudflareAccessSignInResolvers.emailLocalPartMatchingUserEntityName({
          allowedDomains: ['example.com'],
          dangerouslyAllowSignInWithoutUserInCatalog: true,
        });
      const person = (email: string) =>
        userResult({ claims: { email, sub: 'u1' } as any });
      await resolver(
        { profile, result: person('jane.doe@example.com') },
        ctx as any,
      );
      expect(ctx.signInWithCatalogUser).toHaveBeenCalledWith(
        { entityRef: { name: 'jane.doe' } },
        { dangerousEntityRefFallback: { entityRef: { name: 'jane.doe' } } },
      );
      // A local part that is no entity name names nobody, fallback or not.
      ctx.signInWithCatalogUser.mockClear();
      await expect(
        resolver(
          { profile, result: person('jane+ci@example.com') },
          ctx as any,
        ),
      ).rejects.toMatchObject({ name: 'NotFoundError' });
      expect(ctx.signInWithCatalogUser).not.toHaveBeenCalled();
      await expect(
        resolver(
          {
            profile,
            result: userResult({
              claims: { email: 'jane@any-other-domain.com', sub: 'u2' } as any,
            }),
          },
          ctx as any,
        ),
      ).rejects.toMatchObject({ name: 'NotAllowedError' });
    });

    it('refuses to be created without allowedDomains', () => {
      expect(() =>
        cloudflareAccessSignInResolvers.emailLocalPartMatchingUserEntityName(),
      ).toThrow(
        /requires allowedDomains: without it, alice@ of any domain signs in as the catalog user alice.*dangerouslyAllowAnyEmailDomain: true/,
      );
      expect(() =>
        cloudflareAccessSignInResolvers.emailLocalPartMatchingUserEntityName({
          allowedDomains: ['example.com'],
          dangerouslyAllowAnyEmailDomain: true,
        }),
      ).toThrow(/not both/);
    });

    it('signs any domain in only with dangerouslyAllowAnyEmailDomain', async () => {
      const ctx = mockContext();
      await cloudflareAccessSignInResolvers.emailLocalPartMatchingUserEntityName(
        {
          dangerouslyAllowAnyEmailDomain: true,
        },
      )(
        {
          profile,
          result: userResult({
            claims: { email: 'alice@any-other-domain.com', sub: 'u3' } as any,
          }),
        },
        ctx as any,
      );
      expect(ctx.signInWithCatalogUser).toHaveBeenCalledWith(
        { entityRef: { name: 'alice' } },
        { dangerousEntityRefFallback: undefined },
      );
    });

    it('signs a service token with an email subject in by its local part', async () => {
      const ctx = mockContext();
      await cloudflareAccessSignInResolvers.emailLocalPartMatchingUserEntityName(
        {
          allowedDomains: ['example.com'],
        },
      )({ profile, result: serviceResult('bot@example.com') }, ctx as any);
      expect(ctx.signInWithCatalogUser).toHaveBeenCalledWith(
        { entityRef: { name: 'bot' } },
        { dangerousEntityRefFallback: undefined },
      );
      await expect(
        cloudflareAccessSignInResolvers.emailLocalPartMatchingUserEntityName({
          allowedDomains: ['example.com'],
        })(
          { profile, result: serviceResult('user:default/ci-bot') },
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
        { entityRef: 'user:default/ci-bot' },
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
    const accessGroups = [
      { id: 'g1', entityRef: 'group:default/platform' },
      { name: 'Admins', entityRef: 'group:default/admins' },
    ];

    it('adds the refs of mapped Access groups, and only those, to the ownership refs', async () => {
      const ctx = mockContext();
      await cloudflareAccessSignInResolvers.signInWithCatalogUserAndAccessGroups(
        { accessGroups },
      )(
        {
          profile,
          result: userResult({
            cfIdentity: {
              id: 'u1',
              name: 'Jane',
              email: 'jane+ci@example.com',
              groups: [
                { id: 'g1', name: 'Platform Team', email: '' },
                { id: 'g2', name: 'admins', email: '' },
                { id: 'g3', name: 'team-a', email: '' },
              ],
            },
          }),
        },
        ctx as any,
      );
      expect(ctx.issueToken).toHaveBeenCalledWith({
        claims: {
          sub: 'user:default/jane',
          ent: [
            'user:default/jane',
            'group:default/team-a',
            'group:default/platform',
          ],
        },
      });
    });

    it('maps group names automatically only when dangerouslyMapGroupNames is set, into their own namespace', async () => {
      const ctx = mockContext();
      const warnings: string[] = [];
      await createSignInResolverFactories({
        warn: m => warnings.push(m),
      }).signInWithCatalogUserAndAccessGroups({
        dangerouslyMapGroupNames: true,
      })({ profile, result: userResult() }, ctx as any);
      expect(ctx.issueToken).toHaveBeenCalledWith({
        claims: {
          sub: 'user:default/jane',
          ent: ['user:default/jane', 'group:default/team-a'],
        },
      });
      // "Platform Team" is no entity name: skipped, with the module's warning.
      expect(warnings).toEqual([
        expect.stringContaining('"Platform Team" (id "g1") grants nothing'),
      ]);
    });

    it.each([
      [undefined, /accessGroups must list the Access groups/],
      // The options that once mapped every group name into a namespace.
      [{ namespace: 'access' }, /accessGroups must list the Access groups/],
      [
        { accessGroups: [{ name: 'x', entityRef: 'group:default/a b' }] },
        /accessGroups\[0\]\.entityRef is not a valid entity ref/,
      ],
    ])('refuses to be created with %j', (options, message) => {
      expect(() =>
        cloudflareAccessSignInResolvers.signInWithCatalogUserAndAccessGroups(
          options,
        ),
      ).toThrow(message);
    });

    it.each([
      [
        { id: 7, entityRef: 'group:default/a' },
        /accessGroups\[0\]\.id must be a non-empty string/,
      ],
      [
        { id: 'g', entityRef: 'group:default/a', idp: { type: 7 } },
        /accessGroups\[0\]\.idp\.type must be a non-empty string/,
      ],
      [
        { id: 'g', entityRef: 'group:default/a', idp: { name: 'Okta' } },
        /accessGroups\[0\]\.idp takes only id and type, got name/,
      ],
      [
        { id: 'g', entityRef: 'group:default/a', team: 'x' },
        /accessGroups\[0\] takes only id, name, entityRef and idp, got team/,
      ],
      [{ id: 'g' }, /accessGroups\[0\]\.entityRef must be an entity ref/],
    ])('names a bad entry %j as the mapper does', (entry, message) => {
      const options = { accessGroups: [entry] } as any;
      expect(() => createAccessGroupMapper(options)).toThrow(message);
      expect(() =>
        cloudflareAccessSignInResolvers.signInWithCatalogUserAndAccessGroups(
          options,
        ),
      ).toThrow(message);
    });

    it('warns through the module logger, when created, about a name entry without idp', () => {
      const warnings: string[] = [];
      createSignInResolverFactories({
        warn: m => warnings.push(m),
      }).signInWithCatalogUserAndAccessGroups({ accessGroups });
      expect(warnings).toEqual([
        expect.stringMatching(
          /^accessGroups\[1\] maps the Access group "Admins" without idp: a group of that name from any identity provider that reports no ids grants group:default\/admins; add idp: \{ type \} or idp: \{ id \}/,
        ),
      ]);
    });

    it('fails closed when the identity was unavailable', async () => {
      const ctx = mockContext();
      await expect(
        cloudflareAccessSignInResolvers.signInWithCatalogUserAndAccessGroups({
          accessGroups,
        })(
          { profile, result: userResult({ identityAvailable: false }) },
          ctx as any,
        ),
      ).rejects.toMatchObject({
        name: 'ServiceUnavailableError',
        reason: 'identity_unavailable',
        message: expect.stringMatching(
          /^Cloudflare Access sign-in unavailable \(identity_unavailable\): /,
        ),
      });
      expect(ctx.issueToken).not.toHaveBeenCalled();
    });

    it('never signs a service token in', async () => {
      await expect(
        cloudflareAccessSignInResolvers.signInWithCatalogUserAndAccessGroups({
          accessGroups,
        })(
          { profile, result: serviceResult('bot@example.com') },
          mockContext() as any,
        ),
      ).rejects.toBeInstanceOf(NotFoundError);
    });
  });
});

describe('allowedDomains', () => {
  const withEmail = (email: string) =>
    userResult({ claims: { email, sub: 'u9' } as any });

  // Every resolver that takes allowedDomains compares domains the same way.
  const resolvers = {
    emailMatchingUserEntityProfileEmail: (allowedDomains: string[]) =>
      cloudflareAccessSignInResolvers.emailMatchingUserEntityProfileEmail({
        allowedDomains,
      }),
    emailLocalPartMatchingUserEntityName: (allowedDomains: string[]) =>
      cloudflareAccessSignInResolvers.emailLocalPartMatchingUserEntityName({
        allowedDomains,
      }),
    signInWithCatalogUserAndAccessGroups: (allowedDomains: string[]) =>
      cloudflareAccessSignInResolvers.signInWithCatalogUserAndAccessGroups({
        allowedDomains,
        accessGroups: [{ id: 'g1', entityRef: 'group:default/platform' }],
      }),
  };

  describe.each(Object.entries(resolvers))('%s', (_name, create) => {
    it.each([
      'alice@example.com',
      'alice@EXAMPLE.com',
      'alice@Example.Com',
      'alice@xn--bcher-kva.example',
    ])('accepts %s', async email => {
      const resolver = create(['example.com', 'xn--bcher-kva.example']);
      await expect(
        resolver({ profile, result: withEmail(email) }, mockContext() as any),
      ).resolves.toBeDefined();
    });

    it.each([
      ['two "@"', 'alice@evil.com@example.com'],
      ['an "@" in the local part', 'alice@example.com@example.com'],
      ['a longer domain', 'alice@example.com.evil.com'],
      ['a subdomain', 'alice@sub.example.com'],
      ['a trailing dot', 'alice@example.com.'],
      ['no local part', '@example.com'],
      ['no "@"', 'example.com'],
      ['a Cyrillic look-alike', 'alice@ex\u0430mple.com'],
      ['a full-width look-alike', 'alice@\uff45xample.com'],
      ['the Kelvin sign, which lower-cases to k', 'alice@\u212aexample.com'],
      ['a dotless i', 'alice@\u0131nfo.example'],
      ['a zero-width space', 'alice@example\u200b.com'],
      ['spaces', 'alice@ example.com'],
    ])('refuses %s (%j)', async (_why, email) => {
      // Each look-alike is refused although its ASCII twin is allowed.
      const domains = ['example.com', 'kexample.com', 'info.example'];
      const ctx = mockContext();
      await expect(
        create(domains)({ profile, result: withEmail(email) }, ctx as any),
      ).rejects.toMatchObject({ name: 'NotAllowedError' });
      expect(ctx.signInWithCatalogUser).not.toHaveBeenCalled();
      expect(ctx.findCatalogUser).not.toHaveBeenCalled();
    });

    it.each([
      [
        ['example.com', '@example.com'],
        /allowedDomains\[1\] must be a domain such as example.com, without "@"/,
      ],
      [
        ['alice@example.com'],
        /allowedDomains\[0\] must be a domain .*without "@"/,
      ],
      [
        ['bücher.example'],
        /allowedDomains\[0\] must be a plain ASCII domain .*xn-- form/,
      ],
      [
        ['ex\u0430mple.com'],
        /allowedDomains\[0\] must be a plain ASCII domain/,
      ],
      [
        ['\u212aexample.com'],
        /allowedDomains\[0\] must be a plain ASCII domain/,
      ],
      [['example.com.'], /allowedDomains\[0\] must be a plain ASCII domain/],
      [['*.example.com'], /allowedDomains\[0\] must be a plain ASCII domain/],
      [[' example.com'], /allowedDomains\[0\] must be a plain ASCII domain/],
      [['localhost'], /allowedDomains\[0\] must be a plain ASCII domain/],
    ])('refuses to be created with allowedDomains %j', (domains, message) => {
      expect(() => create(domains)).toThrow(message);
    });
  });

  it('takes the local part before the one "@" only', async () => {
    const ctx = mockContext();
    const resolver =
      cloudflareAccessSignInResolvers.emailLocalPartMatchingUserEntityName({
        dangerouslyAllowAnyEmailDomain: true,
      });
    await expect(
      resolver(
        { profile, result: withEmail('alice@evil.com@example.com') },
        ctx as any,
      ),
    ).rejects.toMatchObject({ name: 'NotAllowedError' });
    expect(ctx.signInWithCatalogUser).not.toHaveBeenCalled();
  });
});
