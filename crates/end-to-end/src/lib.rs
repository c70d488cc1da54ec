//! Support for the tests that run CardioStream's real binaries: where the workspace's binaries are,
//! feeding a process through a real pipe, and reading a lake the way its readers do. The
//! end-to-end tests of the whole chain live in this crate's `tests/`; the crates' own integration
//! tests use these helpers too (as a dev-dependency), so every suite reads a lake the same way.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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

/// Every line of every published `*.jsonl` file under `lake/<table>/`, in path order. Hidden files
/// (in progress) are skipped, as DuckDB's `*.jsonl` glob and Power Query's filter skip them.
pub fn lake_lines(lake: &Path, table: &str) -> Vec<String> {
    let mut files = vec![];
    walk(
        &lake.join(table),
        &mut |p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.ends_with(".jsonl") && !name.starts_with('.')
        },
        &mut files,
    );
    files.sort();
    files
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
