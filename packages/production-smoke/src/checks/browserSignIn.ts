/*
 * Real Chromium signs in through the HTTPS edge and sees the built app signed in. Chromium trusts exactly
 * the run's server certificate (by its SPKI hash), nothing else.
 */
import type { Report } from '@cfaccess/harness';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@cfaccess/harness';
import { chromium } from 'playwright-core';
import { EDGE_URL } from '../ports';

export async function checkBrowserSignIn(
  report: Report,
  options: { spkiSha256: string; screenshotDir: string },
) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      ...CHROMIUM_ARGS,
      `--ignore-certificate-errors-spki-list=${options.spkiSha256}`,
    ],
  });
  try {
    const page = await browser.newPage();
    const started = Date.now();
    await page.goto(`${EDGE_URL}/`);
    await page.waitForURL(/\/cdn-cgi\/access\/login/, { timeout: 30000 });
    const loginPage = page.url();
    await page.getByRole('button', { name: /Alice Example/ }).click();
    await page.waitForURL(url => !url.pathname.startsWith('/cdn-cgi/'), {
      timeout: 30000,
    });

    // Signed in: the settings page shows who the app thinks we are.
    await page.goto(`${EDGE_URL}/settings`);
    await page
      .getByText('alice@example.com')
      .first()
      .waitFor({ timeout: 60000 });
    await page.getByText('Alice Example').first().waitFor({ timeout: 30000 });
    const signedInMs = Date.now() - started;
    await page.screenshot({
      path: `${options.screenshotDir}/signed-in-settings.png`,
      fullPage: true,
    });

    // What Chromium runs is the built app from the backend behind the edge.
    const scripts: string[] = await page.evaluate(() =>
      Array.from(document.scripts)
        .map(s => s.src)
        .filter(Boolean),
    );
    const built = scripts.filter(src => {
      const url = new URL(src);
      return (
        url.origin === EDGE_URL &&
        /^\/static\/[\w.-]+\.[0-9a-f]{8,}\.js$/.test(url.pathname)
      );
    });
    const identity = await page.evaluate(async () => {
      const res = await fetch('/api/auth/cfaccess/refresh', {
        credentials: 'include',
      });
      return {
        status: res.status,
        ref: (await res.json())?.backstageIdentity?.identity?.userEntityRef,
      };
    });
    report.check(
      'Chromium signs in through the HTTPS edge and sees the built app signed in',
      loginPage.startsWith(`${EDGE_URL}/cdn-cgi/access/login`) &&
        built.length > 0 &&
        identity.status === 200 &&
        identity.ref === 'user:default/alice',
      `login page over https, ${built.length} built scripts from ${EDGE_URL}/static/, /refresh ${identity.status} as ${identity.ref}, signed in after ${signedInMs} ms`,
    );
  } finally {
    await browser.close();
  }
}
