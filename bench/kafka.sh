#!/usr/bin/env bash
# Throughput of the Kafka path against the plain pipe, measured in the same run:
#
#   plain:  cardio-sim | cardio-alert | cardio-archive --lake L
#   kafka:  cardio-sim | cardio-alert | cardio-kafka produce --topic T          (the producing side)
#           cardio-kafka consume --topic T --group G | cardio-archive --lake L  (the consuming side)
#
# through a real Kafka-protocol broker on 127.0.0.1: tansu with in-memory storage (the build
# .ci/install.d/kafka.sh pins; CARDIO_TANSU names another binary). The broker is part of what is
# measured, so the figure says what this machine does with tansu, not what a Kafka cluster does.
#
#   bench/kafka.sh                       # 200,000 records from 1,000 patients, 6 partitions
#   RECORDS=1000000 PARTITIONS=12 bench/kafka.sh
#
# The Kafka clock starts once the consumer has joined its group (a join takes about 22 s on tansu,
# a fixed cost of that broker, not of the path) and stops when cardio-archive has published the
# last record and exited: once the group has committed every record produced (polled every 0.2 s),
# `consume` gets SIGTERM and the archive its end of input. Printed: records per wall second of
# each, their ratio, the producing side alone, and the CPU seconds of each side and of the broker.
# The run fails unless the Kafka path's lake holds the plain pipe's readings byte for byte.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

RECORDS=${RECORDS:-200000}
PATIENTS=${PATIENTS:-1000}
PARTITIONS=${PARTITIONS:-6}
TANSU=${CARDIO_TANSU:-$HOME/.cache/cardiostream/bin/tansu}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
[ -x "$TANSU" ] || { echo "bench: no tansu at $TANSU (bash .ci/install.d/kafka.sh)" >&2; exit 1; }
cargo build --release --locked --quiet -p cardio-sim -p cardio-alert -p cardio-archive -p cardio-kafka
BIN=$CARGO_TARGET_DIR/release
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true # reaped here, so bash does not report it as "Killed"
  done
  if [ -n "$WORK" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
fail() { # message [log]: says why, and keeps the run's files (logs, lakes) to look at
  [ -n "${2:-}" ] && cat "$2" >&2
  echo "bench: $1 (the run's files are kept in $WORK)" >&2
  WORK=""
  exit 1
}

SIM="$BIN/cardio-sim --patients $PATIENTS --seed 1 --speed max --start 2026-11-28T00:00:00Z --count $RECORDS"

echo "== $RECORDS records from $PATIENTS patients; topic of $PARTITIONS partitions on tansu (memory storage)"

echo "== plain pipe"
measure "cardio-sim | cardio-alert | cardio-archive" "$RECORDS" \
  "$SIM | $BIN/cardio-alert --quiet | $BIN/cardio-archive --lake $WORK/lake-plain"
PLAIN_RATE=$MEASURED_RATE

echo "== kafka path"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BROKERS=127.0.0.1:$PORT
"$TANSU" broker --listener-url "tcp://$BROKERS" --advertised-listener-url "tcp://$BROKERS" \
  --storage-engine memory://tansu/ >"$WORK/tansu.log" 2>&1 &
TANSU_PID=$!
PIDS+=("$TANSU_PID")
until "$TANSU" topic create raw --broker "tcp://$BROKERS" --partitions "$PARTITIONS" >/dev/null 2>&1; do sleep 0.2; done

cpu_of() { # user + system seconds of one process so far
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"
}

# The consuming side in its own process group (setsid, for the cleanup), timed as a whole by GNU
# time. It is stopped the way a pipe of stages stops: SIGTERM to `consume` alone, which flushes,
# commits and exits, and cardio-archive publishes what it read and exits at the end of its input.
# (SIGTERM to the whole group would end GNU time and bash at once, before the stages are done, and
# cardio-archive would stop reading while lines are still in the pipe.)
setsid /usr/bin/time -f '%e %U %S' -o "$WORK/consume.time" bash -c "set -o pipefail
  { $BIN/cardio-kafka consume --brokers $BROKERS --topic raw --group bench --from-beginning --lag-every 0 &
    echo \$! >$WORK/consume.pid; wait \$!; } | $BIN/cardio-archive --lake $WORK/lake-kafka" 2>"$WORK/consume.log" &
CONSUME_PID=$!
PIDS+=("$CONSUME_PID")
until grep -q 'assigned' "$WORK/consume.log"; do
  kill -0 "$CONSUME_PID" 2>/dev/null || fail "the consuming side did not start" "$WORK/consume.log"
  sleep 0.2
done

BROKER_CPU0=$(cpu_of "$TANSU_PID")
START=$(date +%s.%N)
/usr/bin/time -f '%e %U %S' -o "$WORK/produce.time" bash -c \
  "$SIM | $BIN/cardio-alert --quiet | $BIN/cardio-kafka produce --brokers $BROKERS --topic raw" 2>"$WORK/produce.log"
PRODUCED=$(date +%s.%N)
# Done when the group has committed every record produced. Not "lag 0": tansu reports a
# partition's high watermark as one past the last batch's base offset, so with batching its lag
# reads 0 long before the consumer is through (crates/end-to-end/src/kafka.rs); offsets themselves
# are right.
DELIVERED=$(sed -n 's/.* \([0-9][0-9]*\) delivered to raw.*/\1/p' "$WORK/produce.log")
lag_done() {
  "$BIN/cardio-kafka" lag --brokers "$BROKERS" --group bench --topic raw --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if sum(p["committed"] or 0 for p in d["partitions"]) >= int(sys.argv[1]) else 1)' "$DELIVERED"
}
until lag_done; do sleep 0.2; done
kill -TERM "$(cat "$WORK/consume.pid")"
wait "$CONSUME_PID" || fail "the consuming side failed" "$WORK/consume.log"
END=$(date +%s.%N)
BROKER_CPU=$(awk -v a="$BROKER_CPU0" -v b="$(cpu_of "$TANSU_PID")" 'BEGIN { printf "%.2f", b - a }')

IN_LAKE=$(cat "$WORK"/lake-kafka/vitals/*/*.jsonl | wc -l)
[ "$IN_LAKE" -eq "$RECORDS" ] || fail "the lake holds $IN_LAKE of $RECORDS readings"
# Same seed, same readings: the Kafka path's lake must hold the plain pipe's lines byte for byte.
sort "$WORK"/lake-plain/vitals/*/*.jsonl >"$WORK/plain.sorted"
sort "$WORK"/lake-kafka/vitals/*/*.jsonl >"$WORK/kafka.sorted"
cmp -s "$WORK/plain.sorted" "$WORK/kafka.sorted" || fail "the Kafka path's readings differ from the plain pipe's"
read -r _ PU PS <"$WORK/produce.time"
read -r _ CU CS <"$WORK/consume.time"
awk -v n="$RECORDS" -v s="$START" -v p="$PRODUCED" -v e="$END" -v plain="$PLAIN_RATE" \
    -v pu="$PU" -v ps="$PS" -v cu="$CU" -v cs="$CS" -v b="$BROKER_CPU" 'BEGIN {
  wall = e - s; rate = n / wall
  printf "%-48s %10d rec %7.2f s %10.0f rec/s\n", "kafka: sim to lake (end to end)", n, wall, rate
  printf "%-48s %10d rec %7.2f s %10.0f rec/s\n", "kafka: producing side alone (sim | alert | produce)", n, p - s, n / (p - s)
  printf "CPU seconds: producing side %.2f, consuming side %.2f (incl. the wait for the group), broker %.2f\n", pu + ps, cu + cs, b
  printf "ratio: the kafka path runs at %.2f of the plain pipe'"'"'s rate (%.1fx slower)\n", rate / plain, plain / rate
}'
echo "ok: the lake holds all $IN_LAKE readings, byte for byte those of the plain pipe"
