import { expect, test } from '@playwright/test';

// Who Backstage says a person is, beyond the happy path: ownership that only an Access group grants, and a
// person whom Access signs in but the catalog does not know (examples/access-users.yaml vs examples/org.yaml).
test.describe('Access groups and people without a Backstage user', () => {
  test('a mapped Access group, matched by its id, grants ownership the catalog does not', async ({
    page,
  }) => {
    await page.goto('/');
    await page.getByRole('button', { name: /Carol Danvers/ }).click();
    await expect(page).not.toHaveURL(/\/cdn-cgi\/access\/login/);

    const res = await page.request.get('/api/auth/cfaccess/refresh');
    expect(res.status()).toBe(200);
    const { backstageIdentity } = await res.json();
    expect(backstageIdentity.identity.userEntityRef).toBe('user:default/carol');
    // The catalog has Carol in product only; admins comes from her Access group of that id.
    expect(backstageIdentity.identity.ownershipEntityRefs).toEqual(
      expect.arrayContaining([
        'user:default/carol',
        'group:default/product',
        'group:default/admins',
      ]),
    );
  });

  test('a person Access knows but the catalog does not sees why, and can sign out of Access', async ({
    page,
  }) => {
    await page.goto('/');
    await expect(page).toHaveURL(/\/cdn-cgi\/access\/login/);
    await page.getByRole('button', { name: /Dana Newcomer/ }).click();

    await expect(
      page.getByRole('heading', {
        name: 'No Backstage user for your Cloudflare Access sign-in',
      }),
    ).toBeVisible();
    await expect(
      page.getByText(
        /^Cloudflare Access signed you in as dana@example\.com, but Backstage has no user for that email; ask your Backstage admin/,
      ),
    ).toBeVisible();
    const shot = test.info().outputPath('state-no-backstage-user.png');
    await page.screenshot({ path: shot });
    await test.info().attach('state-no-backstage-user', {
      path: shot,
      contentType: 'image/png',
    });

    // The backend's answer: a 403 with a reason code and one sentence, no token, no claims.
    const res = await page.request.get('/api/auth/cfaccess/refresh');
    expect(res.status()).toBe(403);
    const body = await res.json();
    expect(body.error.reason).toBe('user_not_found');
    expect(body.error.message).toContain('dana@example.com');
    const cookies = await page.context().cookies();
    const accessToken = cookies.find(c => c.name === 'CF_Authorization');
    expect(accessToken).toBeDefined();
    expect(JSON.stringify(body)).not.toContain(accessToken!.value);

    await page
      .getByRole('button', { name: 'Sign out of Cloudflare Access' })
      .click();
    await expect(page).toHaveURL(/\/cdn-cgi\/access\/(logout|login)/);

    // The Access session is gone: the next visit lands on the login page again.
    await page.goto('/');
    await expect(page).toHaveURL(/\/cdn-cgi\/access\/login/);
  });
});
