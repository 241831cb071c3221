/*
 * Real Chromium (Debian's, through playwright-core, with the end-to-end suite's flags) signs in to the
 * scaffolded app through the emulator, sees who it is on the settings page, and signs out through Access.
 */
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import type { Report } from '@cfaccess/harness';
// The end-to-end suite's Chromium flags, kept in one place.
// eslint-disable-next-line @backstage/no-relative-monorepo-imports
import e2eConfig from '../../../playwright.config';
import type { AppFacts } from './appFacts';
import { EMULATOR_URL } from './ports';

const TIMEOUT = 60_000;

async function step(
  report: Report,
  name: string,
  page: Page,
  screenshots: string,
  fn: () => Promise<string>,
): Promise<boolean> {
  try {
    return report.check(name, true, await fn());
  } catch (error: any) {
    const shot = path.join(screenshots, `${name.replace(/\W+/g, '-')}.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    return report.check(
      name,
      false,
      `${
        String(error.message).split('\n')[0]
      } (screenshot ${shot}, at ${page.url()})`,
    );
  }
}

/** `suffix` tells the runs apart in the check names (e.g. ` (production build)`). */
export async function checkBrowser(
  report: Report,
  facts: AppFacts,
  screenshots: string,
  suffix = '',
) {
  const launch = e2eConfig.use?.launchOptions ?? {};
  const browser = await chromium.launch({
    executablePath: launch.executablePath ?? '/usr/bin/chromium',
    args: launch.args,
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(TIMEOUT);
    const signedIn = await step(
      report,
      `Chromium signs in through the emulator${suffix}`,
      page,
      screenshots,
      async () => {
        await page.goto(`${EMULATOR_URL}/`);
        await page.waitForURL(/\/cdn-cgi\/access\/login/);
        await page.getByRole('button', { name: facts.person.name }).click();
        await page.waitForURL(url => !url.pathname.startsWith('/cdn-cgi/'));
        await page.goto(`${EMULATOR_URL}/settings`);
        await page.getByText(facts.person.email).first().waitFor();
        return `the settings page shows ${facts.person.email}`;
      },
    );
    if (!signedIn) {
      return;
    }
    await step(
      report,
      `Chromium signs out through Access${suffix}`,
      page,
      screenshots,
      async () => {
        await page.getByTestId('user-settings-menu').click();
        await page.getByRole('menuitem', { name: /sign out/i }).click();
        await page.waitForURL(/\/cdn-cgi\/access\/(logout|login)/);
        await page.goto(`${EMULATOR_URL}/`);
        await page.waitForURL(/\/cdn-cgi\/access\/login/);
        return 'signed out of Backstage and Access; the next visit gets the login page';
      },
    );
  } finally {
    await browser.close();
  }
}
