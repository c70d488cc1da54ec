//! Running the real binaries against a test broker for the scale-out, catch-up and sink tests:
//! processes whose stderr goes to a file the test watches, the group's lag, the plain pipeline's
//! lake to compare with, and a lake's records as sorted lists to compare lakes by.

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
    wait_until(
        &format!("group {group} catches up on {topic}"),
        others,
        |_| lag(broker, group, topic) == Some(0),
    );
}

/// Waits until `done(running)` (asked every 250 ms); fails the test, naming `what`, after
/// [`PATIENCE`] or as soon as one of `running` exits.
pub fn wait_until(
    what: &str,
    running: &mut [&mut Running],
    mut done: impl FnMut(&[&mut Running]) -> bool,
) {
    let deadline = Instant::now() + PATIENCE;
    while !done(running) {
        for r in running.iter_mut() {
            if let Ok(Some(s)) = r.child.try_wait() {
                panic!("{} exited ({s}):\n{}", r.name, r.stderr_text());
            }
        }
        assert!(Instant::now() < deadline, "not within {PATIENCE:?}: {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The topics and groups of the scale-out path: readings → `process` replicas → enriched → `sink`.
pub const RAW: &str = "cardio.vitals.raw";
pub const ENRICHED: &str = "cardio.vitals.enriched";
pub const ALERT_GROUP: &str = "cardio-alert";
pub const ARCHIVE_GROUP: &str = "cardio-archive";

/// `cardio-kafka process` replica number `i` of [`ALERT_GROUP`], from [`RAW`] to [`ENRICHED`],
/// with cardio-alert's default rules.
pub fn replica(broker: &Broker, dir: &Path, i: usize) -> Running {
    let mut cmd = kafka(broker, "process");
    cmd.args(["--in", RAW, "--out", ENRICHED, "--group", ALERT_GROUP])
        .args(["--", "cardio-alert", "--quiet"]);
    Running::start(cmd, dir, &format!("process-{i}"))
}

/// `cardio-kafka sink` of [`ENRICHED`] into `lake`, in [`ARCHIVE_GROUP`].
pub fn lake_sink(broker: &Broker, dir: &Path, lake: &Path) -> Running {
    let mut cmd = kafka(broker, "sink");
    cmd.args(["--topic", ENRICHED, "--group", ARCHIVE_GROUP, "--lake"])
        .arg(lake)
        .args(["--max-age", "1s"]);
    Running::start(cmd, dir, "sink")
}

/// The readings of `cardio-sim SIM_FLAGS`, after filling `plain` with the plain pipeline's lake
/// of the same readings (`cardio-sim | cardio-alert | cardio-archive`).
pub fn readings_and_plain_lake(sim_flags: &str, plain: &Path) -> Vec<u8> {
    let sim = format!("{} {sim_flags} 2>/dev/null", bin("cardio-sim").display());
    sh(&format!(
        "{sim} | {} --quiet 2>/dev/null | {} --lake {} 2>/dev/null",
        bin("cardio-alert").display(),
        bin("cardio-archive").display(),
        plain.display()
    ));
    sh(&sim)
}

/// `lake` must hold exactly the records of the plain pipeline's lake `plain` (which has alerts):
/// first no technical alarm (`device_silent`, `clock_skew`) that the plain pipeline did not raise,
/// or the other way round, then every table the same.
#[track_caller]
pub fn assert_lake_of_plain_pipeline(plain: &Path, lake: &Path) {
    check(lake);
    let want = lake_records(plain);
    let got = lake_records(lake);
    assert!(!want[1].is_empty(), "the run should raise alerts");
    let technical = |alerts: &[String]| -> Vec<String> {
        alerts
            .iter()
            .filter(|l| l.contains(r#""kind":"technical""#))
            .cloned()
            .collect()
    };
    let (want_technical, got_technical) = (technical(&want[1]), technical(&got[1]));
    assert!(
        got_technical == want_technical,
        "technical alarms the plain pipeline did not raise, or missing: {}",
        difference(&want_technical, &got_technical)
    );
    for (table, (w, g)) in ["vitals", "alerts", "admission", "settings", "_rejected"]
        .iter()
        .zip(want.iter().zip(&got))
    {
        assert!(w == g, "{table}: {}", difference(w, g));
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
