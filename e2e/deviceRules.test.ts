import {
  type APIRequestContext,
  type Page,
  expect,
  test,
} from '@playwright/test';
import { EMULATOR_URL } from '../playwright.config';

// The example's device rule in a real browser (app-config.development.yaml): anyone signed in browses, but
// running a Software Template needs a device that came through WARP and passed the disk-encryption posture
// check in the last 10 minutes. The emulator gives each person a device (examples/access-users.yaml): alice's
// passes, bob's fails the check, carol has no WARP client; its admin endpoints change them mid-session. The
// scaffolder's "Create" is refused by the backend's Access boundary, and the app (cfaccess-react's refusal
// advice) says what to do instead of the raw error.

const ADMIN = { 'x-cfaccess-emulator-admin': '1' };
const deviceOf = (email: string) =>
  `${EMULATOR_URL}/cdn-cgi/emulator/users/${email}/device`;

async function resetDevice(request: APIRequestContext, email: string) {
  const res = await request.delete(deviceOf(email), { headers: ADMIN });
  expect(res.status(), await res.text()).toBe(200);
}

async function signIn(page: Page, name: RegExp) {
  await page.goto('/create');
  await expect(page).toHaveURL(/\/cdn-cgi\/access\/login/);
  await page.getByRole('button', { name }).click();
  await expect(page).not.toHaveURL(/\/cdn-cgi\/access\/login/);
}

/**
 * The development server's overlays for uncaught errors (webpack-dev-server's and React Refresh's iframes
 * at the end of the body; not in a production build) cover the page when the scaffolder's rejected promise
 * goes unhandled: removed, so the app itself shows.
 */
async function removeDevServerOverlays(page: Page) {
  await page.evaluate(() =>
    document.querySelectorAll('body > iframe').forEach(frame => frame.remove()),
  );
}

/** Runs the example template ("Look up a catalog entity") from the scaffolder's pages, up to its Create button. */
async function createFromTemplate(page: Page) {
  await page.goto('/create');
  await expect(
    page.getByText('Look up a catalog entity').first(),
  ).toBeVisible();
  await page
    .getByRole('button', { name: /choose/i })
    .first()
    .click();
  await expect(page.getByLabel(/Entity reference/).first()).toBeVisible();
  await page.getByRole('button', { name: /review/i }).click();
  await page.getByRole('button', { name: /^create$/i }).click();
}

test.describe('device posture and WARP rules on Software Templates', () => {
  test.afterEach(async ({ request }) => {
    for (const email of ['alice@example.com', 'bob@example.com']) {
      await resetDevice(request, email);
    }
  });

  test('a managed device runs the template', async ({ page }) => {
    await signIn(page, /Alice Example/);
    await createFromTemplate(page);
    await expect(page).toHaveURL(/\/create\/tasks\/[\w-]+/);
    await expect(
      page.getByText(/did not pass the check|Turn on Cloudflare WARP/),
    ).toHaveCount(0);
  });

  test('a device that failed the posture check is told which check and what to do', async ({
    page,
  }) => {
    await signIn(page, /Bob Builder/);
    const refused = page.waitForResponse(
      res =>
        res.url().endsWith('/api/scaffolder/v2/tasks') &&
        res.request().method() === 'POST',
    );
    await createFromTemplate(page);
    const res = await refused;
    expect(res.status()).toBe(403);
    const body = await res.json();
    expect(body.error).toMatchObject({
      reason: 'posture_required',
      requirement: { postureCheck: 'Disk encryption' },
    });

    const advice = page.getByText(
      'This device did not pass the check “Disk encryption”',
    );
    await expect(advice.first()).toBeVisible();
    await removeDevServerOverlays(page);
    await expect(advice.first()).toBeVisible();
    await expect(
      page.getByText(/fix what the check looks for/).first(),
    ).toBeVisible();
    // Not the raw error.
    await expect(page.getByText(/Backend request failed/)).toHaveCount(0);
    const shot = test.info().outputPath('access-rule-refusal.png');
    await page.screenshot({ path: shot });
    await test.info().attach('access-rule-refusal', {
      path: shot,
      contentType: 'image/png',
    });
    // The task was never created: the boundary refused it before the scaffolder ran.
    await expect(page).not.toHaveURL(/\/create\/tasks\//);
  });

  test('WARP turned off during the session is seen within identityMaxAge, and turned on again it passes', async ({
    page,
    request,
  }) => {
    await signIn(page, /Alice Example/);
    const warpOff = await request.patch(deviceOf('alice@example.com'), {
      headers: ADMIN,
      data: { warp: false },
    });
    expect(warpOff.status(), await warpOff.text()).toBe(200);
    // The example's rule reads get-identity again once its answer is 10 s old.
    await page.waitForTimeout(11_000);
    await createFromTemplate(page);
    await expect(
      page.getByText('Turn on Cloudflare WARP and try again').first(),
    ).toBeVisible();
    await expect(page).not.toHaveURL(/\/create\/tasks\//);

    await resetDevice(request, 'alice@example.com');
    await page.waitForTimeout(11_000);
    await createFromTemplate(page);
    await expect(page).toHaveURL(/\/create\/tasks\/[\w-]+/);
  });
});
