import { SignInResolver } from '@backstage/plugin-auth-node';
import { CloudflareAccessResult } from '../types';
import { foldingCatalogContext } from './__testUtils__/foldingCatalog';
import { cloudflareAccessSignInResolvers } from './resolvers';
import { parseServiceTokenSubject } from './serviceTokenSubject';

const NON_ASCII =
  "Sign-in user email has non-ASCII characters, which the catalog could fold into another person's address";

/** Emails that a folding catalog takes for someone else's (see foldingCatalog). */
const LOOKALIKES: Array<[string, string]> = [
  ['the Kelvin sign, which lower-cases to k', '\u212Aate@example.com'],
  ['the long s, which upper-cases to S', '\u017Fteve@example.com'],
  ['a fullwidth k (NFKC k)', '\uFF4Bate@example.com'],
  ['a fullwidth K (NFKC K)', '\uFF2Bate@example.com'],
  ['the fi ligature (NFKC fi)', '\uFB01ona@example.com'],
  ['a fullwidth c in the domain', 'jane@example.\uFF43om'],
];

function person(email: string, identityAvailable = true) {
  return {
    claims: { email, sub: 'u1' } as any,
    cfIdentity: {
      id: 'u1',
      name: 'Someone',
      email,
      groups: [{ id: '', name: 'admins', email: '' }],
      idp: { id: 'pocket-id', type: 'oidc' },
    },
    token: 't',
    tokenType: 'user',
    identityAvailable,
  } as CloudflareAccessResult;
}

/** A service token whose email subject got past startup (a custom authenticator, say). */
function serviceToken(email: string) {
  return {
    claims: { email: '', sub: '', common_name: 'c.access' } as any,
    cfIdentity: { id: 'c.access', name: email, email, groups: [] },
    token: 't',
    tokenType: 'service',
    identityAvailable: false,
    serviceToken: { clientId: 'c.access', subject: email, email },
  } as CloudflareAccessResult;
}

const accessGroups = [
  {
    name: 'admins',
    idp: { type: 'oidc' },
    entityRef: 'group:default/admins',
  },
];

const resolvers: Record<string, SignInResolver<CloudflareAccessResult>> = {
  emailMatchingUserEntityProfileEmail:
    cloudflareAccessSignInResolvers.emailMatchingUserEntityProfileEmail(),
  'emailMatchingUserEntityProfileEmail, signing in without a catalog user':
    cloudflareAccessSignInResolvers.emailMatchingUserEntityProfileEmail({
      dangerouslyAllowSignInWithoutUserInCatalog: true,
    }),
  'emailLocalPartMatchingUserEntityName, any domain':
    cloudflareAccessSignInResolvers.emailLocalPartMatchingUserEntityName({
      dangerouslyAllowAnyEmailDomain: true,
      dangerouslyAllowSignInWithoutUserInCatalog: true,
    }),
  'emailLocalPartMatchingUserEntityName, allowedDomains':
    cloudflareAccessSignInResolvers.emailLocalPartMatchingUserEntityName({
      allowedDomains: ['example.com'],
    }),
  signInWithCatalogUserAndAccessGroups:
    cloudflareAccessSignInResolvers.signInWithCatalogUserAndAccessGroups({
      accessGroups,
    }),
};

describe.each(Object.entries(resolvers))('%s', (_name, resolver) => {
  it.each(LOOKALIKES)(
    'refuses %s (%j) with 403, before any catalog query',
    async (_why, email) => {
      const { context, queries } = foldingCatalogContext();
      await expect(
        resolver({ profile: { email }, result: person(email) }, context),
      ).rejects.toMatchObject({ name: 'NotAllowedError', message: NON_ASCII });
      expect(queries).toEqual([]);
      expect(context.issueToken).not.toHaveBeenCalled();
    },
  );

  it('signs a plain ASCII email in whatever its case, as the catalog folds it', async () => {
    const { context } = foldingCatalogContext();
    const email = 'Kate@Example.COM';
    await resolver({ profile: { email }, result: person(email) }, context);
    expect(context.issueToken).toHaveBeenCalledWith(
      expect.objectContaining({
        claims: expect.objectContaining({ sub: 'user:default/kate' }),
      }),
    );
  });
});

describe('a service token with a non-ASCII email subject', () => {
  it.each(LOOKALIKES)('is no email subject: %s (%j)', (_why, email) => {
    expect(parseServiceTokenSubject(email)).toBeUndefined();
  });

  it('still takes ASCII emails as email subjects', () => {
    expect(parseServiceTokenSubject('CI.Bot+1@Example.com')).toEqual({
      subject: 'CI.Bot+1@Example.com',
      email: 'CI.Bot+1@Example.com',
    });
  });

  it.each([
    [
      'serviceTokenSubject',
      cloudflareAccessSignInResolvers.serviceTokenSubject({
        dangerouslyAllowSignInWithoutUserInCatalog: true,
      }),
    ],
    [
      'emailMatchingUserEntityProfileEmail',
      cloudflareAccessSignInResolvers.emailMatchingUserEntityProfileEmail(),
    ],
    [
      'emailLocalPartMatchingUserEntityName',
      cloudflareAccessSignInResolvers.emailLocalPartMatchingUserEntityName({
        dangerouslyAllowAnyEmailDomain: true,
      }),
    ],
  ])(
    'is refused by %s with 403 if it gets that far',
    async (_name, resolve) => {
      for (const [, email] of LOOKALIKES) {
        const { context, queries } = foldingCatalogContext();
        await expect(
          resolve({ profile: {}, result: serviceToken(email) }, context),
        ).rejects.toMatchObject({
          name: 'NotAllowedError',
          message: NON_ASCII,
        });
        expect(queries).toEqual([]);
      }
    },
  );
});

describe('emails the catalog could read as something else', () => {
  // The catalog's filter syntax joins conditions with commas and has no
  // escaping: `filter=spec.profile.email=x,spec.profile.email=victim@…` asks
  // for either address.
  const INVALID = 'Sign-in user email is not a valid address';
  it.each([
    ['a comma that adds a filter', 'x,spec.profile.email=kate@example.com'],
    ['a quoted local part', '"kate"@example.com'],
    ['a leading dot', '.kate@example.com'],
    ['two dots in a row', 'ka..te@example.com'],
    ['an address literal', 'kate@[127.0.0.1]'],
  ])(
    'refuses %s (%j) with 403, before any catalog query',
    async (_why, email) => {
      for (const resolver of Object.values(resolvers)) {
        const { context, queries } = foldingCatalogContext();
        await expect(
          resolver({ profile: { email }, result: person(email) }, context),
        ).rejects.toMatchObject({ name: 'NotAllowedError', message: INVALID });
        expect(queries).toEqual([]);
      }
    },
  );

  it('looks up no user by a local part that is not an entity name', async () => {
    const resolver =
      cloudflareAccessSignInResolvers.emailLocalPartMatchingUserEntityName({
        dangerouslyAllowAnyEmailDomain: true,
        dangerouslyAllowSignInWithoutUserInCatalog: true,
      });
    for (const email of ['kate+admin@example.com', 'kate.=@example.com']) {
      const { context, queries } = foldingCatalogContext();
      await expect(
        resolver({ profile: { email }, result: person(email) }, context),
      ).rejects.toMatchObject({ name: 'NotFoundError' });
      expect(queries).toEqual([]);
      expect(context.issueToken).not.toHaveBeenCalled();
    }
  });
});
