#!/usr/bin/env bash
# tmux, for crates/cardio-watch/tests/terminal.rs: the tests run the real cardio-watch in a
# pseudo-terminal (a tmux pane), send it keys and read the screen with `tmux capture-pane`.
# Idempotent: apt runs only when tmux is missing.
set -euo pipefail

if ! command -v tmux >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tmux
fi

tmux -V
