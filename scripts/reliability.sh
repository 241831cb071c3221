#!/usr/bin/env bash
# The reliability suites that need real services: two backend replicas on PostgreSQL and Redis behind the
# Access emulator (scale), then a soak through the emulator (60 s unless SOAK_SECONDS says otherwise).
# Installs the Debian packages postgresql and redis-server when they are missing (as root, with apt-get).
# The suites start their own PostgreSQL and Redis on ports 5433 and 6380 and stop them at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

missing=()
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "reliability: missing ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root" >&2
    exit 1
  fi
  echo "reliability: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # On a machine with an init system the packages start their default services; the suites start their
  # own instances instead, so stop the ones just installed (containers usually do not start them at all).
  for service in "${missing[@]}"; do
    service "$service" stop >/dev/null 2>&1 || true
  done
fi

t0=$(date +%s)
yarn workspace @cfaccess/reliability scale
t1=$(date +%s)
yarn workspace @cfaccess/reliability soak --duration "${SOAK_SECONDS:-60}"
t2=$(date +%s)
echo "reliability: scale $((t1 - t0))s, soak $((t2 - t1))s, total $((t2 - t0))s"
