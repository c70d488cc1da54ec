//! `admission` and `settings` records through the real binary (docs/spec.md §2): each type in its
//! own folder by event date, byte for byte; a replay adds nothing (from the checkpoint, and from a
//! rescan of the lake); an identity (`(patient_id, ts)`, `(settings_id, ts)`) already in the lake with
//! other bytes goes to `_rejected/` with the reason; wrong field types are refused naming the line;
//! `check` and `compact` cover the new folders.

mod common;

use std::fs;
use std::path::Path;

use common::*;

/// Two patients admitted, their unit profiles, a nurse's change the next day, and readings.
fn ward() -> Vec<String> {
    let mut lines = vec![
        admission(0),
        settings(0, 1, 0, 50),
        admission(1),
        settings(1, 1, 0, 50),
    ];
    for seq in 0..20 {
        lines.push(vitals(0, seq));
        lines.push(vitals(1, seq));
    }
    lines.push(settings(0, 2, 86_400 + 5, 45));
    lines.push(alert(0, 1, "raised"));
    lines
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn check_report(lake: &Path) -> (Option<i32>, String) {
    let o = archive(lake).arg("check").output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

#[test]
fn admission_and_settings_are_filed_in_their_own_folders_by_event_date_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let o = run(&lake, &[], &ndjson(&ward()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        sorted(lake_lines(&lake, Table::Admission)),
        sorted(vec![admission(0), admission(1)])
    );
    assert_eq!(
        sorted(lake_lines(&lake, Table::Settings)),
        sorted(vec![
            settings(0, 1, 0, 50),
            settings(1, 1, 0, 50),
            settings(0, 2, 86_400 + 5, 45)
        ])
    );
    assert!(lake.join("admission/date=2026-11-28").is_dir());
    assert!(lake.join("settings/date=2026-11-28").is_dir());
    assert!(
        lake.join("settings/date=2026-11-29").is_dir(),
        "a settings record goes to the day of its own ts"
    );
    assert_eq!(lake_lines(&lake, Table::Vitals).len(), 40);
    assert!(lake_lines(&lake, Table::Rejected).is_empty());
    assert!(
        stderr(&o).contains("filed 40 vitals, 1 alerts, 2 admission, 3 settings, 0 rejected"),
        "{}",
        stderr(&o)
    );
    let (status, report) = check_report(&lake);
    assert_eq!(status, Some(0), "{report}");
    assert!(report.contains("admission 2, settings 3"), "{report}");
}

#[test]
fn a_replay_of_admission_and_settings_adds_nothing_from_the_checkpoint_or_a_rescan() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let input = ndjson(&ward());
    assert_eq!(run(&lake, &[], &input).status.code(), Some(0));
    let admitted = sorted(lake_lines(&lake, Table::Admission));
    let settled = sorted(lake_lines(&lake, Table::Settings));
    // The same writer (its checkpoint holds the marks), then a new writer id, which has no
    // checkpoint and reads every published file of the lake for its marks.
    for args in [&[][..], &["--writer-id", "second"][..]] {
        let o = run(&lake, args, &input);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("0 admission, 0 settings")
                && stderr(&o).contains(&format!("{} already in the lake skipped", ward().len())),
            "{args:?}: {}",
            stderr(&o)
        );
        assert_eq!(sorted(lake_lines(&lake, Table::Admission)), admitted);
        assert_eq!(sorted(lake_lines(&lake, Table::Settings)), settled);
    }
    assert_check_passes(&lake);
}

#[test]
fn an_identity_already_in_the_lake_with_other_bytes_is_quarantined_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    assert_eq!(
        run(&lake, &[], &ndjson(&[admission(0), settings(0, 1, 0, 50)]))
            .status
            .code(),
        Some(0)
    );
    // The same settings_id with another limit, the same patient and ts with another bed, and a
    // settings record that is new: in a later run (the marks come from the checkpoint) and again.
    let changed_settings = settings(0, 1, 0, 40);
    let moved = admission(0).replace("\"B-01\"", "\"B-09\"");
    let input = ndjson(&[
        changed_settings.clone(),
        moved.clone(),
        settings(0, 2, 60, 45),
    ]);
    for round in 0..2 {
        let o = run(&lake, &[], &input);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("line 1:") && err.contains("settings_id `PT-1000/1`"),
            "{err}"
        );
        assert!(
            err.contains("line 2:") && err.contains("admission of patient `PT-1000`"),
            "{err}"
        );
        assert_eq!(
            sorted(lake_lines(&lake, Table::Settings)),
            sorted(vec![settings(0, 1, 0, 50), settings(0, 2, 60, 45)]),
            "round {round}: the first record keeps its identity, the new one is filed once"
        );
        assert_eq!(lake_lines(&lake, Table::Admission), vec![admission(0)]);
        let rejected = lake_lines(&lake, Table::Rejected);
        assert_eq!(rejected.len(), 2, "round {round}: each conflict kept once");
        let kept: Vec<vitals_core::Rejected> = rejected
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let raws: Vec<&str> = kept.iter().map(|r| r.raw.as_str()).collect();
        assert!(raws.contains(&changed_settings.as_str()) && raws.contains(&moved.as_str()));
        assert!(
            kept.iter().all(|r| r
                .reason
                .contains("already in the lake as a different record")),
            "{kept:?}"
        );
    }
    // Both versions in one input: the first is filed, the second quarantined.
    let fresh = dir.path().join("fresh");
    let o = run(
        &fresh,
        &[],
        &ndjson(&[settings(1, 1, 0, 50), settings(1, 1, 0, 55)]),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        lake_lines(&fresh, Table::Settings),
        vec![settings(1, 1, 0, 50)]
    );
    assert_eq!(lake_lines(&fresh, Table::Rejected).len(), 1);
    assert_check_passes(&lake);
}

/// A simulator or monitor started again numbers its patients' settings from `/1` again, as a device
/// restarts its `seq`: a later run into the same lake is new data, filed with status 0.
#[test]
fn settings_numbered_from_1_again_by_a_later_run_are_filed_not_quarantined() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let first = [admission(0), settings(0, 1, 0, 50)];
    let o = run(&lake, &[], &ndjson(&first));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let second_run = settings(0, 1, 2 * 86_400, 50);
    let o = run(&lake, &[], &ndjson(std::slice::from_ref(&second_run)));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        sorted(lake_lines(&lake, Table::Settings)),
        sorted(vec![settings(0, 1, 0, 50), second_run]),
    );
    assert!(lake_lines(&lake, Table::Rejected).is_empty());
    assert_check_passes(&lake);
}

#[test]
fn admission_and_settings_with_wrong_field_types_are_refused_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let bad = [
        admission(1).replace("\"spo2_scale\":1", "\"spo2_scale\":\"1\""),
        admission(2).replace("\"spo2_scale\":1", "\"spo2_scale\":3"),
        admission(4).replace("\"conditions\":[]", "\"conditions\":\"none\""),
        admission(5).replace(",\"bed\":\"B-06\"", ""),
        settings(1, 2, 9, 45).replace("\"hr_low\":45", "\"hr_low\":\"45\""),
        settings(2, 2, 9, 45).replace("\"source\":\"nurse\"", "\"source\":\"doctor\""),
        settings(4, 1, 0, 50).replace("2026-11-28T00:00:00.000Z", "0000-11-28T00:00:00.000Z"),
    ];
    let good = [admission(0), settings(0, 1, 0, 50)];
    let mut lines = Vec::new();
    for (b, g) in bad.iter().zip(good.iter().cycle()) {
        lines.push(g.clone());
        lines.push(b.clone());
    }
    let o = run(&lake, &[], &ndjson(&lines));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    for (i, b) in bad.iter().enumerate() {
        let n = 2 * i + 2;
        assert!(
            err.contains(&format!("line {n}:")),
            "line {n} ({b}) named: {err}"
        );
    }
    assert!(
        err.contains("invalid admission record") && err.contains("invalid settings record"),
        "{err}"
    );
    assert_eq!(lake_lines(&lake, Table::Admission), vec![admission(0)]);
    assert_eq!(
        lake_lines(&lake, Table::Settings),
        vec![settings(0, 1, 0, 50)]
    );
    let rejected = lake_lines(&lake, Table::Rejected);
    assert_eq!(rejected.len(), bad.len(), "every bad line once");
    for r in &rejected {
        let r: vitals_core::Rejected = serde_json::from_str(r).unwrap();
        assert!(bad.contains(&r.raw), "{}", r.raw);
        assert!(!r.reason.is_empty());
    }
}

#[test]
fn check_and_compact_cover_the_admission_and_settings_folders() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    // One record a file, so each day's folders hold many small files.
    let o = run(&lake, &["--max-records", "1"], &ndjson(&ward()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let before = (
        sorted(lake_lines(&lake, Table::Admission)),
        sorted(lake_lines(&lake, Table::Settings)),
    );
    let day = lake.join("settings/date=2026-11-28");
    assert_eq!(fs::read_dir(&day).unwrap().count(), 2);

    let o = archive(&lake)
        .args(["compact", "--before", "2026-11-29"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for folder in ["admission/date=2026-11-28", "settings/date=2026-11-28"] {
        let names: Vec<String> = fs::read_dir(lake.join(folder))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["part-compacted-0000000000.jsonl"], "{folder}");
    }
    let after = (
        sorted(lake_lines(&lake, Table::Admission)),
        sorted(lake_lines(&lake, Table::Settings)),
    );
    assert_eq!(after, before, "the same records after compacting");
    assert_check_passes(&lake);
    // The writer's checkpoint still covers the merged files: a replay adds nothing.
    let o = run(&lake, &[], &ndjson(&ward()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        sorted(lake_lines(&lake, Table::Settings)),
        before.1,
        "{}",
        stderr(&o)
    );

    // A copy and a changed copy put there by hand: check reports both, and a misfiled record.
    let extra = lake.join("settings/date=2026-11-28/part-hand-0000000000.jsonl");
    let misfiled = settings(1, 3, 86_400 * 2, 45);
    fs::write(
        &extra,
        ndjson(&[
            settings(0, 1, 0, 50),
            settings(1, 1, 0, 47),
            misfiled.clone(),
        ]),
    )
    .unwrap();
    let (status, report) = check_report(&lake);
    assert_eq!(status, Some(1), "{report}");
    assert!(
        report.contains("settings record: the same record is already at"),
        "{report}"
    );
    assert!(
        report.contains("settings record: another record with the same identity is already at"),
        "{report}"
    );
    assert!(
        report
            .contains("a settings record of date=2026-11-30 filed under settings/date=2026-11-28"),
        "{report}"
    );
}
