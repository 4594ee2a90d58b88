#!/usr/bin/env bash
# Makes sure Debian's chromium is installed, for the inspector's browser test (Playwright drives
# it; no browser is downloaded). The test calls this when /usr/bin/chromium is missing; .ci/run
# calls it before the tests.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
  test -x /usr/bin/chromium
else
  echo "chromium is required for the inspector's browser test: install the chromium package" >&2
  exit 1
fi
