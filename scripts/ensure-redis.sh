#!/usr/bin/env bash
# Makes sure redis-server is installed (the Debian package) for the tests of the shared store.
# The tests call this when redis-server is not on PATH; .ci/run calls it before the tests.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  # Installing the package may start a system service on 6379; the tests start their own.
  (service redis-server stop || true) >/dev/null 2>&1
  command -v redis-server
else
  echo "redis-server is required for the shared-store tests: install the redis-server package" >&2
  exit 1
fi
