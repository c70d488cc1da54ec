//! Faults real monitors and networks produce every day, through the real engine and the real binary:
//! a device clock that jumps ahead or steps back, a stream whose partitions arrive skewed, a `seq`
//! counter gone wild, absurd numbers in readings and rules files, and a flood of patient ids. None of
//! them may silence an alarm, send a clinically false `cleared`, or lose a record.

mod common;

use std::process::{Command, Output};

use common::calm_reading as reading;

use cardio_alert::engine::Engine;
use cardio_alert::rules_file::{Config, Overrides, RulesFile};
use vitals_core::{Alert, AlertState, Vitals};

const BIN: &str = env!("CARGO_BIN_EXE_cardio-alert");
const T0: i64 = 1_795_824_000_000; // 2026-11-28T00:00:00Z
const HOUR: i64 = 3_600_000;

/// SpO2 of a gradual desaturation to `floor` from second `from` (1 % a second, slower than the
/// motion-artifact hold catches) that stays there until second `to`.
fn desat(s: i64, from: i64, to: i64, floor: i32) -> i32 {
    if s < from || s >= to {
        97
    } else {
        (97 - (s - from) as i32).max(floor)
    }
}

fn events<'a>(out: &'a [Alert], patient: &str, rule: &str) -> Vec<(AlertState, i64, &'a str)> {
    out.iter()
        .filter(|a| a.patient_id == patient && a.rule == rule)
        .map(|a| (a.state, a.ts.millis(), a.message.as_str()))
        .collect()
}

/// PT-J's monitor dates one reading 3 h ahead (its clock jumped, or local time written with `Z`),
/// then goes on with the right time; PT-D desaturates to 80 % for 20 min meanwhile; PT-S's monitor
/// falls silent after 10 min. Then PT-J itself desaturates to 70 % for 19 min.
#[test]
fn one_device_dated_three_hours_ahead_silences_no_alarm_of_another_patient_or_its_own() {
    let mut e = Engine::new(Config::defaults());
    let mut out = vec![];
    for s in 0..3000i64 {
        let t = T0 + s * 1000;
        let j_ts = if s == 100 { t + 3 * HOUR } else { t };
        let j = reading(
            "PT-J",
            "MON-J",
            j_ts,
            s as u64,
            desat(s, 1500, 1500 + 19 * 60, 70),
        );
        e.on_vitals(&j, &mut out);
        let d = reading("PT-D", "MON-D", t, s as u64, desat(s, 50, 1250, 80));
        e.on_vitals(&d, &mut out);
        if s < 600 {
            e.on_vitals(&reading("PT-S", "MON-S", t, s as u64, 97), &mut out);
        }
    }
    // PT-D: raised once, and cleared only after its SpO2 came back (and the 2 min latch).
    let d = events(&out, "PT-D", "spo2_desat");
    assert_eq!(d.len(), 2, "{d:?}");
    assert_eq!(d[0].0, AlertState::Raised);
    assert_eq!(d[1].0, AlertState::Cleared);
    assert!(
        d[1].1 >= T0 + 1250 * 1000,
        "cleared while still below 85 %: {d:?}"
    );
    assert!(events(&out, "PT-D", "device_silent").is_empty());
    // PT-S: its silence is still told.
    let s = events(&out, "PT-S", "device_silent");
    assert_eq!(s.len(), 1, "{s:?}");
    assert_eq!(s[0].0, AlertState::Raised);
    assert!((T0 + 629_000..=T0 + 631_000).contains(&s[0].1), "{s:?}");
    // PT-J: its own desaturation raises, and its clock's jump is told, naming the device.
    let j = events(&out, "PT-J", "spo2_desat");
    assert!(
        j.first()
            .is_some_and(|x| x.0 == AlertState::Raised && x.1 < T0 + 1600 * 1000),
        "{j:?}"
    );
    let skew = events(&out, "PT-J", "clock_skew");
    assert_eq!(
        skew.len(),
        2,
        "raised at the jump, cleared when it was back: {skew:?}"
    );
    assert!(
        skew[0].2.contains("MON-J") && skew[0].2.contains("3 h"),
        "{skew:?}"
    );
    assert_eq!(e.stats.evicted, 0);
}

/// The same with a clock that stays 3 h ahead from the jump on (a monitor switched to local time
/// written with `Z`): its own alarms go on, the other patient's are untouched, and `clock_skew`
/// stays raised while its clock is wrong.
#[test]
fn a_device_clock_that_stays_three_hours_ahead_silences_nothing() {
    let mut e = Engine::new(Config::defaults());
    let mut out = vec![];
    for s in 0..2000i64 {
        let t = T0 + s * 1000;
        let j_ts = if s >= 100 { t + 3 * HOUR } else { t };
        let spo2 = desat(s, 300, 300 + 19 * 60, 70);
        e.on_vitals(&reading("PT-J", "MON-J", j_ts, s as u64, spo2), &mut out);
        let d = reading("PT-D", "MON-D", t, s as u64, desat(s, 200, 1600, 80));
        e.on_vitals(&d, &mut out);
    }
    let j = events(&out, "PT-J", "spo2_desat");
    assert_eq!(j.first().map(|x| x.0), Some(AlertState::Raised), "{j:?}");
    let d = events(&out, "PT-D", "spo2_desat");
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(
        d[1].1 >= T0 + 1600 * 1000,
        "cleared while still below 85 %: {d:?}"
    );
    let skew = events(&out, "PT-J", "clock_skew");
    assert_eq!(skew.len(), 1, "{skew:?}");
    assert!(out.iter().all(|a| a.rule != "device_silent"), "{out:?}");
}

/// A monitor whose clock is set back an hour (seq goes on) keeps alarming on its own time.
#[test]
fn a_device_clock_stepping_back_an_hour_does_not_silence_its_patient() {
    let mut e = Engine::new(Config::defaults());
    let mut out = vec![];
    for s in 0..2000i64 {
        let t = T0 + s * 1000;
        let back = if s >= 100 { t - HOUR } else { t };
        let spo2 = desat(s, 300, 300 + 19 * 60, 70);
        e.on_vitals(&reading("PT-B", "MON-B", back, s as u64, spo2), &mut out);
        e.on_vitals(&reading("PT-O", "MON-O", t, s as u64, 97), &mut out);
    }
    let b = events(&out, "PT-B", "spo2_desat");
    assert_eq!(b.first().map(|x| x.0), Some(AlertState::Raised), "{b:?}");
    assert!(events(&out, "PT-B", "device_silent").is_empty());
    let skew = events(&out, "PT-B", "clock_skew");
    assert_eq!(skew.len(), 1, "{skew:?}");
    assert!(skew[0].2.contains("behind"), "{skew:?}");
}

/// A monitor that restarts at seq 0 with its clock set back keeps alarming too.
#[test]
fn a_device_restarting_at_seq_0_with_its_clock_set_back_does_not_silence_its_patient() {
    let mut e = Engine::new(Config::defaults());
    let mut out = vec![];
    for s in 0..1500i64 {
        let t = T0 + s * 1000;
        let (ts, seq) = if s >= 100 {
            (t - 10 * 60_000, (s - 100) as u64)
        } else {
            (t, s as u64)
        };
        // Over before the restarted clock is back past the time of the last reading before it.
        let spo2 = desat(s, 300, 660, 70);
        e.on_vitals(&reading("PT-R", "MON-R", ts, seq, spo2), &mut out);
        e.on_vitals(&reading("PT-O", "MON-O", t, s as u64, 97), &mut out);
    }
    let r = events(&out, "PT-R", "spo2_desat");
    assert_eq!(r.first().map(|x| x.0), Some(AlertState::Raised), "{r:?}");
    assert!(events(&out, "PT-R", "device_silent").is_empty());
}

/// Two days of a ward replayed back to back (`cat day1.jsonl day2.jsonl`): every monitor starts
/// again at seq 0 a day later. That is a restart, not a clock fault: no clock_skew, and the
/// second day alarms as the first did.
#[test]
fn two_days_replayed_back_to_back_raise_no_clock_skew() {
    let mut e = Engine::new(Config::defaults());
    let mut out = vec![];
    for day in 0..2i64 {
        for s in 0..400i64 {
            let t = T0 + day * 24 * HOUR + s * 1000;
            for p in 0..4 {
                let spo2 = if p == 0 { desat(s, 100, 300, 80) } else { 97 };
                let v = reading(&format!("PT-{p}"), &format!("MON-{p}"), t, s as u64, spo2);
                e.on_vitals(&v, &mut out);
            }
        }
    }
    assert!(out.iter().all(|a| a.rule != "clock_skew"), "{out:?}");
    let raised: Vec<_> = events(&out, "PT-0", "spo2_desat")
        .into_iter()
        .filter(|x| x.0 == AlertState::Raised)
        .collect();
    assert_eq!(raised.len(), 2, "once a day: {raised:?}");
}

/// Two Kafka partitions caught up at different speeds: one arrives 2 min behind the other, readings
/// interleaved. Nobody is silent, so no technical alarm may be raised.
#[test]
fn a_stream_whose_partitions_arrive_minutes_apart_raises_no_device_silent() {
    let mut e = Engine::new(Config::defaults());
    let mut out = vec![];
    for s in 0..600i64 {
        for p in 0..5 {
            let t = T0 + s * 1000;
            e.on_vitals(
                &reading(&format!("PT-A{p}"), "A", t, s as u64, 97),
                &mut out,
            );
            let lag = t - 120_000;
            e.on_vitals(
                &reading(&format!("PT-B{p}"), "B", lag, s as u64, 97),
                &mut out,
            );
        }
    }
    let silent: Vec<_> = out.iter().filter(|a| a.rule == "device_silent").collect();
    assert!(silent.is_empty(), "{silent:?}");
}

/// A monitor that lost the network for 5 min and then sends its buffered readings back to back
/// must not push the stream clock ahead of the other patients (who would then look silent).
#[test]
fn a_device_sending_its_backlog_in_a_burst_makes_no_one_else_look_silent() {
    let mut e = Engine::new(Config::defaults());
    let mut out = vec![];
    let mut backlog = vec![];
    for s in 0..900i64 {
        let t = T0 + s * 1000;
        let f = reading("PT-F", "MON-F", t, s as u64, 97);
        if (300..600).contains(&s) {
            backlog.push(f);
        } else {
            if s == 600 {
                for b in backlog.drain(..) {
                    e.on_vitals(&b, &mut out);
                }
            }
            e.on_vitals(&f, &mut out);
        }
        for p in 0..3 {
            e.on_vitals(
                &reading(&format!("PT-O{p}"), "O", t, s as u64, 97),
                &mut out,
            );
        }
    }
    let others: Vec<_> = out
        .iter()
        .filter(|a| a.rule == "device_silent" && a.patient_id != "PT-F")
        .collect();
    assert!(others.is_empty(), "{others:?}");
    let f = events(&out, "PT-F", "device_silent");
    assert_eq!(f.len(), 2, "PT-F itself was silent, then resumed: {f:?}");
}

/// The engine with the built-in rules and these command-line overrides.
fn engine_with(overrides: Overrides) -> Engine {
    let rules = RulesFile {
        defaults: true,
        ..Default::default()
    };
    Engine::new(Config::build_with(&rules, &overrides).unwrap())
}

/// State dropped for a patient whose device has gone quiet must not announce that the patient
/// recovered: an alarm still open stays open.
#[test]
fn eviction_never_sends_a_cleared_for_an_alarm_still_open() {
    let mut e = engine_with(Overrides {
        evict_after_s: Some(120.0),
        ..Default::default()
    });
    let mut out = vec![];
    for s in 0..400i64 {
        let t = T0 + s * 1000;
        if s < 60 {
            e.on_vitals(
                &reading("PT-X", "MON-X", t, s as u64, desat(s, 0, 60, 80)),
                &mut out,
            );
        }
        e.on_vitals(&reading("PT-Y", "MON-Y", t, s as u64, 97), &mut out);
    }
    let x = events(&out, "PT-X", "spo2_desat");
    assert_eq!(
        x.len(),
        1,
        "raised, and never cleared without evidence: {x:?}"
    );
}

/// At `--max-patients`, a patient silent for `--evict-after` is forgotten even with an alarm open,
/// without a `cleared`, and the room goes to the next new patient; before that, the new patient's
/// readings are passed on unscored.
#[test]
fn at_max_patients_a_silent_patient_makes_room_without_a_false_cleared() {
    let mut e = engine_with(Overrides {
        evict_after_s: Some(120.0),
        max_patients: Some(2),
        ..Default::default()
    });
    let mut out = vec![];
    let mut scored_c = vec![];
    for s in 0..400i64 {
        let t = T0 + s * 1000;
        if s < 60 {
            let v = reading("PT-A", "MON-A", t, s as u64, desat(s, 0, 60, 80));
            assert!(e.on_vitals(&v, &mut out).is_some());
        }
        e.on_vitals(&reading("PT-B", "MON-B", t, s as u64, 97), &mut out);
        if s >= 100 {
            let c = reading("PT-C", "MON-C", t, s as u64, 97);
            scored_c.push(e.on_vitals(&c, &mut out).is_some());
        }
    }
    assert_eq!(
        events(&out, "PT-A", "spo2_desat").len(),
        1,
        "raised, never cleared"
    );
    assert_eq!(e.stats.evicted_with_open_alarm, 1);
    let first = scored_c
        .iter()
        .position(|&x| x)
        .expect("PT-C scored once there is room");
    assert!(first > 0, "PT-C was turned away while PT-A was held");
    assert!(scored_c[first..].iter().all(|&x| x));
    assert_eq!(e.stats.unscored, first as u64);
    assert!(e.full.is_some(), "the stage is told once");
}

/// A seq counter that jumps to 2^64 − 1 (corrupt, or re-based) is not thousands of trillions of lost
/// readings, and counting never wraps.
#[test]
fn a_seq_jump_to_the_largest_u64_is_not_counted_as_lost_readings() {
    let mut e = Engine::new(Config::defaults());
    let mut out = vec![];
    let seqs = [0, 1, 2, u64::MAX, u64::MAX, 0, 1, u64::MAX - 1, 3, 4];
    for (s, seq) in seqs.into_iter().enumerate() {
        let v = reading("PT-Q", "MON-Q", T0 + s as i64 * 1000, seq, 97);
        e.on_vitals(&v, &mut out);
    }
    assert!(e.stats.lost_readings < 10, "{:?}", e.stats);
    assert_eq!(e.stats.vitals, seqs.len() as u64);
}

fn run(args: &[&str], input: &[u8]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    end_to_end::feed(cmd, input)
}

fn jsonl(readings: &[Vitals]) -> Vec<u8> {
    let mut s = String::new();
    for v in readings {
        s += &serde_json::to_string(v).unwrap();
        s.push('\n');
    }
    s.into_bytes()
}

/// `nan`, `inf` and `-inf` in any numeric field of a rules file are refused, naming the rule and
/// the field; a silently disabled rule is worse than no start.
#[test]
fn a_rules_file_with_a_non_finite_number_is_refused_naming_the_rule_and_the_field() {
    let threshold = |when: &str, clear: &str, extra: &str| {
        format!(
            "[[rules]]\nname = \"spo2_low\"\nkind = \"physiological\"\npriority = \"medium\"\n\
             trigger = \"threshold\"\nvital = \"spo2_pct\"\nwhen = {{ op = \"<\", limit = {when} }}\n\
             clear = {{ op = \">=\", limit = {clear} }}\n{extra}"
        )
    };
    let cases = [
        (threshold("nan", "92", ""), "spo2_low", "when.limit"),
        (threshold("90", "inf", ""), "spo2_low", "clear.limit"),
        (threshold("-inf", "92", ""), "spo2_low", "when.limit"),
        (
            threshold(
                "90",
                "92",
                "escalate = [{ when = { op = \"<\", limit = nan }, priority = \"high\" }]\n",
            ),
            "spo2_low",
            "escalate[0].when.limit",
        ),
        (
            threshold(
                "90",
                "92",
                "escalate = [{ when = { op = \"<\", limit = 85 }, priority = \"high\", after_s = inf }]\n",
            ),
            "spo2_low",
            "escalate[0].after_s",
        ),
        (
            "[[rules]]\nname = \"device_silent\"\nkind = \"technical\"\npriority = \"medium\"\n\
             trigger = \"device_silent\"\nafter_s = nan\n"
                .to_owned(),
            "device_silent",
            "after_s",
        ),
        (
            "[patients.PT-1.rules.hr_low]\nwhen = { op = \"<\", limit = nan }\n".to_owned(),
            "hr_low",
            "when.limit",
        ),
        (
            "[settings]\ncarry_temp_s = nan\n".to_owned(),
            "settings",
            "carry_temp_s",
        ),
        (
            "[settings]\nspo2_artifact_hold_s = inf\n".to_owned(),
            "settings",
            "spo2_artifact_hold_s",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (text, rule, field)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("rules{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let out = run(&["--rules", path.to_str().unwrap()], b"");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}\n{err}");
        assert!(
            err.contains(rule) && err.contains(field),
            "{text}\nwant {rule} and {field} in: {err}"
        );
    }
}

/// A temperature of 1e308 is a sensor fault with a message a person can read, and a rules file's
/// limit of 1e300 does not make 300-digit messages either.
#[test]
fn absurd_numbers_make_short_messages() {
    let mut hot = reading("PT-1", "MON-1", T0, 0, 97);
    hot.temperature_c = Some(1e308);
    let mut low = reading("PT-1", "MON-1", T0 + 1000, 1, 97);
    low.heart_rate_bpm = Some(30);
    let input = jsonl(&[hot, low]);
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[rules]]\nname = \"hr_huge\"\nkind = \"physiological\"\npriority = \"low\"\n\
         trigger = \"threshold\"\nvital = \"heart_rate_bpm\"\n\
         when = { op = \"<\", limit = 1e300 }\nclear = { op = \">=\", limit = 1e301 }\n",
    )
    .unwrap();
    let out = run(&["--rules", rules.to_str().unwrap()], &input);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let messages: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "alert")
        .map(|v| v["message"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("outside the plausible range")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("below 1e300")),
        "{messages:?}"
    );
    for m in &messages {
        assert!(m.len() < 120, "{} characters: {m}", m.len());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.lines().all(|l| l.len() < 200), "{err}");
}

/// Past `--max-patients`, readings of new patients pass through unchanged and unscored, one stderr
/// line says so, and the patients already monitored go on being scored.
#[test]
fn readings_of_new_patients_past_max_patients_pass_through_unscored() {
    let mut readings = vec![];
    for s in 0..60i64 {
        for p in 0..6 {
            let spo2 = if p == 0 { desat(s, 5, 60, 80) } else { 97 };
            readings.push(reading(
                &format!("PT-{p}"),
                "MON",
                T0 + s * 1000,
                s as u64,
                spo2,
            ));
        }
    }
    let input = jsonl(&readings);
    let out = run(&["--max-patients", "3"], &input);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let input_text = String::from_utf8(input).unwrap();
    let vitals: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"vitals\""))
        .collect();
    assert_eq!(vitals.len(), readings.len(), "no reading lost");
    for (line, orig) in vitals.iter().zip(input_text.lines()) {
        let unscored = ["PT-3", "PT-4", "PT-5"]
            .iter()
            .any(|p| orig.contains(&format!("\"{p}\"")));
        if unscored {
            assert_eq!(*line, orig, "passed through unchanged");
        } else {
            assert!(line.contains("\"news2\""), "{line}");
        }
    }
    assert!(
        stdout.contains("\"rule\":\"spo2_desat\""),
        "PT-0 is still watched"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let notes: Vec<_> = err
        .lines()
        .filter(|l| l.contains("--max-patients 3 reached"))
        .collect();
    assert_eq!(notes.len(), 1, "one line, not one per reading: {err}");
    assert!(notes[0].contains("not scored"), "{err}");
    assert!(
        err.contains("180 readings of new patients not scored"),
        "the summary counts them: {err}"
    );
    let help = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(
        help.contains("--max-patients") && help.contains("200000"),
        "{help}"
    );
}

/// The same input bytes give the same output bytes, clock faults and all.
#[test]
fn replaying_a_stream_with_clock_faults_gives_the_same_bytes() {
    let mut readings = vec![];
    for s in 0..400i64 {
        let t = T0 + s * 1000;
        let jumped = if (100..110).contains(&s) {
            t + 3 * HOUR
        } else {
            t
        };
        readings.push(reading(
            "PT-J",
            "MON-J",
            jumped,
            s as u64,
            desat(s, 150, 350, 70),
        ));
        let back = if s >= 200 { t - HOUR } else { t };
        readings.push(reading(
            "PT-B",
            "MON-B",
            back,
            s as u64,
            desat(s, 250, 390, 80),
        ));
        if s % 3 == 0 || s > 300 {
            readings.push(reading("PT-C", "MON-C", t - 130_000, s as u64, 97));
        }
    }
    let input = jsonl(&readings);
    let a = run(&["--quiet"], &input);
    let b = run(&["--quiet"], &input);
    assert_eq!(a.status.code(), Some(0));
    assert!(a.stdout == b.stdout);
    assert!(String::from_utf8_lossy(&a.stdout).contains("clock_skew"));
}
