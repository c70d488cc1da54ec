//! The real `cardio-alert` binary through real OS pipes: bad lines, pass-through, replay, `| head`,
//! rules files and `--help`.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_cardio-alert");
const T0: i64 = 1_795_824_000_000;

fn reading(patient: &str, s: i64, spo2: i32) -> String {
    let v = common::calm_reading(patient, "D-1", T0 + s * 1000, s as u64, spo2);
    serde_json::to_string(&v).unwrap()
}

/// Two patients, one of whom desaturates and whose monitor then falls silent for a while.
fn stream() -> Vec<u8> {
    let mut out = String::new();
    for s in 0..200 {
        out += &reading("PT-1", s, 97);
        out.push('\n');
        if !(100..150).contains(&s) {
            // A gradual desaturation to 83 % and back (faster falls are held as motion artifact).
            let spo2 = match s {
                ..20 => 97,
                20..34 => 97 - (s - 20) as i32,
                34..70 => 83,
                _ => (83 + (s - 70) as i32).min(97),
            };
            out += &reading("PT-2", s, spo2);
            out.push('\n');
        }
    }
    out.into_bytes()
}

fn run(args: &[&str], input: &[u8]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    end_to_end::feed(cmd, input)
}

fn lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn bad_lines_are_reported_and_passed_on_as_rejected_envelopes() {
    let mut input = Vec::new();
    input.extend_from_slice(reading("PT-1", 0, 97).as_bytes());
    input.extend_from_slice(b"\n{\"type\":\"vitals\",\"ts\":\n"); // 2: malformed JSON
    input.extend_from_slice(
        reading("PT-1", 1, 97)
            .replace("\"seq\":1", "\"seq\":\"one\"")
            .as_bytes(),
    ); // 3: wrong type
    input.extend_from_slice(b"\n{\"type\":\"vitals\",\"patient_id\":\"PT-\xff\"}\n"); // 4: not UTF-8
    input.extend_from_slice(&vec![b'x'; 2 << 20]); // 5: a 2 MiB line
    input.push(b'\n');
    input.extend_from_slice(reading("PT-1", 2, 97).as_bytes());
    input.push(b'\n');
    let out = run(&["--quiet"], &input);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    for n in 2..=5 {
        assert!(err.contains(&format!("line {n}:")), "line {n} in: {err}");
    }
    assert!(err.contains("4 bad lines"), "{err}");
    let recs = lines(&out);
    let types: Vec<_> = recs.iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "vitals", "rejected", "rejected", "rejected", "rejected", "vitals"
        ]
    );
    let rejected: Vec<_> = recs.iter().filter(|r| r["type"] == "rejected").collect();
    assert_eq!(rejected[0]["line"], 2);
    assert_eq!(rejected[0]["stage"], "cardio-alert");
    assert!(
        rejected[1]["reason"]
            .as_str()
            .unwrap()
            .contains("invalid vitals")
    );
    assert!(rejected[2]["raw_base64"].is_string(), "exact bytes kept");
    assert_eq!(rejected[3]["truncated"], true);
}

#[test]
fn empty_input_is_a_clean_run() {
    let out = run(&[], b"");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("0 records in"), "{err}");
}

#[test]
fn other_records_pass_through_unchanged() {
    let upstream_alert = r#"{"type":"alert","ts":"2026-11-28T00:00:00.000Z","patient_id":"PT-9","device_id":"D-9","alert_id":"x","rule":"r","kind":"technical","priority":"low","state":"raised","vital":null,"value":null,"limit":null,"news2":null,"message":"m"}"#;
    let unknown = r#"{"type":"ecg_strip","samples":[1,2,3],"nested":{"a":"é"}}"#;
    let input = format!("{upstream_alert}\n{unknown}\n");
    let out = run(&["--quiet"], input.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), input);
}

#[test]
fn vitals_get_news2_and_alerts_follow_the_reading_that_changed_the_state() {
    let out = run(&[], &stream());
    assert_eq!(out.status.code(), Some(0));
    let recs = lines(&out);
    let vitals = recs.iter().filter(|r| r["type"] == "vitals").count();
    assert_eq!(vitals, 350);
    assert!(
        recs.iter().filter(|r| r["type"] == "vitals").all(|r| r
            .as_object()
            .unwrap()
            .contains_key("news2")
            && r.as_object().unwrap().contains_key("news2_risk"))
    );
    for (i, r) in recs.iter().enumerate() {
        if r["type"] == "alert" {
            // The reading just before carries the alert's event time, or the watermark did.
            let prev = recs[..i]
                .iter()
                .rev()
                .find(|p| p["type"] == "vitals")
                .unwrap();
            assert_eq!(prev["ts"], r["ts"], "{r}");
        }
    }
    let rules: Vec<_> = recs
        .iter()
        .filter(|r| r["type"] == "alert")
        .map(|r| {
            format!(
                "{} {} {}",
                r["patient_id"].as_str().unwrap(),
                r["rule"].as_str().unwrap(),
                r["state"].as_str().unwrap()
            )
        })
        .collect();
    for want in [
        "PT-2 spo2_desat raised",
        "PT-2 spo2_desat cleared",
        "PT-2 spo2_low raised",
        "PT-2 spo2_low cleared",
        "PT-2 device_silent raised",
        "PT-2 device_silent cleared",
    ] {
        assert_eq!(
            rules.iter().filter(|r| *r == want).count(),
            1,
            "{want} in {rules:?}"
        );
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("HIGH") && err.contains("spo2_desat"), "{err}");
    assert!(
        !err.contains('\x1b'),
        "no colour when stderr is not a terminal"
    );
}

#[test]
fn replaying_the_same_stream_gives_the_same_output() {
    let a = run(&["--quiet"], &stream());
    let b = run(&["--quiet"], &stream());
    assert_eq!(a.stdout, b.stdout);
    assert!(!a.stdout.is_empty());
}

#[test]
fn quiet_silences_alert_lines_but_not_the_summary() {
    let out = run(&["--quiet"], &stream());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("alerts raised"));
}

#[test]
fn summary_prints_alerts_by_rule_and_burden_per_patient_day() {
    let out = run(&["--quiet", "--summary"], &stream());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("spo2_desat"), "{err}");
    assert!(err.contains("alarm burden per patient-day"), "{err}");
}

#[test]
fn a_closed_pipe_downstream_is_a_normal_end() {
    let mut big = Vec::new();
    for _ in 0..50 {
        big.extend_from_slice(&stream());
    }
    let mut alert = Command::new(BIN)
        .arg("--quiet")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let head = Command::new("head")
        .args(["-n", "3"])
        .stdin(alert.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = alert.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&big);
    });
    let head = head.wait_with_output().unwrap();
    let out = alert.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert_eq!(String::from_utf8_lossy(&head.stdout).lines().count(), 3);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}

/// Ctrl-C and `tini -g` signal every stage of a pipe at once, and the stage in front writes its
/// last lines as it stops (`cardio-kafka consume` has committed them in Kafka by then). cardio-alert
/// passes on everything its input still brings, until the input ends or goes quiet, and exits 0;
/// it used to die at the signal with those lines unread and its output buffer unwritten.
#[test]
fn lines_a_stage_writes_as_it_stops_with_cardio_alert_are_all_passed_on() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let lines_of = |seconds: std::ops::Range<i64>| -> Vec<u8> {
        seconds
            .flat_map(|s| (reading("PT-1", s, 97) + "\n").into_bytes())
            .collect()
    };
    let mut stage = Command::new(BIN);
    stage
        .arg("--quiet")
        .stdout(std::fs::File::create(&out).unwrap());
    let o = end_to_end::stop_together_with_a_writer(
        stage,
        &lines_of(0..300),
        &lines_of(300..3300),
        || std::fs::metadata(&out).is_ok_and(|m| m.len() > 0),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let passed_on = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .filter(|l| l.contains(r#""type":"vitals""#))
        .count();
    assert_eq!(
        passed_on,
        3300,
        "every reading written before the end of the input is passed on ({} missing)",
        3300 - passed_on.min(3300)
    );
}

#[test]
fn a_rules_file_is_used_and_a_broken_one_is_refused_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("rules.toml");
    std::fs::write(&good, "disable = [\"spo2_desat\"]\n").unwrap();
    let out = run(&["--quiet", "--rules", good.to_str().unwrap()], &stream());
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("spo2_desat"));
    assert!(text.contains("spo2_low"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "disable = [\"no_such_rule\"]\n").unwrap();
    let out = run(&["--rules", bad.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("no_such_rule"),
        "{err}"
    );

    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/rules.toml");
    let out = run(&["--quiet", "--rules", example], &stream());
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn help_explains_the_flags_and_the_exit_status() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--rules",
        "--no-delays",
        "--carry-bp",
        "--evict-after",
        "--quiet",
        "--summary",
        "evaluate",
    ] {
        assert!(help.contains(flag), "{flag}");
    }
    let tail: String = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let want: String = vitals_core::status::EXIT_STATUS_HELP
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(tail.ends_with(&want), "{help}");
}

#[test]
fn a_reading_goes_out_at_once_when_no_more_input_is_waiting() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(BIN)
        .arg("--quiet")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        tx.send(line).unwrap();
    });
    stdin
        .write_all(format!("{}\n", reading("PT-1", 0, 97)).as_bytes())
        .unwrap();
    stdin.flush().unwrap();
    // stdin stays open, like a live device feed: the line must arrive without end of input. The
    // limit only keeps a broken build from hanging the test suite.
    let line = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the reading was flushed while stdin stayed open");
    assert!(line.contains("\"news2\":0"), "{line}");
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn print_rules_writes_a_rules_file_that_loads_back_to_the_built_ins() {
    let out = Command::new(BIN).arg("--print-rules").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = format!(
        "defaults = false\n{}",
        String::from_utf8(out.stdout).unwrap()
    );
    let file = cardio_alert::rules_file::parse_rules_file(&text, false).unwrap();
    assert_eq!(file.rules, cardio_alert::rules_file::builtin_rules());
}

/// Running cardio-alert over its own output (a replay through the stage) replaces its two NEWS2
/// fields and keeps every other field, those it does not know included.
#[test]
fn rerunning_over_its_own_output_keeps_every_field() {
    let mut input = String::new();
    for s in 0..30 {
        let line = reading("PT-1", s, if s < 10 { 97 } else { 84 });
        // Unknown fields on half the lines, in the middle and at the end.
        let line = if s % 2 == 0 {
            line.replacen(",\"seq\"", ",\"ward\":\"7B\",\"seq\"", 1)
                .replace("}", ",\"bed\":{\"n\":12}}")
        } else {
            line
        };
        input += &line;
        input.push('\n');
    }
    let first = run(&["--quiet"], input.as_bytes());
    assert_eq!(first.status.code(), Some(0));
    let vitals_only: String = String::from_utf8(first.stdout.clone())
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"type\":\"vitals\""))
        .map(|l| format!("{l}\n"))
        .collect();
    let second = run(&["--quiet"], vitals_only.as_bytes());
    assert_eq!(second.status.code(), Some(0));
    let want: Vec<serde_json::Value> = lines(&first)
        .into_iter()
        .filter(|v| v["type"] == "vitals")
        .collect();
    let got: Vec<serde_json::Value> = lines(&second)
        .into_iter()
        .filter(|v| v["type"] == "vitals")
        .collect();
    assert_eq!(got.len(), 30);
    assert_eq!(got, want, "every field kept, NEWS2 scored again the same");
    assert_eq!(got[0]["ward"], "7B");
    assert_eq!(got[0]["bed"]["n"], 12);
}

/// `-0` in an integer field is not a reading: cardio-alert refuses it as serde (and so
/// cardio-archive) does, instead of scoring a line the lake then quarantines.
#[test]
fn negative_zero_in_an_integer_field_is_refused_like_the_archive_refuses_it() {
    let line = reading("PT-1", 0, 97).replace("\"heart_rate_bpm\":75", "\"heart_rate_bpm\":-0");
    let out = run(&["--quiet"], format!("{line}\n").as_bytes());
    assert_eq!(out.status.code(), Some(1));
    let got = lines(&out);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["type"], "rejected", "{got:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 1:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
