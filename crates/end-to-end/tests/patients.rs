//! A newcomer's pipe, `cardio-sim | cardio-alert | cardio-archive`, with no side file: the lake
//! gets each patient's `admission` and `settings` records in their own folders, and cardio-report
//! turns them into its Patients table, one row per patient with the limits in force.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use end_to_end::{Table, bin, lake_lines};
use serde_json::Value;

#[test]
fn the_pipe_files_admission_and_settings_and_the_report_lists_each_patients_limits() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let mut sim = Command::new(bin("cardio-sim"))
        .args(["--patients", "6", "--duration", "10m", "--seed", "11"])
        .args(["--speed", "max", "--start", "2026-11-28T00:00:00.000Z"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut alert = Command::new(bin("cardio-alert"))
        .arg("--quiet")
        .stdin(sim.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let archive = Command::new(bin("cardio-archive"))
        .arg("--lake")
        .arg(&lake)
        .stdin(alert.stdout.take().unwrap())
        .output()
        .unwrap();
    assert!(sim.wait().unwrap().success());
    assert!(alert.wait().unwrap().success());
    assert_eq!(
        archive.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&archive.stderr)
    );

    let records = |table| -> Vec<Value> {
        lake_lines(&lake, table)
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let admissions = records(Table::Admission);
    assert_eq!(admissions.len(), 6, "one admission per patient");
    // The settings in force per patient: the latest by ts, then by the n of settings_id.
    let mut in_force: BTreeMap<String, (String, u64, Value)> = BTreeMap::new();
    for s in records(Table::Settings) {
        let id = s["settings_id"].as_str().unwrap();
        let n: u64 = id.rsplit('/').next().unwrap().parse().unwrap();
        let order = (s["ts"].as_str().unwrap().to_owned(), n, s.clone());
        let patient = s["patient_id"].as_str().unwrap().to_owned();
        if in_force
            .get(&patient)
            .is_none_or(|known| (&known.0, known.1) < (&order.0, order.1))
        {
            in_force.insert(patient, order);
        }
    }
    assert_eq!(in_force.len(), 6, "every patient has settings in force");

    let out = dir.path().join("report.html");
    let report = Command::new(bin("cardio-report"))
        .arg("--lake")
        .arg(&lake)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let html = std::fs::read_to_string(&out).unwrap();
    assert_eq!(html.matches("<tr class=\"profile-row\"").count(), 6);
    for a in &admissions {
        let patient = a["patient_id"].as_str().unwrap();
        let start = html
            .find(&format!(
                "<tr class=\"profile-row\" data-patient=\"{patient}\""
            ))
            .unwrap();
        let row = &html[start..start + html[start..].find("</tr>").unwrap()];
        let settings = &in_force[patient].2;
        let unit = a["unit"].as_str().unwrap();
        let bed = a["bed"].as_str().unwrap();
        assert!(
            row.contains(&format!("<td>{unit}</td><td>{bed}</td>")),
            "{row}"
        );
        let id = settings["settings_id"].as_str().unwrap();
        assert!(row.contains(&format!("title=\"{id}\"")), "{id} in {row}");
        let individualised = if settings["source"] == "nurse" {
            "yes"
        } else {
            "no"
        };
        assert!(
            row.contains(&format!(
                "<td class=\"individualised\">{individualised}</td>"
            )),
            "{row}"
        );
    }
}
