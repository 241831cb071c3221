#!/usr/bin/env bash
# The adopter test: the published packages packed as `yarn npm publish` would pack them, installed into a
# fresh @backstage/create-app app by following their READMEs, type-checked, built, started behind the Access
# emulator and signed in to from Chromium (packages/adopter). Ports 7500-7599. Installs curl (the module
# README's service token example uses it) when it is missing, as root with apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

if ! command -v curl >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "adopter: curl is missing; install it (apt-get install curl) or run as root" >&2
    exit 1
  fi
  echo "adopter: installing curl"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl >/dev/null
fi

# create-app checks `yarn --version` outside any project, where corepack falls back to its default yarn, with
# the network beyond loopback blocked (packages/adopter/src/workarounds.ts): fetch that yarn now, once.
(cd "$(mktemp -d)" && COREPACK_DEFAULT_TO_LATEST=0 yarn --version >/dev/null)

t0=$(date +%s)
yarn test:adopter "$@"
echo "adopter: total $(($(date +%s) - t0))s"
