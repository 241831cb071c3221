import { expect, test } from '@playwright/test';
import { ADMIN_HEADER } from '../packages/access-emulator/src/defaults';
import { EMULATOR_URL } from '../playwright.config';

test('signing keys rotate while a user is signed in', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('button', { name: /Carol Danvers/ }).click();
  await expect(page).not.toHaveURL(/\/cdn-cgi\/access\/login/);

  const before = await page.request.get('/api/auth/cfaccess/refresh');
  expect(before.status()).toBe(200);

  // The admin endpoints take only requests that a cross-site page could not send: this header (or a
  // same-origin Origin).
  const rotate = await page.request.post(
    `${EMULATOR_URL}/cdn-cgi/emulator/rotate-keys`,
    { headers: { [ADMIN_HEADER]: '1' } },
  );
  expect(rotate.ok()).toBeTruthy();

  // The session signed with the previous key keeps working: Access keeps it in certs after a rotation.
  const after = await page.request.get('/api/auth/cfaccess/refresh');
  expect(after.status()).toBe(200);
  expect((await after.json()).backstageIdentity.identity.userEntityRef).toBe(
    'user:default/carol',
  );

  // A new sign-in gets a token signed with the new key, which the backend has never seen. The backend
  // refetches the certs for an unknown kid at once, unless another unknown kid (an earlier test sends a
  // forged one) already used the refetch within the cooldown (jwks.cooldownSeconds, 30 s by default):
  // then the new key is picked up as soon as that cooldown ends, without a restart.
  await page.goto('/cdn-cgi/access/logout');
  await page.goto('/');
  await page.getByRole('button', { name: /Carol Danvers/ }).click();
  await expect(page).not.toHaveURL(/\/cdn-cgi\/access\/login/);
  await expect
    .poll(
      async () =>
        (await page.request.get('/api/auth/cfaccess/refresh')).status(),
      { timeout: 45_000, intervals: [1_000] },
    )
    .toBe(200);
});
