#!/usr/bin/env bash
# cardio-sim's speed, real-time lag and memory: --speed max records/s for a small and a
# 100,000-patient ward, beside
# a baseline that only writes the same bytes, in the same run; 100,000 patients at 1 Hz in real time
# with the lag seen by a reader; peak RSS per patient.
#
#   bench/sim.sh                         # 10,000,000 records per --speed max run, 20 s real time
#   COUNT=2000000 REALTIME=10 bench/sim.sh
#
# Prints one line per measurement (bench/lib.sh's measure()). rec/s is per wall second and per CPU
# second (user + sys of the simulator alone): on a machine shared with other builds the CPU figure
# is the steadier one.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

COUNT=${COUNT:-10000000}
REALTIME=${REALTIME:-20}
BIG=${BIG:-100000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --locked -p cardio-sim --quiet
SIM=$CARGO_TARGET_DIR/release/cardio-sim
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
START=2026-11-28T00:00:00Z

# Baseline: the same number of lines of the same length written by coreutils (yes | head).
LINE=$("$SIM" --patients 10 --count 1 --seed 1 --speed max --start $START --quiet)
measure "baseline: yes | head, same lines" "$COUNT" "yes '$LINE' | head -n $COUNT > /dev/null"

measure "max, 10 patients" "$COUNT" \
  "'$SIM' --patients 10 --count $COUNT --seed 1 --speed max --start $START --quiet > /dev/null"
SMALL_RSS_KIB=$MEASURED_RSS_KIB
measure "max, $BIG patients" "$COUNT" \
  "'$SIM' --patients $BIG --count $COUNT --seed 1 --speed max --start $START --quiet > /dev/null"
BIG_RSS_KIB=$MEASURED_RSS_KIB
measure "max, $BIG patients, artifacts+events" "$COUNT" \
  "'$SIM' --patients $BIG --count $COUNT --seed 1 --speed max --start $START --quiet \
  --artifacts realistic --events-per-day 2 > /dev/null"
measure "max, 10 patients, into a pipe" "$COUNT" \
  "'$SIM' --patients 10 --count $COUNT --seed 1 --speed max --start $START --quiet | cat > /dev/null"

# Memory per patient: peak RSS of the big ward above that of the small one.
awk -v a="$SMALL_RSS_KIB" -v b="$BIG_RSS_KIB" -v n="$BIG" \
  'BEGIN { printf "%-40s %9.0f bytes per patient (peak RSS %0.1f MB at %d patients, %0.1f MB at 10)\n",
    "memory", (b - a) * 1024 / (n - 10), b / 1024, n, a / 1024 }'

# Real time: $BIG patients at 1 Hz for $REALTIME s. The reader samples one line in 5,000 and
# compares its event time with the wall clock when the line arrives.
cat >"$WORK/lag.py" <<'EOF'
import sys, time, datetime
n, worst, total, samples = 0, 0.0, 0.0, 0
for line in sys.stdin.buffer:
    n += 1
    if n % 5000 == 0:
        ts = datetime.datetime.strptime(line[23:46].decode(), "%Y-%m-%dT%H:%M:%S.%f")
        lag = time.time() - ts.replace(tzinfo=datetime.timezone.utc).timestamp()
        worst, total, samples = max(worst, lag), total + lag, samples + 1
print(f"{n} {worst * 1000:.0f} {total / max(samples, 1) * 1000:.0f}")
EOF
/usr/bin/time -f '%e %U %S %M' -o "$WORK/time" "$SIM" --patients "$BIG" --duration "${REALTIME}s" --seed 1 \
  2>"$WORK/stderr" | python3 "$WORK/lag.py" >"$WORK/lag"
read -r secs user sys rss_kib <"$WORK/time"
read -r lines worst mean <"$WORK/lag"
own=$(grep -o 'worst lag behind schedule [0-9]* ms' "$WORK/stderr" | grep -o '[0-9]*' || echo "?")
awk -v n="real time, $BIG patients, ${REALTIME} s" -v l="$lines" -v s="$secs" -v u="$user" -v y="$sys" \
  -v w="$worst" -v m="$mean" -v o="$own" -v r="$REALTIME" 'BEGIN {
  printf "%-40s %9d rec %6.2f s  CPU %5.1f %% of a core  reader lag worst %s ms mean %s ms  simulator worst lag %s ms\n",
    n, l, s, (u + y) / r * 100, w, m, o }'
