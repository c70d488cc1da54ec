#!/usr/bin/env bash
# The whole chain's speed and memory, measured beside baselines in the same run so the figures can
# be read as ratios on a shared, noisy machine.
#
#   bench/pipeline.sh            # 1,000,000 records, 10,000 patients
#   RECORDS=200000 bench/pipeline.sh
#
# Prints one line per measurement (bench/lib.sh's measure()): its CPU seconds add up all processes
# of the command, and on 2 cores a three-process chain is bound by that sum.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

RECORDS=${RECORDS:-1000000}
PATIENTS=${PATIENTS:-10000}
LONG=${LONG:-10000000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --locked --workspace --quiet
BIN=$CARGO_TARGET_DIR/release
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

SIM="$BIN/cardio-sim --patients $PATIENTS --seed 1 --speed max --start 2026-11-28T00:00:00Z"

echo "== input: $RECORDS records from $PATIENTS patients"
$SIM --count "$RECORDS" >"$WORK/raw.jsonl"
"$BIN/cardio-alert" --quiet <"$WORK/raw.jsonl" >"$WORK/enriched.jsonl"
ls -l "$WORK/raw.jsonl" | awk '{ printf "   %.0f MB, %.0f bytes a line\n", $5 / 1e6, $5 / '"$RECORDS"' }'

echo "== baselines"
measure "cat (pipe throughput)" "$RECORDS" "cat $WORK/raw.jsonl | cat > /dev/null"
if command -v jq >/dev/null; then
  measure "jq -c . (a simple filter)" "$RECORDS" "jq -c . $WORK/raw.jsonl > /dev/null"
fi
measure "cat | cat | cat > file (three-stage pipe)" "$RECORDS" "cat $WORK/raw.jsonl | cat | cat > $WORK/copy.jsonl"

echo "== stages"
measure "cardio-sim --speed max" "$RECORDS" "$SIM --count $RECORDS > /dev/null"
measure "cardio-alert alone" "$RECORDS" "$BIN/cardio-alert --quiet < $WORK/raw.jsonl > /dev/null"
rm -rf "$WORK/lake1"
measure "cardio-archive alone (fsync per file)" "$RECORDS" "$BIN/cardio-archive --lake $WORK/lake1 < $WORK/enriched.jsonl"

echo "== the chain into a real lake"
rm -rf "$WORK/lake2"
measure "cardio-sim | cardio-alert | cardio-archive" "$RECORDS" \
  "$SIM --count $RECORDS | $BIN/cardio-alert --quiet | $BIN/cardio-archive --lake $WORK/lake2"
landed=$(cat "$WORK"/lake2/vitals/*/*.jsonl | wc -l)
echo "   vitals rows in the lake: $landed (expected $RECORDS)"

echo "== memory flat in stream length: cardio-alert, $PATIENTS patients"
measure "cardio-alert, $RECORDS records" "$RECORDS" "$SIM --count $RECORDS | $BIN/cardio-alert --quiet > /dev/null"
measure "cardio-alert, $LONG records" "$LONG" "$SIM --count $LONG | $BIN/cardio-alert --quiet > /dev/null"
