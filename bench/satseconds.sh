#!/usr/bin/env bash
# Nellcor SatSeconds (the `sat_seconds` rule trigger) measured against the plain condition delay:
# the same ward as bench/alert-eval.sh (cardio-sim with random deteriorations and realistic device
# artifacts at a fixed seed, ground truth in a truth file), scored by `cardio-alert evaluate` with
#   delay-15s      the defaults: spo2_low is SpO2 < 90 % held for 15 s (docs/spec.md §3.2)
#   satsec-N       the defaults with spo2_low replaced by a sat_seconds rule of the same name (so the
#                  evaluation counts it where it counts spo2_low): limit 90 %, N = 25, 50, 100
#                  SatSeconds, Nellcor's safety net of 3 falls below 90 % within 60 s, and the
#                  built-in spo2_low's 10 s clearing hold (CLEAR_HOLD_S; without one, a SpO2
#                  hovering at 90 % raises and clears once per crossing)
#   satsec-N-nonet the same without the safety net (excursions = 0), to tell the two apart
# Everything else (spo2_desat, the SpO2 motion-artifact hold, NEWS2) stays as in the defaults.
#
#   bench/satseconds.sh                       # 200 patients x 24 h, seed 42
#   PATIENTS=50 HOURS=6 bench/satseconds.sh   # a quicker look
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/eval-ward.sh
SETTINGS=${SETTINGS:-25 50 100}
NONET=${NONET-25 100}   # empty: no variant without the safety net
CLEAR_HOLD_S=${CLEAR_HOLD_S:-10}

sim --quiet --truth "$WORK/truth.jsonl" >/dev/null
alerts_of delay-15s
variants=(delay-15s="$WORK/delay-15s.jsonl")
satsec() { # name, SatSeconds, excursions
  cat >"$WORK/$1.toml" <<TOML
[[rules]]
name = "spo2_low"
kind = "physiological"
priority = "medium"
trigger = "sat_seconds"
limit = 90
sat_seconds = $2
excursions = $3
excursion_window_s = 60
clear_hold_s = $CLEAR_HOLD_S
TOML
  alerts_of "$1" --rules "$WORK/$1.toml"
  variants+=("$1=$WORK/$1.jsonl")
}
for n in $SETTINGS; do satsec "satsec-$n" "$n" 3; done
for n in $NONET; do satsec "satsec-$n-nonet" "$n" 0; done

echo "cardio-sim --patients $PATIENTS --duration ${HOURS}h --seed $SEED --events-per-day $EVENTS_PER_DAY --artifacts realistic; SatSeconds clear_hold_s = $CLEAR_HOLD_S"
"$BIN/cardio-alert" evaluate --truth "$WORK/truth.jsonl" --hours "$HOURS" "${variants[@]}"
