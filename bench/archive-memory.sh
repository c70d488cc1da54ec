#!/usr/bin/env bash
# cardio-archive's peak memory on long lines: data in flight must be bounded in bytes, not only in
# lines. Feeds lines of about 1 MiB (valid readings with a long note, and lines just over the
# 1 MiB limit, which are quarantined) and reports the peak RSS from GNU time, for this tree and,
# in the same run, for a baseline revision built from git (default: the commit before batches
# were bounded in bytes), so the figures read as a ratio on a shared machine.
#
#   bench/archive-memory.sh                        # 400 MB and 1000 MB of 1 MiB lines
#   SIZES_MB="400" BASELINE_REV=none bench/archive-memory.sh   # this tree only
#
# Needs python3, git and /usr/bin/time (Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES_MB=${SIZES_MB:-"400 1000"}
BASELINE_REV=${BASELINE_REV:-59f2366}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
WORK=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/archive-memory.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

cargo build --release --locked -p cardio-archive --quiet
cp "$CARGO_TARGET_DIR/release/cardio-archive" "$WORK/archive-now"
BINS=("now:$WORK/archive-now")
if [ "$BASELINE_REV" != none ]; then
  mkdir "$WORK/base-src"
  git archive "$BASELINE_REV" | tar -x -C "$WORK/base-src"
  (cd "$WORK/base-src" && cargo build --release --locked -p cardio-archive --quiet)
  cp "$CARGO_TARGET_DIR/release/cardio-archive" "$WORK/archive-base"
  BINS=("baseline $BASELINE_REV:$WORK/archive-base" "${BINS[@]}")
fi

# mb kind > file: `kind` is `valid` (readings of 1,048,000 bytes, filed in vitals/) or `overlong`
# (1,049,000 bytes, over the 1 MiB line limit, quarantined in _rejected/)
generate() {
  python3 - "$1" "$2" <<'PY'
import sys, time
mb, kind = int(sys.argv[1]), sys.argv[2]
size = 1_048_000 if kind == "valid" else 1_049_000
t0 = 1795824000  # 2026-11-28T00:00:00Z
out = sys.stdout
for seq in range(mb * 1_000_000 // size):
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0 + seq)) + ".000Z"
    head = ('{"type":"vitals","ts":"%s","patient_id":"PT-1","device_id":"D-00001","seq":%d,'
            '"heart_rate_bpm":72,"spo2_pct":97,"respiratory_rate_bpm":14,"temperature_c":36.8,'
            '"systolic_mmhg":null,"diastolic_mmhg":null,"on_oxygen":false,"consciousness":"A",'
            '"battery_pct":88,"note":"' % (ts, seq))
    out.write(head + "x" * (size - len(head) - 3) + '"}\n')
PY
}

echo "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for mb in $SIZES_MB; do
  for kind in valid overlong; do
    generate "$mb" "$kind" >"$WORK/input.jsonl"
    lines=$(wc -l <"$WORK/input.jsonl")
    for entry in "${BINS[@]}"; do
      name=${entry%%:*} bin=${entry#*:}
      rm -rf "$WORK/lake"
      /usr/bin/time -v -o "$WORK/time" "$bin" --lake "$WORK/lake" <"$WORK/input.jsonl" 2>/dev/null || true
      rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time")
      secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$WORK/time")
      printf '%-22s %5d MB input, %4d %-8s lines: peak RSS %7.1f MB (%s)\n' \
        "$name" "$mb" "$lines" "$kind" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$secs"
    done
  done
done
rm -rf "$WORK/lake" "$WORK/input.jsonl"
