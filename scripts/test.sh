#!/usr/bin/env bash
# Installs everything and runs the whole test suite: unit and integration tests (yarn test), then the
# end-to-end tests in Chromium (yarn test:e2e). The README's test command; .ci/run calls it too.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

yarn install --immutable
bash scripts/ensure-chromium.sh

yarn test
yarn test:e2e
