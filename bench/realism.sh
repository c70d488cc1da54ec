#!/usr/bin/env bash
# Simulated against real: cardio-sim's units next to real patients. Prints (Markdown) the ICU's
# per-vital percentiles against real ICU charting (MIMIC-III demo, eICU demo, PhysioNet 2012) and
# the surgical and medical wards' desaturation and other episode rates against published
# continuous-monitoring studies, each with its tolerance and PASS/FAIL. The output is the
# "Units and realism" section of docs/cardio-sim.md.
#
#   REAL_VITALS=/path/to/real-vitals bench/realism.sh
#
# REAL_VITALS: the folder of de-identified real ICU vitals (mimic3_demo_vitals.csv,
# eicu_demo_nibp.csv.gz, physionet2012_vitals.csv.gz); not part of this repository. Without it the
# percentiles published with those files are used. PATIENTS (default 200; the medical ward gets twice as many, for its COPD subset) and SEED
# (default 42) set the simulated wards. Exits non-zero if any row FAILs.
set -euo pipefail
cd "$(dirname "$0")/.."
export REAL_VITALS=${REAL_VITALS:-}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --locked -p cardio-sim --quiet
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export WORK
python3 bench/realism.py "$CARGO_TARGET_DIR/release/cardio-sim" | tee "$WORK/out.md"
! grep -q '| FAIL |' "$WORK/out.md"
