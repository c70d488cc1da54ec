//! HL7 v2 output checked by an independent parser (python-hl7) and delivered to a real MLLP
//! listener (tests/support/mllp_listener.py, python-hl7's own ACKs) that acknowledges, refuses,
//! drops and ignores messages on purpose: every message must arrive exactly once, in order.

mod common;

use std::fs;
use std::path::Path;

use common::*;

#[test]
fn every_message_parses_with_python_hl7_and_carries_the_inputs_values() {
    if !checkers_available(false) {
        return;
    }
    let input = ward_stream();
    let dir = tempfile::tempdir().unwrap();
    let in_path = dir.path().join("in.jsonl");
    fs::write(&in_path, &input).unwrap();
    for framing in ["lines", "mllp"] {
        let o = export(&["hl7", "--framing", framing], &input);
        // Exit 1: the stream carries a bad line and a rejected record, reported, not exported.
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let lines = input
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count();
        assert!(
            stderr(&o).contains(&format!("line {lines}: not JSON")),
            "{}",
            stderr(&o)
        );
        assert!(stderr(&o).contains("1 rejected records"), "{}", stderr(&o));
        let out = dir.path().join(format!("out.{framing}"));
        fs::write(&out, &o.stdout).unwrap();
        run_checker("check_hl7.py", &[&in_path, &out, Path::new(framing)]);
    }
}

/// Sends the ward's stream to a listener in `mode` and checks that what it accepted is exactly
/// the stream, every message once, in order (the checker pairs message i with record i).
fn delivered_exactly_once(mode: &str, extra: &[&str]) -> String {
    let input = ward_stream();
    let dir = tempfile::tempdir().unwrap();
    let in_path = dir.path().join("in.jsonl");
    fs::write(&in_path, &input).unwrap();
    let listener = Server::start("mllp_listener.py", dir.path(), mode);
    let address = listener.address();
    let mut args = vec!["hl7", "--mllp", &address, "--retry-delay", "0.01"];
    args.extend_from_slice(extra);
    let o = export(&args, &input);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    run_checker(
        "check_hl7.py",
        &[&in_path, &listener.accepted, Path::new("mllp")],
    );
    stderr(&o)
}

#[test]
fn an_mllp_listener_acknowledges_every_message_exactly_once() {
    if !checkers_available(false) {
        return;
    }
    let report = delivered_exactly_once("ack", &[]);
    assert!(report.contains(", 0 resends, 1 connections"), "{report}");
}

#[test]
fn negative_acks_are_resent_without_loss_or_duplication() {
    if !checkers_available(false) {
        return;
    }
    let report = delivered_exactly_once("nak:7", &[]);
    assert!(report.contains("AE"), "{report}");
    assert!(!report.contains(" 0 resends"), "{report}");
}

#[test]
fn dropped_connections_are_reopened_and_the_message_resent() {
    if !checkers_available(false) {
        return;
    }
    let report = delivered_exactly_once("drop:5", &[]);
    assert!(
        report.contains("closed the connection before its ACK"),
        "{report}"
    );
    assert!(!report.contains(", 1 connections"), "{report}");
}

#[test]
fn a_missing_ack_times_out_and_the_message_is_resent() {
    if !checkers_available(false) {
        return;
    }
    // 3 s, not less: an ACK that comes after the timeout is resent and then arrives twice
    // (at-least-once delivery), which a slow shared machine must not cause here.
    let report = delivered_exactly_once("silent:100", &["--timeout", "3"]);
    assert!(report.contains("no ACK within the timeout"), "{report}");
}

#[test]
fn a_malformed_ack_is_never_taken_for_acceptance() {
    if !checkers_available(false) {
        return;
    }
    let input = ward_stream();
    let dir = tempfile::tempdir().unwrap();
    let listener = Server::start("mllp_listener.py", dir.path(), "garbage");
    let address = listener.address();
    let o = export(
        &[
            "hl7",
            "--mllp",
            &address,
            "--retries",
            "3",
            "--retry-delay",
            "0.01",
        ],
        &input,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "gave up on message D-001.0 (input line {}) after 3 attempts",
            line_of_message(&input, 1)
        )),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_rejected_message_stops_the_export_naming_it_and_nothing_after_it_is_sent() {
    if !checkers_available(false) {
        return;
    }
    let input = ward_stream();
    let dir = tempfile::tempdir().unwrap();
    let listener = Server::start("mllp_listener.py", dir.path(), "reject:3");
    let address = listener.address();
    let o = export(&["hl7", "--mllp", &address], &input);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("rejected message"), "{err}");
    assert!(
        err.contains(&format!("(input line {}): AR", line_of_message(&input, 3))),
        "{err}"
    );
    assert!(
        err.contains("2 messages were acknowledged before it"),
        "{err}"
    );
    let accepted = fs::read(&listener.accepted).unwrap();
    assert_eq!(accepted.iter().filter(|&&b| b == 0x0B).count(), 2);
}

#[test]
fn an_unreachable_listener_stops_the_export_after_its_retries() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let input = EDGE_LINES.as_bytes();
    let o = export(
        &[
            "hl7",
            "--mllp",
            &address,
            "--retries",
            "2",
            "--retry-delay",
            "0.01",
        ],
        input,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("gave up on message D\\T\\7\\R\\\\E\\ bed.3 (input line 1) after 2 attempts"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("cannot connect"), "{}", stderr(&o));
}

/// (device, MSH-7) of each ORU^R01 and the number of ORU^R40 in line-separated output.
fn messages(stdout: &[u8]) -> (Vec<(String, String)>, usize) {
    let text = String::from_utf8_lossy(stdout);
    let mut readings = vec![];
    let mut alarms = 0;
    for msh in text.lines().filter(|l| l.starts_with("MSH|")) {
        let f: Vec<&str> = msh.split('|').collect();
        if f[8] == "ORU^R01^ORU_R01" {
            let device = f[9].rsplit_once('.').unwrap().0.to_owned();
            readings.push((device, f[6].to_owned()));
        } else {
            alarms += 1;
        }
    }
    (readings, alarms)
}

#[test]
fn interval_thins_readings_per_device_but_keeps_every_alarm() {
    let input = ward_stream();
    let all = export(&["hl7"], &input);
    let thin = export(&["hl7", "--interval", "60"], &input);
    assert!(
        stderr(&thin).contains("readings thinned by --interval"),
        "{}",
        stderr(&thin)
    );
    let (all_readings, all_alarms) = messages(&all.stdout);
    let (readings, alarms) = messages(&thin.stdout);
    assert_eq!(alarms, all_alarms);
    assert!(alarms > 0);
    // The simulated monitors read every 30 s: every other reading goes.
    assert!(
        readings.len() < all_readings.len() * 6 / 10,
        "{} of {}",
        readings.len(),
        all_readings.len()
    );
    let mut last: std::collections::HashMap<String, u64> = Default::default();
    for (device, dtm) in readings {
        // YYYYMMDDHHMMSS within one day: seconds of the day.
        let t: u64 = dtm[8..10].parse::<u64>().unwrap() * 3600
            + dtm[10..12].parse::<u64>().unwrap() * 60
            + dtm[12..14].parse::<u64>().unwrap();
        if let Some(prev) = last.insert(device.clone(), t) {
            assert!(
                t - prev >= 60,
                "{device}: readings {prev} and {t} less than 60 s apart"
            );
        }
    }
}
