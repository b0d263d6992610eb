#!/usr/bin/env bash
# ctest entry for the browser test. Exits 77 (skipped) with a reason when node,
# chromium or playwright-core is missing. Usage: run-ui-test.sh BUILD_BIN_DIR [SCREENSHOT]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin_dir="$1"
shot="${2:-}"
if ! command -v node >/dev/null 2>&1; then echo "SKIP: node is not installed"; exit 77; fi
if [ ! -x /usr/bin/chromium ]; then echo "SKIP: /usr/bin/chromium is not installed"; exit 77; fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
  echo "SKIP: playwright-core missing; run scripts/install-deps (npm install in receiver/ui-test)"; exit 77
fi
export RECEIVER_BIN="$bin_dir/sandwatch-receiver" DATA_DIR="$here/../tests/data" SCREENSHOT="$shot"
exec node "$here/ui.test.mjs"
