#!/usr/bin/env bash
# The alarm burden and the three-class evaluation, per unit: for each cardio-sim unit (UNIT=icu for
# one, default general medical surgical icu; a cardio-sim without --unit has one ward, `general`),
# a ward with random deteriorations and realistic device artifacts at a fixed seed (the truth file
# says what happened) and a ward without deteriorations (--events-per-day 0: for the chance-hit
# rates), each run once and fanned out to four cardio-alert configurations:
#   naive            --no-delays (every rule on the first reading that meets it, no artifact hold),
#                    the built-in limits (docs/spec.md §3.2) as a vendor ships them; any `settings`
#                    records are taken out of the stream
#   defaults         the built-in rules with their condition delays and the SpO2 artifact hold;
#                    `settings` records taken out too
#   individualised   the defaults with per-patient limits: the stream's own `settings` records when
#                    cardio-sim writes them (unit profile and nurse changes, applied by cardio-alert
#                    as they arrive), else the admission limits of `cardio-sim --admission-rules`
#   satseconds       the defaults with spo2_low as Nellcor SatSeconds
#                    (crates/cardio-alert/examples/satseconds.toml); `settings` taken out
#   individualised+satseconds   both, when the stream carries `settings` records (a rules file
#                    cannot give a sat_seconds rule a per-patient limit, so without them this
#                    configuration would run COPD patients' SatSeconds at 90 %)
# `cardio-alert evaluate` scores each against the truth (detection, true but not actionable, false;
# chance hits on the calm ward); then a burden table sets the alarms per patient-day of each unit and
# configuration beside the published ones, and a targets table checks: every deterioration detected
# before its peak, at most 1 false alarm per patient-day.
#
#   bench/alarm-burden.sh                            # 200 patients x 24 h per unit, seed 42
#   PATIENTS=50 HOURS=6 UNIT=general bench/alarm-burden.sh   # a quicker look
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/eval-ward.sh
SATSECONDS=crates/cardio-alert/examples/satseconds.toml

if "$BIN/cardio-sim" --help | grep -q -- '--unit'; then
  UNITS=${UNIT:-general medical surgical icu}
  unit_flag() { echo "--unit $1"; }
else
  echo "cardio-sim has no --unit: scoring its one ward, general" >&2
  UNITS=general
  unit_flag() { :; }
fi
# Does the stream carry `settings` records (the alarm limits in force for each patient)?
settings_in_stream=$("$BIN/cardio-sim" --patients 2 --duration 10s --speed max --seed 1 --quiet |
  grep -c '^{"type":"settings"' || true)
VARIANTS=(naive defaults individualised satseconds)
if [ "$settings_in_stream" -gt 0 ]; then VARIANTS+=(individualised+satseconds); fi

without_settings() { grep -v '^{"type":"settings"' || true; }

# fan_out DIR PREFIX SIM-FLAGS...: one simulated ward, read by the four configurations at once
# through named pipes; the alert lines of each in DIR/PREFIXNAME.jsonl.
fan_out() {
  local dir=$1 prefix=$2 pids=() fifos=() v
  shift 2
  for v in "${VARIANTS[@]}"; do
    mkfifo "$dir/$prefix$v.fifo"
    fifos+=("$dir/$prefix$v.fifo")
    (
      case $v in
        naive) without_settings <"$dir/$prefix$v.fifo" | "$BIN/cardio-alert" --quiet --no-delays ;;
        defaults) without_settings <"$dir/$prefix$v.fifo" | "$BIN/cardio-alert" --quiet ;;
        individualised) "$BIN/cardio-alert" --quiet "${individual[@]}" <"$dir/$prefix$v.fifo" ;;
        satseconds) without_settings <"$dir/$prefix$v.fifo" | "$BIN/cardio-alert" --quiet --rules "$SATSECONDS" ;;
        individualised+satseconds) "$BIN/cardio-alert" --quiet --rules "$SATSECONDS" <"$dir/$prefix$v.fifo" ;;
      esac | { grep '^{"type":"alert"' || true; } >"$dir/$prefix$v.jsonl"
    ) &
    pids+=($!)
  done
  if ! sim --quiet "$@" | tee "${fifos[@]}" >/dev/null; then
    echo "bench: a cardio-alert configuration failed (its message is above)" >&2
    exit 1
  fi
  for v in "${pids[@]}"; do wait "$v"; done
  rm -f "${fifos[@]}"
}

for unit in $UNITS; do
  dir=$WORK/$unit
  mkdir -p "$dir"
  # shellcheck disable=SC2046 # unit_flag prints flags to split
  set -- $(unit_flag "$unit")
  if [ "$settings_in_stream" -gt 0 ]; then
    individual=()
    limits="the stream's settings records"
  else
    # The admission limits depend only on the cohort (seed, patients, unit), not on the run's length.
    "$BIN/cardio-sim" --patients "$PATIENTS" --duration 10s --speed max --seed "$SEED" --quiet \
      --admission-rules "$dir/admission.toml" "$@" >/dev/null
    individual=(--rules "$dir/admission.toml")
    limits="cardio-sim --admission-rules (the stream carries no settings records)"
  fi
  echo "== $unit: scoring the ward" >&2
  fan_out "$dir" "" --truth "$dir/truth.jsonl" "$@"
  echo "== $unit: the ward without deteriorations" >&2
  EVENTS_PER_DAY=0 fan_out "$dir" calm- --truth "$dir/calm-truth.jsonl" "$@"

  scored=() chance=()
  for v in "${VARIANTS[@]}"; do
    scored+=("$v=$dir/$v.jsonl")
    chance+=(--chance "$v=$dir/calm-$v.jsonl")
  done
  echo
  echo "## Unit $unit"
  echo
  echo "cardio-sim --patients $PATIENTS --duration ${HOURS}h --seed $SEED --events-per-day $EVENTS_PER_DAY --artifacts realistic $* $NET; individual limits: $limits"
  echo
  "$BIN/cardio-alert" evaluate --truth "$dir/truth.jsonl" --hours "$HOURS" \
    --chance-truth "$dir/calm-truth.jsonl" "${chance[@]}" --json "$dir/scores.json" "${scored[@]}"
  echo
  echo "Targets on $unit: every deterioration detected before its peak; false alarms <= 1 per patient-day"
  echo
  echo "| configuration | detected before the peak | detected at all | false alarms per patient-day | both targets met |"
  echo "|---|---:|---:|---:|---|"
  jq -r '.[] | [.scenarios[]] as $s
    | ($s | map(.episodes) | add // 0) as $n
    | ($s | map(.before_peak) | add // 0) as $b
    | ($s | map(.detected) | add // 0) as $d
    | (.false_physiological / .patient_days) as $f
    | "| \(.label) | \($b)/\($n) | \($d)/\($n) | \($f * 100 | round / 100) | \(if $n > 0 and $b == $n and $f <= 1 then "yes" else "no" end) |"' \
    "$dir/scores.json"
done

echo
echo "## Alarm burden: all alarms raised per patient-day (physiological + technical)"
echo
printf '| configuration |'
for unit in $UNITS; do printf ' %s |' "$unit"; done
printf '\n|---|'
for unit in $UNITS; do printf -- '---:|'; done
printf '\n'
for v in "${VARIANTS[@]}"; do
  printf '| %s |' "$v"
  for unit in $UNITS; do
    jq -r --arg v "$v" '.[] | select(.label == $v)
      | ((.physiological_raised + .technical_raised) / .patient_days) as $all
      | " \($all * 10 | round / 10) (\(.physiological_raised / .patient_days * 10 | round / 10) + \(.technical_raised / .patient_days * 10 | round / 10)) |"' \
      "$WORK/$unit/scores.json" | tr -d '\n'
  done
  printf '\n'
done
cat <<'TEXT'

Published (what each counts; see docs/alarm-evaluation.md):
| study | setting | alarms |
|---|---|---:|
| Drew et al. 2014, PLoS One 9(10):e110274 | 5 adult ICUs, 77 beds, 461 consecutive patients, 31 days; all arrhythmia, parameter and technical alarms of every level | 2,558,760 = 52 per monitored patient-hour; 187 audible alarms per bed per day |
| Gross, Dahl & Nielsen 2011, Biomed Instrum Technol Suppl:29–36 | medical-surgical floors, 79 beds, 4,104 patients, Philips monitors at default limits; every alarm condition the monitors declared, all severities | 69.7 per patient over a mean 16.5 h monitored (about 101 per 24 h) |
TEXT
