//! Chaos test: feed a generated stream with bad lines into the real binary, SIGKILL it at random
//! moments many times (while filing, publishing, recovering), restart it each time with a replay
//! from a random earlier point (sometimes only every other line of it, leaving a hole at every
//! other seq), finally re-feed the whole input, then check the lake holds every valid record
//! exactly once, every bad line once in `_rejected/`, and `check` passes. Each patient's
//! `admission` record and its `settings` records (the unit profile, then the nurse's changes) are
//! in the stream too, and must land once each in `admission/` and `settings/`. Some devices restart
//! their seq with the clock set back (into the day before), and some step their clock back
//! between two readings: their readings too must land once each.
//!
//! `CHAOS_KILLS` (default 100) sets the number of kills, `CHAOS_SEED` the random seed (printed).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The input: `(lines, valid vitals lines, alert lines, bad lines (raw bytes), envelopes)`.
struct Input {
    lines: Vec<Vec<u8>>,
    vitals: BTreeSet<String>,
    alerts: BTreeSet<String>,
    admission: BTreeSet<String>,
    settings: BTreeSet<String>,
    /// Exact bytes of each line the archive must refuse and keep.
    bad: BTreeSet<Vec<u8>>,
    /// Rejected envelopes from an upstream stage, filed as they are.
    envelopes: BTreeSet<String>,
}

fn generate(rng: &mut Rng, devices: u32, per_device: u64) -> Input {
    let mut input = Input {
        lines: Vec::new(),
        vitals: BTreeSet::new(),
        alerts: BTreeSet::new(),
        admission: BTreeSet::new(),
        settings: BTreeSet::new(),
        bad: BTreeSet::new(),
        envelopes: BTreeSet::new(),
    };
    let mut n = 0u64;
    let mut settings_n = vec![0u32; devices as usize];
    for at in 0..per_device {
        for d in 0..devices {
            let (seq, secs) = device_clock(d, at, per_device);
            // The patient's admission and unit profile before the first reading, and now and then
            // a change of limits by the nurse.
            if at == 0 || rng.below(200) == 0 {
                let k = &mut settings_n[d as usize];
                *k += 1;
                if at == 0 {
                    let a = admission(d);
                    input.lines.push(a.clone().into_bytes());
                    input.admission.insert(a);
                }
                let s = settings(d, *k, secs, 40 + *k);
                input.lines.push(s.clone().into_bytes());
                input.settings.insert(s);
            }
            let v = vitals_at(d, seq, secs);
            input.lines.push(v.clone().into_bytes());
            input.vitals.insert(v);
            n += 1;
            match rng.below(400) {
                0..=3 => {
                    let a = alert(d, n, ["raised", "escalated", "cleared"][(n % 3) as usize]);
                    input.lines.push(a.clone().into_bytes());
                    input.alerts.insert(a);
                }
                4 | 5 => {
                    let b = bad_line(n);
                    input.lines.push(b.clone());
                    input.bad.insert(b);
                }
                6 => {
                    let e = format!(
                        r#"{{"type":"rejected","ts":"2026-11-28T01:00:00.000Z","stage":"cardio-alert","line":{n},"reason":"not JSON","raw":"upstream garbage {n}"}}"#
                    );
                    input.lines.push(e.clone().into_bytes());
                    input.envelopes.insert(e);
                }
                _ => {}
            }
        }
    }
    input
}

/// The seq and event time (s) of device `d`'s reading number `at`: one device in four restarts
/// from seq 0 halfway with its clock set back into the day before, one in four steps its clock 30 s
/// back at a third, one in four does both; identities `(device_id, seq, ts)` stay distinct.
fn device_clock(d: u32, at: u64, per_device: u64) -> (u64, i64) {
    let (restarts, steps) = (d % 4 == 1 || d % 4 == 3, d % 4 >= 2);
    let mut secs = at as i64;
    if steps && at >= per_device / 3 {
        secs -= 30;
    }
    if restarts && at >= per_device / 2 {
        return (at - per_device / 2, secs - 100_000);
    }
    (at, secs)
}

fn joined(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines.len() * 330);
    for l in lines {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    out
}

/// Bytes written to the archive's stdin at a time, a millisecond apart.
const CHUNK: usize = 16 * 1024;

#[test]
fn sigkill_at_random_moments_then_replay_keeps_every_record_exactly_once() {
    let kills_wanted: u32 = std::env::var("CHAOS_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let seed: u64 = std::env::var("CHAOS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("chaos: seed {seed} (CHAOS_SEED={seed} repeats this run)");
    let mut rng = Rng(seed);
    let input = generate(&mut rng, 40, 1000);
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let started = Instant::now();

    let mut kills = 0u32;
    let mut runs = 0u32;
    // The input grows like a tee file that upstream keeps appending to: each run is fed from a
    // random earlier point (a replay) to a frontier that moves on, so every run has new records
    // to write when the kill comes. The frontier reaches the end after about half the kills.
    let total = input.lines.len();
    let step = (2 * total / kills_wanted.max(1) as usize).max(1);
    let mut frontier = 0usize;
    while kills < kills_wanted {
        runs += 1;
        frontier = (frontier + step).min(total);
        let from = match rng.below(4) {
            0 => 0,
            _ => frontier.saturating_sub(rng.below(3 * step as u64) as usize),
        };
        // One run in four gets every other line only: a hole at every other seq, filled later.
        let data = match rng.below(4) {
            0 => {
                let every_other: Vec<Vec<u8>> = input.lines[from..frontier]
                    .iter()
                    .skip(rng.below(2) as usize)
                    .step_by(2)
                    .cloned()
                    .collect();
                joined(&every_other)
            }
            _ => joined(&input.lines[from..frontier]),
        };
        let chunks = data.len().div_ceil(CHUNK) as u64;
        let max_records = 1 + rng.below(3000);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.path().join("stderr.log"))
            .unwrap();
        let mut child = archive(&lake)
            .args([
                "--max-records",
                &max_records.to_string(),
                "--max-age",
                "20ms",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let feeder = std::thread::spawn(move || {
            // Paced, as a live stream is, so that kills land while records are being filed.
            for chunk in data.chunks(CHUNK) {
                if stdin.write_all(chunk).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        // Mostly while the run's records stream in (about a millisecond a chunk), sometimes in
        // the first milliseconds (lock, recovery, first file).
        let delay = match rng.below(5) {
            0 => rng.below(5),
            _ => rng.below(chunks + chunks / 4 + 5),
        };
        std::thread::sleep(Duration::from_millis(delay));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        let status = child.wait().unwrap();
        feeder.join().unwrap();
        assert!(
            status.code().is_none_or(|c| c <= 1),
            "run {runs} failed with {status}"
        );
    }

    // Finally the whole input once more, to the end.
    let out = run(&lake, &["--max-records", "700"], &joined(&input.lines));
    assert_eq!(
        out.status.code(),
        Some(1),
        "bad lines: status 1. {}",
        stderr(&out)
    );

    let counts = identity_counts(&lake);
    let twice: Vec<_> = counts.iter().filter(|(_, c)| **c != 1).take(5).collect();
    assert!(twice.is_empty(), "readings not exactly once: {twice:?}");
    let landed: BTreeSet<String> = lake_lines(&lake, Table::Vitals).into_iter().collect();
    assert_eq!(landed.len(), input.vitals.len(), "every reading, no more");
    assert!(landed == input.vitals, "the lake holds the input's bytes");

    let alerts = lake_lines(&lake, Table::Alerts);
    assert_eq!(alerts.len(), input.alerts.len(), "every alert event once");
    assert_eq!(alerts.into_iter().collect::<BTreeSet<_>>(), input.alerts);
    for (table, sent) in [
        (Table::Admission, &input.admission),
        (Table::Settings, &input.settings),
    ] {
        let landed = lake_lines(&lake, table);
        assert_eq!(landed.len(), sent.len(), "every {table} record once");
        assert!(
            &landed.into_iter().collect::<BTreeSet<_>>() == sent,
            "{table}"
        );
    }

    let mut refused: BTreeMap<Vec<u8>, u32> = BTreeMap::new();
    let mut envelopes: BTreeMap<String, u32> = BTreeMap::new();
    for l in lake_lines(&lake, Table::Rejected) {
        let r: vitals_core::Rejected = serde_json::from_str(&l).unwrap();
        if r.stage == "cardio-archive" {
            *refused.entry(r.raw_bytes()).or_default() += 1;
        } else {
            *envelopes.entry(l).or_default() += 1;
        }
    }
    assert!(refused.values().all(|&c| c == 1), "each bad line once");
    assert_eq!(
        refused.keys().cloned().collect::<BTreeSet<_>>(),
        input.bad,
        "every bad line kept with its exact bytes"
    );
    assert!(envelopes.values().all(|&c| c == 1));
    assert_eq!(
        envelopes.keys().cloned().collect::<BTreeSet<_>>(),
        input.envelopes
    );
    assert!(in_progress(&lake).is_empty(), "nothing left hidden");

    assert_check_passes(&lake);
    let log = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap();
    let salvaged = log.matches(": recovered ").count();
    let torn = log.matches("torn last line").count();
    eprintln!(
        "chaos: survived {kills} SIGKILLs over {runs} runs ({salvaged} hidden files salvaged, \
         {torn} with a torn last line); {} readings, {} alerts, {} admission, {} settings, \
         {} bad lines, {} envelopes exactly once; {:.1} s",
        input.vitals.len(),
        input.alerts.len(),
        input.admission.len(),
        input.settings.len(),
        input.bad.len(),
        input.envelopes.len(),
        started.elapsed().as_secs_f64()
    );
}
