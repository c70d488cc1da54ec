#!/usr/bin/env bash
# cardio-alert measured against ground truth (issue "a clinically grounded alarm engine"):
# cardio-sim simulates a ward with random deteriorations and realistic device artifacts at a fixed
# seed and writes what really happened to a truth file; cardio-alert runs over the same stream with
#   defaults          the built-in rules (SPEC.md 3.2; NEWS2 rows with 2 min persistence) and the
#                     SpO2 motion-artifact hold
#   no-delays         the naive baseline: every rule fires on the first reading that meets it
#   admission-limits  the defaults plus per-patient overrides a ward sets at admission from the
#                     patient's baseline (needs jq): NEWS2 SpO2 scale 2 and a lower SpO2 target for
#                     COPD, and low HR / SBP limits at 80 % (extreme: 70 %) of a baseline below them
# and `cardio-alert evaluate` scores each: sensitivity per scenario, median and 90th-percentile time
# from onset to the first relevant alarm, false physiological alarms per patient-day.
#
#   bench/alert-eval.sh                       # 200 patients x 24 h, seed 42
#   PATIENTS=50 HOURS=6 bench/alert-eval.sh   # a quicker look
#   NET="--net-loss 0.002 --net-duplicate 0.002 --net-late 0.002" bench/alert-eval.sh
#                                             # lost, repeated and late readings on the way too
set -euo pipefail
cd "$(dirname "$0")/.."

PATIENTS=${PATIENTS:-200}
HOURS=${HOURS:-24}
SEED=${SEED:-42}
EVENTS_PER_DAY=${EVENTS_PER_DAY:-1}
NET=${NET:-}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --locked -p cardio-sim -p cardio-alert --quiet
BIN=$CARGO_TARGET_DIR/release
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

sim() {
  "$BIN/cardio-sim" --patients "$PATIENTS" --duration "${HOURS}h" --speed max --seed "$SEED" \
    --start 2026-11-28T00:00:00Z --events-per-day "$EVENTS_PER_DAY" --artifacts realistic $NET "$@"
}
# Only the alert lines are kept: the stream itself is gigabytes.
alerts_of() { # name, cardio-alert flags...
  local name=$1; shift
  sim --quiet | "$BIN/cardio-alert" --quiet --summary "$@" 2>"$WORK/$name.summary" |
    { grep '^{"type":"alert"' || true; } >"$WORK/$name.jsonl"
  echo "== $name: $(tail -n 1 "$WORK/$name.summary")" >&2
}

sim --quiet --truth "$WORK/truth.jsonl" >/dev/null
alerts_of defaults
alerts_of no-delays --no-delays
variants=(defaults="$WORK/defaults.jsonl" no-delays="$WORK/no-delays.jsonl")
if command -v jq >/dev/null; then
  jq -s '{patients: (map(select(.event == "admit")) | map(
      . as $a | ($a.detail.baseline) as $b
      | ($b.heart_rate_bpm * 0.8 | floor) as $hr1 | ($b.heart_rate_bpm * 0.7 | floor) as $hr2
      | ($b.systolic_mmhg * 0.8 | floor) as $sbp
      | {key: $a.patient_id, value: (
          (if $a.detail.spo2_scale == 2 then {spo2_scale: 2} else {} end)
          + {rules: (
              (if $hr1 < 50 then {hr_low: {when: {op: "<", limit: $hr1}, clear: {op: ">=", limit: ($hr1 + 3)}}} else {} end)
            + (if $hr2 < 40 then {hr_extreme_low: {when: {op: "<=", limit: $hr2}, clear: {op: ">", limit: ($hr2 + 5)}}} else {} end)
            + (if $sbp < 90 then {sbp_low: {when: {op: "<=", limit: $sbp}, clear: {op: ">=", limit: ($sbp + 5)}}} else {} end)
            + (if $a.detail.spo2_scale == 2 then {
                spo2_low: {when: {op: "<", limit: 86}, clear: {op: ">=", limit: 88}},
                spo2_desat: {when: {op: "<", limit: 80}, clear: {op: ">=", limit: 85}}} else {} end))})})
    | from_entries)}' "$WORK/truth.jsonl" >"$WORK/admission.json"
  alerts_of admission-limits --rules "$WORK/admission.json"
  variants+=(admission-limits="$WORK/admission-limits.jsonl")
else
  echo "jq not installed: the admission-limits variant is skipped" >&2
fi

echo "cardio-sim --patients $PATIENTS --duration ${HOURS}h --seed $SEED --events-per-day $EVENTS_PER_DAY --artifacts realistic $NET"
"$BIN/cardio-alert" evaluate --truth "$WORK/truth.jsonl" --hours "$HOURS" "${variants[@]}"
