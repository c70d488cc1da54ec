#!/usr/bin/env bash
# cardio-watch's speed and memory (issue "cardio-watch: a central station in the terminal": keep up
# with a 100,000-patient ward at 1 Hz, 100,000 records/s, on one core; a 20-patient ward a
# negligible share of a core; memory state per patient plus a fixed trend window), beside a
# baseline measured in the same run so the figures read as ratios on a shared, noisy machine.
#
#   1. Throughput of the state-update path, headless (crates/cardio-watch/examples/headless.rs):
#      every line through the binary's line reader, parser and ward state on one thread, and a
#      frame drawn on ratatui's TestBackend every 250 ms. Input: SECONDS s of a PATIENTS-patient
#      ward at 1 Hz through cardio-alert. Baseline: `cat` of the same file. Best of RUNS.
#   2. Memory per patient: peak RSS of (1) minus that of a 20-patient run, over the patients.
#   3. A 20-patient ward in real time for REALTIME s: CPU used by the real binary in a tmux pane
#      (needs tmux), beside `cat` in the same place of the same pipeline.
#
#   bench/watch.sh
#   PATIENTS=20000 SECONDS_OF_WARD=5 REALTIME=10 bench/watch.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PATIENTS=${PATIENTS:-100000}
SECONDS_OF_WARD=${SECONDS_OF_WARD:-10}
RUNS=${RUNS:-3}
REALTIME=${REALTIME:-30}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --locked -p cardio-sim -p cardio-alert -p cardio-watch --bins --quiet
cargo build --release --locked -p cardio-watch --example headless --quiet
BIN=$CARGO_TARGET_DIR/release
HEADLESS=$BIN/examples/headless
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

ward() { # patients seconds file
  "$BIN/cardio-sim" --patients "$1" --duration "$2s" --speed max --seed 1 --events-per-day 4 \
    --artifacts realistic --start 2026-11-28T00:00:00Z --quiet | "$BIN/cardio-alert" --quiet >"$3"
}
ward "$PATIENTS" "$SECONDS_OF_WARD" "$WORK/big.jsonl"
ward 20 600 "$WORK/small.jsonl"
LINES=$(wc -l <"$WORK/big.jsonl")
echo "== input: $LINES lines ($PATIENTS patients × ${SECONDS_OF_WARD} s at 1 Hz, through cardio-alert), $(($(stat -c %s "$WORK/big.jsonl") / LINES)) bytes a line"

best() { # command → best "wall cpu" of RUNS
  local best= line
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f '%e %U %S' -o "$WORK/time" bash -c "$1" >/dev/null 2>&1
    line=$(awk '{ printf "%s %.2f", $1, $2 + $3 }' "$WORK/time")
    if [ -z "$best" ] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN { exit !(a < b) }'; then
      best=$line
    fi
  done
  echo "$best"
}

echo "== 1. state-update path, headless, one thread (best of $RUNS)"
CAT=$(best "cat '$WORK/big.jsonl' >/dev/null")
WATCH=$(best "'$HEADLESS' <'$WORK/big.jsonl' >'$WORK/headless.out'")
"$HEADLESS" <"$WORK/big.jsonl" >"$WORK/headless.out"
read -r cat_wall _ <<<"$CAT"
read -r watch_wall watch_cpu <<<"$WATCH"
awk -v n="$LINES" -v cw="$cat_wall" -v ww="$watch_wall" -v wc="$watch_cpu" 'BEGIN {
  cr = n / (cw > 0 ? cw : 0.005); wr = n / ww; pc = n / (wc > 0 ? wc : ww)
  printf "%-42s %12s %14s\n", "", "records/s", "per CPU second"
  printf "%-42s %12.0f\n", "baseline: cat of the same file", cr
  printf "%-42s %12.0f %14.0f\n", "cardio-watch state update + 4 frames/s", wr, pc
  printf "ratio cardio-watch / cat: %.3f; against the 100,000 records/s target: %.2f×\n", wr / cr, wr / 100000
}'
cat "$WORK/headless.out"

echo "== 2. memory"
big_rss=$(awk '{ for (i = 1; i < NF; i++) if ($i == "peak_rss_kib") print $(i + 1) }' "$WORK/headless.out")
"$HEADLESS" <"$WORK/small.jsonl" >"$WORK/small.out"
small_rss=$(awk '{ for (i = 1; i < NF; i++) if ($i == "peak_rss_kib") print $(i + 1) }' "$WORK/small.out")
awk -v b="$big_rss" -v s="$small_rss" -v p="$PATIENTS" 'BEGIN {
  printf "peak RSS: %.1f MB with %d patients, %.1f MB with 20; %.0f bytes per patient\n",
    b / 1024, p, s / 1024, (b - s) * 1024 / (p - 20) }'

echo "== 3. 20 patients in real time for ${REALTIME} s, in a tmux pane"
if ! command -v tmux >/dev/null; then
  echo "SKIPPED: tmux is not installed (.ci/install.d/watch.sh)"
  exit 0
fi
realtime() { # stage → "cpu seconds"
  cat >"$WORK/rt.sh" <<SCRIPT
"$BIN/cardio-sim" --patients 20 --duration ${REALTIME}s --speed 1 --seed 1 --quiet \
  | "$BIN/cardio-alert" --quiet | /usr/bin/time -f '%e %U %S' -o "$WORK/rt.time" $1
touch "$WORK/rt.done"
SCRIPT
  rm -f "$WORK/rt.done"
  tmux -S "$WORK/tmux.sock" -f /dev/null new-session -d -x 80 -y 24 "bash $WORK/rt.sh"
  while [ ! -e "$WORK/rt.done" ]; do sleep 0.5; done
  tmux -S "$WORK/tmux.sock" kill-server 2>/dev/null || true
  # The last line: timeout's status 124 adds a line before it.
  tail -n 1 "$WORK/rt.time" | awk '{ printf "%.2f %.2f", $1, $2 + $3 }'
}
# The station stays up after its input ends; SIGTERM 2 s after the stream ends takes it down.
read -r w_wall w_cpu <<<"$(realtime "timeout --foreground -s TERM $((REALTIME + 2)) $BIN/cardio-watch")"
read -r c_wall c_cpu <<<"$(realtime "cat")"
awk -v ww="$w_wall" -v wc="$w_cpu" -v cw="$c_wall" -v cc="$c_cpu" 'BEGIN {
  printf "cardio-watch: %.2f CPU s in %.1f s = %.2f %% of a core; baseline cat: %.2f CPU s in %.1f s = %.2f %%\n",
    wc, ww, 100 * wc / ww, cc, cw, 100 * cc / cw }'
