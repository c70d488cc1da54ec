//! The alarm engine's behaviour, reading by reading, through the library (no process, no clock).

use cardio_alert::engine::Engine;
use cardio_alert::rules_file::{Config, Overrides, RulesFile, parse_rules_file};
use vitals_core::rules::{Op, Trigger, default_rules};
use vitals_core::{Alert, AlertState, Priority, Timestamp, Vital, Vitals};

const T0: i64 = 1_795_824_000_000; // 2026-11-28T00:00:00Z

/// A calm adult: every clearing condition of the default rules holds.
fn normal(patient: &str, s: i64, seq: u64) -> Vitals {
    let mut v = Vitals::empty(Timestamp(T0 + s * 1000), patient, "D-1", seq);
    v.heart_rate_bpm = Some(75);
    v.spo2_pct = Some(97);
    v.respiratory_rate_bpm = Some(16);
    v.temperature_c = Some(36.8);
    v.systolic_mmhg = Some(120);
    v.diastolic_mmhg = Some(80);
    v.battery_pct = Some(90);
    v
}

fn set(v: &mut Vitals, vital: Vital, x: f64) {
    match vital {
        Vital::HeartRate => v.heart_rate_bpm = Some(x as i32),
        Vital::Spo2 => v.spo2_pct = Some(x as i32),
        Vital::RespiratoryRate => v.respiratory_rate_bpm = Some(x as i32),
        Vital::Temperature => v.temperature_c = Some(x),
        Vital::Systolic => v.systolic_mmhg = Some(x as i32),
        Vital::Diastolic => v.diastolic_mmhg = Some(x as i32),
        Vital::Battery => v.battery_pct = Some(x as i32),
    }
}

/// Feeds one patient's readings at 1 Hz from second `from`; `f(s)` changes the reading at second s.
struct Feed {
    engine: Engine,
    alerts: Vec<Alert>,
    news2: Vec<Option<u8>>,
    seq: u64,
}

impl Feed {
    fn new(cfg: Config) -> Self {
        Feed {
            engine: Engine::new(cfg),
            alerts: vec![],
            news2: vec![],
            seq: 0,
        }
    }

    fn push(&mut self, v: &Vitals) {
        let n = self.engine.on_vitals(v, &mut self.alerts);
        self.news2.push(n.expect("under --max-patients").score);
    }

    fn run(&mut self, seconds: std::ops::Range<i64>, f: impl Fn(&mut Vitals)) {
        for s in seconds {
            let mut v = normal("PT-1", s, self.seq);
            self.seq += 1;
            f(&mut v);
            self.push(&v);
        }
    }

    fn events(&self, rule: &str) -> Vec<(AlertState, Priority, i64)> {
        self.alerts
            .iter()
            .filter(|a| a.rule == rule)
            .map(|a| (a.state, a.priority, (a.ts.millis() - T0) / 1000))
            .collect()
    }

    /// The first alert event of `rule`.
    fn first(&self, rule: &str) -> &Alert {
        let found = self.alerts.iter().find(|a| a.rule == rule);
        found.unwrap_or_else(|| panic!("no {rule} event in {:?}", self.alerts))
    }
}

/// The defaults without the SpO2 motion-artifact hold, so that a step change of SpO2 counts at once
/// (the hold has tests of its own).
fn spec_timing() -> Config {
    Config::build(&parse_rules_file("[settings]\nspo2_artifact_drop_pct = 0", false).unwrap())
        .unwrap()
}

/// A value that meets a condition: the limit itself when inclusive, one unit past it when strict.
/// The naive baseline of `--no-delays`: no condition delay, clearing hold or latch.
fn no_delays() -> Config {
    Config::build_with(
        &RulesFile {
            defaults: true,
            ..RulesFile::default()
        },
        &Overrides {
            no_delays: true,
            ..Overrides::default()
        },
    )
    .unwrap()
}

fn meeting(op: Op, limit: f64) -> f64 {
    match op {
        Op::Lt => limit - 1.0,
        Op::Gt => limit + 1.0,
        Op::Le | Op::Ge => limit,
    }
}

#[test]
fn every_threshold_rule_ignores_a_dip_shorter_than_its_delay() {
    for rule in default_rules() {
        let Trigger::Threshold { vital, when, .. } = rule.trigger else {
            continue;
        };
        let delay = rule.delay_s as i64;
        if delay == 0 {
            continue;
        }
        let mut f = Feed::new(spec_timing());
        f.run(0..10, |_| {});
        f.run(10..10 + delay, |v| {
            set(v, vital, meeting(when.op, when.limit))
        });
        f.run(10 + delay..100, |_| {});
        assert_eq!(f.events(&rule.name), vec![], "{}", rule.name);
    }
}

#[test]
fn every_threshold_rule_raises_once_and_clears_once_for_a_longer_condition() {
    for rule in default_rules() {
        let Trigger::Threshold { vital, when, .. } = rule.trigger else {
            continue;
        };
        let delay = rule.delay_s as i64;
        let hold = rule.clear_hold_s as i64;
        let latch = rule.latch_s as i64;
        let mut f = Feed::new(spec_timing());
        f.run(0..10, |_| {});
        f.run(10..10 + delay + 20, |v| {
            set(v, vital, meeting(when.op, when.limit))
        });
        let back = 10 + delay + 20;
        // A latching alarm clears no sooner than its latch time after the last reading that met
        // its condition (second back - 1).
        let clears = (back + hold).max(back - 1 + latch);
        f.run(back..clears + 30, |_| {});
        let ev = f.events(&rule.name);
        assert_eq!(ev.len(), 2, "{}: {ev:?}", rule.name);
        assert_eq!(ev[0].0, AlertState::Raised, "{}", rule.name);
        assert_eq!(ev[0].2, 10 + delay, "{} raised after its delay", rule.name);
        assert_eq!(ev[1].0, AlertState::Cleared, "{}", rule.name);
        assert_eq!(
            ev[1].2, clears,
            "{} cleared after its hold and latch",
            rule.name
        );
        let ids: Vec<_> = f
            .alerts
            .iter()
            .filter(|a| a.rule == rule.name)
            .map(|a| &a.alert_id)
            .collect();
        assert_eq!(ids[0], ids[1], "one alert_id per episode");
    }
}

#[test]
fn spo2_low_message_says_value_limit_and_time() {
    let mut f = Feed::new(Config::defaults());
    f.run(0..30, |v| v.spo2_pct = Some(86));
    let a = f.first("spo2_low");
    assert_eq!(a.message, "SpO2 86% below 90% for 15 s");
    assert_eq!(a.value, Some(86.0));
    assert_eq!(a.limit, Some(90.0));
    assert_eq!(a.vital, Some(Vital::Spo2));
}

#[test]
fn fever_escalates_once_from_low_to_medium() {
    let mut f = Feed::new(Config::defaults());
    f.run(0..70, |v| v.temperature_c = Some(38.4));
    f.run(70..80, |v| v.temperature_c = Some(39.4));
    f.run(80..90, |v| v.temperature_c = Some(38.5));
    f.run(90..100, |v| v.temperature_c = Some(39.6));
    f.run(100..110, |_| {});
    let ev = f.events("temp_high");
    assert_eq!(
        ev,
        vec![
            (AlertState::Raised, Priority::Low, 60),
            (AlertState::Escalated, Priority::Medium, 70),
            (AlertState::Cleared, Priority::Medium, 100),
        ]
    );
}

#[test]
fn an_alarm_that_persists_escalates_after_its_time() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rules.toml");
    let cfg = Config::load(&path, &Overrides::default()).unwrap();
    let mut f = Feed::new(cfg);
    f.run(0..200, |v| v.spo2_pct = Some(88));
    let ev = f.events("spo2_low");
    assert_eq!(
        ev,
        vec![
            (AlertState::Raised, Priority::Medium, 15),
            (AlertState::Escalated, Priority::High, 135),
        ]
    );
}

#[test]
fn a_latching_alarm_stays_raised_for_its_latch_time() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rules.toml");
    let cfg = Config::load(&path, &Overrides::default()).unwrap();
    let mut f = Feed::new(cfg);
    f.run(0..3, |v| v.spo2_pct = Some(80));
    f.run(3..60, |_| {});
    assert_eq!(
        f.events("spo2_desat"),
        vec![
            (AlertState::Raised, Priority::High, 0),
            (AlertState::Cleared, Priority::High, 32),
        ],
        "latched 30 s past the last reading below 85 % (second 2)"
    );
    let mut builtin = Feed::new(Config::defaults());
    builtin.run(0..3, |v| v.spo2_pct = Some(80));
    builtin.run(3..200, |_| {});
    assert_eq!(
        builtin.events("spo2_desat")[1].2,
        122,
        "the built-in high-priority rules latch for 120 s"
    );
    let mut unlatched = Feed::new(no_delays());
    unlatched.run(0..3, |v| v.spo2_pct = Some(80));
    unlatched.run(3..60, |_| {});
    assert_eq!(
        unlatched.events("spo2_desat")[1].2,
        3,
        "no latch: clears at once"
    );
}

#[test]
fn a_latched_extreme_hr_at_its_limit_is_one_episode_not_one_per_crossing() {
    // AF hovering at the hr_extreme_high limit: 10 s at 155, 10 s at 138, over and over.
    let mut f = Feed::new(Config::defaults());
    for k in 0..20 {
        f.run(k * 20..k * 20 + 10, |v| v.heart_rate_bpm = Some(155));
        f.run(k * 20 + 10..k * 20 + 20, |v| v.heart_rate_bpm = Some(138));
    }
    f.run(400..600, |_| {});
    // The last reading at 155 is second 389: cleared 120 s later.
    assert_eq!(
        f.events("hr_extreme_high"),
        vec![
            (AlertState::Raised, Priority::High, 5),
            (AlertState::Cleared, Priority::High, 509),
        ]
    );
    let mut naive = Feed::new(no_delays());
    for k in 0..20 {
        naive.run(k * 20..k * 20 + 10, |v| v.heart_rate_bpm = Some(155));
        naive.run(k * 20 + 10..k * 20 + 20, |v| v.heart_rate_bpm = Some(138));
    }
    let raised = naive
        .events("hr_extreme_high")
        .iter()
        .filter(|e| e.0 == AlertState::Raised)
        .count();
    assert_eq!(
        raised, 20,
        "without latch (or delay) every crossing is an episode"
    );
}

#[test]
fn news2_single_3_is_not_raised_for_a_3_that_its_vitals_own_alarm_already_announces() {
    // SBP 88 scores 3 and is sbp_low's condition: sbp_low (high) raises on the reading and
    // news2_single_3 (low) says nothing more.
    let mut f = Feed::new(Config::defaults());
    f.run(0..600, |v| v.systolic_mmhg = Some(88));
    assert_eq!(
        f.events("sbp_low"),
        vec![(AlertState::Raised, Priority::High, 0)]
    );
    assert_eq!(f.events("news2_single_3"), vec![]);

    // With sbp_low switched off, the same 3 raises news2_single_3 after its 2 min persistence.
    let cfg = |text: &str| Config::build(&parse_rules_file(text, false).unwrap()).unwrap();
    let mut g = Feed::new(cfg("disable = [\"sbp_low\"]"));
    g.run(0..600, |v| v.systolic_mmhg = Some(88));
    assert_eq!(
        g.events("news2_single_3"),
        vec![(AlertState::Raised, Priority::Low, 120)]
    );

    // And with the setting off, as docs/spec.md §3.2's table reads.
    let mut h = Feed::new(cfg(
        "[settings]\nnews2_single_3_skips_alarmed_vitals = false",
    ));
    h.run(0..600, |v| v.systolic_mmhg = Some(88));
    assert_eq!(
        h.events("news2_single_3"),
        vec![(AlertState::Raised, Priority::Low, 120)]
    );
    assert_eq!(h.events("sbp_low").len(), 1);
}

#[test]
fn news2_single_3_raised_first_is_not_cleared_when_its_vitals_alarm_joins() {
    // SpO2 91 scores 3 on scale 1 but is above spo2_low's 90: news2_single_3 raises. When SpO2
    // falls on to 86, spo2_low raises too, and news2_single_3 stays raised until no 3 is left.
    let mut f = Feed::new(spec_timing());
    f.run(0..200, |v| v.spo2_pct = Some(91));
    f.run(200..400, |v| v.spo2_pct = Some(86));
    f.run(400..1000, |_| {});
    assert_eq!(
        f.events("news2_single_3"),
        vec![
            (AlertState::Raised, Priority::Low, 120),
            (AlertState::Cleared, Priority::Low, 700),
        ]
    );
    assert_eq!(
        f.events("spo2_low")[0],
        (AlertState::Raised, Priority::Medium, 215)
    );
}

#[test]
fn news2_carries_bp_and_temperature_forward_for_60_minutes_then_goes_null() {
    let mut f = Feed::new(Config::defaults());
    let sparse = |v: &mut Vitals| {
        v.systolic_mmhg = None;
        v.diastolic_mmhg = None;
        v.temperature_c = None;
    };
    f.run(0..1, |_| {});
    f.run(3599..3601, sparse);
    f.run(3601..3602, sparse);
    assert_eq!(f.news2, vec![Some(0), Some(0), Some(0), None]);
    let mut g = Feed::new(Config::defaults());
    g.run(0..1, sparse);
    assert_eq!(g.news2, vec![None], "nothing to carry before the first BP");
}

#[test]
fn news2_urgent_then_emergency_then_back_down() {
    let mut f = Feed::new(Config::defaults());
    let urgent = |v: &mut Vitals| {
        // RR 25 (3) + SpO2 93 (2) = 5: urgent.
        v.respiratory_rate_bpm = Some(25);
        v.spo2_pct = Some(93);
    };
    f.run(0..200, urgent);
    f.run(200..400, |v| {
        urgent(v);
        v.heart_rate_bpm = Some(131); // + 3 = 8: emergency
    });
    f.run(400..800, urgent);
    f.run(800..1200, |_| {});
    // NEWS2 rules need 2 min of persistence and clear after 5 min below their band.
    assert_eq!(
        f.events("news2_urgent"),
        vec![
            (AlertState::Raised, Priority::Medium, 120),
            (AlertState::Cleared, Priority::Medium, 1100)
        ]
    );
    assert_eq!(
        f.events("news2_emergency"),
        vec![
            (AlertState::Raised, Priority::High, 320),
            (AlertState::Cleared, Priority::High, 700)
        ]
    );
}

#[test]
fn a_sudden_short_spo2_dip_is_held_as_motion_artifact() {
    let mut f = Feed::new(Config::defaults());
    f.run(0..10, |_| {});
    f.run(10..25, |v| v.spo2_pct = Some(80));
    f.run(25..60, |_| {});
    assert!(f.events("spo2_desat").is_empty(), "{:?}", f.alerts);
    assert_eq!(f.engine.stats.spo2_artifact_readings, 15);
    assert!(
        f.news2[10..25].iter().all(Option::is_none),
        "not scored either"
    );
}

#[test]
fn a_sudden_spo2_fall_that_stays_down_alarms_after_the_artifact_hold() {
    let mut f = Feed::new(Config::defaults());
    f.run(0..10, |_| {});
    f.run(10..100, |v| v.spo2_pct = Some(80));
    assert_eq!(
        f.events("spo2_desat"),
        vec![(AlertState::Raised, Priority::High, 40)]
    );
}

/// A step fall from 97 % to `level` at second 10 (a drop no averaging oximeter shows, so it is
/// held as motion artifact), lasting `seconds`, then back to 97 % until second 200.
fn step_fall(level: i32, seconds: i64) -> Feed {
    let mut f = Feed::new(Config::defaults());
    f.run(0..10, |_| {});
    f.run(10..10 + seconds, |v| v.spo2_pct = Some(level));
    f.run(10 + seconds..200, |_| {});
    f
}

#[test]
fn a_sustained_step_fall_to_86_raises_spo2_low_within_30_s_of_onset() {
    let f = step_fall(86, 190);
    let ev = f.events("spo2_low");
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!((ev[0].0, ev[0].1), (AlertState::Raised, Priority::Medium));
    assert!(ev[0].2 <= 10 + 30, "raised at {} s, onset at 10 s", ev[0].2);
    // The hold's 30 s counted toward the 15 s delay: raised when the hold ended, not 15 s later.
    assert_eq!(ev[0].2, 40);
    let a = f.first("spo2_low");
    assert_eq!(a.message, "SpO2 86% below 90% for 30 s");
    assert!(f.events("spo2_desat").is_empty());
}

#[test]
fn a_40_s_step_desaturation_to_86_raises_spo2_low_and_clears() {
    let ev = step_fall(86, 40).events("spo2_low");
    assert_eq!(
        ev,
        vec![
            (AlertState::Raised, Priority::Medium, 40),
            (AlertState::Cleared, Priority::Medium, 60)
        ]
    );
}

#[test]
fn a_motion_artifact_that_comes_back_within_the_hold_raises_nothing() {
    let f = step_fall(70, 8);
    assert!(f.alerts.is_empty(), "{:?}", f.alerts);
    assert_eq!(f.engine.stats.spo2_artifact_readings, 8);
    assert_eq!(f.engine.stats.spo2_holds_real, 0);
}

#[test]
fn a_step_fall_below_85_raises_spo2_desat_with_its_condition_counted_from_onset() {
    // spo2_desat has no delay: it raises on the reading that ends the hold, and says its condition
    // has held since the first held reading.
    let f = step_fall(80, 100);
    assert_eq!(
        f.events("spo2_desat")[0],
        (AlertState::Raised, Priority::High, 40)
    );
    let a = f.first("spo2_desat");
    assert_eq!(a.message, "SpO2 80% below 85% for 30 s");
    assert_eq!(f.events("spo2_low")[0].2, 40);
    assert_eq!(f.engine.stats.spo2_holds_real, 1);
}

#[test]
fn a_held_fall_that_deepens_late_counts_spo2_desat_only_from_below_85() {
    // 86 % for the first 20 s of the hold, then 80 %: spo2_low's condition held from onset,
    // spo2_desat's only from second 30. With a 20 s delay on spo2_desat it raises at 30 + 20 = 50,
    // not at the hold's end (40), and not at 40 + 20 = 60 as when the hold counted for nothing.
    let rules = "[[rules]]\nname = \"spo2_desat\"\nkind = \"physiological\"\n\
                 priority = \"high\"\ntrigger = \"threshold\"\nvital = \"spo2_pct\"\n\
                 when = { op = \"<\", limit = 85 }\nclear = { op = \">=\", limit = 90 }\n\
                 delay_s = 20\n";
    let cfg = Config::build(&parse_rules_file(rules, false).unwrap()).unwrap();
    let mut f = Feed::new(cfg);
    f.run(0..10, |_| {});
    f.run(10..30, |v| v.spo2_pct = Some(86));
    f.run(30..100, |v| v.spo2_pct = Some(80));
    assert_eq!(
        f.events("spo2_desat")[0],
        (AlertState::Raised, Priority::High, 50)
    );
    assert_eq!(f.events("spo2_low")[0].2, 40);
}

#[test]
fn a_gradual_desaturation_alarms_without_an_artifact_hold() {
    let mut f = Feed::new(Config::defaults());
    f.run(0..100, |v| {
        v.spo2_pct = Some((97 - v.seq as i32 / 4).max(80))
    });
    // 97 − s/4 first reaches 84 at s = 52.
    assert_eq!(
        f.events("spo2_desat"),
        vec![(AlertState::Raised, Priority::High, 52)]
    );
    assert_eq!(f.engine.stats.spo2_artifact_readings, 0);
}

#[test]
fn an_implausible_value_is_a_sensor_fault_and_never_a_clinical_alarm() {
    let mut f = Feed::new(Config::defaults());
    f.run(0..20, |v| v.heart_rate_bpm = Some(350));
    f.run(20..25, |_| {});
    assert_eq!(
        f.events("sensor_fault"),
        vec![
            (AlertState::Raised, Priority::Low, 0),
            (AlertState::Cleared, Priority::Low, 20)
        ]
    );
    assert!(f.events("hr_extreme_high").is_empty());
    assert!(f.events("hr_high").is_empty());
    assert!(
        f.news2[..20].iter().all(Option::is_none),
        "no NEWS2 from a fault"
    );
    let a = f.first("sensor_fault");
    assert_eq!(a.vital, Some(Vital::HeartRate));
    assert!(a.message.contains("HR 350"), "{}", a.message);
}

#[test]
fn battery_low_escalates_below_10_and_clears_at_25() {
    let mut f = Feed::new(Config::defaults());
    f.run(0..5, |v| v.battery_pct = Some(19));
    f.run(5..10, |v| v.battery_pct = Some(9));
    f.run(10..15, |v| v.battery_pct = Some(22));
    f.run(15..20, |v| v.battery_pct = Some(26));
    assert_eq!(
        f.events("battery_low"),
        vec![
            (AlertState::Raised, Priority::Low, 0),
            (AlertState::Escalated, Priority::Medium, 5),
            (AlertState::Cleared, Priority::Medium, 15)
        ]
    );
    assert!(
        f.alerts
            .iter()
            .all(|a| a.kind == vitals_core::AlertKind::Technical)
    );
}

#[test]
fn a_silent_device_raises_device_silent_from_the_watermark_and_clears_on_its_next_reading() {
    let mut e = Engine::new(Config::defaults());
    let mut out = vec![];
    for s in 0..100u64 {
        e.on_vitals(&normal("PT-A", s as i64, s), &mut out);
        if !(10..50).contains(&s) {
            e.on_vitals(&normal("PT-B", s as i64, s), &mut out);
        }
    }
    let ev: Vec<_> = out
        .iter()
        .filter(|a| a.rule == "device_silent")
        .map(|a| (a.patient_id.as_str(), a.state, (a.ts.millis() - T0) / 1000))
        .collect();
    assert_eq!(
        ev,
        vec![
            ("PT-B", AlertState::Raised, 39),
            ("PT-B", AlertState::Cleared, 50)
        ]
    );
}

#[test]
fn seq_gaps_are_counted_as_lost_readings() {
    let mut e = Engine::new(Config::defaults());
    let mut out = vec![];
    for (s, seq) in [(0, 0), (1, 1), (5, 5), (6, 6), (9, 10)] {
        e.on_vitals(&normal("PT-1", s, seq), &mut out);
    }
    assert_eq!(e.stats.gaps, 2);
    assert_eq!(e.stats.lost_readings, 3 + 3);
    assert_eq!(e.gaps[0].from_seq, 2);
    assert_eq!(e.gaps[0].lost, 3);
}

#[test]
fn a_late_record_does_not_reraise_a_cleared_alarm_and_a_duplicate_does_not_count_twice() {
    let mut f = Feed::new(Config::defaults());
    f.run(0..5, |v| v.spo2_pct = Some(80));
    f.run(5..130, |_| {});
    assert_eq!(
        f.events("spo2_desat").len(),
        2,
        "raised, and cleared after its latch"
    );
    // A reading from second 2 arrives late, after the clear.
    let mut late = normal("PT-1", 2, 2);
    late.spo2_pct = Some(80);
    f.push(&late);
    let mut dup = normal("PT-1", 129, f.seq - 1);
    dup.spo2_pct = Some(97);
    f.push(&dup);
    assert_eq!(f.events("spo2_desat").len(), 2, "no new episode");
    assert_eq!(f.engine.stats.late, 1);
    assert_eq!(f.engine.stats.duplicates, 1);
    assert_eq!(f.news2.len(), 132, "both were still scored and passed on");
}

#[test]
fn patients_silent_longer_than_the_eviction_time_are_forgotten() {
    let cfg = Config::build_with(
        &RulesFile {
            defaults: true,
            ..Default::default()
        },
        &Overrides {
            evict_after_s: Some(120.0),
            ..Default::default()
        },
    )
    .unwrap();
    let mut e = Engine::new(cfg);
    let mut out = vec![];
    for p in 0..50 {
        e.on_vitals(&normal(&format!("PT-{p}"), 0, 0), &mut out);
    }
    assert_eq!(e.patients(), 50);
    for s in 1..200 {
        e.on_vitals(&normal("PT-0", s, s as u64), &mut out);
    }
    assert_eq!(e.patients(), 1);
    assert_eq!(e.stats.evicted, 49);
    // Each forgotten patient's device_silent was raised, and stays open: the device is still
    // silent, and forgetting a patient is no evidence of anything.
    let raised = out.iter().filter(|a| a.state == AlertState::Raised).count();
    let cleared = out
        .iter()
        .filter(|a| a.state == AlertState::Cleared)
        .count();
    assert_eq!((raised, cleared), (49, 0));
    assert!(out.iter().all(|a| a.rule == "device_silent"));
}

#[test]
fn a_copd_patient_is_scored_on_spo2_scale_2_with_individual_limits() {
    let text = r#"
        [patients.PT-1]
        spo2_scale = 2
        [patients.PT-1.rules.spo2_low]
        when = { op = "<", limit = 86 }
        clear = { op = ">=", limit = 88 }
    "#;
    let cfg = Config::build(&parse_rules_file(text, false).unwrap()).unwrap();
    let mut f = Feed::new(cfg);
    f.run(0..30, |v| v.spo2_pct = Some(88));
    assert_eq!(f.news2[0], Some(0), "88 % on air scores 0 on scale 2");
    assert!(f.events("spo2_low").is_empty(), "88 % is inside the target");
    let mut g = Feed::new(Config::defaults());
    g.run(0..30, |v| v.spo2_pct = Some(88));
    assert_eq!(g.news2[0], Some(3), "scale 1");
    assert_eq!(g.events("spo2_low").len(), 1);
}

#[test]
fn no_delays_fires_on_the_first_reading() {
    let cfg = no_delays();
    let mut f = Feed::new(cfg);
    f.run(0..2, |v| v.spo2_pct = Some(88));
    f.run(2..4, |_| {});
    assert_eq!(
        f.events("spo2_low"),
        vec![
            (AlertState::Raised, Priority::Medium, 0),
            (AlertState::Cleared, Priority::Medium, 2)
        ]
    );
}

#[test]
fn a_device_silent_delay_starts_afresh_with_each_silence() {
    let text = r#"
        [[rules]]
        name = "device_silent"
        kind = "technical"
        priority = "medium"
        trigger = "device_silent"
        after_s = 30
        delay_s = 20
    "#;
    let cfg = Config::build(&parse_rules_file(text, false).unwrap()).unwrap();
    let mut e = Engine::new(cfg);
    let mut out = vec![];
    for s in 0..300u64 {
        e.on_vitals(&normal("PT-A", s as i64, s), &mut out);
        // PT-B is silent from 10 to 45 (too short to raise after 30 + 20 s) and from 100 to 200.
        if !(10..45).contains(&s) && !(100..200).contains(&s) {
            e.on_vitals(&normal("PT-B", s as i64, s), &mut out);
        }
    }
    let ev: Vec<_> = out
        .iter()
        .filter(|a| a.rule == "device_silent")
        .map(|a| (a.state, (a.ts.millis() - T0) / 1000))
        .collect();
    assert_eq!(
        ev,
        vec![(AlertState::Raised, 149), (AlertState::Cleared, 200)],
        "silent from 99: condition at 129, raised 20 s later"
    );
}

/// The defaults plus a SatSeconds rule on SpO2 (limit 90 %, `setting` SatSeconds, the safety net
/// at `excursions` falls in 60 s); `drop_pct` 0 turns the motion-artifact hold off.
fn sat_seconds(setting: f64, excursions: u32, drop_pct: u32) -> Config {
    let text = format!(
        "[settings]\nspo2_artifact_drop_pct = {drop_pct}\n\
         [[rules]]\nname = \"spo2_satseconds\"\nkind = \"physiological\"\npriority = \"medium\"\n\
         trigger = \"sat_seconds\"\nlimit = 90\nsat_seconds = {setting}\nexcursions = {excursions}\n"
    );
    Config::build(&parse_rules_file(&text, false).unwrap()).unwrap()
}

#[test]
fn sat_seconds_raises_for_a_deep_short_dip_that_the_plain_delay_lets_through() {
    let mut f = Feed::new(sat_seconds(25.0, 3, 0));
    f.run(0..10, |_| {});
    f.run(10..14, |v| v.spo2_pct = Some(80));
    f.run(14..60, |_| {});
    // 10 points below 90 % each second: 10, 20, 30 ≥ 25 at the third reading.
    assert_eq!(
        f.events("spo2_satseconds"),
        vec![
            (AlertState::Raised, Priority::Medium, 12),
            (AlertState::Cleared, Priority::Medium, 14)
        ]
    );
    let a = f.first("spo2_satseconds");
    assert_eq!(
        a.message,
        "SpO2 80% below 90%: 30 SatSeconds reach the setting of 25"
    );
    assert_eq!((a.vital, a.limit), (Some(Vital::Spo2), Some(90.0)));
    assert!(f.events("spo2_low").is_empty(), "4 s < the 15 s delay");
}

#[test]
fn sat_seconds_ignores_a_shallow_long_dip_that_the_plain_delay_raises() {
    let mut f = Feed::new(sat_seconds(25.0, 3, 0));
    f.run(0..10, |_| {});
    f.run(10..30, |v| v.spo2_pct = Some(89));
    f.run(30..60, |_| {});
    assert!(f.events("spo2_satseconds").is_empty(), "20 SatSeconds < 25");
    assert_eq!(
        f.events("spo2_low")[0],
        (AlertState::Raised, Priority::Medium, 25)
    );
}

#[test]
fn sat_seconds_start_again_from_zero_when_spo2_is_back_at_the_limit() {
    let mut f = Feed::new(sat_seconds(25.0, 3, 0));
    f.run(0..10, |_| {});
    f.run(10..25, |v| v.spo2_pct = Some(89));
    f.run(25..26, |v| v.spo2_pct = Some(90));
    f.run(26..41, |v| v.spo2_pct = Some(89));
    f.run(41..60, |_| {});
    // 15 + 15 would be 30 without the reset at 90 %.
    assert!(f.events("spo2_satseconds").is_empty(), "{:?}", f.alerts);
}

#[test]
fn sat_seconds_safety_net_raises_at_the_third_fall_within_60_s() {
    let dips = |f: &mut Feed| {
        f.run(0..10, |_| {});
        for start in [10, 30, 50] {
            f.run(start..start + 2, |v| v.spo2_pct = Some(88));
            f.run(start + 2..start + 20, |_| {});
        }
    };
    let mut f = Feed::new(sat_seconds(25.0, 3, 0));
    dips(&mut f);
    // 3 dips of 2 × 2 SatSeconds: the integral never nears 25.
    assert_eq!(
        f.events("spo2_satseconds"),
        vec![
            (AlertState::Raised, Priority::Medium, 50),
            (AlertState::Cleared, Priority::Medium, 52)
        ]
    );
    let a = f.first("spo2_satseconds");
    assert_eq!(
        a.message,
        "SpO2 88% below 90%: 3 falls below it within 1 min (SatSeconds safety net)"
    );
    let mut off = Feed::new(sat_seconds(25.0, 0, 0));
    dips(&mut off);
    assert!(
        off.events("spo2_satseconds").is_empty(),
        "excursions = 0: no safety net"
    );
}

#[test]
fn sat_seconds_count_a_held_fall_only_once_the_hold_ends_with_spo2_still_down() {
    // A step fall to 86 % is held as motion artifact for 30 s; it stays down, so the held
    // readings count from onset (4 SatSeconds a second: 28 ≥ 25 by the 7th) and the reading
    // that ends the hold raises.
    let mut f = Feed::new(sat_seconds(25.0, 3, 2));
    f.run(0..10, |_| {});
    f.run(10..100, |v| v.spo2_pct = Some(86));
    assert_eq!(
        f.events("spo2_satseconds"),
        vec![(AlertState::Raised, Priority::Medium, 40)]
    );
    // A deep artifact that comes back within the hold never reaches the integral (160 if it did).
    let mut g = Feed::new(sat_seconds(25.0, 3, 2));
    g.run(0..10, |_| {});
    g.run(10..18, |v| v.spo2_pct = Some(70));
    g.run(18..60, |_| {});
    assert!(g.alerts.is_empty(), "{:?}", g.alerts);
}

#[test]
fn a_bad_sat_seconds_value_is_refused_naming_the_rule_and_the_field() {
    let file = |field: &str, value: &str| {
        let text =
            "[[rules]]\nname = \"spo2_ss\"\nkind = \"physiological\"\npriority = \"medium\"\n\
             trigger = \"sat_seconds\"\nlimit = 90\nsat_seconds = 25\n"
                .replace(&format!("{field} = 90\n"), &format!("{field} = {value}\n"))
                .replace(&format!("{field} = 25\n"), &format!("{field} = {value}\n"));
        Config::build(&parse_rules_file(&text, false).unwrap())
            .unwrap_err()
            .to_string()
    };
    for (field, value, says) in [
        ("sat_seconds", "-25", "must be > 0"),
        ("sat_seconds", "nan", "finite"),
        ("sat_seconds", "0", "must be > 0"),
        ("limit", "nan", "finite"),
        ("limit", "190", "0–100"),
    ] {
        let err = file(field, value);
        assert!(
            err.contains("`spo2_ss`") && err.contains(field) && err.contains(says),
            "{field} = {value}: {err}"
        );
    }
}
