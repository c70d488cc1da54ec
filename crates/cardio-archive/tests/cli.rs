//! The archive through real OS pipes and signals: filing, bad lines, replay, stop, locks, errors.

mod common;

use std::fs;
use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use common::*;

fn stream(devices: u32, per_device: u64) -> Vec<u8> {
    let mut s = Vec::new();
    for seq in 0..per_device {
        for d in 0..devices {
            s.extend_from_slice(vitals(d, seq).as_bytes());
            s.push(b'\n');
        }
    }
    s
}

#[test]
fn end_of_input_publishes_every_line_byte_for_byte_by_event_date() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let mut input = stream(5, 200);
    input.extend_from_slice(alert(1, 1, "raised").as_bytes());
    input.extend_from_slice(b"\r\n");
    let o = run(&lake, &["--max-records", "300"], &input);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "stdout carries no words");
    let mut landed = lake_lines(&lake, Table::Vitals);
    let mut sent: Vec<String> = String::from_utf8(stream(5, 200))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    landed.sort();
    sent.sort();
    assert_eq!(landed, sent, "the original bytes, each once");
    assert_eq!(
        lake_lines(&lake, Table::Alerts),
        vec![alert(1, 1, "raised")]
    );
    assert!(lake.join("vitals/date=2026-11-28").is_dir());
    assert!(in_progress(&lake).is_empty());
    let files = fs::read_dir(lake.join("vitals/date=2026-11-28"))
        .unwrap()
        .count();
    assert_eq!(files, 4, "1000 records at 300 a file");
    assert!(
        stderr(&o).contains("filed 1000 vitals, 1 alerts"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_lines_are_kept_in_rejected_with_reason_and_line_number_and_give_status_1() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let mut input = Vec::new();
    for i in 0..12u64 {
        input.extend_from_slice(vitals(0, i).as_bytes());
        input.push(b'\n');
        input.extend_from_slice(&bad_line(i));
        input.push(b'\n');
    }
    let o = run(&lake, &[], &input);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    for n in [2, 4, 6, 8, 10, 12] {
        assert!(err.contains(&format!("line {n}:")), "line {n} named: {err}");
    }
    assert_eq!(lake_lines(&lake, Table::Vitals).len(), 12);
    let rejected = lake_lines(&lake, Table::Rejected);
    assert_eq!(rejected.len(), 12, "every bad line once");
    for r in &rejected {
        let v: serde_json::Value = serde_json::from_str(r).unwrap();
        assert_eq!(v["stage"], "cardio-archive");
        assert!(!v["reason"].as_str().unwrap().is_empty());
        assert_eq!(v["line"].as_u64().unwrap() % 2, 0);
    }
    // The year-0 reading is quarantined in _rejected/, not in a crafted folder.
    let vitals_parts: Vec<_> = fs::read_dir(lake.join("vitals")).unwrap().collect();
    assert_eq!(vitals_parts.len(), 1);
}

#[test]
fn rejected_envelopes_from_upstream_are_filed_as_is_with_status_0() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let env = r#"{"type":"rejected","ts":"2026-11-27T23:59:59.000Z","stage":"cardio-alert","line":9,"reason":"not JSON","raw":"oops"}"#;
    let o = run(&lake, &[], format!("{env}\n").as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(lake_lines(&lake, Table::Rejected), vec![env.to_owned()]);
    assert!(lake.join("_rejected/date=2026-11-27").is_dir());
}

#[test]
fn replaying_all_or_part_of_an_archived_input_adds_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let mut input = stream(7, 100);
    for i in 0..6 {
        input.extend_from_slice(&bad_line(i));
        input.push(b'\n');
    }
    input.extend_from_slice(
        format!("{}\n{}\n", alert(2, 5, "raised"), alert(2, 5, "cleared")).as_bytes(),
    );
    // Cut at line ends: a replay resends whole lines.
    let cut = |at: usize| at + input[at..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let (half, third) = (cut(input.len() / 2), cut(input.len() / 3));
    run(&lake, &["--max-records", "64"], &input[..half]);
    run(&lake, &["--max-records", "64"], &input);
    run(&lake, &["--max-records", "64"], &input[third..]);
    let counts = reading_counts(&lake);
    assert_eq!(counts.len(), 700);
    assert!(counts.values().all(|&c| c == 1));
    assert_eq!(lake_lines(&lake, Table::Rejected).len(), 6);
    assert_eq!(lake_lines(&lake, Table::Alerts).len(), 2);
    assert_check_passes(&lake);
}

#[test]
fn a_device_that_restarts_its_seq_a_day_later_is_filed_not_dropped_as_a_replay() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let first: String = (0..10).map(|s| vitals(0, s) + "\n").collect();
    let o = run(&lake, &[], first.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The same device a day later, counting from 0 again: other readings, other identities.
    let again: String = (0..5)
        .map(|s| vitals(0, s).replace("2026-11-28T", "2026-11-29T") + "\n")
        .collect();
    for _ in 0..2 {
        let o = run(&lake, &[], again.as_bytes());
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let vitals = lake_lines(&lake, Table::Vitals);
    assert_eq!(vitals.len(), 15, "both counts, each reading once");
    assert_eq!(
        vitals.iter().filter(|l| l.contains("2026-11-29T")).count(),
        5
    );
    assert!(lake_lines(&lake, Table::Rejected).is_empty());
    assert_check_passes(&lake);
}

#[test]
fn the_first_bad_lines_are_reported_in_input_order() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    // Valid lines that are slow to parse (a long escaped note the fast reader leaves to serde),
    // with bad lines between them: parsed on several threads, a later, quicker part of the input
    // would have its bad lines found first.
    let note = "\\u00e9".repeat(700);
    let slow = |seq: u64| {
        vitals(1, seq).replace(
            "\"battery_pct\"",
            &format!("\"note\":\"{note}\",\"battery_pct\""),
        )
    };
    let (mut input, mut bad, mut n, mut seq) = (Vec::new(), Vec::new(), 0u64, 0u64);
    let mut push = |line: &str, is_bad: bool| {
        input.extend_from_slice(line.as_bytes());
        input.push(b'\n');
        n += 1;
        if is_bad {
            bad.push(n);
        }
    };
    for segment in 0..25 {
        for _ in 0..100 {
            push(&slow(seq), false);
            seq += 1;
        }
        push(&format!("garbage {segment}"), true);
        for _ in 0..20 {
            push(&vitals(1, seq), false);
            seq += 1;
        }
        push(&format!("[{segment}]"), true);
    }
    let o = run(&lake, &[], &input);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let reported: Vec<u64> = stderr(&o)
        .lines()
        .filter_map(|l| l.strip_prefix("cardio-archive: line "))
        .filter_map(|l| l.split(':').next()?.parse().ok())
        .collect();
    assert_eq!(
        reported,
        bad[..20],
        "the first 20 bad lines, in input order"
    );
    assert_eq!(lake_lines(&lake, Table::Rejected).len(), 50);
}

#[test]
fn sigterm_and_sigint_publish_open_files_while_input_is_idle() {
    for sig in ["TERM", "INT"] {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path().join("lake");
        let mut child = archive(&lake)
            .args(["--max-age", "1h"])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&stream(3, 10)).unwrap();
        stdin.flush().unwrap();
        assert!(wait_for(Duration::from_secs(20), || !in_progress(&lake).is_empty()));
        std::thread::sleep(Duration::from_millis(200));
        signal(child.id(), sig);
        let o = child.wait_with_output().unwrap();
        drop(stdin);
        assert_eq!(o.status.code(), Some(0), "SIG{sig}: {}", stderr(&o));
        assert!(in_progress(&lake).is_empty(), "SIG{sig}");
        assert_eq!(lake_lines(&lake, Table::Vitals).len(), 30, "SIG{sig}");
        // The summary counts what was read, though the input never ended.
        assert!(
            stderr(&o).contains(": 30 lines in;"),
            "SIG{sig}: {}",
            stderr(&o)
        );
    }
}

/// Ctrl-C in a terminal, and `tini -g` in a container, signal every stage of a pipe at once. The
/// stage in front of the archive then writes its last lines as it stops (`cardio-kafka consume`
/// writes and commits them; cardio-sim ends its round), and those lines, and what fills the pipe
/// before them, are the archive's to file: it reads on after the signal until its input ends (or
/// goes quiet). It used to stop reading at once and lose what was in the pipe, lines that
/// `consume` had already committed in Kafka.
#[test]
fn lines_a_stage_writes_as_it_stops_with_the_archive_are_all_filed() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    // As it stops, the writer writes 3,000 more lines (about 900 KB: many times what one read takes
    // from a pipe), then its output ends.
    let tail: Vec<String> = (0..3000).map(|i| vitals(9, 1000 + i)).collect();
    let mut stage = archive(&lake);
    stage.args(["--max-age", "1h"]);
    let o = end_to_end::stop_together_with_a_writer(stage, &stream(3, 100), &ndjson(&tail), || {
        !in_progress(&lake).is_empty()
    });
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (written, filed) = (300 + tail.len(), lake_lines(&lake, Table::Vitals).len());
    assert_eq!(
        filed,
        written,
        "every line written before the end of the input is filed ({} missing)\n{}",
        written - filed.min(written),
        stderr(&o)
    );
    assert!(in_progress(&lake).is_empty());
}

#[test]
fn max_age_publishes_while_input_is_idle() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let mut child = archive(&lake)
        .args(["--max-age", "300ms"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&stream(2, 5)).unwrap();
    stdin.flush().unwrap();
    let published = wait_for(Duration::from_secs(20), || {
        lake_lines(&lake, Table::Vitals).len() == 10 && in_progress(&lake).is_empty()
    });
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    assert!(
        published,
        "published within the age limit with stdin still open"
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_second_writer_on_the_same_lake_is_refused_unless_it_has_its_own_id() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let mut first = archive(&lake)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_for(Duration::from_secs(20), || lake
        .join("_archive/main/checkpoint")
        .exists()));
    let second = run(&lake, &[], &stream(1, 3));
    assert_eq!(second.status.code(), Some(2));
    let err = stderr(&second);
    assert!(
        err.contains("already writing") && err.contains("--writer-id"),
        "{err}"
    );
    let other = run(&lake, &["--writer-id", "ward-2"], &stream(1, 3));
    assert_eq!(other.status.code(), Some(0), "{}", stderr(&other));
    drop(first.stdin.take());
    assert!(first.wait().unwrap().success());
    assert_eq!(lake_lines(&lake, Table::Vitals).len(), 3);
    let bad_id = run(&lake, &["--writer-id", "../x"], b"");
    assert_eq!(bad_id.status.code(), Some(2));
}

#[test]
fn an_unwritable_lake_is_status_2_with_the_path_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    fs::write(&file, "").unwrap();
    let lake = file.join("lake");
    let o = run(&lake, &[], &stream(1, 3));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(err.starts_with("cardio-archive: "), "{err}");
}

#[test]
fn the_progress_line_is_drawn_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    fs::write(&input, stream(4, 50)).unwrap();
    // Piped stderr (every other test): the summary only.
    let o = run(&dir.path().join("a"), &[], &stream(4, 50));
    assert!(!stderr(&o).contains("/s,"), "{}", stderr(&o));
    // A terminal, from util-linux `script`; the run lasts over a second so the line is drawn.
    let cmd = format!(
        "(cat '{}'; sleep 1.3) | '{BIN}' --lake '{}'",
        input.display(),
        dir.path().join("b").display()
    );
    let script = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::null())
        .output();
    let found = script.is_ok();
    let missing = "util-linux `script` (a pseudo-terminal) is missing";
    if !end_to_end::needs(found, missing, "Debian's bsdutils package has it") {
        return;
    }
    let o = script.unwrap();
    let tty = String::from_utf8_lossy(&o.stdout);
    assert!(
        tty.contains("\rcardio-archive: 200 records, ") && tty.contains("files published\x1b[K"),
        "{tty:?}"
    );
    assert!(tty.contains("filed 200 vitals"), "{tty:?}");
}

#[test]
fn help_explains_every_flag_with_defaults_and_the_exit_status() {
    let o = std::process::Command::new(BIN)
        .arg("--help")
        .output()
        .unwrap();
    assert!(o.status.success());
    let help = String::from_utf8(o.stdout).unwrap();
    for s in [
        "--lake",
        "--max-records",
        "--max-age",
        "--writer-id",
        "--index-memory",
        "./med_data_lake",
        "100000",
        "60s",
        "check",
        "compact",
        "Exit status: 0",
    ] {
        assert!(help.contains(s), "--help mentions {s}: {help}");
    }
}
