//! Property (STYLE.md): whatever the mix of readings, alerts, bad lines and upstream envelopes,
//! however files roll, and whatever part of the input is replayed, every valid input line reaches
//! the lake exactly once, byte for byte, and every bad line is kept once. Runs the library's
//! `archive` in-process on the generated input.

mod common;

use std::collections::BTreeSet;
use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use cardio_archive::archive::{Options, archive};
use cardio_archive::writer::Rolling;
use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Item {
    Reading(u32),
    Alert(u32),
    Bad,
    Envelope,
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        8 => (0u32..6).prop_map(Item::Reading),
        1 => (0u32..6).prop_map(Item::Alert),
        1 => Just(Item::Bad),
        1 => Just(Item::Envelope),
    ]
}

struct Expected {
    lines: Vec<Vec<u8>>,
    vitals: BTreeSet<String>,
    alerts: BTreeSet<String>,
    kept: usize,
    bad: usize,
}

fn build(items: &[Item]) -> Expected {
    let mut e = Expected {
        lines: vec![],
        vitals: BTreeSet::new(),
        alerts: BTreeSet::new(),
        kept: 0,
        bad: 0,
    };
    let mut seq = [0u64; 6];
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
        index_memory: 1 << 20,
        progress: false,
    };
    let (status, _) = archive(Cursor::new(input), &opts, Arc::new(AtomicBool::new(false))).unwrap();
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

        let vitals = lake_lines(&lake, "vitals");
        prop_assert_eq!(vitals.len(), e.vitals.len());
        prop_assert_eq!(vitals.into_iter().collect::<BTreeSet<_>>(), e.vitals);
        let alerts = lake_lines(&lake, "alerts");
        prop_assert_eq!(alerts.len(), e.alerts.len());
        prop_assert_eq!(alerts.into_iter().collect::<BTreeSet<_>>(), e.alerts);
        prop_assert_eq!(lake_lines(&lake, "_rejected").len(), e.kept);
        prop_assert!(in_progress(&lake).is_empty());
    }
}
