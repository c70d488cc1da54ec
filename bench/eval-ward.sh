# Shared by bench/alert-eval.sh and bench/satseconds.sh (sourced, not run): the evaluation ward and
# cardio-alert over it, so that every alarm variant is scored on the same simulated day.
#
# Reads PATIENTS, HOURS, SEED, EVENTS_PER_DAY (defaults 200, 24, 42, 1) and NET (extra cardio-sim
# flags, default none) from the environment; builds the release binaries and sets BIN and WORK
# (a temporary folder removed on exit).
#   sim FLAGS...                  the ward's stream on stdout
#   alerts_of NAME FLAGS...       cardio-alert FLAGS over the ward: the alert lines in
#                                 $WORK/NAME.jsonl, its summary in $WORK/NAME.summary

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
  # $NET is a list of flags: split on purpose.
  # shellcheck disable=SC2086
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
