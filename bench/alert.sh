#!/usr/bin/env bash
# cardio-alert's speed and memory (issue "The pipeline end to end": 1.5 million lines/s or more on
# one core; memory flat in stream length; under 50 MB resident for 10,000 patients), measured beside
# baselines in the same run so that the figures read as ratios on a shared, noisy machine:
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

SERDE_RATE=
# best of RUNS: wall s, CPU s (user+sys), peak RSS KiB
measure() { # name records command
  local name=$1 records=$2 cmd=$3 best= line
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" bash -c "$cmd" 2>/dev/null
    line=$(awk '{ printf "%s %.2f %s", $1, $2 + $3, $4 }' "$WORK/time")
    if [ -z "$best" ] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN { exit !(a < b) }'; then
      best=$line
    fi
  done
  read -r secs cpu rss <<<"$best"
  local rate
  rate=$(awk -v r="$records" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? r / s : 0) }')
  [ "$name" = "serde parse+reserialise" ] && SERDE_RATE=$rate
  awk -v n="$name" -v r="$records" -v s="$secs" -v c="$cpu" -v m="$rss" -v rate="$rate" -v base="$SERDE_RATE" \
    'BEGIN { printf "%-34s %9d lines %6.2f s wall %6.2f s cpu %11d lines/s %7.1f MB RSS", n, r, s, c, rate, m / 1024;
             if (base != "" && base > 0) printf "  %5.2fx serde", rate / base; printf "\n" }'
}

echo "== one stage alone, from a file to /dev/null (best of $RUNS)"
measure "cat | cat (pipe throughput)" "$RECORDS" "cat $WORK/raw.jsonl | cat > /dev/null"
if command -v jq >/dev/null; then
  measure "jq -c ." "$RECORDS" "jq -c . $WORK/raw.jsonl > /dev/null"
fi
measure "serde parse+reserialise" "$RECORDS" "$BIN/examples/serde_baseline < $WORK/raw.jsonl > /dev/null"
measure "cardio-alert" "$RECORDS" "$BIN/cardio-alert --quiet < $WORK/raw.jsonl > /dev/null"

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
