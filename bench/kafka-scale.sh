#!/usr/bin/env bash
# The Kafka path's alerting stage scaled out, on a real broker (tansu, .ci/install.d/kafka.sh) on
# 127.0.0.1, measured in one run so the figures read as ratios on a shared, noisy machine:
#   - records/s through `cardio-kafka process` with 1 replica, then with 3 in one group, each
#     working off the same backlog (time from the group's assignment until it has committed every
#     record, so the broker's ~22 s group join is not counted; not "until lag 0": tansu reports a
#     partition's high watermark as one past the last batch's base offset, so with batching its lag
#     reads 0 long before the group is through, see crates/end-to-end/src/kafka.rs);
#   - a takeover: one of the 3 replicas SIGKILLed while more records arrive, and the time until its
#     partitions' alarm state is rebuilt by the survivors (the broker's session timeout, 6 s here,
#     plus the group's rejoin, plus the replay).
#
#   bench/kafka-scale.sh                   # 12 patients, 200,000 readings, release build
#   RECORDS=50000 PROFILE=debug bench/kafka-scale.sh   # a quicker look
#
# On 2 cores three replicas share the same CPUs (and the broker's), so expect far less than 3x.
set -euo pipefail
cd "$(dirname "$0")/.."

RECORDS=${RECORDS:-200000}
PATIENTS=${PATIENTS:-12}
PARTITIONS=${PARTITIONS:-6}
PROFILE=${PROFILE:-release}
TANSU=${CARDIO_TANSU:-$HOME/.cache/cardiostream/bin/tansu}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
if [ "$PROFILE" = release ]; then
  cargo build --release --locked --quiet -p cardio-sim -p cardio-kafka
else
  cargo build --locked --quiet -p cardio-sim -p cardio-kafka
fi
BIN=$CARGO_TARGET_DIR/$PROFILE
[ -x "$TANSU" ] || { echo "bench: tansu is not at $TANSU (bash .ci/install.d/kafka.sh)" >&2; exit 1; }

WORK=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
B=127.0.0.1:$PORT
"$TANSU" broker --listener-url "tcp://$B" --advertised-listener-url "tcp://$B" \
  --storage-engine memory://tansu/ >"$WORK/tansu.log" 2>&1 &
pids+=($!)
until (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do sleep 0.1; done
for t in raw out-1 out-3; do
  until "$TANSU" topic create "$t" --broker "tcp://$B" --partitions "$PARTITIONS" >/dev/null 2>&1; do sleep 0.2; done
done
GROUP_X=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=1000)
now() { date +%s.%N; }

echo "== backlog: $RECORDS readings of $PATIENTS patients on $PARTITIONS partitions ($PROFILE build)"
start=$(now)
"$BIN/cardio-sim" --patients "$PATIENTS" --seed 1 --speed max --start 2026-11-28T00:00:00Z \
  --count "$RECORDS" 2>/dev/null | "$BIN/cardio-kafka" produce --brokers "$B" --topic raw 2>/dev/null
awk -v s="$start" -v e="$(now)" -v n="$RECORDS" \
  'BEGIN { printf "   produced in %.1f s (%.0f rec/s)\n", e - s, n / (e - s) }'

committed_of() { # group: the records of raw it has committed (offsets count from 0 in a new topic)
  "$BIN/cardio-kafka" lag --brokers "$B" --group "$1" --topic raw --json 2>/dev/null |
    python3 -c 'import json,sys; print(sum(p["committed"] or 0 for p in json.load(sys.stdin)["partitions"]))' \
      2>/dev/null || echo -1
}

# run N: N replicas in group g-N writing to out-N; prints the rate and leaves the replicas running.
run() {
  local n=$1 i t0 t1
  for ((i = 0; i < n; i++)); do
    "$BIN/cardio-kafka" process --brokers "$B" "${GROUP_X[@]}" --in raw --out "out-$n" \
      --group "g-$n" --lag-every 0 -- cardio-alert --quiet 2>"$WORK/p$n-$i.err" &
    pids+=($!)
  done
  until [ "$(cat "$WORK"/p"$n"-*.err | grep -c 'assigned partitions \[[0-9]')" -ge "$n" ]; do sleep 0.05; done
  t0=$(now)
  until [ "$(committed_of "g-$n")" -ge "$RECORDS" ]; do sleep 0.1; done
  t1=$(now)
  RATE[$n]=$(awk -v s="$t0" -v e="$t1" -v r="$RECORDS" 'BEGIN { printf "%.0f", r / (e - s) }')
  awk -v s="$t0" -v e="$t1" -v r="$RECORDS" -v n="$n" \
    'BEGIN { printf "%-36s %10d rec %7.2f s %10.0f rec/s\n", n " replica(s) of cardio-kafka process", r, e - s, r / (e - s) }'
}

declare -A RATE
echo "== alerting the backlog"
run 1
run 3
awk -v a="${RATE[1]}" -v b="${RATE[3]}" 'BEGIN { printf "   3 replicas / 1 replica: %.2fx\n", b / a }'

echo "== takeover: one of the 3 replicas SIGKILLed while readings keep arriving"
victim=$(grep -l 'assigned partitions \[[0-9]' "$WORK"/p3-*.err | head -1)
vpid=${pids[$((${#pids[@]} - 3))]}
for ((i = 0; i < 3; i++)); do
  if [ "$WORK/p3-$i.err" = "$victim" ]; then vpid=${pids[$((${#pids[@]} - 3 + i))]}; fi
done
before=$(cat "$WORK"/p3-*.err | grep -c 'alarm state rebuilt from [1-9]' || true)
{ kill -9 "$vpid"; wait "$vpid"; } 2>/dev/null || true  # (no "Killed" line from bash)
t0=$(now)
"$BIN/cardio-sim" --patients "$PATIENTS" --seed 2 --speed max --start 2026-11-29T00:00:00Z \
  --count 20000 2>/dev/null | "$BIN/cardio-kafka" produce --brokers "$B" --topic raw 2>/dev/null
until [ "$(cat "$WORK"/p3-*.err | grep -c 'alarm state rebuilt from [1-9]' || true)" -gt "$before" ]; do sleep 0.1; done
awk -v s="$t0" -v e="$(now)" 'BEGIN { printf "   first partition of the victim rebuilt by a survivor %.1f s after the SIGKILL\n", e - s }'
grep -h 'alarm state rebuilt from [1-9]' "$WORK"/p3-*.err | sed 's/^/   /'
