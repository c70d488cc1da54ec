#!/usr/bin/env bash
# cardio-alert's speed and memory (targets: 1.5 million lines/s or more on one core; memory flat in
# stream length; under 50 MB resident for 10,000 patients), measured beside baselines in the same
# run so that the figures read as ratios on a shared, noisy machine:
#   cat                      moving the bytes, nothing else
#   jq -c .                  a simple JSON filter (when jq is installed)
#   serde parse+reserialise  crates/cardio-alert/examples/serde_baseline.rs: every line parsed into
#                            Vitals, the two NEWS2 fields set, serialised again; no alarm logic
# Each command runs RUNS times (default 3); the best wall time and its CPU time are shown.
#
#   bench/alert.sh
#   RECORDS=200000 LONG=2000000 bench/alert.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

RECORDS=${RECORDS:-1000000}
LONG=${LONG:-10000000}
PATIENTS=${PATIENTS:-10000}
RUNS=${RUNS:-3}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --locked -p cardio-sim -p cardio-alert --bins --example serde_baseline --quiet
BIN=$CARGO_TARGET_DIR/release
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

SIM="$BIN/cardio-sim --patients $PATIENTS --seed 1 --speed max --start 2026-11-28T00:00:00Z --quiet"
$SIM --count "$RECORDS" >"$WORK/raw.jsonl"
echo "== input: $RECORDS cardio-sim lines, $PATIENTS patients, $(($(stat -c %s "$WORK/raw.jsonl") / RECORDS)) bytes a line"

# the speed of the last measure() against the serde yardstick's
vs_serde() {
  awk -v r="$MEASURED_RATE" -v b="$SERDE_RATE" 'BEGIN { printf "%-48s %5.2fx serde\n", "", r / b }'
}

echo "== one stage alone, from a file to /dev/null (best of $RUNS)"
measure "cat | cat (pipe throughput)" "$RECORDS" "cat $WORK/raw.jsonl | cat > /dev/null"
if command -v jq >/dev/null; then
  measure "jq -c ." "$RECORDS" "jq -c . $WORK/raw.jsonl > /dev/null"
fi
measure "serde parse+reserialise" "$RECORDS" "$BIN/examples/serde_baseline < $WORK/raw.jsonl > /dev/null"
SERDE_RATE=$MEASURED_RATE
measure "cardio-alert" "$RECORDS" "$BIN/cardio-alert --quiet < $WORK/raw.jsonl > /dev/null"
vs_serde

echo "== memory flat in stream length: cardio-sim | cardio-alert, $PATIENTS patients (RSS is cardio-alert's)"
for n in "$RECORDS" "$LONG"; do
  $SIM --count "$n" | /usr/bin/time -f '%M' -o "$WORK/rss" "$BIN/cardio-alert" --quiet >/dev/null 2>&1
  awk -v n="$n" '{ printf "cardio-alert over %9d lines: %6.1f MB peak RSS\n", n, $1 / 1024 }' "$WORK/rss"
done

# Wall time on a shared machine moves with the neighbours; instruction counts do not.
if command -v valgrind >/dev/null && [ "${CALLGRIND:-1}" = 1 ]; then
  CG=${CG_RECORDS:-100000}
  head -n "$CG" "$WORK/raw.jsonl" >"$WORK/cg.jsonl"
  echo "== instructions per line (valgrind --tool=callgrind, first $CG lines): repeatable whatever the load"
  for cmd in "$BIN/examples/serde_baseline" "$BIN/cardio-alert --quiet"; do
    valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" $cmd <"$WORK/cg.jsonl" >/dev/null 2>"$WORK/cg.err"
    awk -v c="${cmd##*/}" -v n="$CG" '/Collected/ { printf "%-34s %8.0f instructions a line\n", c, $4 / n }' "$WORK/cg.err"
  done
fi
