import { expect, type Page, test } from '@playwright/test';
import {
  E2E_OIDC_CLIENT_ID,
  E2E_OIDC_CLIENT_SECRET,
  E2E_OIDC_ISSUER,
  E2E_OIDC_NAME,
  EMULATOR_URL,
} from '../playwright.config';
import {
  type TestOidcProvider,
  startTestOidcProvider,
} from '../packages/access-emulator/src/__testUtils__/oidcProvider';

// The chain the PocketID and Authentik guides build, locally: Backstage -> Access (the emulator) ->
// an OpenID Connect provider (oidc-provider, a certified implementation, run in this process) -> back to
// Access -> Backstage signed in as the catalog user, owning what the IdP's groups own.
//
// Carol's catalog entry (examples/org.yaml) makes her a member of `product` only. The IdP says she is in
// `product` and `admins`: `group:default/admins` in her ownership can only come from the IdP's groups,
// through get-identity and the example's sign-in resolver (packages/backend/src/modules/cfaccessAuth.ts),
// whose name entries are scoped to OpenID Connect identity providers (`idp: { type: 'oidc' }`).
const CAROL = {
  login: 'carol',
  password: 'carol-e2e-password',
  email: 'carol@example.com',
  email_verified: true,
  name: 'Carol Danvers',
  groups: ['product', 'admins'],
};

let idp: TestOidcProvider;

/** From the Access login page: clicks "Sign in with <IdP>" and waits for the IdP's own login page. */
async function openIdpLogin(page: Page) {
  await page
    .getByRole('button', {
      name: new RegExp(`Sign in with ${E2E_OIDC_NAME}`),
    })
    .click();
  await expect(page).toHaveURL(new RegExp(`^${E2E_OIDC_ISSUER}/interaction/`));
}

test.beforeAll(async () => {
  const issuer = new URL(E2E_OIDC_ISSUER);
  idp = await startTestOidcProvider({
    port: Number(issuer.port),
    issuer: E2E_OIDC_ISSUER,
    title: E2E_OIDC_NAME,
    accounts: [CAROL],
    clients: [
      {
        clientId: E2E_OIDC_CLIENT_ID,
        clientSecret: E2E_OIDC_CLIENT_SECRET,
        redirectUris: [`${EMULATOR_URL}/cdn-cgi/access/callback`],
      },
    ],
  });
});

test.afterAll(async () => {
  await idp?.close();
});

test.describe('signing in through an OpenID Connect provider behind Access', () => {
  test('Backstage -> Access -> IdP login -> back, signed in with ownership from the IdP groups', async ({
    page,
  }) => {
    await page.goto('/');
    await expect(page).toHaveURL(/\/cdn-cgi\/access\/login/);
    await page.screenshot({
      path: test.info().outputPath('access-login-with-idp.png'),
    });
    await openIdpLogin(page);

    // At the identity provider: its own login page.
    await page.getByLabel('Username').fill(CAROL.login);
    await page.getByLabel('Password').fill(CAROL.password);
    await page.screenshot({ path: test.info().outputPath('idp-login.png') });
    await page.getByRole('button', { name: 'Log in' }).click();

    // Back through /cdn-cgi/access/callback into Backstage.
    await expect(page).toHaveURL(new RegExp(`^${EMULATOR_URL}/`));
    await expect(page).not.toHaveURL(/\/cdn-cgi\//);
    await expect(page.getByText('example-website').first()).toBeVisible();

    // Access's view of the person: the IdP's identity and groups, shaped as Access returns them.
    const identity = await (
      await page.request.get('/cdn-cgi/access/get-identity')
    ).json();
    expect(identity.email).toBe(CAROL.email);
    expect(identity.name).toBe(CAROL.name);
    expect(identity.idp.type).toBe('oidc');
    expect(identity.groups.map((g: { name: string }) => g.name)).toEqual(
      CAROL.groups,
    );

    // Backstage's view: the catalog user of that email, owning through the IdP's `admins` group too.
    const refresh = await page.request.get('/api/auth/cfaccess/refresh');
    expect(refresh.status()).toBe(200);
    const { backstageIdentity, profile } = await refresh.json();
    expect(backstageIdentity.identity.userEntityRef).toBe('user:default/carol');
    expect(profile.email).toBe(CAROL.email);
    expect(backstageIdentity.identity.ownershipEntityRefs).toEqual(
      expect.arrayContaining([
        'user:default/carol',
        'group:default/product',
        'group:default/admins',
      ]),
    );

    // And on screen: the settings page shows who Backstage thinks we are and what we own.
    await page.goto('/settings');
    await expect(page.getByText(CAROL.email).first()).toBeVisible();
    await expect(page.getByText(CAROL.name).first()).toBeVisible();
    // "Platform admins" is the catalog's display name of group:default/admins.
    await expect(page.getByText('Ownership Entities')).toBeVisible();
    await expect(
      page.getByRole('link', { name: 'Platform admins' }),
    ).toBeVisible();
    const shot = test.info().outputPath('oidc-signed-in-settings.png');
    await page.screenshot({ path: shot, fullPage: true });
    await test.info().attach('oidc-signed-in-settings', {
      path: shot,
      contentType: 'image/png',
    });

    // The IdP saw a code flow with PKCE from the emulator (discovery, authorize, token).
    expect(idp.requests).toEqual(
      expect.arrayContaining([
        'GET /.well-known/openid-configuration',
        'GET /auth',
        'POST /token',
      ]),
    );
  });

  test('cancelling at the IdP comes back to a clear Access error page', async ({
    page,
  }) => {
    await page.goto('/');
    await openIdpLogin(page);
    await page.getByRole('link', { name: 'Cancel' }).click();
    await expect(page).toHaveURL(/\/cdn-cgi\/access\/callback/);
    await expect(
      page.getByRole('heading', { name: 'Access denied' }),
    ).toBeVisible();
    await expect(page.getByRole('alert')).toContainText('access_denied');
    // Not signed in: the app still sends us to the Access login page.
    await page.goto('/');
    await expect(page).toHaveURL(/\/cdn-cgi\/access\/login/);
  });
});
