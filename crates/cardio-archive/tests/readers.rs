//! The lake's real readers (docs/spec.md §2): DuckDB, pandas and pyarrow, run through
//! `read_lake.py`, see exactly the published records, also while the archive is writing (files in
//! progress are invisible to them). Needs `.ci/install.d/python-readers.sh`; without the modules
//! the test says SKIPPED, or fails under CI ([`end_to_end::needs`]).

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

fn readers_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import duckdb, pandas, pyarrow"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    end_to_end::needs(
        ok,
        "the lake reader tests need duckdb, pandas and pyarrow",
        "install them with `bash .ci/install.d/python-readers.sh`",
    )
}

fn read_lake(lake: &Path, vitals: usize, alerts: usize, dates: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/read_lake.py");
    let o = Command::new("python3")
        .arg(script)
        .arg(lake)
        .arg(vitals.to_string())
        .arg(alerts.to_string())
        .arg(dates.join(","))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "readers disagree:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn lines(from: u64, to: u64) -> Vec<u8> {
    let mut s = Vec::new();
    for seq in from..to {
        for d in 0..5 {
            s.extend_from_slice(vitals(d, seq).as_bytes());
            s.push(b'\n');
        }
    }
    s
}

#[test]
fn duckdb_pandas_and_pyarrow_see_exactly_the_published_records_also_while_writing() {
    if !readers_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let mut child = archive(&lake)
        .args(["--max-records", "1000", "--max-age", "1h"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // 2,500 readings on 2026-11-28: two rounds of 1,000 are published, 500 stay in progress.
    stdin.write_all(&lines(0, 500)).unwrap();
    stdin.flush().unwrap();
    let settled = wait_for(Duration::from_secs(30), || {
        lake_lines(&lake, Table::Vitals).len() == 2000 && in_progress(&lake).len() == 1
    });
    assert!(settled, "two files published, one in progress");
    read_lake(&lake, 2000, 0, &["2026-11-28"]);

    // The next day's readings and an alert, then end of input: everything is published.
    stdin.write_all(&lines(86_400, 86_500)).unwrap();
    stdin
        .write_all(format!("{}\n", alert(1, 1, "raised")).as_bytes())
        .unwrap();
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    read_lake(&lake, 3000, 1, &["2026-11-28", "2026-11-29"]);
}

/// The Patients queries of docs/reading-the-lake.md (DuckDB and pandas, run by
/// `read_patients.py` straight from the page) give one row per patient: the admission and the
/// settings in force, the latest by `ts` and then by the number in `settings_id` (`/10` after `/9`).
#[test]
fn duckdb_and_pandas_give_one_patients_row_with_the_latest_admission_and_settings() {
    if !readers_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let mut input = vec![admission(0), settings(0, 1, 0, 50), admission(1)];
    input.push(settings(1, 1, 0, 50));
    // Patient 0: the nurse sets the limits nine times at one instant (the tie is broken by n);
    // patient 1: twice the next day (the later ts wins).
    for n in 2..=10 {
        input.push(settings(0, n, 3_600, 40 + n));
    }
    input.push(settings(1, 2, 86_400, 44));
    input.push(settings(1, 3, 86_400 + 60, 42));
    for seq in 0..10 {
        input.push(vitals(0, seq));
        input.push(vitals(1, seq));
    }
    let o = run(&lake, &["--max-records", "3"], &ndjson(&input));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let limits =
        |hr_low: u32| serde_json::json!({"hr_high": 120, "hr_low": hr_low, "spo2_low": 90});
    let expected = serde_json::json!({
        "PT-1000": {"unit": "surgical", "bed": "B-01", "age_band": "60-69", "sex": "F",
                    "conditions": ["copd"], "spo2_scale": 2, "settings_id": "PT-1000/10",
                    "settings_source": "nurse", "individualised": true, "limits": limits(50)},
        "PT-1001": {"unit": "surgical", "bed": "B-02", "age_band": "70-79", "sex": "M",
                    "conditions": [], "spo2_scale": 1, "settings_id": "PT-1001/3",
                    "settings_source": "nurse", "individualised": true, "limits": limits(42)},
    });
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = Command::new("python3")
        .arg(root.join("tests/read_patients.py"))
        .arg(root.join("../../docs/reading-the-lake.md"))
        .arg(&lake)
        .arg(expected.to_string())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "the documented Patients queries disagree:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
