//! Support for the tests that run CardioStream's real binaries: where the workspace's binaries are,
//! feeding a process through a real pipe, reading a lake the way its readers do, and what a test
//! does when an outside tool it needs is missing. The end-to-end tests of the whole chain, and the
//! offline checks of the Docker and Power BI files, live in this crate's `tests/`; the crates' own
//! integration tests use these helpers too (as a dev-dependency), so every suite reads a lake and
//! skips the same way. [`kafka`] starts a real Kafka-protocol broker for the tests of the Kafka path.

pub mod kafka;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use vitals_core::lake;
pub use vitals_core::lake::Table;

/// Whether this run is CI's: `CI` set to anything but empty, `0` or `false`. CI must never pass a
/// test by skipping it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// The one rule for a test that needs something outside Rust (a Python module, Chromium, root for a
/// mount, a third-party schema): returns `found`; when it is false, the test should return at once.
/// Outside CI the test prints `SKIPPED: <missing> (<remedy>)`; under CI it panics with the same
/// words instead, so a CI run that lacks the tool fails. `remedy` says how to get it, usually
/// "install it with `bash .ci/install.d/NAME.sh`".
pub fn needs(found: bool, missing: &str, remedy: &str) -> bool {
    if found {
        return true;
    }
    let msg = format!("{missing} ({remedy})");
    assert!(
        !in_ci(),
        "{msg}; CI is set, so this test may not be skipped"
    );
    // Straight to the process's stderr: libtest captures `eprintln!`, and a skip must be seen.
    let _ = writeln!(std::io::stderr(), "SKIPPED: {msg}");
    false
}

/// The environment variable naming the folder of third-party JSON schemas that some checks
/// validate against and that the repository does not copy: `compose-schema/compose-spec.json` (the
/// Compose Specification's schema) and `powerbi-schemas/` (Microsoft's Power BI project schemas,
/// laid out by the path that follows `https://developer.microsoft.com/json-schemas/` in their
/// `$schema` URLs). `.ci/run` points it at the folder CI provides; docs/docker-and-kafka.md and
/// dashboards/README.md say where each schema comes from.
pub const SCHEMA_DIR_VAR: &str = "CARDIO_SCHEMA_DIR";

/// `$CARDIO_SCHEMA_DIR/<sub>` when it exists; otherwise `None`, after [`needs`] has said why (so
/// under CI a missing schema fails the test).
pub fn schema_dir(sub: &str) -> Option<PathBuf> {
    let dir = std::env::var_os(SCHEMA_DIR_VAR).map(|d| PathBuf::from(d).join(sub));
    let found = dir.as_ref().is_some_and(|d| d.exists());
    let missing = match &dir {
        Some(d) => format!("the third-party schemas are not at {}", d.display()),
        None => format!("{SCHEMA_DIR_VAR} is not set"),
    };
    let remedy = format!(
        "set {SCHEMA_DIR_VAR} to a folder holding {sub}; the docs say where each schema comes from"
    );
    if needs(found, &missing, &remedy) {
        dir
    } else {
        None
    }
}

/// The repository's root folder (tests read its committed files: docs, dashboards, docker).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Path of a workspace binary in the same target profile as the running test.
///
/// `cargo test --workspace` builds every binary before it runs any test; a binary that is missing
/// here means the tests were started another way.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target profile folder");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo test --workspace` (or `cargo build --workspace` first)",
        path.display()
    );
    path
}

/// Runs `cmd` with `input` written to its stdin through a pipe (from a thread, so a process that
/// writes while it reads cannot deadlock), and returns its output. A process that stops reading
/// early is not an error here: the test judges its status.
pub fn feed(mut cmd: Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the process under test");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child
        .wait_with_output()
        .expect("wait for the process under test");
    feeder.join().expect("feeder thread");
    out
}

/// Runs `stage` behind a writer in one process group, as a shell pipe is (and as Ctrl-C and
/// `tini -g` signal it): the writer writes `first`; once `started()` holds, the whole group gets
/// SIGTERM, and the writer, after a moment, writes `last` as it stops (as `cardio-kafka consume`
/// writes its last lines, and commits them) and ends its output. `stage`'s stdout is the caller's to
/// set; its stdin is the writer's output and its stderr is captured. Returns the stage's output.
pub fn stop_together_with_a_writer(
    mut stage: Command,
    first: &[u8],
    last: &[u8],
    mut started: impl FnMut() -> bool,
) -> Output {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().expect("temporary folder");
    let (first_file, last_file) = (dir.path().join("first"), dir.path().join("last"));
    fs::write(&first_file, first).expect("write the writer's first lines");
    fs::write(&last_file, last).expect("write the writer's last lines");
    let mut writer = Command::new("sh")
        .arg("-c")
        .arg(r#"exec 2>/dev/null; trap 'sleep 0.02; cat "$2"; exit 0' TERM; cat "$1"; while :; do sleep 0.05; done"#)
        .arg("writer")
        .args([&first_file, &last_file])
        .process_group(0)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the writer");
    let group = writer.id();
    let child = stage
        .stdin(writer.stdout.take().expect("piped stdout"))
        .stderr(Stdio::piped())
        .process_group(group as i32)
        .spawn()
        .expect("start the process under test");
    // The command holds its copy of the pipe's reading end: with it open here, a writer whose
    // reader has died would block instead of getting EPIPE.
    drop(stage);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !started() {
        assert!(
            std::time::Instant::now() < deadline,
            "the stage did not start on its input"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let killed = Command::new("kill")
        .args(["-TERM", "--", &format!("-{group}")])
        .status()
        .expect("run kill");
    assert!(killed.success(), "kill -TERM of the process group");
    let out = child
        .wait_with_output()
        .expect("wait for the process under test");
    assert!(
        writer.wait().expect("wait for the writer").success(),
        "the writer ended on its own"
    );
    out
}

/// Every line of every published file of `table`, in path order, read by the lake's reading rules
/// (`vitals_core::lake`): files in progress and other hidden names are skipped, as DuckDB's
/// `*.jsonl` glob and Power Query's filter skip them.
pub fn lake_lines(lake: &Path, table: Table) -> Vec<String> {
    lake::published_files(&lake.join(table.dir_name()))
        .unwrap()
        .iter()
        .flat_map(|f| {
            fs::read_to_string(f)
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Hidden files still in progress (`.part-….jsonl.tmp`) anywhere under `dir`.
pub fn in_progress(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    walk(
        dir,
        &mut |p| p.to_string_lossy().ends_with(".jsonl.tmp"),
        &mut out,
    );
    out
}

fn walk(dir: &Path, keep: &mut dyn FnMut(&Path) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, keep, out);
        } else if keep(&p) {
            out.push(p);
        }
    }
}
