import { defineConfig } from '@playwright/test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * End-to-end tests: a real browser (Debian's Chromium; Playwright cannot download its own here) against the
 * real processes: the Access emulator on :7000 in front of the backend (:7007) and the frontend (:3000).
 */
export const EMULATOR_URL = 'http://localhost:7000';
export const E2E_EMULATOR_STATE_DIR = join(tmpdir(), 'cfaccess-e2e-emulator');
export const AUD_TAG =
  '4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2';

/**
 * The OpenID Connect provider behind the emulator in e2e/oidcSignIn.test.ts: the test starts oidc-provider
 * on this port itself; the emulator discovers it at the first "Sign in with Test IdP" click, so the
 * emulator starts first and the built-in users keep working for the other tests.
 */
export const E2E_OIDC_ISSUER = 'http://localhost:7300';
export const E2E_OIDC_CLIENT_ID = 'cfaccess-emulator-e2e';
// A throwaway secret for a test IdP on loopback; handed to the emulator through the environment.
export const E2E_OIDC_CLIENT_SECRET =
  'e2e-only-client-secret-not-for-production';
export const E2E_OIDC_NAME = 'Test IdP';

export default defineConfig({
  testDir: 'e2e',
  // The app runs from the dev server: each navigation loads and evaluates about 48 MB of unminified
  // JavaScript, which takes 15-40 s on a busy 2-core machine. The bounds are generous on purpose; the
  // production smoke test covers the built app.
  timeout: 180_000,
  expect: { timeout: 60_000 },
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  reporter: [
    ['list'],
    ['html', { open: 'never', outputFolder: 'e2e-test-report' }],
  ],
  outputDir: 'test-results',
  use: {
    baseURL: EMULATOR_URL,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: [
    {
      command: [
        'node packages/access-emulator/bin/cfaccess-emulator',
        '--port 7000',
        '--frontend-url http://localhost:3000',
        '--backend-url http://localhost:7007',
        '--users examples/access-users.yaml',
        `--aud ${AUD_TAG}`,
        `--state-dir ${E2E_EMULATOR_STATE_DIR}`,
        `--oidc-issuer ${E2E_OIDC_ISSUER}`,
        `--oidc-client-id ${E2E_OIDC_CLIENT_ID}`,
        '--oidc-client-secret-env CFACCESS_E2E_OIDC_CLIENT_SECRET',
        `--oidc-name '${E2E_OIDC_NAME}'`,
      ].join(' '),
      env: { CFACCESS_E2E_OIDC_CLIENT_SECRET: E2E_OIDC_CLIENT_SECRET },
      url: `${EMULATOR_URL}/cdn-cgi/access/certs`,
      reuseExistingServer: !process.env.CI,
      timeout: 60_000,
    },
    {
      command: 'yarn workspace backend start',
      url: 'http://localhost:7007/.backstage/health/v1/readiness',
      reuseExistingServer: !process.env.CI,
      timeout: 180_000,
    },
    {
      command: 'yarn workspace app start',
      url: 'http://localhost:3000',
      env: { BROWSER: 'none' },
      reuseExistingServer: !process.env.CI,
      timeout: 240_000,
    },
  ],
});
