#!/usr/bin/env bash
# cardio-archive's speed and memory (targets: 1,000,000 records/s or more into the lake with fsync
# per file; memory bounded however many devices), beside baselines measured in the same run, so
# the figures read as ratios on a shared, noisy machine.
#
#   bench/archive.sh                 # 1,000,000 records from 1,000 devices
#   RECORDS=200000 bench/archive.sh
#
# Input is generated here (vitals lines as cardio-alert writes them), so the figure is the
# archive's alone. Prints one line per measurement (bench/lib.sh's measure()).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

RECORDS=${RECORDS:-1000000}
DEVICES=${DEVICES:-1000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --locked -p cardio-archive --quiet
BIN=$CARGO_TARGET_DIR/release/cardio-archive
WORK=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/archive-bench.XXXXXX")
SHM=""
if [ -d /dev/shm ] && [ -w /dev/shm ]; then SHM=$(mktemp -d /dev/shm/archive-bench.XXXXXX); fi
trap 'rm -rf "$WORK" ${SHM:+"$SHM"}' EXIT

# records devices > file: one vitals line per device and second, in time order
generate() {
  python3 - "$1" "$2" <<'PY'
import sys, time
n, devices = int(sys.argv[1]), int(sys.argv[2])
t0 = 1795824000  # 2026-11-28T00:00:00Z
out = sys.stdout
stamp = {}
for i in range(n):
    d, seq = i % devices, i // devices
    ts = stamp.get(seq)
    if ts is None:
        ts = stamp[seq] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0 + seq)) + ".000Z"
    out.write('{"type":"vitals","ts":"%s","patient_id":"PT-%d","device_id":"D-%05d","seq":%d,'
              '"heart_rate_bpm":%d,"spo2_pct":97,"respiratory_rate_bpm":14,"temperature_c":36.8,'
              '"systolic_mmhg":null,"diastolic_mmhg":null,"on_oxygen":false,"consciousness":"A",'
              '"battery_pct":88,"news2":0,"news2_risk":"low"}\n' % (ts, 1000 + d, d, seq, 60 + seq % 40))
PY
}

generate "$RECORDS" "$DEVICES" >"$WORK/input.jsonl"
echo "input: $RECORDS vitals lines, $DEVICES devices, $(du -m "$WORK/input.jsonl" | cut -f1) MB; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

measure "baseline: cat > file (no fsync)" "$RECORDS" "cat '$WORK/input.jsonl' > '$WORK/copy.jsonl'"
rm -f "$WORK/copy.jsonl"
measure "baseline: dd conv=fsync (same bytes, durable)" "$RECORDS" \
  "dd if='$WORK/input.jsonl' of='$WORK/copy.jsonl' bs=1M conv=fsync status=none"
rm -f "$WORK/copy.jsonl"
measure "cardio-archive, lake on disk, fsync per file" "$RECORDS" \
  "'$BIN' --lake '$WORK/lake' < '$WORK/input.jsonl'"
measure "cardio-archive replay (all already in the lake)" "$RECORDS" \
  "'$BIN' --lake '$WORK/lake' < '$WORK/input.jsonl'"
"$BIN" check --lake "$WORK/lake" | tail -1
rm -rf "$WORK/lake"
if [ -n "$SHM" ]; then
  cp "$WORK/input.jsonl" "$SHM/input.jsonl"
  measure "baseline: cat > file on tmpfs" "$RECORDS" "cat '$SHM/input.jsonl' > '$SHM/copy.jsonl'"
  rm -f "$SHM/copy.jsonl"
  measure "cardio-archive, lake on tmpfs (CPU bound)" "$RECORDS" \
    "'$BIN' --lake '$SHM/lake' < '$SHM/input.jsonl'"
  rm -rf "$SHM/lake" "$SHM/input.jsonl"
fi

# Memory against the number of devices (state is per device; files are per partition).
for devices in 10000 100000; do
  generate "$RECORDS" "$devices" >"$WORK/input.jsonl"
  measure "cardio-archive, $devices devices" "$RECORDS" \
    "'$BIN' --lake '$WORK/lake-$devices' < '$WORK/input.jsonl'"
  rm -rf "$WORK/lake-$devices"
done
