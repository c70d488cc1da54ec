#!/usr/bin/env bash
# cardio-export's speed (target: 200,000 readings/s or more to FHIR NDJSON and to HL7 on stdout),
# measured beside baselines in the same run, so that the figures read as ratios on a shared, noisy
# machine:
#   cat                 moving the input bytes, nothing else
#   cardio-alert        a stage that parses and rewrites every line (the pipeline's own yardstick)
#   dd conv=fsync       the disk writing the FHIR export's bytes, its ceiling for `fhir --out`
# Input: cardio-sim | cardio-alert (NEWS2 on every reading) in a file. Output bytes are written to
# a real folder (FHIR) or /dev/null (HL7). Each command runs RUNS times (default 3); the best wall
# time and its CPU time are shown, and the rate per CPU second, which moves less than wall time when
# other jobs share the cores. FHIR's wall time includes the fsync of every file, as each run does.
#
#   bench/export.sh
#   RECORDS=100000 bench/export.sh
set -euo pipefail
cd "$(dirname "$0")/.."

RECORDS=${RECORDS:-500000}
PATIENTS=${PATIENTS:-1000}
RUNS=${RUNS:-3}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --locked -p cardio-sim -p cardio-alert -p cardio-export --bins --quiet
BIN=$CARGO_TARGET_DIR/release
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$BIN/cardio-sim" --patients "$PATIENTS" --seed 1 --speed max --start 2026-11-28T00:00:00Z --quiet --count "$RECORDS" \
  | "$BIN/cardio-alert" --quiet >"$WORK/in.jsonl" 2>/dev/null
READINGS=$(grep -c '"type":"vitals"' "$WORK/in.jsonl")
echo "== input: $READINGS readings (+ $(grep -c '"type":"alert"' "$WORK/in.jsonl" || true) alert events) from $PATIENTS patients, $(($(stat -c %s "$WORK/in.jsonl") / READINGS)) bytes a line"

BASE_RATE=
measure() { # name command
  local name=$1 cmd=$2 best= line
  for _ in $(seq "$RUNS"); do
    rm -rf "$WORK/fhir"
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" bash -c "$cmd" 2>/dev/null
    line=$(awk '{ printf "%s %.2f %s", $1, $2 + $3, $4 }' "$WORK/time")
    if [ -z "$best" ] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN { exit !(a < b) }'; then
      best=$line
    fi
  done
  read -r secs cpu rss <<<"$best"
  local rate
  rate=$(awk -v r="$READINGS" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? r / s : 0) }')
  [ "$name" = "cardio-alert" ] && BASE_RATE=$rate
  awk -v n="$name" -v r="$READINGS" -v s="$secs" -v c="$cpu" -v m="$rss" -v rate="$rate" -v base="$BASE_RATE" \
    'BEGIN { printf "%-38s %6.2f s wall %6.2f s cpu %9d readings/s %9d per cpu s %6.1f MB RSS", n, s, c, rate, (c > 0 ? r / c : 0), m / 1024;
             if (base != "" && base > 0) printf "  %5.2fx cardio-alert", rate / base; printf "\n" }'
}

echo "== best of $RUNS"
measure "cat (baseline)" "cat $WORK/in.jsonl > /dev/null"
measure "cardio-alert" "$BIN/cardio-alert --quiet < $WORK/in.jsonl > /dev/null"
measure "cardio-export hl7 (lines) > /dev/null" "$BIN/cardio-export hl7 --quiet < $WORK/in.jsonl > /dev/null"
measure "cardio-export hl7 --framing mllp" "$BIN/cardio-export hl7 --quiet --framing mllp < $WORK/in.jsonl > /dev/null"
measure "cardio-export fhir --out DIR" "$BIN/cardio-export fhir --quiet --out $WORK/fhir < $WORK/in.jsonl"
# The disk's own ceiling for the same bytes: the FHIR output copied with dd and fsynced.
"$BIN/cardio-export" fhir --quiet --out "$WORK/ref" <"$WORK/in.jsonl"
cat "$WORK"/ref/*.ndjson >"$WORK/ref.all" && rm -rf "$WORK/ref"
measure "dd FHIR's bytes conv=fsync (disk)" "dd if=$WORK/ref.all of=$WORK/copy bs=1M conv=fsync status=none"
rm -f "$WORK/ref.all" "$WORK/copy"
# The same into memory (tmpfs), where fsync costs nothing: the exporter's own speed, without the disk.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  SHM=$(mktemp -d /dev/shm/cardio-export-bench.XXXXXX)
  measure "cardio-export fhir --out /dev/shm/DIR" "rm -rf $SHM/fhir; $BIN/cardio-export fhir --quiet --out $SHM/fhir < $WORK/in.jsonl"
  rm -rf "$SHM"
fi
"$BIN/cardio-export" fhir --quiet --out "$WORK/fhir" <"$WORK/in.jsonl"
echo "== FHIR output: $(cat "$WORK"/fhir/*.ndjson | wc -l) resources, $(du -sm "$WORK/fhir" | cut -f1) MB ($(($(stat -c %s "$WORK/fhir/Observation.ndjson") / READINGS)) bytes of Observations a reading)"
