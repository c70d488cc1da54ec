//! `cardio-archive compact` and `check` on real lakes.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::process::Stdio;
use std::time::Duration;

use common::*;

/// Readings of 4 devices over two days (2026-11-28 and 29).
fn two_days() -> Vec<u8> {
    let mut s = Vec::new();
    for seq in (0..300).chain(86_400..86_600) {
        for d in 0..4 {
            s.extend_from_slice(vitals(d, seq).as_bytes());
            s.push(b'\n');
        }
    }
    s
}

fn files(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn all_lines(lake: &std::path::Path) -> BTreeSet<String> {
    lake_lines(lake, Table::Vitals).into_iter().collect()
}

#[test]
fn compact_merges_closed_days_with_the_same_records_and_replays_still_add_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let input = two_days();
    let o = run(&lake, &["--max-records", "50"], &input);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let day1 = lake.join("vitals/date=2026-11-28");
    let day2 = lake.join("vitals/date=2026-11-29");
    assert_eq!(files(&day1).len(), 24);
    let before = all_lines(&lake);

    let o = archive(&lake)
        .args([
            "compact",
            "--before",
            "2026-11-29",
            "--records-per-file",
            "1000",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        files(&day1),
        vec![
            "part-compacted-0000000000.jsonl",
            "part-compacted-0000000001.jsonl"
        ]
    );
    assert_eq!(
        files(&day2).len(),
        16,
        "the day not before DATE is untouched"
    );
    assert_eq!(all_lines(&lake), before, "the same records");
    assert_eq!(lake_lines(&lake, Table::Vitals).len(), 2000);
    assert!(
        fs::read_dir(lake.join("vitals")).unwrap().count() == 2,
        "no leftovers"
    );

    // The writer's checkpoint covers the merged files, and a new writer id reads them all.
    for id in ["main", "ward-2"] {
        let o = run(&lake, &["--writer-id", id], &input);
        assert!(
            stderr(&o).contains("2000 already in the lake skipped"),
            "{}",
            stderr(&o)
        );
    }
    assert_eq!(lake_lines(&lake, Table::Vitals).len(), 2000);
    let check = archive(&lake).arg("check").output().unwrap();
    assert_eq!(check.status.code(), Some(0));
}

#[test]
fn compact_run_twice_keeps_its_staging_folder_out_of_the_writers() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let o = run(&lake, &["--max-records", "50"], &two_days());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for before in ["2026-11-29", "2026-11-30"] {
        let o = archive(&lake)
            .args(["compact", "--before", before])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    // Recovery of a writer named `compact` would have read the whole lake and left its
    // checkpoint in the staging folder.
    let staging = lake.join("_archive/compact");
    let left: Vec<String> = fs::read_dir(&staging)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| !Table::ALL.iter().any(|t| t.dir_name() == n))
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
    let o = run(&lake, &["--writer-id", "compact"], b"");
    assert_eq!(
        o.status.code(),
        Some(2),
        "the staging folder's name is not a writer id"
    );
    assert_eq!(lake_lines(&lake, Table::Vitals).len(), 2000);
    assert_check_passes(&lake);
}

#[test]
fn compact_refuses_while_a_writer_runs_and_cleans_up_an_interrupted_compact() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    run(&lake, &["--max-records", "50"], &two_days());
    let mut writer = archive(&lake)
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let o = archive(&lake)
        .args(["compact", "--before", "2026-11-30"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("needs the lake to itself"),
        "{}",
        stderr(&o)
    );
    drop(writer.stdin.take());
    writer.wait().unwrap();

    // A crash mid-compact leaves a staging folder: check says so, compact removes it.
    let leftover = lake.join("_archive/compact/vitals/date=2026-11-28");
    fs::create_dir_all(&leftover).unwrap();
    fs::write(
        leftover.join("part-compacted-0000000000.jsonl"),
        "{\"half\n",
    )
    .unwrap();
    let check = archive(&lake).arg("check").output().unwrap();
    assert_eq!(check.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&check.stdout).contains("interrupted compact"));
    let o = archive(&lake)
        .args(["compact", "--before", "2026-11-30"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!leftover.exists());
    assert_eq!(lake_lines(&lake, Table::Vitals).len(), 2000);
    assert_eq!(files(&lake.join("vitals/date=2026-11-29")).len(), 1);
    let bad_date = archive(&lake)
        .args(["compact", "--before", "9999-01-01"])
        .output()
        .unwrap();
    assert_eq!(bad_date.status.code(), Some(2));
}

#[test]
fn check_finds_duplicates_damage_misfiled_records_gaps_and_crash_leftovers() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let mut input = Vec::new();
    for seq in [0, 1, 2, 5, 6, 9] {
        input.extend_from_slice(format!("{}\n", vitals(0, seq)).as_bytes());
    }
    run(&lake, &[], &input);
    let ok = archive(&lake).arg("check").output().unwrap();
    let report = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(ok.status.code(), Some(0), "{report}");
    assert!(
        report.contains("gap: device D-0000: seq 3–4 missing"),
        "{report}"
    );
    assert!(report.contains("seq 7–8"), "{report}");

    let day = lake.join("vitals/date=2026-11-28");
    fs::write(
        day.join("part-other-0000000000.jsonl"),
        format!(
            "{}\nnot json\n{}\n{}",
            vitals(0, 1),
            vitals(0, 86_400),
            vitals(1, 1)
        ),
    )
    .unwrap();
    fs::write(day.join(".part-main-0000000009.jsonl.tmp"), vitals(2, 0)).unwrap();
    let bad = archive(&lake).arg("check").output().unwrap();
    let report = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{report}");
    for s in [
        "(D-0000, 1, 2026-11-28T00:00:01.000Z) is in the lake twice",
        "not a valid record",
        "filed under vitals/date=2026-11-28",
        "no newline",
        "left by a crash",
        "NOT OK",
    ] {
        assert!(report.contains(s), "report says {s}: {report}");
    }
}

/// What DuckDB's `vitals/*/*.jsonl` glob reads: every folder under the table (hidden ones too: the
/// glob matches them) and every `*.jsonl` file in it, sorted.
fn glob_lines(lake: &std::path::Path) -> Vec<String> {
    let mut lines = Vec::new();
    for dir in fs::read_dir(lake.join("vitals")).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.to_string_lossy().ends_with(".jsonl") {
                lines.extend(fs::read_to_string(&f).unwrap().lines().map(str::to_owned));
            }
        }
    }
    lines.sort();
    lines
}

#[test]
fn compact_killed_at_random_moments_never_shows_readers_a_half_state() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    run(&lake, &["--max-records", "10"], &two_days());
    let snapshot = glob_lines(&lake);
    assert_eq!(snapshot.len(), 2000);
    let mut state = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut kills = 0;
    for _ in 0..15 {
        let per_file = (50 + next() % 400).to_string();
        let mut c = archive(&lake)
            .args([
                "compact",
                "--before",
                "2026-11-30",
                "--records-per-file",
                &per_file,
            ])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(next() % 30));
        if c.try_wait().unwrap().is_none() {
            c.kill().unwrap();
            kills += 1;
        }
        c.wait().unwrap();
        assert_eq!(glob_lines(&lake), snapshot, "readers see every record once");
    }
    let o = archive(&lake)
        .args(["compact", "--before", "2026-11-30"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(glob_lines(&lake), snapshot);
    assert_check_passes(&lake);
    eprintln!("compact survived {kills} SIGKILLs");
}
