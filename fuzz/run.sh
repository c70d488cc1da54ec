#!/usr/bin/env bash
# Coverage-guided differential fuzzing of the vitals line's fast reader against serde
# (fuzz/fuzz_targets/vitals_line.rs), for a bounded time, then a summary of executions and
# findings. A crash input is kept in fuzz/artifacts/vitals_line/: add it to
# crates/vitals-core/tests/vitals_line.rs (known_disagreements_stay_fixed) as a regression test.
#
#   fuzz/run.sh            # 300 seconds
#   SECONDS_TO_RUN=60 fuzz/run.sh
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`, from crates.io). libFuzzer's
# instrumentation uses unstable rustc flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain take them,
# and no sanitizer is used (`-s none`: the target is safe Rust, a disagreement is a panic).
set -euo pipefail
cd "$(dirname "$0")"

SECONDS_TO_RUN=${SECONDS_TO_RUN:-300}
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz/run.sh: cargo-fuzz is not installed: cargo install cargo-fuzz --locked" >&2
  exit 2
fi
export RUSTC_BOOTSTRAP=1

# Seeds: a few lines in the shapes the stages see (cardio-sim's, with NEWS2, with odd members).
corpus=corpus/vitals_line
mkdir -p "$corpus" artifacts/vitals_line
line='{"type":"vitals","ts":"2026-11-28T05:40:01.000Z","patient_id":"PT-1000","device_id":"D-001","seq":7,"heart_rate_bpm":72,"spo2_pct":98,"respiratory_rate_bpm":14,"temperature_c":36.8,"systolic_mmhg":null,"diastolic_mmhg":null,"on_oxygen":false,"consciousness":"A","battery_pct":99}'
printf '%s\n' "$line" >"$corpus/seed-canonical"
printf '%s\n' "${line%\}},\"news2\":3,\"news2_risk\":\"low-medium\"}" >"$corpus/seed-news2"
printf '%s\n%s\n' "$line" "${line/2026-11-28T05:40:01.000Z/2026-11-28T05:40:02.500Z}" >"$corpus/seed-two-lines"
printf '%s\n' "${line/\"seq\":7/\"ward\":\"7B\",\"seq\":7}" >"$corpus/seed-unknown-field"
printf '%s\n' "${line/\"heart_rate_bpm\":72/\"heart_rate_bpm\":-0}" >"$corpus/seed-negative-zero"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo fuzz run -s none --release vitals_line "$corpus" -- \
  -max_total_time="$SECONDS_TO_RUN" -max_len=4096 -print_final_stats=1 \
  -artifact_prefix=artifacts/vitals_line/ 2>&1 | tee "$log" | grep -E '^#[0-9]+ *(DONE|INITED)|panicked|SUMMARY|Test unit written' || true
status=${PIPESTATUS[0]}
echo "== fuzz/run.sh: vitals_line for ${SECONDS_TO_RUN}s"
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" || true
grep -E '^#[0-9]+.*cov:' "$log" | tail -n 1 || true
findings=$(find artifacts/vitals_line -type f | wc -l)
echo "findings (crash inputs in fuzz/artifacts/vitals_line): $findings"
exit "$status"
