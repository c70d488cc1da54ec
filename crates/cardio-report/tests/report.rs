//! cardio-report end to end: the real binary on a lake written in a temporary folder.

use std::path::Path;
use std::process::{Command, Output};

use cardio_report::lake::read_lake;
use cardio_report::model::{Filter, Ward};
use cardio_report::synthetic::{LakeSpec, Written, write_lake};

fn lake(dir: &Path, patients: usize, seconds: u64) -> Written {
    let spec = LakeSpec {
        patients,
        seconds,
        records_per_file: 2_000,
        decoys: true,
        ..LakeSpec::default()
    };
    write_lake(dir, &spec).unwrap()
}

fn report(lake: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cardio-report"))
        .arg("--lake")
        .arg(lake)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn report_has_one_row_and_six_charts_per_patient() {
    let dir = tempfile::tempdir().unwrap();
    let written = lake(&dir.path().join("lake"), 5, 1800);
    let out = dir.path().join("report.html");
    let o = report(&dir.path().join("lake"), &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).unwrap();
    assert_eq!(html.matches("<tr class=\"patient-row\"").count(), 5);
    assert_eq!(html.matches("<section class=\"patient\"").count(), 5);
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 5 * 6);
    for id in ["PT-1000", "PT-1004"] {
        assert!(html.contains(&format!("data-patient=\"{id}\"")), "{id}");
    }
    assert!(
        stderr(&o).contains(&format!("{} readings", written.vitals)),
        "{}",
        stderr(&o)
    );
    assert!(html.contains(&format!("{} readings", written.vitals)));
}

#[test]
fn the_page_is_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    lake(&dir.path().join("lake"), 2, 600);
    let out = dir.path().join("report.html");
    assert!(report(&dir.path().join("lake"), &out, &[]).status.success());
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(
        html.contains("default-src 'none'"),
        "a CSP forbids every request"
    );
    for needle in [
        "<script", "src=", "<link", "url(", "@import", "http://", "https://",
    ] {
        assert!(!html.contains(needle), "found {needle}");
    }
}

#[test]
fn hidden_underscore_and_non_jsonl_files_are_never_read() {
    let dir = tempfile::tempdir().unwrap();
    let written = lake(&dir.path().join("lake"), 3, 300);
    let contents = read_lake(&dir.path().join("lake"), &Filter::default()).unwrap();
    let ward = Ward::build(contents);
    assert_eq!(ward.records, written.vitals);
    assert!(ward.patients.iter().all(|p| p.id != "PT-DECOY"));
    assert_eq!(ward.alerts.len() as u64, written.alerts);
}

#[test]
fn lost_readings_are_the_holes_in_each_devices_seq() {
    let dir = tempfile::tempdir().unwrap();
    let written = lake(&dir.path().join("lake"), 4, 20_000);
    assert!(written.lost.iter().sum::<u64>() > 0, "the lake has holes");
    let ward = Ward::build(read_lake(&dir.path().join("lake"), &Filter::default()).unwrap());
    let lost: Vec<u64> = ward.devices.iter().map(|d| d.lost).collect();
    // A hole after the last reading is invisible to any reader; the generator rarely makes one.
    for (got, made) in lost.iter().zip(&written.lost) {
        assert!(
            got <= made && made - got <= 1,
            "{lost:?} vs {:?}",
            written.lost
        );
    }
}

#[test]
fn patient_and_time_window_narrow_the_report() {
    let dir = tempfile::tempdir().unwrap();
    lake(&dir.path().join("lake"), 3, 3600);
    let out = dir.path().join("one.html");
    let o = report(
        &dir.path().join("lake"),
        &out,
        &[
            "--patient",
            "PT-1001",
            "--from",
            "2026-11-28T00:10:00Z",
            "--to",
            "2026-11-28T00:20:00Z",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).unwrap();
    assert_eq!(html.matches("<tr class=\"patient-row\"").count(), 1);
    assert!(html.contains("data-patient=\"PT-1001\""));
    assert!(
        html.contains("2026-11-28 00:10:00 – 2026-11-28 00:19:59 UTC"),
        "span"
    );
    // Ten minutes at 1 Hz, less the odd lost reading.
    let readings = stderr(&o);
    let n: u64 = readings.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!((595..=600).contains(&n), "{readings}");
}

#[test]
fn bad_lines_are_counted_and_give_status_1() {
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    lake(&lake_dir, 1, 60);
    let part = lake_dir.join("vitals/date=2026-11-28/part-99.jsonl");
    let mut bad =
        b"{\"type\":\"vitals\",\"ts\":\"nope\"}\nnot json\n{\"type\":\"future\"}\n".to_vec();
    bad.extend_from_slice(b"{\"type\":\"vitals\",\"patient_id\":\"\xff\"}\n");
    std::fs::write(&part, bad).unwrap();
    let out = dir.path().join("r.html");
    let o = report(&lake_dir, &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // Three bad lines (bad time, not JSON, not UTF-8); an object of another type is not bad.
    let msg = "3 lines were not valid records";
    assert!(stderr(&o).contains(msg), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains(msg));
    assert_eq!(
        html.matches("<tr class=\"patient-row\"").count(),
        1,
        "good lines still read"
    );
}

#[test]
fn a_missing_lake_or_bad_time_is_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.html");
    let o = report(&dir.path().join("nowhere"), &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nowhere"), "{}", stderr(&o));
    lake(&dir.path().join("lake"), 1, 10);
    let o = report(&dir.path().join("lake"), &out, &["--from", "soon"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--from"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn an_empty_lake_still_gives_a_page() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("lake/vitals")).unwrap();
    let out = dir.path().join("r.html");
    let o = report(&dir.path().join("lake"), &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&out).unwrap().contains("no data"));
}

#[test]
fn help_explains_every_flag_and_ends_with_the_exit_status() {
    let o = Command::new(env!("CARGO_BIN_EXE_cardio-report"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(o.status.success());
    let help = String::from_utf8(o.stdout).unwrap();
    for flag in [
        "--lake",
        "--out",
        "--patient",
        "--from",
        "--to",
        "--max-charts",
        "--max-alert-rows",
        "--quiet",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words(&help).ends_with(&words(vitals_core::status::EXIT_STATUS_HELP)),
        "{help}"
    );
}

/// `--out DIR/` (or an existing folder) is refused with status 2 before anything is written: no
/// hidden temporary file is left in the folder or beside it.
#[test]
fn an_out_path_that_names_a_folder_is_refused_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    lake(&lake_dir, 1, 60);
    let target = dir.path().join("reports");
    std::fs::create_dir(&target).unwrap();
    let listing = |d: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let before = listing(dir.path());
    for out in [
        format!("{}/", target.display()),
        target.display().to_string(),
        format!("{}/missing/", dir.path().display()),
    ] {
        let o = report(&lake_dir, Path::new(&out), &[]);
        assert_eq!(o.status.code(), Some(2), "{out}: {}", stderr(&o));
        assert!(stderr(&o).contains("is a folder"), "{out}: {}", stderr(&o));
        assert_eq!(listing(dir.path()), before, "{out}");
        assert!(listing(&target).is_empty(), "{out}");
    }
}

/// Absurd values that are still valid records (a temperature of 1e39, infinite once read as an
/// f32, or -1e308) draw at the edge of a chart whose axis stops at the plausibility gate: no
/// coordinate is NaN or infinite.
#[test]
fn absurd_values_never_make_a_nan_or_infinite_coordinate() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("lake/vitals/date=2026-11-28");
    std::fs::create_dir_all(&folder).unwrap();
    let mut text = String::new();
    for s in 0..120u64 {
        let mut v = vitals_core::Vitals::empty(
            vitals_core::Timestamp(1_795_824_000_000 + s as i64 * 1000),
            "PT-1",
            "D-1",
            s,
        );
        v.heart_rate_bpm = Some(if s == 50 { i32::MAX } else { 80 });
        v.spo2_pct = Some(97);
        v.respiratory_rate_bpm = Some(16);
        v.temperature_c = Some(match s {
            40 => 1e39,
            41 => -1e308,
            42 => 1e308,
            _ => 36.8,
        });
        v.battery_pct = Some(80);
        text += &serde_json::to_string(&v).unwrap();
        text.push('\n');
    }
    std::fs::write(folder.join("part-main-0000000001.jsonl"), text).unwrap();
    let out = dir.path().join("r.html");
    let o = report(&dir.path().join("lake"), &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).unwrap();
    for svg in html.split("<svg").skip(1) {
        let svg = &svg[..svg.find("</svg>").unwrap()];
        assert!(!svg.contains("NaN"), "{svg}");
        assert!(!svg.contains("inf"), "{svg}");
    }
}

/// Writes an `admission/` and a `settings/` file into a lake of `patients` synthetic patients:
/// PT-1000 on the ICU with COPD (SpO2 scale 2) and limits set by the nurse, then changed again at
/// `late` (after the window some tests use); PT-1001 on the unit's profile.
fn profiles(lake: &Path, late: &str) {
    let day = "date=2026-11-28";
    let admission = [
        r#"{"type":"admission","ts":"2026-11-28T00:00:00.000Z","patient_id":"PT-1000","device_id":"D-001","unit":"icu","bed":"B-04","age_band":"70-79","sex":"F","conditions":["copd","af"],"spo2_scale":2}"#,
        r#"{"type":"admission","ts":"2026-11-28T00:00:00.000Z","patient_id":"PT-1001","device_id":"D-002","unit":"icu","bed":"B-05","age_band":"30-39","sex":"M","conditions":[],"spo2_scale":1}"#,
    ];
    let settings = [
        r#"{"type":"settings","ts":"2026-11-28T00:00:00.000Z","patient_id":"PT-1000","device_id":"D-001","settings_id":"PT-1000/1","source":"unit_profile","limits":{"hr_low":50,"spo2_low":90}}"#.to_owned(),
        r#"{"type":"settings","ts":"2026-11-28T00:05:00.000Z","patient_id":"PT-1000","device_id":"D-001","settings_id":"PT-1000/2","source":"nurse","limits":{"hr_low":45,"spo2_low":86}}"#.to_owned(),
        format!(
            r#"{{"type":"settings","ts":"{late}","patient_id":"PT-1000","device_id":"D-001","settings_id":"PT-1000/3","source":"nurse","limits":{{"hr_low":40,"spo2_low":85}}}}"#
        ),
        r#"{"type":"settings","ts":"2026-11-28T00:00:00.000Z","patient_id":"PT-1001","device_id":"D-002","settings_id":"PT-1001/1","source":"unit_profile","limits":{"hr_low":50,"spo2_low":90}}"#.to_owned(),
    ];
    for (folder, lines) in [
        ("admission", admission.map(str::to_owned).to_vec()),
        ("settings", settings.to_vec()),
    ] {
        let dir = lake.join(folder).join(day);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("part-main-0000000000.jsonl"),
            lines.join("\n") + "\n",
        )
        .unwrap();
    }
}

/// The cells of a patient's row of the Patients table, as text.
fn profile_row(html: &str, patient: &str) -> String {
    let start = html
        .find(&format!(
            "<tr class=\"profile-row\" data-patient=\"{patient}\""
        ))
        .unwrap_or_else(|| panic!("no Patients row for {patient}"));
    let row = &html[start..];
    row[..row.find("</tr>").unwrap()].to_owned()
}

#[test]
fn the_patients_table_shows_each_admission_and_the_limits_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    lake(&lake_dir, 3, 1800);
    profiles(&lake_dir, "2026-11-28T00:20:00.000Z");
    let out = dir.path().join("r.html");
    let o = report(&lake_dir, &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).unwrap();
    assert_eq!(html.matches("<tr class=\"profile-row\"").count(), 3);
    let row = profile_row(&html, "PT-1000");
    for cell in [
        "<td>icu</td>",
        "<td>B-04</td>",
        "<td>70-79</td>",
        "<td>F</td>",
        ">copd, af</td>",
        "<td>2</td>",
        "title=\"PT-1000/3\">hr_low 40, spo2_low 85</td>",
        "<td class=\"individualised\">yes</td>",
        "<td>2026-11-28 00:20:00</td>",
    ] {
        assert!(row.contains(cell), "{cell} in {row}");
    }
    let row = profile_row(&html, "PT-1001");
    assert!(row.contains(">hr_low 50, spo2_low 90</td>"), "{row}");
    assert!(
        row.contains("<td class=\"individualised\">no</td>"),
        "{row}"
    );
    assert!(row.contains(">none</td>"), "no conditions: {row}");
    // PT-1002 has readings but no admission: a row all the same.
    assert!(profile_row(&html, "PT-1002").contains("<td>–</td>"));
    // The alarm count is the episodes the ward table counts too.
    let ward = Ward::build(read_lake(&lake_dir, &Filter::default()).unwrap());
    let p = ward.patients.iter().find(|p| p.id == "PT-1000").unwrap();
    assert!(
        profile_row(&html, "PT-1000").ends_with(&format!("<td>{}</td>", p.alarms())),
        "{}",
        profile_row(&html, "PT-1000")
    );
    assert!(!html.contains("id=\"no-admission\""));

    // Up to --to, the settings in force are those before it, even when set before --from.
    let o = report(
        &lake_dir,
        &out,
        &[
            "--from",
            "2026-11-28T00:10:00Z",
            "--to",
            "2026-11-28T00:15:00Z",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).unwrap();
    let row = profile_row(&html, "PT-1000");
    assert!(
        row.contains("title=\"PT-1000/2\">hr_low 45, spo2_low 86</td>"),
        "{row}"
    );
    assert!(
        row.contains("<td>icu</td>"),
        "admitted before --from: {row}"
    );
}

#[test]
fn a_lake_without_admission_or_settings_still_lists_its_patients() {
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    lake(&lake_dir, 2, 300);
    let out = dir.path().join("r.html");
    let o = report(&lake_dir, &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).unwrap();
    assert_eq!(html.matches("<tr class=\"profile-row\"").count(), 2);
    assert!(html.contains("id=\"no-admission\""));
}
