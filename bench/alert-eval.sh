#!/usr/bin/env bash
# cardio-alert measured against ground truth:
# cardio-sim simulates a ward with random deteriorations and realistic device artifacts at a fixed
# seed and writes what really happened to a truth file; cardio-alert runs over the same stream with
#   defaults          the built-in rules (docs/spec.md §3.2; NEWS2 rows with 2 min persistence) and the
#                     SpO2 motion-artifact hold
#   no-delays         the naive baseline: every rule fires on the first reading that meets it
#   admission-limits  the defaults plus per-patient overrides a ward sets at admission from the
#                     patient's baseline, as written by `cardio-sim --admission-rules`: NEWS2 SpO2
#                     scale 2 and a lower SpO2 target for COPD, and low HR / SBP limits at 80 %
#                     (extreme HR: 70 %) of the resting value where that is below the default limit
# and `cardio-alert evaluate` scores each: sensitivity per scenario (also before the peak) beside
# the chance that an equally long window of the ward's calm time holds a relevant alarm, median and
# 90th-percentile time from onset to the first relevant alarm, and the raised alarms per patient-day
# in three classes (detection, true but not actionable, false) with the technical ones and the total.
# bench/alarm-burden.sh does the same per unit, with a ward without scenarios for the chance hits.
#
#   bench/alert-eval.sh                       # 200 patients x 24 h, seed 42
#   PATIENTS=50 HOURS=6 bench/alert-eval.sh   # a quicker look
#   NET="--net-loss 0.002 --net-duplicate 0.002 --net-late 0.002" bench/alert-eval.sh
#                                             # lost, repeated and late readings on the way too
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/eval-ward.sh

# The truth file and the admission limits (cardio-sim --admission-rules) come from the same run.
sim --quiet --truth "$WORK/truth.jsonl" --admission-rules "$WORK/admission.toml" >/dev/null
alerts_of defaults
alerts_of no-delays --no-delays
alerts_of admission-limits --rules "$WORK/admission.toml"
variants=(defaults="$WORK/defaults.jsonl" no-delays="$WORK/no-delays.jsonl"
  admission-limits="$WORK/admission-limits.jsonl")

echo "cardio-sim --patients $PATIENTS --duration ${HOURS}h --seed $SEED --events-per-day $EVENTS_PER_DAY --artifacts realistic $NET"
"$BIN/cardio-alert" evaluate --truth "$WORK/truth.jsonl" --hours "$HOURS" "${variants[@]}"
