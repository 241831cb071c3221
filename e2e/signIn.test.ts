import { expect, test } from '@playwright/test';

// The whole path in a real browser: Access emulator login -> Backstage signed in as the catalog user.
test.describe('signing in through Cloudflare Access', () => {
  test('a person signs in, stays signed in across a reload, and signs out through Access', async ({
    page,
  }) => {
    await page.goto('/');
    await expect(page).toHaveURL(/\/cdn-cgi\/access\/login/);
    await page.screenshot({ path: test.info().outputPath('access-login.png') });

    await page.getByRole('button', { name: /Alice Example/ }).click();

    // Back in Backstage: the settings page shows who the app thinks we are.
    await page.goto('/settings');
    const profile = page.getByText('alice@example.com');
    await expect(profile.first()).toBeVisible();
    await expect(page.getByText('Alice Example').first()).toBeVisible();
    await page.screenshot({
      path: test.info().outputPath('signed-in-settings.png'),
      fullPage: true,
    });

    await page.goto('/');
    await expect(page.getByText('example-website').first()).toBeVisible();
    const home = test.info().outputPath('signed-in-home.png');
    await page.screenshot({ path: home, fullPage: true });
    await test.info().attach('signed-in-home', {
      path: home,
      contentType: 'image/png',
    });

    await page.reload();
    await expect(page).not.toHaveURL(/\/cdn-cgi\/access\/login/);
    await expect(page.getByText('example-website').first()).toBeVisible();

    // Sign out from the user settings page: Backstage signs out, then Access does.
    await page.goto('/settings');
    await page.getByTestId('user-settings-menu').click();
    await page.getByRole('menuitem', { name: /sign out/i }).click();
    await expect(page).toHaveURL(/\/cdn-cgi\/access\/(logout|login)/);

    // The Access session is gone: the next visit lands on the login page again.
    await page.goto('/');
    await expect(page).toHaveURL(/\/cdn-cgi\/access\/login/);
  });

  test('the signed-in user is the catalog entity of the email Access verified', async ({
    page,
  }) => {
    await page.goto('/');
    await page.getByRole('button', { name: /Bob Builder/ }).click();
    await expect(page).not.toHaveURL(/\/cdn-cgi\/access\/login/);

    const res = await page.request.get('/api/auth/cfaccess/refresh');
    expect(res.status()).toBe(200);
    const body = await res.json();
    expect(body.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/bob',
    );
    expect(body.profile.email).toBe('bob@example.com');
    expect(body.backstageIdentity.identity.ownershipEntityRefs).toContain(
      'group:default/engineering',
    );
  });
});
