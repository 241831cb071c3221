import { expect, test } from '@playwright/test';
import {
  type TlsCertificates,
  createTlsCertificates,
} from '../packages/access-emulator/src/certificates';
import {
  type AccessEmulator,
  startAccessEmulator,
} from '../packages/access-emulator/src/server';

// What the emulator README promises for Chromium and a private CA: an HTTPS emulator (its own, on a free
// port, beside the suite's HTTP one) is refused by default, and reached with the certificate's SPKI hash
// in --ignore-certificate-errors-spki-list or with Playwright's ignoreHTTPSErrors.
let certificates: TlsCertificates;
let emulator: AccessEmulator;

test.beforeAll(async () => {
  certificates = await createTlsCertificates();
  emulator = await startAccessEmulator({
    port: 0,
    tls: { cert: certificates.certPem, key: certificates.keyPem },
  });
});

test.afterAll(async () => {
  await emulator?.close();
});

const loginUrl = () => `${emulator.url}/cdn-cgi/access/login`;

test('Chromium refuses the emulator certificate by default', async ({
  page,
}) => {
  await expect(page.goto(loginUrl())).rejects.toThrow(
    /ERR_CERT_AUTHORITY_INVALID/,
  );
});

test('Chromium accepts it through --ignore-certificate-errors-spki-list, and only it', async ({
  playwright,
  launchOptions,
}) => {
  const launch = (spki: string) =>
    playwright.chromium.launch({
      ...launchOptions,
      args: [
        ...(launchOptions.args ?? []),
        `--ignore-certificate-errors-spki-list=${spki}`,
      ],
    });
  const browser = await launch(certificates.spkiSha256);
  try {
    const page = await browser.newPage();
    const res = await page.goto(loginUrl());
    expect(res?.status()).toBe(200);
    await expect(page.getByRole('heading', { name: /^Sign in/ })).toBeVisible();
  } finally {
    await browser.close();
  }
  const other = await createTlsCertificates();
  const wrong = await launch(other.spkiSha256);
  try {
    await expect((await wrong.newPage()).goto(loginUrl())).rejects.toThrow(
      /ERR_CERT_AUTHORITY_INVALID/,
    );
  } finally {
    await wrong.close();
  }
});

test('Playwright reaches it with ignoreHTTPSErrors', async ({ browser }) => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    const res = await (await context.newPage()).goto(loginUrl());
    expect(res?.status()).toBe(200);
  } finally {
    await context.close();
  }
});
