#!/usr/bin/env bash
# Installs everything and runs the whole test suite: unit and integration tests (yarn test), the end-to-end
# tests in Chromium (yarn test:e2e), the production smoke test (the README's production build, install and
# start, behind the Access emulator over HTTPS), the adopter test (the packed packages in a fresh create-app
# app, wired by following their READMEs), then the reliability suites that need PostgreSQL and Redis (two
# backend replicas, a one-minute soak). The README's test command; .ci/run calls it too.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

yarn install --immutable
bash scripts/ensure-chromium.sh

bash scripts/ensure-postgres-redis.sh

yarn test
yarn test:e2e
yarn test:smoke
bash scripts/adopter.sh
bash scripts/reliability.sh
