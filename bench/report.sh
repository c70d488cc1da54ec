#!/usr/bin/env bash
# cardio-report's speed (target: a lake of 1 million records becomes a report in a few seconds),
# measured beside a baseline that only reads the same files, in the same run.
#
#   bench/report.sh                      # 1,000,000 vitals records: 20 patients x 50,000 s at 1 Hz
#   PATIENTS=1000 SECONDS_EACH=1000 bench/report.sh     # the same count spread over a big ward
#   SOURCE=chain bench/report.sh         # the lake from cardio-sim | cardio-alert | cardio-archive
#
# SOURCE=synthetic (default) writes the lake with cardio-report's own generator (examples/make_lake:
# deterministic, vitals with news2 and alert events, holes in seq); SOURCE=chain needs the three
# pipeline binaries. Prints one line per measurement (bench/lib.sh's measure()).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

PATIENTS=${PATIENTS:-20}
SECONDS_EACH=${SECONDS_EACH:-50000}
RECORDS=$((PATIENTS * SECONDS_EACH))
SOURCE=${SOURCE:-synthetic}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
BIN=$CARGO_TARGET_DIR/release
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "== lake: $PATIENTS patients x $SECONDS_EACH s ($SOURCE)"
if [ "$SOURCE" = chain ]; then
  cargo build --release --locked --quiet -p cardio-sim -p cardio-alert -p cardio-archive -p cardio-report
  "$BIN/cardio-sim" --patients "$PATIENTS" --count "$RECORDS" --speed max --seed 1 \
    --start 2026-11-28T00:00:00Z | "$BIN/cardio-alert" --quiet | "$BIN/cardio-archive" --lake "$WORK/lake"
else
  cargo build --release --locked --quiet -p cardio-report --bin cardio-report --example make_lake
  "$BIN/examples/make_lake" "$WORK/lake" "$PATIENTS" "$SECONDS_EACH" 1
fi
vitals=$(cat "$WORK"/lake/vitals/*/*.jsonl | wc -l)
alerts=$(cat "$WORK"/lake/alerts/*/*.jsonl 2>/dev/null | wc -l)
du -sm "$WORK/lake" | awk -v v="$vitals" -v a="$alerts" '{ printf "   %d vitals and %d alert lines, %d MB\n", v, a, $1 }'

echo "== baseline"
measure "cat the lake's files (read only)" "$vitals" "cat $WORK/lake/vitals/*/*.jsonl $WORK/lake/alerts/*/*.jsonl > /dev/null"
measure "wc -l (read and scan for newlines)" "$vitals" "cat $WORK/lake/vitals/*/*.jsonl | wc -l > /dev/null"

echo "== cardio-report ($(nproc) cores)"
measure "cardio-report, whole lake" "$vitals" "$BIN/cardio-report --quiet --lake $WORK/lake --out $WORK/report.html"
ls -l "$WORK/report.html" | awk '{ printf "   report.html: %.1f MB\n", $5 / 1e6 }'
measure "cardio-report --patient PT-1000" "$vitals" "$BIN/cardio-report --quiet --lake $WORK/lake --out $WORK/one.html --patient PT-1000"
