//! Shared helpers of the integration tests: a stream generator, the binary, lake readers.
#![allow(dead_code)]

use std::collections::BTreeMap;

use std::path::Path;
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_cardio-archive");

pub fn archive(lake: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--lake").arg(lake);
    c
}

// Each test binary that includes this module uses a different subset.
#[allow(unused_imports)]
pub use end_to_end::{Table, in_progress, lake_lines};

/// Lines as NDJSON input: each followed by a newline.
pub fn ndjson(lines: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l.as_bytes());
        out.push(b'\n');
    }
    out
}

/// Runs the archive on `input` and returns its output.
pub fn run(lake: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut cmd = archive(lake);
    cmd.args(args);
    end_to_end::feed(cmd, input)
}

/// `cardio-archive check` finds nothing wrong with the lake (status 0); its report is shown if not.
pub fn assert_check_passes(lake: &Path) {
    let check = archive(lake).arg("check").output().unwrap();
    assert_eq!(
        check.status.code(),
        Some(0),
        "check: {}",
        String::from_utf8_lossy(&check.stdout)
    );
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// One vitals line as cardio-alert writes it; event time starts 2026-11-28T00:00:00Z, one second
/// per seq.
pub fn vitals(device: u32, seq: u64) -> String {
    vitals_at(device, seq, seq as i64)
}

/// The same line with an event time of its own: `secs` seconds after 2026-11-28T00:00:00Z
/// (negative is earlier), for devices whose clock steps or that restart their seq.
pub fn vitals_at(device: u32, seq: u64, secs: i64) -> String {
    let ts = vitals_core::Timestamp::from_millis((1_795_824_000 + secs) * 1000);
    format!(
        r#"{{"type":"vitals","ts":"{ts}","patient_id":"PT-{p}","device_id":"D-{device:04}","seq":{seq},"heart_rate_bpm":{hr},"spo2_pct":97,"respiratory_rate_bpm":14,"temperature_c":36.8,"systolic_mmhg":null,"diastolic_mmhg":null,"on_oxygen":false,"consciousness":"A","battery_pct":88,"news2":0,"news2_risk":"low"}}"#,
        p = 1000 + device,
        hr = 60 + (seq % 40),
    )
}

pub fn alert(device: u32, n: u64, state: &str) -> String {
    format!(
        r#"{{"type":"alert","ts":"2026-11-28T00:00:{s:02}.000Z","patient_id":"PT-{p}","device_id":"D-{device:04}","alert_id":"AL-{device}-{n}","rule":"spo2_low","kind":"physiological","priority":"medium","state":"{state}","vital":"spo2_pct","value":86,"limit":90,"news2":3,"message":"SpO2 86% below 90% for 15 s"}}"#,
        s = n % 60,
        p = 1000 + device
    )
}

/// The `admission` record of device `device`'s patient, as cardio-sim writes it: on the line before
/// the patient's first reading, with that reading's time (seq 0, 2026-11-28T00:00:00Z).
pub fn admission(device: u32) -> String {
    let copd = device.is_multiple_of(3);
    format!(
        r#"{{"type":"admission","ts":"2026-11-28T00:00:00.000Z","patient_id":"PT-{p}","device_id":"D-{device:04}","unit":"surgical","bed":"B-{bed:02}","age_band":"{age}","sex":"{sex}","conditions":{conditions},"spo2_scale":{scale}}}"#,
        p = 1000 + device,
        bed = device + 1,
        age = ["60-69", "70-79", "80-89"][(device % 3) as usize],
        sex = if device.is_multiple_of(2) { "F" } else { "M" },
        conditions = if copd { r#"["copd"]"# } else { "[]" },
        scale = if copd { 2 } else { 1 },
    )
}

/// Device `device`'s patient's `n`-th `settings` record, in force from `secs` seconds after
/// 2026-11-28T00:00:00Z: the unit's profile for n = 1, the nurse's after, with `hr_low` set.
pub fn settings(device: u32, n: u32, secs: i64, hr_low: u32) -> String {
    let ts = vitals_core::Timestamp::from_millis((1_795_824_000 + secs) * 1000);
    format!(
        r#"{{"type":"settings","ts":"{ts}","patient_id":"PT-{p}","device_id":"D-{device:04}","settings_id":"PT-{p}/{n}","source":"{source}","limits":{{"hr_high":120,"hr_low":{hr_low},"spo2_low":90}}}}"#,
        p = 1000 + device,
        source = if n == 1 { "unit_profile" } else { "nurse" },
    )
}

/// Distinct bad lines of every kind the archive must keep.
pub fn bad_line(i: u64) -> Vec<u8> {
    match i % 6 {
        0 => format!("garbage line {i}").into_bytes(),
        1 => format!("{{\"type\":\"vitals\",\"ts\":\"2026-11-28T00:00:00.000Z\",\"n\":{i}")
            .into_bytes(),
        2 => format!("{{\"type\":\"ecg_strip\",\"n\":{i}}}").into_bytes(),
        3 => {
            let mut v = format!("{{\"n\":{i},\"bytes\":\"").into_bytes();
            v.extend_from_slice(b"\xff\xfe\"}");
            v
        }
        4 => vitals_at(1, 1_000_000 + i, 0)
            .replace("2026-11-", "0000-11-")
            .into_bytes(),
        _ => format!("[{i}]").into_bytes(),
    }
}

/// `(device_id, seq)` → how often it is in the lake.
pub fn reading_counts(lake: &Path) -> BTreeMap<(String, u64), u32> {
    let mut m = BTreeMap::new();
    for l in lake_lines(lake, Table::Vitals) {
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        *m.entry((
            v["device_id"].as_str().unwrap().to_owned(),
            v["seq"].as_u64().unwrap(),
        ))
        .or_insert(0) += 1;
    }
    m
}

/// `(device_id, seq, ts)` → how often it is in the lake.
pub fn identity_counts(lake: &Path) -> BTreeMap<(String, u64, String), u32> {
    let mut m = BTreeMap::new();
    for l in lake_lines(lake, Table::Vitals) {
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        *m.entry((
            v["device_id"].as_str().unwrap().to_owned(),
            v["seq"].as_u64().unwrap(),
            v["ts"].as_str().unwrap().to_owned(),
        ))
        .or_insert(0) += 1;
    }
    m
}

pub fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(ok.success());
}

/// Waits until `cond` holds, for at most `limit` (a bound on waiting, not a timing assertion).
pub fn wait_for(limit: std::time::Duration, mut cond: impl FnMut() -> bool) -> bool {
    let t0 = std::time::Instant::now();
    while t0.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    cond()
}
