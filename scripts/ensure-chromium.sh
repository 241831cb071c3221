#!/usr/bin/env bash
# The end-to-end tests drive Debian's Chromium through Playwright (Playwright cannot download its own
# browsers here). Installs it when missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null; then
  echo "Chromium is missing at /usr/bin/chromium: install Debian's 'chromium' package." >&2
  exit 1
fi
sudo_cmd=""
[ "$(id -u)" = 0 ] || sudo_cmd=sudo
echo "Installing Debian's chromium for the end-to-end tests"
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version
