//! Properties (STYLE.md), running the library's `archive` in-process on generated input:
//!
//! - whatever the mix of readings, alerts, admission and settings records (an admission repeated
//!   as a replay would), bad lines and upstream envelopes, however files roll,
//!   and whatever part of the input is replayed, every valid input line reaches the lake exactly
//!   once, byte for byte, and every bad line is kept once;
//! - whatever devices do to their seq and clock (restarts from 0 or elsewhere, clock steps back
//!   and forth, across days, a clock reset to the same instant) and in whatever order the input
//!   arrives and is replayed, each reading identity `(device_id, seq, ts)` is in `vitals/` once,
//!   with the bytes it first arrived with, and each different reading under an identity already
//!   taken is in `_rejected/` once: nothing is skipped that the lake does not hold.

mod common;

use std::collections::BTreeSet;
use std::io::Cursor;
use std::time::Duration;

use cardio_archive::archive::{Options, archive};
use cardio_archive::writer::Rolling;
use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Item {
    Reading(u32),
    Alert(u32),
    Admission(u32),
    Settings(u32),
    Bad,
    Envelope,
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        8 => (0u32..6).prop_map(Item::Reading),
        1 => (0u32..6).prop_map(Item::Alert),
        1 => (0u32..6).prop_map(Item::Admission),
        1 => (0u32..6).prop_map(Item::Settings),
        1 => Just(Item::Bad),
        1 => Just(Item::Envelope),
    ]
}

struct Expected {
    lines: Vec<Vec<u8>>,
    vitals: BTreeSet<String>,
    alerts: BTreeSet<String>,
    admission: BTreeSet<String>,
    settings: BTreeSet<String>,
    kept: usize,
    bad: usize,
}

fn build(items: &[Item]) -> Expected {
    let mut e = Expected {
        lines: vec![],
        vitals: BTreeSet::new(),
        alerts: BTreeSet::new(),
        admission: BTreeSet::new(),
        settings: BTreeSet::new(),
        kept: 0,
        bad: 0,
    };
    let mut seq = [0u64; 6];
    let mut settings_n = [0u32; 6];
    for (n, it) in items.iter().enumerate() {
        let n = n as u64;
        let line = match it {
            Item::Reading(d) => {
                let v = vitals(*d, seq[*d as usize]);
                seq[*d as usize] += 1;
                e.vitals.insert(v.clone());
                v.into_bytes()
            }
            Item::Alert(d) => {
                let a = alert(*d, n, "raised");
                e.alerts.insert(a.clone());
                a.into_bytes()
            }
            Item::Admission(d) => {
                let a = admission(*d);
                e.admission.insert(a.clone());
                a.into_bytes()
            }
            Item::Settings(d) => {
                let k = &mut settings_n[*d as usize];
                *k += 1;
                let s = settings(*d, *k, i64::from(*k) * 60, 40 + *k);
                e.settings.insert(s.clone());
                s.into_bytes()
            }
            Item::Bad => {
                e.kept += 1;
                e.bad += 1;
                bad_line(n)
            }
            Item::Envelope => {
                e.kept += 1;
                format!(
                    r#"{{"type":"rejected","ts":"2026-11-28T01:00:00.000Z","stage":"cardio-alert","line":{n},"reason":"x","raw":"junk {n}"}}"#
                )
                .into_bytes()
            }
        };
        e.lines.push(line);
    }
    e
}

fn feed(lake: &std::path::Path, lines: &[Vec<u8>], max_records: u64) -> u8 {
    feed_with(lake, lines, max_records, 1 << 20)
}

fn feed_with(
    lake: &std::path::Path,
    lines: &[Vec<u8>],
    max_records: u64,
    index_memory: usize,
) -> u8 {
    let mut input = Vec::new();
    for l in lines {
        input.extend_from_slice(l);
        input.push(b'\n');
    }
    let opts = Options {
        lake: lake.to_owned(),
        writer_id: "main".into(),
        rolling: Rolling {
            max_records,
            max_age: Duration::from_secs(3600),
        },
        index_memory,
        progress: false,
    };
    let (status, _) =
        archive(Cursor::new(input), &opts, &vitals_core::stop::Stop::never()).unwrap();
    status
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn every_valid_line_reaches_the_lake_exactly_once_and_every_bad_line_is_kept(
        items in prop::collection::vec(item(), 0..250),
        max_records in 1u64..40,
        replay_from in 0usize..250,
    ) {
        let e = build(&items);
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path().join("lake");
        let first = feed(&lake, &e.lines, max_records);
        prop_assert_eq!(first, u8::from(e.bad > 0));
        let from = replay_from.min(e.lines.len());
        feed(&lake, &e.lines[from..], max_records);

        let vitals = lake_lines(&lake, Table::Vitals);
        prop_assert_eq!(vitals.len(), e.vitals.len());
        prop_assert_eq!(vitals.into_iter().collect::<BTreeSet<_>>(), e.vitals);
        let alerts = lake_lines(&lake, Table::Alerts);
        prop_assert_eq!(alerts.len(), e.alerts.len());
        prop_assert_eq!(alerts.into_iter().collect::<BTreeSet<_>>(), e.alerts);
        for (table, sent) in [(Table::Admission, &e.admission), (Table::Settings, &e.settings)] {
            let landed = lake_lines(&lake, table);
            prop_assert_eq!(landed.len(), sent.len());
            prop_assert_eq!(&landed.into_iter().collect::<BTreeSet<_>>(), sent);
        }
        prop_assert_eq!(lake_lines(&lake, Table::Rejected).len(), e.kept);
        prop_assert!(in_progress(&lake).is_empty());
    }
}

/// What a device does next.
#[derive(Debug, Clone)]
enum Event {
    /// A reading: seq + 1, clock + 1 s.
    Reading,
    /// A restart: seq counts from this value again (0 mostly), and the clock goes on.
    Restart(u64),
    /// The clock steps by this many seconds (back or forth, across days too).
    ClockStep(i64),
    /// A restart whose clock resets to the device's first instant and seq to 0: the same
    /// identities as its first readings, with other values.
    ClockReset,
    /// A line the archive refuses.
    Bad,
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        20 => Just(Event::Reading),
        1 => prop_oneof![3 => Just(0u64), 1 => 0u64..50].prop_map(Event::Restart),
        2 => prop_oneof![-90_000i64..90_000, -60i64..60].prop_map(Event::ClockStep),
        1 => Just(Event::ClockReset),
        1 => Just(Event::Bad),
    ]
}

/// One reading; `boot` changes a value, so that a reading of another boot under the same identity
/// has other bytes.
fn reading(device: u32, seq: u64, secs: i64, boot: u32) -> Vec<u8> {
    vitals_at(device, seq, secs)
        .replace(
            "\"spo2_pct\":97",
            &format!("\"spo2_pct\":{}", 90 + boot % 10),
        )
        .into_bytes()
}

/// The lines of up to 4 devices, interleaved as the generated `(device, event)` pairs say.
fn device_lines(events: &[(u32, Event)]) -> Vec<Vec<u8>> {
    let mut state = [(0u64, 0i64, 0u32); 4]; // (next seq, clock in s, boot)
    let mut lines = Vec::new();
    for (n, (d, ev)) in events.iter().enumerate() {
        let (seq, clock, boot) = &mut state[*d as usize];
        match ev {
            Event::Reading => {
                lines.push(reading(*d, *seq, *clock, *boot));
                *seq += 1;
                *clock += 1;
            }
            Event::Restart(from) => {
                *seq = *from;
                *boot += 1;
            }
            Event::ClockStep(by) => *clock += by,
            Event::ClockReset => {
                (*seq, *clock) = (0, 0);
                *boot += 1;
            }
            Event::Bad => lines.push(bad_line(n as u64)),
        }
    }
    lines
}

/// The identity `(device_id, seq, ts)` of a reading line; `None` for a bad line.
fn identity(line: &[u8]) -> Option<(String, u64, String)> {
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    if v["type"] != "vitals" || v["ts"].as_str()?.starts_with("0000") {
        return None;
    }
    Some((
        v["device_id"].as_str()?.to_owned(),
        v["seq"].as_u64()?,
        v["ts"].as_str()?.to_owned(),
    ))
}

/// The order of the first feed.
#[derive(Debug, Clone)]
enum Order {
    Prefix(usize),
    EveryOther(usize),
    Reversed,
    Shuffled(u64),
}

fn order() -> impl Strategy<Value = Order> {
    prop_oneof![
        (0usize..400).prop_map(Order::Prefix),
        (0usize..2).prop_map(Order::EveryOther),
        Just(Order::Reversed),
        any::<u64>().prop_map(Order::Shuffled),
    ]
}

fn first_feed(lines: &[Vec<u8>], order: &Order) -> Vec<Vec<u8>> {
    match order {
        Order::Prefix(k) => lines[..(*k).min(lines.len())].to_vec(),
        Order::EveryOther(start) => lines.iter().skip(*start).step_by(2).cloned().collect(),
        Order::Reversed => lines.iter().rev().cloned().collect(),
        Order::Shuffled(seed) => {
            let mut keyed: Vec<(u64, &Vec<u8>)> = lines
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let mut x = seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                    x ^= x >> 31;
                    (x.wrapping_mul(0xbf58_476d_1ce4_e5b9), l)
                })
                .collect();
            keyed.sort();
            keyed.into_iter().map(|(_, l)| l.clone()).collect()
        }
    }
}

/// The lake a correct archive ends with after `feeds`, in order, and the status of each feed.
struct Model {
    /// Identity → the bytes filed under it.
    vitals: std::collections::BTreeMap<(String, u64, String), Vec<u8>>,
    /// Bad lines and readings that conflict with a filed identity: each kept once.
    rejected: BTreeSet<Vec<u8>>,
}

impl Model {
    fn feed(&mut self, lines: &[Vec<u8>]) -> u8 {
        let mut status = 0;
        for l in lines {
            match identity(l) {
                None => {
                    status = 1;
                    self.rejected.insert(l.clone());
                }
                Some(id) => match self.vitals.get(&id) {
                    None => {
                        self.vitals.insert(id, l.clone());
                    }
                    Some(filed) if filed == l => {}
                    Some(_) => {
                        status = 1;
                        self.rejected.insert(l.clone());
                    }
                },
            }
        }
        status
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn exactly_once_holds_for_restarts_clock_steps_and_any_replay_order(
        events in prop::collection::vec(((0u32..4), event()), 0..400),
        order in order(),
        replay_from in 0usize..400,
        max_records in 4u64..200,
        small_index in any::<bool>(),
    ) {
        let lines = device_lines(&events);
        let from = replay_from.min(lines.len());
        let feeds = [first_feed(&lines, &order), lines.clone(), lines[from..].to_vec()];
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path().join("lake");
        // An index budget of 0 keeps one day in memory and reads the others again when asked.
        let index_memory = if small_index { 0 } else { 1 << 20 };
        let mut model = Model { vitals: Default::default(), rejected: BTreeSet::new() };
        for (i, f) in feeds.iter().enumerate() {
            let expected = model.feed(f);
            let status = feed_with(&lake, f, max_records, index_memory);
            prop_assert_eq!(status, expected, "status of feed {}", i);
        }

        let landed = lake_lines(&lake, Table::Vitals);
        prop_assert_eq!(landed.len(), model.vitals.len(), "each identity once");
        let landed: BTreeSet<Vec<u8>> = landed.into_iter().map(String::into_bytes).collect();
        let expected: BTreeSet<Vec<u8>> = model.vitals.values().cloned().collect();
        prop_assert!(landed == expected, "the bytes each identity first arrived with");
        let mut kept = BTreeSet::new();
        for l in lake_lines(&lake, Table::Rejected) {
            let r: vitals_core::Rejected = serde_json::from_str(&l).unwrap();
            prop_assert!(kept.insert(r.raw_bytes()), "kept twice: {}", r.raw);
        }
        prop_assert!(kept == model.rejected, "every bad or conflicting line kept once");
        prop_assert!(in_progress(&lake).is_empty());
    }
}
