import { defineConfig } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './packages/harness/src/chromium';

/**
 * End-to-end tests: a real browser (Debian's Chromium; Playwright cannot download its own here) against the
 * real processes: the Access emulator on :7000 in front of the backend (:7007) and the frontend (:3000). The
 * backend and the frontend run with their `start` scripts, which load app-config.development.yaml.
 */
export const EMULATOR_URL = 'http://localhost:7000';
export const E2E_EMULATOR_STATE_DIR = join(tmpdir(), 'cfaccess-e2e-emulator');
/** The AUD tag the development backend expects (app-config.development.yaml); the emulator signs for it. */
export const AUD_TAG: string = parse(
  readFileSync(join(__dirname, 'app-config.development.yaml'), 'utf8'),
).auth.providers.cfaccess.audience;

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
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS],
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
        // Managed OAuth, as app-config.development.yaml expects: MCP clients sign in through the emulator.
        '--managed-oauth',
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
