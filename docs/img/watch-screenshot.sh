#!/usr/bin/env bash
# docs/img/watch.png: cardio-watch on a simulated ward, as a terminal shows it. The real pipeline
# runs in a tmux pane; `tmux capture-pane -e` takes the screen with its colours, ansi_to_mvg.py
# turns it into ImageMagick drawing commands, ImageMagick draws the PNG (DejaVu Sans Mono).
#
#   docs/img/watch-screenshot.sh            # needs tmux, python3, ImageMagick (CONVERT=…)
set -euo pipefail
cd "$(dirname "$0")/../.."
COLS=${COLS:-100} ROWS=${ROWS:-30} CONVERT=${CONVERT:-convert}
cargo build --release --locked -p cardio-sim -p cardio-alert -p cardio-watch --bins --quiet
BIN=target/release
WORK=$(mktemp -d)
trap 'tmux -S "$WORK/s" kill-server 2>/dev/null || true; rm -rf "$WORK"' EXIT
# Twelve hours of a 24-bed ward at full speed with frequent deteriorations and realistic artifacts;
# the station shows where the stream ends.
tmux -S "$WORK/s" -f /dev/null new-session -d -x "$COLS" -y "$ROWS" \
  "$BIN/cardio-sim --patients 24 --duration 12h --start $(date -u -d "-12 hours" +%Y-%m-%dT%H:%M:%SZ) \
     --speed max --seed 21 --events-per-day 6 \
     --artifacts realistic --quiet | $BIN/cardio-alert --quiet | $BIN/cardio-watch"
until tmux -S "$WORK/s" capture-pane -p | grep -q 'input ended'; do sleep 0.5; done
sleep 1.5 # the repaint after the end of input
tmux -S "$WORK/s" capture-pane -e -p >"$WORK/screen.ansi"
tmux -S "$WORK/s" send-keys q
CW=9 CH=18
python3 docs/img/ansi_to_mvg.py "$COLS" "$ROWS" $CW $CH <"$WORK/screen.ansi" >"$WORK/screen.rows"
draws=()
while IFS= read -r row; do draws+=(-draw "$row"); done <"$WORK/screen.rows"
"$CONVERT" -size $((COLS * CW))x$((ROWS * CH)) xc:'#1e1e1e' "${draws[@]}" docs/img/watch.png
echo "docs/img/watch.png"
