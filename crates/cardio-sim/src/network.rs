//! The network between the bedside monitors and the stream (`--net-loss`, `--net-duplicate`,
//! `--net-late`): a record may be lost on the way, arrive twice, or arrive after later records.
//!
//! A device artifact changes what a monitor measures; a network fault changes only whether and when
//! a finished line reaches the stream. So it lives here, between the ward that writes the line and
//! stdout: [`Network::draw`] decides a record's fate and [`Link`] carries it out, holding late
//! records back until their arrival time. Each fault is a one-reading artifact episode in the truth
//! file, so a consumer's handling of gaps, repeats and disorder can be scored.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;

use anyhow::Context;
use serde_json::json;
use vitals_core::{LineWriter, Timestamp};

use crate::random::SimRng;
use crate::truth::{Category, Event, TruthEvent};

/// Network faults, `name` as written in the truth file.
pub const NETWORK_LOSS: &str = "network_loss";
pub const NETWORK_DUPLICATE: &str = "network_duplicate";
pub const NETWORK_LATE: &str = "network_late";

/// Per-record probabilities of network faults.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Network {
    pub loss: f64,
    pub duplicate: f64,
    pub late: f64,
    /// Largest delay of a late record, ms.
    pub late_max_ms: i64,
}

/// What the network does to one record instead of delivering it once, on time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Never arrives: a gap in the device's `seq`.
    Lost,
    /// Arrives twice.
    Duplicated,
    /// Arrives `delay_ms` after its event time, after later records.
    Late { delay_ms: i64 },
}

impl Network {
    pub fn any(&self) -> bool {
        self.loss > 0.0 || self.duplicate > 0.0 || self.late > 0.0
    }

    /// The fate of one record sent every `interval_ms`, drawn from the bed's own random stream (so
    /// a run repeats with its seed). Draws nothing when no fault is asked for. A late record is
    /// delayed by at least one interval, so it really arrives after the device's next record.
    pub fn draw(&self, interval_ms: i64, rng: &mut SimRng) -> Option<Fault> {
        if !self.any() {
            return None;
        }
        if rng.chance(self.loss) {
            Some(Fault::Lost)
        } else if rng.chance(self.late) {
            let delay_ms =
                rng.range(interval_ms as f64, self.late_max_ms.max(interval_ms) as f64) as i64;
            Some(Fault::Late { delay_ms })
        } else if rng.chance(self.duplicate) {
            Some(Fault::Duplicated)
        } else {
            None
        }
    }
}

impl Fault {
    pub fn name(self) -> &'static str {
        match self {
            Fault::Lost => NETWORK_LOSS,
            Fault::Duplicated => NETWORK_DUPLICATE,
            Fault::Late { .. } => NETWORK_LATE,
        }
    }

    /// Whether the record is also delivered now, as usual (a duplicate's second copy).
    pub fn delivers_now(self) -> bool {
        self == Fault::Duplicated
    }

    /// The truth file's start and end of this fault, episode `episode`, for the record `seq` of
    /// `patient` read at `ts`.
    pub fn truth_events(
        self,
        ts: Timestamp,
        patient: u32,
        seq: u64,
        episode: u32,
    ) -> [TruthEvent; 2] {
        let detail = match self {
            Fault::Late { delay_ms } => json!({"seq": seq, "delay_ms": delay_ms}),
            Fault::Lost | Fault::Duplicated => json!({"seq": seq}),
        };
        [(Event::Start, Some(detail)), (Event::End, None)].map(|(event, detail)| TruthEvent {
            ts,
            event,
            category: Category::Artifact,
            name: self.name(),
            episode,
            patient,
            phase: None,
            severity: None,
            detail,
        })
    }
}

/// The way from the ward to the stream: the line being sent, the late records the network holds
/// back (released in order of arrival time, then of sending), and the `--count` limit.
pub struct Link<W: Write> {
    out: LineWriter<W>,
    /// The next record's line, written by the ward.
    pub line: Vec<u8>,
    late: BinaryHeap<Reverse<(i64, u64, Vec<u8>)>>,
    late_order: u64,
    written: u64,
    limit: u64,
}

impl<W: Write> Link<W> {
    /// A link to `out` that stops after `limit` records (`--count`).
    pub fn new(out: W, limit: u64) -> Self {
        Link {
            out: LineWriter::new(out),
            line: Vec::with_capacity(512),
            late: BinaryHeap::new(),
            late_order: 0,
            written: 0,
            limit,
        }
    }

    /// Records written to the stream so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Whether `--count` still allows a record.
    pub fn open(&self) -> bool {
        self.written < self.limit
    }

    /// Writes the line in `self.line`; false once `--count` is reached.
    pub fn emit(&mut self) -> anyhow::Result<bool> {
        self.out
            .write_line(&self.line)
            .context("cannot write to stdout")?;
        self.written += 1;
        Ok(self.open())
    }

    /// Writes a record that is not a reading (`admission`, `settings`): it does not count toward
    /// `--count`, and the network does not lose, delay or repeat it.
    pub fn write_other(&mut self, line: &[u8]) -> anyhow::Result<()> {
        self.out.write_line(line).context("cannot write to stdout")
    }

    /// Carries out `fault` on the line in `self.line`, read at `ts_ms`: a lost record is dropped, a
    /// late one held back, a duplicate's first copy written (the caller writes the second as
    /// usual, see [`Fault::delivers_now`]). False once `--count` is reached.
    pub fn divert(&mut self, fault: Fault, ts_ms: i64) -> anyhow::Result<bool> {
        match fault {
            Fault::Lost => Ok(true),
            Fault::Late { delay_ms } => {
                self.late_order += 1;
                self.late.push(Reverse((
                    ts_ms + delay_ms,
                    self.late_order,
                    self.line.clone(),
                )));
                Ok(true)
            }
            Fault::Duplicated => self.emit(),
        }
    }

    /// Writes the late records due by `ts_ms` (all of them for `i64::MAX`); false once `--count`
    /// is reached.
    pub fn emit_late_until(&mut self, ts_ms: i64) -> anyhow::Result<bool> {
        while let Some(Reverse((due, _, _))) = self.late.peek() {
            if *due > ts_ms {
                break;
            }
            let Some(Reverse((_, _, bytes))) = self.late.pop() else {
                break;
            };
            self.line = bytes;
            if !self.emit()? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether the network holds late records.
    pub fn holds_late(&self) -> bool {
        !self.late.is_empty()
    }

    pub fn flush(&mut self) -> anyhow::Result<()> {
        self.out.flush().context("cannot write to stdout")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `line` read at `ts_ms` through `link` with `fault`, the way the ward does.
    fn send(link: &mut Link<&mut Vec<u8>>, line: &str, ts_ms: i64, fault: Option<Fault>) -> bool {
        link.line = line.as_bytes().to_vec();
        let Some(fault) = fault else {
            return link.emit().unwrap();
        };
        let more = link.divert(fault, ts_ms).unwrap();
        if fault.delivers_now() && more {
            return link.emit().unwrap();
        }
        more
    }

    #[test]
    fn lost_records_vanish_duplicates_arrive_twice_and_late_ones_in_arrival_order() {
        let mut out = Vec::new();
        let mut link = Link::new(&mut out, u64::MAX);
        send(&mut link, "a", 0, Some(Fault::Late { delay_ms: 300 }));
        send(&mut link, "c", 100, Some(Fault::Late { delay_ms: 100 }));
        send(&mut link, "b", 0, Some(Fault::Late { delay_ms: 200 }));
        send(&mut link, "d", 150, Some(Fault::Lost));
        send(&mut link, "e", 150, Some(Fault::Duplicated));
        // c and b are both due at 200: they arrive in the order they were sent, not by content.
        assert!(link.emit_late_until(250).unwrap());
        send(&mut link, "f", 250, None);
        assert!(link.holds_late());
        assert!(link.emit_late_until(i64::MAX).unwrap());
        assert!(!link.holds_late());
        assert_eq!(link.written(), 6);
        link.flush().unwrap();
        drop(link);
        assert_eq!(String::from_utf8(out).unwrap(), "e\ne\nc\nb\nf\na\n");
    }

    #[test]
    fn the_count_limit_stops_a_duplicate_after_its_first_copy() {
        let mut out = Vec::new();
        let mut link = Link::new(&mut out, 1);
        assert!(link.open());
        assert!(!send(&mut link, "a", 0, Some(Fault::Duplicated)));
        assert!(!link.open());
        link.flush().unwrap();
        drop(link);
        assert_eq!(out, b"a\n");
    }

    #[test]
    fn without_faults_nothing_is_drawn_so_the_seed_gives_the_same_ward() {
        let mut rng = SimRng::new(7, 0);
        assert_eq!(Network::default().draw(1000, &mut rng), None);
        assert_eq!(rng.next_u64(), SimRng::new(7, 0).next_u64());
    }

    #[test]
    fn a_late_record_waits_at_least_one_interval_and_at_most_the_limit() {
        let net = Network {
            late: 1.0,
            late_max_ms: 5000,
            ..Network::default()
        };
        let mut rng = SimRng::new(1, 0);
        for _ in 0..1000 {
            let Some(Fault::Late { delay_ms }) = net.draw(1000, &mut rng) else {
                panic!("every record is late");
            };
            assert!((1000..=5000).contains(&delay_ms), "{delay_ms}");
        }
    }
}
