#!/usr/bin/env bash
# The Kafka path (crates/cardio-kafka, and the tests that run it against a real broker):
# - the C toolchain and headers that rdkafka-sys needs to build its bundled librdkafka from source
#   (gcc and g++ for librdkafka's C and C++ parts, make, pkg-config, OpenSSL for TLS/SASL, zlib);
# - tansu 0.6.0, a Kafka-protocol broker in Rust that the tests start on 127.0.0.1 with in-memory
#   storage (crates/end-to-end/src/kafka.rs). No Apache Kafka: it needs a JVM and comes from no
#   registry this machine reaches; tansu is on crates.io. Its default build has no storage engine
#   at all: `memory://` (and `s3://`) need the `dynostore` feature, hence the folder's name.
#   `cargo install` compiles 300+ crates (12 minutes on an idle machine, far more on a busy one),
#   so it goes into a cache folder outside the clone that later runs on the same machine reuse:
#   ~/.cache/cardiostream/tansu-0.6.0-dynostore/bin/tansu (CARDIO_TANSU overrides the path the
#   tests use), with its build folder kept beside it so that an interrupted build resumes.
# Idempotent: apt runs only when a package is missing, cargo install only when the binary is.
set -euo pipefail

packages=()
for pkg in gcc g++ make pkg-config libssl-dev zlib1g-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || packages+=("$pkg")
done
if [ "${#packages[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi

TANSU_VERSION=0.6.0
TANSU_ROOT="$HOME/.cache/cardiostream/tansu-$TANSU_VERSION-dynostore"
if [ ! -x "$TANSU_ROOT/bin/tansu" ]; then
  echo "building tansu $TANSU_VERSION into $TANSU_ROOT (12+ minutes, once per machine)"
  # A separate target folder, so an interrupted build resumes instead of starting over.
  CARGO_TARGET_DIR="$HOME/.cache/cardiostream/tansu-build" \
    cargo install tansu --version "$TANSU_VERSION" --locked --features dynostore --root "$TANSU_ROOT"
fi
"$TANSU_ROOT/bin/tansu" --version
