#!/usr/bin/env bash
# Installs everything and runs the example app behind the local Access emulator: open http://localhost:7000.
# The README's run command.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

yarn install --immutable
yarn dev
