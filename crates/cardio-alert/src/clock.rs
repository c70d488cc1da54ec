//! Time in the alarm engine: one clock per patient, and a stream clock no device can drag.
//!
//! Every decision is a function of the input alone (event times and arrival order, never the
//! wall clock), so a replay of the same bytes gives the same alerts, in the same order, with the
//! same ids.
//!
//! A monitor's clock can jump hours ahead, be set back, or write local time with `Z`. One device's
//! clock must never silence an alarm, its own patient's or anyone else's, so no decision compares
//! the `ts` of two different devices:
//!
//! - **Order within a patient** is the device's `seq`: a reading with a higher `seq` is the next
//!   one even if its `ts` is earlier (a clock set back); `seq` 0 after a higher one, or a lower
//!   `seq` at a later `ts`, is a restarted device (whose clock, which a restart may have reset,
//!   counts as right from then on); only a lower `seq` at an earlier `ts` is a late (reordered)
//!   record, which is scored but moves no alarm (docs/spec.md §3).
//! - **Each patient has its own clock** for condition delays, clearing holds, latches, NEWS2
//!   carry-forward and the SpO2 artifact hold. It advances by the device's own `ts` difference
//!   between two readings while that difference is believable: not negative, and no more than
//!   [`CLOCK_STEP_TOLERANCE_MS`] beyond the time the stream has seen pass since the patient's
//!   previous reading (when no other patient sent anything meanwhile: no more than
//!   [`READING_GAP_MAX_MS`] per `seq` step; a device alone in the stream is believed). Otherwise
//!   the device's clock stepped: the patient's clock advances by the stream's time instead, and
//!   the technical alarm `clock_skew` names the device and the size of the step until its clock
//!   agrees again. Alert records keep the reading's own `ts`; durations in messages and `alert_id`
//!   use the patient's clock.
//! - **The stream clock** (`device_silent`, eviction, the sweep) advances with the patients' own
//!   progress: each patient has a place on it (the stream clock at its first reading, plus every
//!   advance of its own clock since), and a reading moves the stream clock up to its patient's
//!   place, by at most [`STREAM_STEP_MAX_MS`] while other patients are sending. So one reading
//!   dated hours ahead moves it by nothing (its clock stepped, so its patient advances by the
//!   stream's time), a device whose clock is minutes off moves it at the same rate as any other,
//!   and a device that sends a backlog in a burst does not push it ahead.
//! - **Silence** is measured per patient on the stream clock from the patient's last arrival, so
//!   a Kafka partition that arrives minutes behind another (a replica catching up a backlog)
//!   raises no `device_silent` as long as its readings keep arriving.
//! - **`seq` gaps** are lost readings only as far as the device can have sent them (at most
//!   [`READINGS_PER_SECOND_MAX`] a second of its own clock, plus as many again); a larger jump (to
//!   2^64 − 1, say) is a corrupt or re-based counter, reported as such and not counted. Counts
//!   saturate.
//!
//! What arrival order alone cannot tell, and is not claimed: a partition that arrives in bursts
//! longer than `device_silent`'s 30 s leaves the other partition's patients without readings that
//! long, and they are reported silent; a device whose clock is wrong from its very first reading
//! is consistent with itself (its alarms run right, its records are dated wrong) and raises no
//! `clock_skew`; a jump of a device alone in the stream, or of under 15 min per `seq` step while
//! no other patient sent anything, is believed; a device that sends no usable `seq` (always the
//! same) is ordered by `ts` alone.

use vitals_core::Vitals;

/// How far a device's own clock may run beyond the time the stream has seen pass between two of its
/// readings before it counts as a step (`clock_skew`). A minute absorbs network jitter and a
/// Kafka partition that arrives a little behind; a monitor on local time, a DST change or a clock
/// set by hand is off by 30 min or more.
pub const CLOCK_STEP_TOLERANCE_MS: i64 = 60_000;

/// With no other patient's reading in between to compare with, while other patients are still
/// sending, the most one `seq` step may advance a device's clock: a monitor that measures NIBP
/// alone sends every 5–15 min. A device alone in the stream (no other patient has sent for
/// [`LIVE_WITHIN_MS`]) has nothing to compare with, and its clock is believed.
pub const READING_GAP_MAX_MS: i64 = 15 * 60_000;

/// A patient counts as still sending when a reading arrived within this much stream time.
pub(crate) const LIVE_WITHIN_MS: i64 = 60_000;

/// The most one reading may move the stream clock while other patients are sending (far less than
/// `device_silent`'s 30 s, so that no single device's clock can make every other patient look
/// silent).
pub const STREAM_STEP_MAX_MS: i64 = 5_000;

/// A device sends at most this many readings a second: a `seq` gap larger than that over the time
/// its clock says passed is a corrupt or re-based counter, not lost readings.
const READINGS_PER_SECOND_MAX: u64 = 10;

/// One patient's place in time (module header): its device and the device's `seq` and clock, the
/// patient's own clock, and the patient's place on the stream clock.
#[derive(Debug)]
pub(crate) struct PatientClock {
    pub device_id: String,
    /// Hash of `device_id`, so that the per-record "same device?" check stays in this struct.
    pub device_hash: u64,
    /// Hash of the device before the current one (0: none), to tell its late records from a
    /// device that takes over.
    prev_device: u64,
    seq: u64,
    /// The patient's clock at the first reading (for the patient-days monitored).
    first_ts: i64,
    /// The device's `ts` of the latest reading in order (the device's clock).
    last_ts: i64,
    /// The patient's clock: the event time every alarm, carry-forward and hold of this patient uses
    /// (module header). Equal to the device's `ts` until its clock steps.
    pub clock: i64,
    /// `last_ts - clock` when the device's clock was last taken to be right (its first reading).
    clock_base: i64,
    /// The stream clock when the latest reading in order arrived (silence is measured from it).
    pub seen_at: i64,
    /// Where the patient's own progress puts it on the stream clock: the stream clock at its first
    /// reading plus every advance of its clock since. A device that sends a backlog in a burst, or
    /// a partition that arrives behind, stays behind the stream clock and does not move it.
    at: i64,
}

/// Where a reading stands in its patient's order (module header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arrival {
    New,
    /// The next reading of the current device, `seq_step` after the previous one.
    Next {
        seq_step: u64,
    },
    /// The current device counting again from a lower `seq` (it restarted).
    Restart,
    /// The first reading of a device that takes over from another.
    NewDevice,
    Late,
    Duplicate,
}

/// A gap in the device's `seq` found by [`PatientClock::advance`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SeqGap {
    /// The first missing `seq`.
    pub from_seq: u64,
    pub lost: u64,
    /// False when the gap is larger than the device could have sent in the time since its previous
    /// reading ([`READINGS_PER_SECOND_MAX`]): a corrupt or re-based counter, not lost readings.
    pub counted: bool,
}

/// What one fresh reading did to its patient's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Advance {
    pub gap: Option<SeqGap>,
    /// The device's clock stepped between two readings in order: the patient's clock advanced by
    /// the stream's time instead.
    pub stepped: bool,
}

impl PatientClock {
    /// The clock of a patient whose first reading is `v`, arriving at stream time `stream`.
    pub fn new(v: &Vitals, device_hash: u64, stream: i64) -> Self {
        let now = v.ts.millis();
        PatientClock {
            device_id: v.device_id.clone(),
            device_hash,
            prev_device: 0,
            seq: v.seq,
            first_ts: now,
            last_ts: now,
            clock: now,
            clock_base: 0,
            seen_at: stream,
            at: stream,
        }
    }

    /// Where a reading of a known patient stands (module header): its device's `seq` orders it,
    /// and its `ts` only tells a restarted device or a late record apart when `seq` cannot.
    pub fn arrival(&self, seq: u64, ts: i64, device_hash: u64) -> Arrival {
        let p = self;
        if p.device_hash != device_hash {
            // A late record of the device this one took over from stays late; any other device
            // takes over, whatever its clock says.
            return if device_hash == p.prev_device && ts <= p.last_ts {
                Arrival::Late
            } else {
                Arrival::NewDevice
            };
        }
        if seq == p.seq && ts == p.last_ts {
            Arrival::Duplicate
        } else if seq > p.seq {
            Arrival::Next {
                seq_step: seq - p.seq,
            }
        } else if ts > p.last_ts || (seq == 0 && p.seq > 0) {
            // Counting again from a lower seq later, or from 0 at any time: the device restarted.
            Arrival::Restart
        } else {
            Arrival::Late
        }
    }

    /// Moves the patient's clock and the stream clock on for a fresh reading `v` (neither late nor
    /// a duplicate); `live`: patients still sending at the last sweep.
    pub fn advance(
        &mut self,
        arrival: Arrival,
        v: &Vitals,
        device_hash: u64,
        stream: &mut i64,
        live: usize,
    ) -> Advance {
        let p = self;
        let now = v.ts.millis();
        // The device's own advance since its previous reading, and the stream's.
        let own = now.saturating_sub(p.last_ts);
        let seen = *stream - p.seen_at;
        let mut seq_step = 1;
        let mut gap = None;
        if let Arrival::Next { seq_step: step } = arrival
            && step > 1
        {
            let lost = step - 1;
            let possible = (own.max(0) as u64 / 1000).saturating_mul(READINGS_PER_SECOND_MAX);
            let counted = lost <= possible.saturating_add(READINGS_PER_SECOND_MAX);
            if counted {
                seq_step = step;
            }
            gap = Some(SeqGap {
                from_seq: p.seq.saturating_add(1),
                lost,
                counted,
            });
        }
        let believable = own >= 0
            && if seen > 0 {
                own <= seen + CLOCK_STEP_TOLERANCE_MS
            } else {
                live <= 1 || own as u64 <= seq_step.saturating_mul(READING_GAP_MAX_MS as u64)
            };
        let advance = if believable { own } else { seen };
        // The patient's own progress moves the stream clock, by at most a few seconds a reading
        // while other patients are sending too.
        p.at = p.at.saturating_add(advance);
        let cap = if live <= 1 {
            i64::MAX
        } else {
            STREAM_STEP_MAX_MS
        };
        *stream = (*stream).max(p.at.min(stream.saturating_add(cap)));
        if arrival == Arrival::NewDevice {
            p.prev_device = p.device_hash;
            p.device_id.clone_from(&v.device_id);
            p.device_hash = device_hash;
        }
        p.clock += advance;
        if matches!(arrival, Arrival::NewDevice | Arrival::Restart) {
            // A new or restarted device's clock is what it is (a restart may well have
            // reset it): only its later steps are skew.
            p.clock_base = now - p.clock;
        }
        p.seq = v.seq;
        p.last_ts = now;
        p.seen_at = *stream;
        Advance {
            gap,
            stepped: !believable && matches!(arrival, Arrival::Next { .. }),
        }
    }

    /// The patient's clock at a late or repeated reading dated `ts`: as far before the latest as
    /// its device's clock says.
    pub fn at_late(&self, ts: i64) -> i64 {
        self.clock - self.last_ts.saturating_sub(ts).max(0)
    }

    /// Where a record of this patient's device dated `ts` (an `admission` or `settings` record)
    /// falls on the patient's clock: as far from the latest reading as the device's clock says, so
    /// a device whose clock stepped places its records where it places its readings.
    pub fn on_patient_clock(&self, ts: i64) -> i64 {
        self.clock.saturating_add(ts.saturating_sub(self.last_ts))
    }

    /// How far the device's clock has stepped from the patient's clock (+: ahead).
    pub fn skew_ms(&self) -> i64 {
        self.last_ts - self.clock - self.clock_base
    }

    /// The patient's monitoring time so far, first to latest reading.
    pub fn monitored_ms(&self) -> i64 {
        self.clock - self.first_ts
    }
}
