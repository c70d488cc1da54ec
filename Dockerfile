# CardioStream image: cardio-sim, cardio-alert, cardio-archive, cardio-report, cardio-watch and cardio-export on Debian slim,
# plus cardio-kafka for the compose file's Kafka profile. docker-compose.yml runs it;
# docs/docker-and-kafka.md says what runs where. Checked without a Docker engine by docker/tests/check_compose.py (hadolint,
# and consistency with the compose file and the binaries' flags).
#
# Plain Dockerfile syntax on purpose (no BuildKit-only --mount, --chmod or heredocs), so that the
# older `docker-compose up --build` with the classic builder builds it too.

# ---- base images ---------------------------------------------------------------------------------
# Registry images by default. Both are build arguments so that a machine without registry access can
# use local equivalents: CI builds with RUST_IMAGE=cardiostream-rust:bookworm and
# RUNTIME_IMAGE=cardiostream-base:bookworm, made by .ci/install.d/docker.sh (docs/docker-and-kafka.md).
# The build image needs cargo, rustc and cc on PATH; both must be Debian 12, so the binaries link
# against the glibc they run with. The workspace's rust-version (1.89) is the floor; the check
# compares it with the default.
ARG RUST_IMAGE=rust:1.93.0-slim-bookworm
ARG RUNTIME_IMAGE=debian:12.12-slim

# ---- manifests -----------------------------------------------------------------------------------
# Every crate's Cargo.toml and nothing else, so that the dependency layer below depends on the
# manifests alone without listing the crates: a crate added under crates/ is picked up as it is.
# This stage reruns on every source change (a copy, no compiling); the COPY --from below is cached by
# the copied files' content, so the dependency layer stays cached unless a manifest changed.
FROM ${RUST_IMAGE} AS manifests
WORKDIR /src
COPY crates crates
RUN mkdir /manifests \
    && for manifest in crates/*/Cargo.toml; do \
        mkdir -p "/manifests/${manifest%/Cargo.toml}" && cp "$manifest" "/manifests/$manifest"; \
    done

# ---- build ---------------------------------------------------------------------------------------
FROM ${RUST_IMAGE} AS build
WORKDIR /src

# What rdkafka-sys needs to compile cardio-kafka's librdkafka from source: a C++ compiler and make
# (librdkafka's own build), pkg-config, OpenSSL's headers (TLS and SASL to managed clusters) and
# zlib's. DL3008: see the runtime stage.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends g++ make pkg-config libssl-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*

# 1. Dependencies only. This layer depends on the manifests and Cargo.lock alone, so an edit of our
#    own code reuses the compiled dependencies.
COPY docker/stub-sources.sh /usr/local/bin/stub-sources
COPY Cargo.toml Cargo.lock ./
COPY --from=manifests /manifests/crates crates
RUN stub-sources crates/*/Cargo.toml \
    && cargo build --release --locked --workspace --bins \
    && rm -rf crates

# 2. Our code. COPY keeps the files' modification times, which can be older than the stub build
#    above; touching them makes cargo rebuild our crates instead of keeping the stub binaries.
COPY crates crates
RUN find crates -type f -name '*.rs' -exec touch {} + \
    && cargo build --release --locked --workspace --bins \
    && mkdir -p /out/bin \
    && find target/release -maxdepth 1 -type f -perm -u+x -name 'cardio-*' -exec cp {} /out/bin/ ';'

# ---- runtime -------------------------------------------------------------------------------------
# Debian 12 (bookworm) slim at a fixed point release (RUNTIME_IMAGE): the same release as the build
# stage.
FROM ${RUNTIME_IMAGE} AS runtime

# The UID and GID the pipeline runs as. 1000 is the first user on most Linux hosts, so the bind
# mounted ./med_data_lake is writable without chown; docker-compose.yml can run it as another
# user (CARDIO_UID, CARDIO_GID) without rebuilding.
ARG CARDIO_UID=1000
ARG CARDIO_GID=1000

# tini: PID 1 that forwards SIGTERM to the whole pipeline (see docker/cardio-entrypoint).
# libssl3: OpenSSL, which cardio-kafka's librdkafka links for TLS and SASL.
# ca-certificates: lets cardio-kafka reach a TLS broker (a managed Kafka) with -X security.protocol=SSL.
# DL3008 (pin apt versions) is ignored on purpose: Debian stable's archive keeps only the current
# version of a package, so a pinned version breaks the build at the next point release; the
# pinned base image tag and Debian stable's security-only updates are the version control here.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini libssl3 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid "${CARDIO_GID}" cardio \
    && useradd --uid "${CARDIO_UID}" --gid cardio --no-create-home --home-dir /cardiostream \
        --shell /usr/sbin/nologin cardio \
    && mkdir -p /cardiostream/med_data_lake \
    && chown -R cardio:cardio /cardiostream

COPY --from=build /out/bin/ /usr/local/bin/
COPY docker/cardio-entrypoint /usr/local/bin/cardio-entrypoint

LABEL org.opencontainers.image.title="CardioStream" \
      org.opencontainers.image.description="Simulate, alert on (NEWS2, IEC 60601-1-8 style alarms) and archive patient vital signs as NDJSON: cardio-sim | cardio-alert | cardio-archive" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0" \
      org.opencontainers.image.source="https://github.com/cardiostream/cardiostream" \
      org.opencontainers.image.base.name="docker.io/library/debian:12.12-slim"

# The lake is ./med_data_lake relative to this folder: the same layout as the repository, so
# cardio-archive's default --lake and the compose file's bind mount agree.
WORKDIR /cardiostream
USER ${CARDIO_UID}:${CARDIO_GID}

# cardio-archive publishes its open files on SIGTERM and exits 0; tini -g delivers it.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "-g", "--", "/usr/local/bin/cardio-entrypoint"]
# Ten patients in real time into ./med_data_lake, alerts on stderr (`docker logs`).
CMD ["cardio-sim --patients 10 | cardio-alert | cardio-archive --lake ./med_data_lake"]
