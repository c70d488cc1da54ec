#!/usr/bin/env bash
# A real Docker engine for crates/end-to-end/tests/docker_compose.rs, which builds the image and runs
# the compose file's `pipeline` service. CI machines reach Debian's mirrors and crates.io but no
# container registry, so this script makes everything the build needs locally:
#
#   1. Debian 12's docker.io (engine 20.10) and debootstrap, from apt.
#   2. Compose v2 (`docker compose`): Debian 12 ships only Compose v1, so the plugin binary is taken
#      from Debian 13's docker-compose package, pinned by version and sha256.
#   3. dockerd, started unless one answers already, without any network of its own (no bridge, no
#      iptables or NAT rules: the host's networking stays as it was; builds and containers use the
#      host network or none). Its data root is under $CARDIO_DOCKER_CACHE, so images and the build
#      cache survive between CI runs on the same machine.
#   4. Two local base images, built once and then reused:
#      cardiostream-base:bookworm  a debootstrap minbase Debian 12 (stands for debian:12.*-slim)
#      cardiostream-rust:bookworm  that, plus gcc, this host's Rust toolchain (the one `rustc` here
#                                  is) and this host's CA certificates (a TLS-inspecting proxy's CA
#                                  included, or cargo inside the build cannot fetch crates);
#                                  stands for rust:*-bookworm and is rebuilt when the host's rustc
#                                  changes.
#      The test passes them to the Dockerfile's RUST_IMAGE and RUNTIME_IMAGE build arguments.
#
# Idempotent: every step is skipped when its result is there. Needs root (apt, dockerd).
# docs/docker-and-kafka.md explains the same steps for a user without registry access.
set -euo pipefail
cd "$(dirname "$0")/../.."

CACHE=${CARDIO_DOCKER_CACHE:-/var/cache/cardiostream}
BASE_IMAGE=cardiostream-base:bookworm
RUST_IMAGE=cardiostream-rust:bookworm
MIRROR=http://deb.debian.org/debian
# Debian 13 (trixie) docker-compose: the Compose v2 CLI plugin, a static Go binary that needs
# only libc >= 2.34 (Debian 12 has 2.36). The snapshot URL is the fallback once the pool moves on.
COMPOSE_DEB=docker-compose_2.26.1-4_amd64.deb
COMPOSE_SHA256=47681197cb2b1ab88206b42a1a92fc75f50d9530a6322d03494a473eed0408ea
COMPOSE_URLS=("$MIRROR/pool/main/d/docker-compose/$COMPOSE_DEB"
  "http://snapshot.debian.org/archive/debian/20250601T000000Z/pool/main/d/docker-compose/$COMPOSE_DEB")
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins

step() { printf '== docker.sh: %s (%ss)\n' "$1" "$SECONDS"; }

# ---- 1. packages ------------------------------------------------------------------------------
if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
  step "apt: docker.io debootstrap"
  # The package would start the engine with its default networking (a docker0 bridge and iptables
  # rules); a policy-rc.d that refuses every start keeps it stopped. We start it ourselves below.
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker.io debootstrap ca-certificates curl xz-utils
  [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
fi

# ---- 2. Compose v2 ----------------------------------------------------------------------------
if ! docker compose version --short 2>/dev/null | grep -q '^v\?2\.'; then
  step "Compose v2 from $COMPOSE_DEB"
  tmp=$(mktemp -d)
  for url in "${COMPOSE_URLS[@]}"; do
    curl -fsSL --retry 3 -o "$tmp/$COMPOSE_DEB" "$url" && break
  done
  echo "$COMPOSE_SHA256  $tmp/$COMPOSE_DEB" | sha256sum -c --quiet -
  dpkg-deb --fsys-tarfile "$tmp/$COMPOSE_DEB" \
    | tar -x -C "$tmp" ./usr/libexec/docker/cli-plugins/docker-compose
  install -D -m 0755 "$tmp/usr/libexec/docker/cli-plugins/docker-compose" "$PLUGIN_DIR/docker-compose"
  rm -rf "$tmp"
fi
docker compose version

# ---- 3. the engine ----------------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  step "starting dockerd (data root $CACHE/docker)"
  mkdir -p "$CACHE/docker"
  # setsid + nohup: the engine outlives this script and the CI job's shell; later runs reuse it.
  setsid nohup dockerd \
    --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
    --storage-driver=overlay2 --data-root="$CACHE/docker" \
    >>"$CACHE/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 120); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  if ! docker info >/dev/null 2>&1; then
    tail -n 30 "$CACHE/dockerd.log" >&2
    echo "docker.sh: dockerd did not come up within 60 s" >&2
    exit 1
  fi
fi
docker version --format 'engine {{.Server.Version}}, client {{.Client.Version}}'

# ---- 4. local base images ---------------------------------------------------------------------
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  step "debootstrap minbase bookworm -> $BASE_IMAGE"
  rootfs=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -n 30 "$CACHE/debootstrap.log" >&2; exit 1; }
  # What a Docker slim image leaves out: the package lists (apt-get update fetches them again).
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
  tar -C "$rootfs" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["bash"]' - "$BASE_IMAGE"
  rm -rf "$rootfs"
fi

sysroot=$(rustc --print sysroot)
rustc_version=$(rustc --version)
if [ "$(docker image inspect -f '{{index .Config.Labels "cardiostream.rustc"}}' "$RUST_IMAGE" 2>/dev/null)" != "$rustc_version" ]; then
  step "$RUST_IMAGE from $BASE_IMAGE + $rustc_version + this host's CA certificates"
  ctx=$(mktemp -d)
  # The toolchain without its documentation (share/: 800 MB of HTML).
  mkdir "$ctx/rust"
  cp -a "$sysroot/bin" "$sysroot/lib" "$sysroot/libexec" "$ctx/rust/"
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
  cat >"$ctx/Dockerfile" <<EOF
FROM $BASE_IMAGE
# gcc and libc6-dev: the linker rustc calls (cc), and C compilers for build scripts.
RUN apt-get update \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev ca-certificates \\
    && rm -rf /var/lib/apt/lists/*
COPY rust /usr/local/rust
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV PATH=/usr/local/rust/bin:/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    CARGO_HOME=/usr/local/cargo
LABEL cardiostream.rustc="$rustc_version"
EOF
  DOCKER_BUILDKIT=0 docker build --network host -q -t "$RUST_IMAGE" "$ctx"
  rm -rf "$ctx"
fi
docker run --rm --network none "$RUST_IMAGE" sh -c 'cargo --version && rustc --version && cc --version | head -n 1'

# ---- 5. bounded cache -------------------------------------------------------------------------
# Each build after a source change leaves the previous build stage behind as an untagged image
# (1.7 GB: it holds target/). Those older than a day go; the current one stays, and with it the
# compiled dependencies the next build reuses. Only on the engine this script runs (its data root),
# never on an engine that holds someone else's images.
if [ "$(docker info -f '{{.DockerRootDir}}')" = "$CACHE/docker" ]; then
  docker image prune --force --filter until=24h | tail -n 1
fi
step "done"
