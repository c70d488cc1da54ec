#!/usr/bin/env python3
"""File-backed stand-ins for `kcat` and `kafka-topics.sh`, so that check_compose.py can run the
Kafka profile's shell commands without a broker.

What they model: topics made beforehand with a partition count (the broker has
auto.create.topics.enable=false); a producer's `-K` key split and the Java client's murmur2
partitioner (`-X partitioner=murmur2_random`); a consumer group whose members each own the
partitions p with p % members == member (FAKE_KAFKA_MEMBER="i/n"); per-partition order, with
partitions interleaved in produce order, as a consumer that keeps up in real time sees them.

When FAKE_KAFKA_REAL_KCAT names a real kcat, every kcat argument list is first handed to it with
the broker address replaced by one where nothing listens, so a flag or -X property that the real
kcat (and its librdkafka) would refuse fails the check.

What they do not model: a network, a broker, rebalancing while running, offsets and commits,
redelivery, and a consumer that waits for more data: a consumer here stops at the end of what was
produced, as `kcat -e` would.

On top of that the producer checks the keying that the compose commands do with sed: a JSON line
that has a patient_id must carry that patient_id as its key, and any other line an empty key.

State lives under FAKE_KAFKA_DIR: <topic>/partitions (the count) and <topic>/log.jsonl (one JSON
object per message: seq, partition, key, value, client). Called as `kcat` or as
`kafka-topics.sh` (the name it was started by decides).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
from pathlib import Path

KNOWN_X = {"partitioner", "auto.offset.reset"}


def fail(msg: str, code: int = 2) -> None:
    print(f"fake {Path(sys.argv[0]).name}: {msg}", file=sys.stderr)
    sys.exit(code)


def state_dir() -> Path:
    d = os.environ.get("FAKE_KAFKA_DIR")
    if not d:
        fail("FAKE_KAFKA_DIR is not set")
    return Path(d)


def murmur2(data: bytes) -> int:
    """Kafka's Java client murmur2 (org.apache.kafka.common.utils.Utils.murmur2)."""
    m, r = 0x5BD1E995, 24
    length = len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    i = 0
    while length - i >= 4:
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
        i += 4
    rest = length - i
    if rest == 3:
        h ^= data[i + 2] << 16
    if rest >= 2:
        h ^= data[i + 1] << 8
    if rest >= 1:
        h ^= data[i]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def partitions_of(topic: str) -> int:
    f = state_dir() / topic / "partitions"
    if not f.exists():
        fail(f"unknown topic {topic!r} (the broker does not create topics on first use)", 3)
    return int(f.read_text())


def kafka_topics(argv: list[str]) -> None:
    args: dict[str, str | bool] = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--create", "--if-not-exists", "--list"):
            args[a] = True
            i += 1
        elif a in ("--bootstrap-server", "--topic", "--partitions", "--replication-factor"):
            if i + 1 >= len(argv):
                fail(f"{a} needs a value")
            args[a] = argv[i + 1]
            i += 2
        else:
            fail(f"unsupported argument {a!r}")
    if not args.get("--bootstrap-server"):
        fail("--bootstrap-server is required")
    if not args.get("--create"):
        fail("only --create is modelled")
    topic = str(args.get("--topic", ""))
    parts = int(str(args.get("--partitions", "0")))
    if not topic or parts < 1:
        fail("--topic and --partitions >= 1 are required")
    d = state_dir() / topic
    if d.exists():
        if not args.get("--if-not-exists"):
            fail(f"topic {topic!r} already exists", 1)
        return
    d.mkdir(parents=True)
    (d / "partitions").write_text(str(parts))
    (d / "log.jsonl").touch()
    print(f"Created topic {topic}.")


def real_kcat_accepts(argv: list[str]) -> None:
    """Has the real kcat (FAKE_KAFKA_REAL_KCAT, Debian's package, the one the image installs) parse
    the same arguments, against a broker address where nothing listens: it rejects a bad flag or an
    unknown -X property at once, and otherwise gets as far as connecting."""
    real = os.environ.get("FAKE_KAFKA_REAL_KCAT")
    if not real:
        return
    args = list(argv)
    for i, a in enumerate(args[:-1]):
        if a == "-b":
            args[i + 1] = "127.0.0.1:1"
    try:
        p = subprocess.run([real, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return  # still trying to connect: the arguments were accepted
    reached_network = re.search(r"127\.0\.0\.1:1|brokers? (are|is) down|Broker transport failure", p.stderr)
    if p.returncode != 0 and not reached_network:
        fail(f"the real kcat rejects these arguments: {' '.join(argv)}\n{p.stderr.strip()}", 5)


def kcat(argv: list[str]) -> None:
    real_kcat_accepts(argv)
    mode = None
    opts: dict[str, str] = {}
    xconf: dict[str, str] = {}
    positional: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-P", "-C"):
            if mode and mode != a[1]:
                fail("more than one mode")
            mode = a[1]
            i += 1
        elif a in ("-q", "-u", "-e"):
            opts[a] = "1"
            i += 1
        elif a in ("-b", "-t", "-K", "-G", "-X"):
            if i + 1 >= len(argv):
                fail(f"{a} needs a value")
            v = argv[i + 1]
            if a == "-X":
                k, _, val = v.partition("=")
                if k not in KNOWN_X:
                    fail(f"-X {k} is not modelled")
                xconf[k] = val
            elif a == "-G":
                if mode and mode != "G":
                    fail("more than one mode")
                mode = "G"
                opts["-G"] = v
            else:
                opts[a] = v
            i += 2
        elif a.startswith("-"):
            fail(f"unsupported flag {a!r}")
        else:
            positional.append(a)
            i += 1
    if not opts.get("-b"):
        fail("-b BROKER is required")
    if mode == "P":
        produce(opts, xconf)
    elif mode == "G":
        if not positional:
            fail("-G GROUP needs topics")
        consume(positional, opts)
    elif mode == "C":
        if not opts.get("-t"):
            fail("-C needs -t TOPIC")
        consume([opts["-t"]], opts)
    else:
        fail("no mode (-P, -C or -G)")


def produce(opts: dict[str, str], xconf: dict[str, str]) -> None:
    topic = opts.get("-t") or fail("-P needs -t TOPIC")
    parts = partitions_of(topic)
    delim = opts.get("-K")
    if delim is not None and len(delim) != 1:
        fail("-K takes one character here")
    if xconf.get("partitioner") != "murmur2_random":
        fail("producers are expected to use -X partitioner=murmur2_random")
    client = os.environ.get("FAKE_KAFKA_CLIENT", "")
    log = state_dir() / topic / "log.jsonl"
    # One global produce order over all topics (consumers interleave partitions by it); the lock is
    # held for the whole run, which is enough for stages that run one after the other.
    with open(state_dir() / "seq", "a+", encoding="utf-8") as sf, open(log, "a", encoding="utf-8") as out:
        fcntl.flock(sf, fcntl.LOCK_EX)
        sf.seek(0)
        seq = int(sf.read() or 0)
        for raw in sys.stdin.buffer:
            line = raw.rstrip(b"\n").decode("utf-8", errors="surrogateescape")
            key = None
            value = line
            if delim is not None:
                key, sep, value = line.partition(delim)
                if not sep:
                    key, value = None, line
            check_key(key, value)
            partition = murmur2(key.encode()) % parts if key is not None else 0
            entry = {"seq": seq, "partition": partition, "key": key, "value": value, "client": client}
            out.write(json.dumps(entry) + "\n")
            seq += 1
        out.flush()
        sf.seek(0)
        sf.truncate()
        sf.write(str(seq))


def check_key(key: str | None, value: str) -> None:
    try:
        rec = json.loads(value)
    except ValueError:
        rec = None
    pid = rec.get("patient_id") if isinstance(rec, dict) else None
    expected = pid if isinstance(pid, str) else ""
    if key != expected:
        fail(f"record keyed {key!r}, expected {expected!r}: {value[:120]}", 4)


def consume(topics: list[str], opts: dict[str, str]) -> None:
    member, _, members = os.environ.get("FAKE_KAFKA_MEMBER", "0/1").partition("/")
    m, n = int(member), int(members or 1)
    entries = []
    for topic in topics:
        partitions_of(topic)
        with open(state_dir() / topic / "log.jsonl", encoding="utf-8") as f:
            entries += [json.loads(line) for line in f]
    entries.sort(key=lambda e: e["seq"])
    out = sys.stdout
    for e in entries:
        if opts.get("-G") and e["partition"] % n != m:
            continue
        out.write(e["value"] + "\n")
        if "-u" in opts:
            out.flush()
    out.flush()


def main() -> None:
    name = Path(sys.argv[0]).name
    if name.startswith("kafka-topics"):
        kafka_topics(sys.argv[1:])
    else:
        kcat(sys.argv[1:])


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        sys.exit(0)
