#!/usr/bin/env bash
# Tools for the report and dashboards checks: Debian's Chromium for cardio-report's headless browser
# test (crates/cardio-report/tests/browser.rs), and for the Power BI checks
# (crates/end-to-end/tests/dashboards.rs) Python jsonschema and Microsoft's Power Query parser (npm,
# pinned in dashboards/tests/package-lock.json). Microsoft's JSON schemas themselves are not in a
# package registry: the check reads them from $CARDIO_SCHEMA_DIR/powerbi-schemas (see .ci/run).
# Idempotent: each step is skipped when its tool is already there.
set -euo pipefail
cd "$(dirname "$0")/../.."

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

if ! command -v chromium >/dev/null; then
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium
fi

JSONSCHEMA_VERSION=4.26.0
if ! python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('jsonschema') != '$JSONSCHEMA_VERSION')" 2>/dev/null; then
  python3 -m pip install --quiet "jsonschema==$JSONSCHEMA_VERSION"
fi

# @microsoft/powerquery-parser 0.18.4: 0.18.6 and later need Node 22, this machine has Node 20.
if [ ! -d dashboards/tests/node_modules/@microsoft/powerquery-parser ] \
  || [ dashboards/tests/package-lock.json -nt dashboards/tests/node_modules/.package-lock.json ]; then
  (cd dashboards/tests && npm ci --no-audit --no-fund)
fi
