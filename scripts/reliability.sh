#!/usr/bin/env bash
# The reliability suites that need real services: two backend replicas on PostgreSQL and Redis behind the
# Access emulator (scale), then a soak through the emulator (60 s unless SOAK_SECONDS says otherwise).
# Installs the Debian packages postgresql and redis-server when they are missing (scripts/ensure-postgres-redis.sh).
# The suites start their own PostgreSQL and Redis on ports 5433 and 6380 and stop them at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

bash scripts/ensure-postgres-redis.sh

t0=$(date +%s)
yarn workspace @cfaccess/reliability scale
t1=$(date +%s)
yarn workspace @cfaccess/reliability soak --duration "${SOAK_SECONDS:-60}"
t2=$(date +%s)
echo "reliability: scale $((t1 - t0))s, soak $((t2 - t1))s, total $((t2 - t0))s"
