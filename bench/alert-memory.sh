#!/usr/bin/env bash
# cardio-alert's memory per patient and its bound (--max-patients). cardio-sim writes three readings
# of every patient of a ward of SMALL and of BIG patients; cardio-alert's peak RSS over each, and
# the difference per patient, is the state one patient costs (patient id, device id, carried NEWS2
# parameters, one alarm state per rule, the hash table's slot). The small ward is the baseline:
# the program, its buffers and the rules, measured in the same run.
# Then BIG patients again with --max-patients at half of BIG: the peak must stay near that of
# BIG / 2 patients, since readings of the patients past the cap are passed on without state.
# Last, the BIG ward's readings alone, without its admission and settings records: the cost of
# the per-patient stream settings (patients with the same limits share one compiled rule set).
#
# Measured 2026-11-28 on the 2-core development machine: 1,315 bytes per patient (255 MB peak at
# 200,000 patients), and 200,000 ids with --max-patients 100000 peak at 1.00x the RSS of 100,000.
# With the admission and settings records cardio-sim now writes (2026-11-29, SMALL=1000 BIG=50000):
# 2,297 bytes per patient against 1,343 for the readings alone (1.71x); capped at 1.00x.
#
#   bench/alert-memory.sh                     # 1,000, 100,000 and 200,000 patients (about 4 min)
#   SMALL=1000 BIG=50000 bench/alert-memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SMALL=${SMALL:-1000}
BIG=${BIG:-200000}
HALF=$((BIG / 2))
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --locked -p cardio-sim -p cardio-alert --bins --quiet
BIN=$CARGO_TARGET_DIR/release
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

ward() { # patients → three readings of each, in time order
  "$BIN/cardio-sim" --patients "$1" --count $(($1 * 3)) --seed 1 --speed max \
    --start 2026-11-28T00:00:00Z --quiet >"$WORK/ward.$1.jsonl"
}
rss() { # input, cardio-alert flags... → peak RSS in KiB
  local input=$1; shift
  /usr/bin/time -f '%M' -o "$WORK/rss" "$BIN/cardio-alert" --quiet "$@" <"$input" >/dev/null 2>"$WORK/err" || true
  tail -n 1 "$WORK/rss"
}

ward "$SMALL"
ward "$BIG"
ward "$HALF"
small=$(rss "$WORK/ward.$SMALL.jsonl")
big=$(rss "$WORK/ward.$BIG.jsonl")
half=$(rss "$WORK/ward.$HALF.jsonl")
capped=$(rss "$WORK/ward.$BIG.jsonl" --max-patients "$HALF")
unscored=$(grep -c 'reached' "$WORK/err" || true)
grep '^{"type":"vitals"' "$WORK/ward.$BIG.jsonl" >"$WORK/readings.$BIG.jsonl"
bare=$(rss "$WORK/readings.$BIG.jsonl")

awk -v s="$small" -v b="$big" -v h="$half" -v ns="$SMALL" -v nb="$BIG" -v nh="$HALF" \
  'BEGIN {
     printf "peak RSS, %7d patients: %7.1f MB (baseline)\n", ns, s / 1024
     printf "peak RSS, %7d patients: %7.1f MB\n", nh, h / 1024
     printf "peak RSS, %7d patients: %7.1f MB\n", nb, b / 1024
     printf "state per patient: %.0f bytes (%d → %d patients), %.0f bytes (%d → %d)\n",
       (b - s) * 1024 / (nb - ns), ns, nb, (h - s) * 1024 / (nh - ns), ns, nh
   }'
awk -v c="$capped" -v h="$half" -v nb="$BIG" -v nh="$HALF" \
  'BEGIN { printf "peak RSS, %7d patients with --max-patients %d: %7.1f MB (%.2fx that of %d patients)\n",
     nb, nh, c / 1024, c / h, nh }'
echo "\"--max-patients reached\" lines on stderr: $unscored"
awk -v b="$big" -v r="$bare" -v s="$small" -v nb="$BIG" -v ns="$SMALL" \
  'BEGIN { printf "state per patient with its admission and settings records: %.0f bytes, without: %.0f bytes (%.2fx)\n",
     (b - s) * 1024 / (nb - ns), (r - s) * 1024 / (nb - ns), (b - s) / (r - s) }'
