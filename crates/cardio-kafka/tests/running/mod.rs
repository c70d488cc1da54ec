//! Running the real binaries against a test broker for the scale-out and sink tests: processes
//! whose stderr goes to a file the test watches, the group's lag, and a lake's records as sorted
//! lists to compare lakes by.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use end_to_end::kafka::{Broker, GROUP_SETTINGS};
use end_to_end::{Table, bin, lake_lines};

/// Anything the tests wait for happens within this (group joins on tansu take ~22 s each).
pub const PATIENCE: Duration = Duration::from_secs(240);

/// A process started by a test, its stderr in a file; killed on drop if still running.
pub struct Running {
    pub child: Child,
    pub name: String,
    pub stderr: PathBuf,
}

impl Running {
    /// Starts `cmd` with stdin from `/dev/null` (or the given stdio), stdout discarded and stderr
    /// into `<dir>/<name>.stderr`.
    pub fn start(mut cmd: Command, dir: &Path, name: &str) -> Running {
        let stderr = dir.join(format!("{name}.stderr"));
        let file = fs::File::create(&stderr).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Running {
            child,
            name: name.to_owned(),
            stderr,
        }
    }

    pub fn stderr_text(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits until stderr has a line containing `what`; returns that line.
    pub fn wait_for(&mut self, what: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(l) = self.stderr_text().lines().find(|l| l.contains(what)) {
                return l.to_owned();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited ({status}) before saying `{what}`:\n{}",
                    self.name,
                    self.stderr_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} did not say `{what}` within {PATIENCE:?}:\n{}",
                self.name,
                self.stderr_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn signal(&self, sig: &str) {
        crate::common::signal(&self.child, sig);
    }

    pub fn kill9(&mut self) {
        self.signal("KILL");
        let _ = self.child.wait();
    }

    /// SIGTERM, then the exit status (0 expected: everything flushed and committed).
    pub fn terminate(&mut self) -> i32 {
        self.signal("TERM");
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit after SIGTERM",
                self.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `cardio-kafka SUB --brokers B` plus the tests' group settings (a dead member noticed in 6 s).
pub fn kafka(broker: &Broker, sub: &str) -> Command {
    let mut cmd = crate::common::cardio_kafka_cmd(sub, broker);
    if sub != "produce" && sub != "lag" {
        cmd.args(GROUP_SETTINGS);
    }
    cmd
}

/// Sends `input` to `topic` with `cardio-kafka produce` (every line delivered before it exits).
pub fn produce(broker: &Broker, topic: &str, input: &[u8]) {
    let mut cmd = kafka(broker, "produce");
    cmd.args(["--topic", topic]);
    let out = end_to_end::feed(cmd, input);
    assert!(
        out.status.success(),
        "produce failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The group's total lag on `topic` (records not committed yet), from `cardio-kafka lag --json`.
pub fn lag(broker: &Broker, group: &str, topic: &str) -> Option<i64> {
    let out = kafka(broker, "lag")
        .args(["--group", group, "--topic", topic, "--json"])
        .output()
        .unwrap();
    if !out.status.success() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v["partitions"]
        .as_array()?
        .iter()
        .map(|p| p["lag"].as_i64())
        .sum()
}

/// The group's committed offset per partition of `topic` (`None`: nothing committed there).
pub fn committed(broker: &Broker, group: &str, topic: &str) -> Vec<(i32, Option<i64>)> {
    let out = kafka(broker, "lag")
        .args(["--group", group, "--topic", topic, "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    v["partitions"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    (
                        p["partition"].as_i64().unwrap_or(-1) as i32,
                        p["committed"].as_i64(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until `group` has committed everything of `topic`.
pub fn wait_caught_up(broker: &Broker, group: &str, topic: &str, others: &mut [&mut Running]) {
    let deadline = Instant::now() + PATIENCE;
    while lag(broker, group, topic) != Some(0) {
        for r in others.iter_mut() {
            if let Ok(Some(s)) = r.child.try_wait() {
                panic!("{} exited ({s}):\n{}", r.name, r.stderr_text());
            }
        }
        assert!(
            Instant::now() < deadline,
            "group {group} did not catch up on {topic}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// A shell pipeline's stdout (sh -c), failing the test on a non-zero status.
pub fn sh(script: &str) -> Vec<u8> {
    let out = Command::new("sh").args(["-c", script]).output().unwrap();
    assert!(
        out.status.success(),
        "`{script}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The lake's vitals, alerts, admission, settings and rejected records, each table sorted: two lakes hold the same
/// records exactly when these are equal, whatever files they are in.
pub fn lake_records(lake: &Path) -> [Vec<String>; 5] {
    [
        Table::Vitals,
        Table::Alerts,
        Table::Admission,
        Table::Settings,
        Table::Rejected,
    ]
    .map(|t| {
        let mut l = lake_lines(lake, t);
        l.sort();
        l
    })
}

/// `cardio-archive check` on the lake must pass (no duplicate, nothing damaged or left over).
pub fn check(lake: &Path) {
    let out = Command::new(bin("cardio-archive"))
        .args(["--lake", lake.to_str().unwrap(), "check"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cardio-archive check failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Lines that appear more than once, and lines of `want` missing from `got`, for a failure message.
pub fn difference(want: &[String], got: &[String]) -> String {
    let mut msg = String::new();
    let mut dup = got.windows(2).filter(|w| w[0] == w[1]).map(|w| &w[0]);
    if let Some(d) = dup.next() {
        let _ = writeln!(msg, "twice: {d}");
    }
    let missing: Vec<_> = want
        .iter()
        .filter(|l| got.binary_search(l).is_err())
        .collect();
    let extra: Vec<_> = got
        .iter()
        .filter(|l| want.binary_search(l).is_err())
        .collect();
    let _ = writeln!(
        msg,
        "{} missing, {} extra (of {} expected, {} found)",
        missing.len(),
        extra.len(),
        want.len(),
        got.len()
    );
    for l in missing.iter().take(3) {
        let _ = writeln!(msg, "missing: {l}");
    }
    for l in extra.iter().take(3) {
        let _ = writeln!(msg, "extra: {l}");
    }
    msg
}
