#!/usr/bin/env bash
# The suites that run real services (reliability, production smoke test) start their own PostgreSQL and Redis
# from Debian's packages. Installs postgresql and redis-server when they are missing (as root, with apt-get).
set -euo pipefail

missing=()
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root" >&2
    exit 1
  fi
  echo "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # On a machine with an init system the packages start their default services; the suites start their
  # own instances instead, so stop the ones just installed (containers usually do not start them at all).
  for service in "${missing[@]}"; do
    service "$service" stop >/dev/null 2>&1 || true
  done
fi
