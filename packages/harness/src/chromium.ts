/*
 * How every browser suite launches Chromium (the e2e tests, the production smoke test, the adopter test):
 * Debian's Chromium, since Playwright cannot download its own here, with flags that keep it quiet and
 * sandbox-free (CI runs as root).
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
