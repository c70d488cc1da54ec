//! The whole chain, `cardio-sim | cardio-alert | cardio-archive`, through real OS pipes into a real
//! lake folder, compared record for record with what the simulator produced.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use end_to_end::{Table, bin, in_progress, lake_lines};
use serde_json::Value;

const START: &str = "2026-11-28T00:00:00.000Z";

fn sim(args: &[&str]) -> Command {
    let mut c = Command::new(bin("cardio-sim"));
    c.args(args);
    c
}

/// A stage of the chain, its stdin taken from `input` and stdout and stderr piped.
fn stage(name: &str, args: &[&str], input: Stdio) -> Child {
    Command::new(bin(name))
        .args(args)
        .stdin(input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"))
}

/// Pipes `upstream`'s stdout into a new stage.
fn then(upstream: &mut Child, name: &str, args: &[&str]) -> Child {
    stage(name, args, Stdio::from(upstream.stdout.take().unwrap()))
}

/// Starts `cardio-sim SIM_ARGS | cardio-alert --quiet | cardio-archive --lake LAKE ARCHIVE_ARGS`.
fn spawn_chain(sim_args: &[&str], lake: &Path, archive_args: &[&str]) -> [Child; 3] {
    let mut s = stage("cardio-sim", sim_args, Stdio::null());
    let mut a = then(&mut s, "cardio-alert", &["--quiet"]);
    let mut archive = vec!["--lake", lake.to_str().unwrap()];
    archive.extend_from_slice(archive_args);
    let z = then(&mut a, "cardio-archive", &archive);
    [s, a, z]
}

/// Runs the chain to its end and returns each stage's output, upstream first.
fn run_chain(sim_args: &[&str], lake: &Path) -> [Output; 3] {
    let [s, a, z] = spawn_chain(sim_args, lake, &[]);
    let z = z.wait_with_output().unwrap();
    let a = a.wait_with_output().unwrap();
    let s = s.wait_with_output().unwrap();
    [s, a, z]
}

fn parse(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("lake line is not JSON ({e}): {line}"))
}

/// The vitals record as the simulator wrote it: the lake copy minus the two fields cardio-alert adds.
fn without_news2(mut v: Value) -> Value {
    let m = v.as_object_mut().unwrap();
    assert!(
        m.contains_key("news2") && m.contains_key("news2_risk"),
        "cardio-alert adds news2 and news2_risk: {v}"
    );
    m.remove("news2");
    m.remove("news2_risk");
    v
}

#[test]
fn count_1000_seed_7_lands_exactly_those_1000_vitals_in_the_lake() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let args = [
        "--count", "1000", "--seed", "7", "--speed", "max", "--start", START,
    ];
    let [s, a, z] = run_chain(&args, &lake);
    for (name, out) in [
        ("cardio-sim", &s),
        ("cardio-alert", &a),
        ("cardio-archive", &z),
    ] {
        assert!(
            out.status.success(),
            "{name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        z.stdout.is_empty(),
        "cardio-archive writes data only to the lake"
    );

    let direct = sim(&args).output().unwrap();
    // --count counts vitals; each patient's admission and settings records come before them.
    let all: Vec<Value> = String::from_utf8(direct.stdout)
        .unwrap()
        .lines()
        .map(parse)
        .collect();
    let of_type = |t: &str| -> Vec<Value> {
        let mut v: Vec<Value> = all.iter().filter(|r| r["type"] == t).cloned().collect();
        v.sort_by_key(|r| r.to_string());
        v
    };
    let produced = of_type("vitals");
    assert_eq!(produced.len(), 1000);
    // Each patient's admission and settings records land as produced, in their own folders.
    for (table, record_type) in [
        (Table::Admission, "admission"),
        (Table::Settings, "settings"),
    ] {
        let mut landed: Vec<Value> = lake_lines(&lake, table).iter().map(|l| parse(l)).collect();
        landed.sort_by_key(|r| r.to_string());
        let sent = of_type(record_type);
        assert!(!sent.is_empty(), "cardio-sim writes {record_type} records");
        assert_eq!(
            landed, sent,
            "{record_type} records in the lake as produced"
        );
    }

    let landed = lake_lines(&lake, Table::Vitals);
    assert_eq!(landed.len(), 1000, "exactly the 1000 vitals records");
    let key = |v: &Value| {
        (
            v["device_id"].as_str().unwrap().to_owned(),
            v["seq"].as_u64().unwrap(),
        )
    };
    let mut by_key: BTreeMap<_, Value> = landed
        .iter()
        .map(|l| parse(l))
        .map(|v| (key(&v), without_news2(v)))
        .collect();
    assert_eq!(by_key.len(), 1000, "no (device_id, seq) twice");
    for p in &produced {
        let got = by_key
            .remove(&key(p))
            .unwrap_or_else(|| panic!("missing from the lake: {p}"));
        assert_eq!(
            &got, p,
            "the lake holds the record as produced, plus the NEWS2 fields"
        );
    }

    for line in lake_lines(&lake, Table::Alerts) {
        let v = parse(&line);
        assert_eq!(v["type"], "alert");
        for f in [
            "alert_id",
            "rule",
            "kind",
            "priority",
            "state",
            "message",
            "patient_id",
            "ts",
        ] {
            assert!(v.get(f).is_some(), "alert without {f}: {line}");
        }
    }
    assert!(
        in_progress(&lake).is_empty(),
        "nothing left in progress after end of input"
    );

    // Partitions are Hive style by the record's UTC event date.
    let parts: Vec<_> = fs::read_dir(lake.join("vitals"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(parts, vec![std::ffi::OsString::from("date=2026-11-28")]);
}

#[test]
fn same_seed_gives_the_same_lake_and_another_seed_a_different_one() {
    let dir = tempfile::tempdir().unwrap();
    let read = |seed: &str, name: &str| {
        let lake = dir.path().join(name);
        run_chain(
            &[
                "--patients",
                "5",
                "--count",
                "600",
                "--seed",
                seed,
                "--speed",
                "max",
                "--start",
                START,
            ],
            &lake,
        );
        let mut v = lake_lines(&lake, Table::Vitals);
        v.extend(lake_lines(&lake, Table::Alerts));
        v.sort();
        v
    };
    let a = read("42", "a");
    assert!(a.len() >= 600);
    assert_eq!(a, read("42", "b"));
    assert_ne!(a, read("43", "c"));
}

/// Good records with garbage between them: every good one lands, every bad one lands once in
/// `_rejected/` with a reason, and each stage says which line was bad.
#[test]
fn bad_lines_are_reported_kept_in_rejected_and_lose_nothing_valid() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let good = sim(&[
        "--count", "200", "--seed", "3", "--speed", "max", "--start", START,
    ])
    .output()
    .unwrap()
    .stdout;
    let good_lines: Vec<&[u8]> = good
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let first_vitals = good_lines
        .iter()
        .find(|l| l.starts_with(b"{\"type\":\"vitals\""))
        .unwrap();
    let mut wrong_type = String::from_utf8(first_vitals.to_vec()).unwrap();
    wrong_type = wrong_type.replacen("\"seq\":", "\"seq\":\"zero\",\"was\":", 1);
    let bad: Vec<Vec<u8>> = vec![
        b"{\"type\":\"vitals\",\"ts\":".to_vec(), // truncated JSON
        b"not json at all".to_vec(),
        wrong_type.into_bytes(),
        b"{\"type\":\"vitals\",\"patient\":\"\xff\xfe\"}".to_vec(), // invalid UTF-8
        vec![b'x'; 3 << 20],                                        // a 3 MiB line
        b"[1,2,3]".to_vec(),
    ];
    let mut input = Vec::new();
    for (i, l) in good_lines.iter().enumerate() {
        input.extend_from_slice(l);
        input.push(b'\n');
        if i % 30 == 7 && i / 30 < bad.len() {
            input.extend_from_slice(&bad[i / 30]);
            input.push(b'\n');
        }
    }

    let mut a = stage("cardio-alert", &["--quiet"], Stdio::piped());
    let z = then(
        &mut a,
        "cardio-archive",
        &["--lake", lake.to_str().unwrap()],
    );
    let mut stdin = a.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let z = z.wait_with_output().unwrap();
    let a = a.wait_with_output().unwrap();
    feeder.join().unwrap();

    let alert_err = String::from_utf8_lossy(&a.stderr);
    assert_eq!(
        a.status.code(),
        Some(1),
        "bad lines seen: status 1. stderr: {alert_err}"
    );
    for n in [9, 40, 71, 102, 133, 164] {
        assert!(
            alert_err.contains(&format!("line {n}")),
            "stderr names line {n}: {alert_err}"
        );
    }
    assert!(
        z.status.success(),
        "the archive filed everything: {}",
        String::from_utf8_lossy(&z.stderr)
    );

    assert_eq!(
        lake_lines(&lake, Table::Vitals).len(),
        200,
        "every valid record landed"
    );
    let rejected: Vec<Value> = lake_lines(&lake, Table::Rejected)
        .iter()
        .map(|l| parse(l))
        .collect();
    assert_eq!(rejected.len(), bad.len(), "every bad line kept once");
    for r in &rejected {
        assert_eq!(r["type"], "rejected");
        assert!(!r["reason"].as_str().unwrap().is_empty());
        assert!(r["line"].as_u64().unwrap() > 0);
    }
    assert!(
        rejected.iter().any(|r| r.get("raw_base64").is_some()),
        "the non-UTF-8 line keeps its exact bytes"
    );
    assert!(
        rejected.iter().any(|r| r["truncated"] == true),
        "the huge line is kept, cut to the limit"
    );
}

#[test]
fn empty_input_is_a_clean_run_at_every_stage() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let a = Command::new(bin("cardio-alert"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(a.status.success());
    assert!(a.stdout.is_empty());
    let z = Command::new(bin("cardio-archive"))
        .arg("--lake")
        .arg(&lake)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(z.status.success(), "{}", String::from_utf8_lossy(&z.stderr));
    assert!(lake_lines(&lake, Table::Vitals).is_empty());
}

/// `cardio-sim | head`: the closed pipe is a normal end for every stage, without a panic.
#[test]
fn a_closed_pipe_downstream_ends_each_stage_quietly() {
    let mut s = stage(
        "cardio-sim",
        &["--patients", "50", "--seed", "1", "--speed", "max"],
        Stdio::null(),
    );
    let mut a = then(&mut s, "cardio-alert", &["--quiet"]);
    let head = Command::new("head")
        .arg("-n")
        .arg("5")
        .stdin(a.stdout.take().unwrap())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(head.stdout).unwrap().lines().count(), 5);
    let a = a.wait_with_output().unwrap();
    let s = s.wait_with_output().unwrap();
    for (name, out) in [("cardio-alert", a), ("cardio-sim", s)] {
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{name} panicked: {err}");
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(ok.success());
}

/// Waits until `cond` holds, for at most `limit` (a bound on waiting, not a timing assertion).
fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if cond() {
            return true;
        }
        sleep(Duration::from_millis(50));
    }
    cond()
}

/// A real-time chain stopped with SIGTERM at the archive: what it holds is published, nothing is
/// left hidden, and the upstream stages end on the closed pipe.
#[test]
fn sigterm_publishes_open_files() {
    for sig in ["TERM", "INT"] {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path().join("lake");
        let sim_args = ["--patients", "20", "--seed", "5", "--speed", "60"];
        let [s, a, z] = spawn_chain(
            &sim_args,
            &lake,
            &["--max-records", "1000000", "--max-age", "1h"],
        );
        // Records are in flight once an in-progress file exists.
        assert!(
            wait_for(Duration::from_secs(30), || !in_progress(&lake).is_empty()),
            "archive never opened a file"
        );
        sleep(Duration::from_millis(500));
        signal(&z, sig);
        let z = z.wait_with_output().unwrap();
        assert_eq!(
            z.status.code(),
            Some(0),
            "SIG{sig}: {}",
            String::from_utf8_lossy(&z.stderr)
        );
        assert!(
            in_progress(&lake).is_empty(),
            "SIG{sig}: open files were published"
        );
        let landed = lake_lines(&lake, Table::Vitals);
        assert!(
            !landed.is_empty(),
            "SIG{sig}: the records it held are in the lake"
        );
        landed.iter().for_each(|l| drop(parse(l)));
        let a = a.wait_with_output().unwrap();
        let s = s.wait_with_output().unwrap();
        assert_eq!(
            a.status.code(),
            Some(0),
            "cardio-alert ends on the closed pipe: {}",
            String::from_utf8_lossy(&a.stderr)
        );
        assert_eq!(
            s.status.code(),
            Some(0),
            "cardio-sim ends on the closed pipe: {}",
            String::from_utf8_lossy(&s.stderr)
        );
    }
}

/// A newcomer's pipe, `cardio-sim | cardio-alert`, with no side file: every threshold alarm's
/// limit is traceable to a `settings` record earlier in the stream for the same patient, whose
/// limits hold that very limit, and some alarms run on limits a nurse individualised.
#[test]
fn sim_to_alert_carries_individualised_limits_into_every_alert() {
    let args = [
        "--patients",
        "40",
        "--duration",
        "3h",
        "--interval",
        "5",
        "--events-per-day",
        "16",
        "--seed",
        "11",
        "--speed",
        "max",
        "--start",
        START,
        "--quiet",
    ];
    let mut s = stage("cardio-sim", &args, Stdio::null());
    let a = then(&mut s, "cardio-alert", &["--quiet"]);
    let a = a.wait_with_output().unwrap();
    assert!(s.wait().unwrap().success());
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    let mut settings: BTreeMap<String, Value> = BTreeMap::new();
    let (mut traced, mut by_nurse) = (0, 0);
    for line in String::from_utf8(a.stdout).unwrap().lines() {
        let r = parse(line);
        match r["type"].as_str().unwrap() {
            "settings" => {
                settings.insert(r["settings_id"].as_str().unwrap().to_owned(), r);
            }
            "alert" if r["state"] == "raised" && r["kind"] == "physiological" => {
                let rule = r["rule"].as_str().unwrap();
                if rule.starts_with("news2") {
                    assert!(r["settings_id"].is_null(), "{r}");
                    continue;
                }
                let id = r["settings_id"].as_str().unwrap_or_else(|| panic!("{r}"));
                let s = &settings[id];
                assert_eq!(s["patient_id"], r["patient_id"]);
                assert_eq!(s["limits"][rule], r["limit"], "{r} from {s}");
                traced += 1;
                by_nurse += usize::from(s["source"] == "nurse");
            }
            _ => {}
        }
    }
    assert!(
        traced > 0 && by_nurse > 0,
        "{traced} traced, {by_nurse} on nurse limits"
    );
}
