//! Every binary started with a closed stdout (`cmd >&-`) refuses to run, with exit status 2 and a
//! message, instead of writing into nothing and reporting success (the standard library puts
//! `/dev/null` in the place of a closed stdout).

use std::process::{Command, Output};

use end_to_end::bin;

/// Runs `binary args` through `sh` with `redirect` (such as `>&-`) applied to it.
fn run_with(binary: &str, args: &[&str], redirect: &str) -> Output {
    let script = format!("exec \"$0\" \"$@\" {redirect}");
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(bin(binary))
        .args(args)
        .output()
        .expect("run sh")
}

fn assert_refused(binary: &str, args: &[&str], redirect: &str) {
    let out = run_with(binary, args, redirect);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{binary} {redirect}: {err}");
    assert!(
        err.contains(&format!("{binary}: standard output is closed")),
        "{binary} {redirect}: {err}"
    );
}

#[test]
fn cardio_sim_refuses_a_closed_stdout() {
    assert_refused("cardio-sim", &["--count", "10", "--seed", "1"], ">&-");
}

#[test]
fn cardio_alert_refuses_a_closed_stdout() {
    assert_refused("cardio-alert", &[], "</dev/null >&-");
}

#[test]
fn cardio_archive_refuses_a_closed_stdout() {
    let lake = tempfile::tempdir().unwrap();
    let lake_arg = lake.path().to_str().unwrap();
    assert_refused("cardio-archive", &["--lake", lake_arg], "</dev/null >&-");
    // Refused before anything was made.
    assert_eq!(std::fs::read_dir(lake.path()).unwrap().count(), 0);
}

#[test]
fn cardio_report_refuses_a_closed_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    let lake = dir.path().join("lake");
    std::fs::create_dir(&lake).unwrap();
    assert_refused(
        "cardio-report",
        &[
            "--lake",
            lake.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        ">&-",
    );
    assert!(!out.exists());
}

#[test]
fn cardio_export_refuses_a_closed_stdout() {
    assert_refused("cardio-export", &["hl7"], "</dev/null >&-");
}

/// cardio-watch draws on the terminal and needs stdout only with `--pass`: there a closed stdout
/// would swallow the stream it is to pass on, so it refuses before it touches the terminal.
#[test]
fn cardio_watch_pass_refuses_a_closed_stdout() {
    let out = run_with("cardio-watch", &["--pass"], "</dev/null >&-");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("stdout, which is closed"), "{err}");
}

/// `>/dev/null`, a closed stdin and a read-write stdin are not a closed stdout: these run as usual.
#[test]
fn open_streams_run_as_usual() {
    let out = run_with("cardio-sim", &["--count", "3", "--seed", "1"], ">/dev/null");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run_with("cardio-alert", &[], "</dev/null >/dev/null");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A /dev/null the caller opened for reading and writing (Python's `subprocess.DEVNULL`) looks like
/// the standard library's stand-in for a closed stdout: it is refused too, and the message says so
/// and names the way out; /dev/null opened for writing (`>/dev/null`) runs.
#[test]
fn a_read_write_dev_null_stdout_is_refused_with_a_message_that_names_it() {
    assert_refused(
        "cardio-sim",
        &["--count", "10", "--seed", "1"],
        "<>/dev/null >&0",
    );
    let out = run_with(
        "cardio-sim",
        &["--count", "10", "--seed", "1"],
        "<>/dev/null >&0",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("subprocess.DEVNULL") && err.contains(">/dev/null"),
        "{err}"
    );
    let out = run_with(
        "cardio-sim",
        &["--count", "10", "--seed", "1"],
        ">/dev/null",
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
