//! What the lake already holds, as identities, so that a replay adds nothing twice (the Kafka
//! Connect idea of exactly-once by identity rather than by trusting the input).
//!
//! The identity of a reading is `(device_id, seq, ts)`: a device that restarts its count, or whose
//! clock steps, sends other readings under the same `(device_id, seq)`, and those are readings to
//! keep. The marks kept here are only a summary that answers "certainly new" quickly:
//!
//! - vitals: per device, the seqs that *may* be in the lake, as a short list of ranges. A device
//!   that streams in order is one range (its high-water mark), so memory grows with devices, not
//!   with records. Gaps (readings lost upstream, replays in another order) are extra ranges, capped
//!   at [`MAX_RANGES_PER_DEVICE`]: past the cap the oldest gap is closed, which only makes the
//!   summary less sure. A reading whose seq is outside the summary is new; one inside it is
//!   looked up in the lake itself (`lake_index.rs`), which has the last word.
//! - alerts: a hash of `(alert_id, state, priority)`; rejected lines: the hash of their exact bytes.
//!   Both are rare (a few per patient-hour), 8 bytes each.
//! - admission and settings records: a hash of the identity (`(patient_id, ts)`, `(settings_id, ts)`)
//!   with a hash of the line's bytes, 16 bytes each. They are rarer still (one admission per
//!   patient, a few settings per stay), so, unlike readings, all are kept and the marks alone
//!   tell a replay (same bytes) from another record under a taken identity (other bytes).
//!
//! The marks are saved in the writer's checkpoint after every publish round (see `writer.rs`).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

/// Bounds memory per device; more gaps than this only send more readings to the lake lookup.
pub const MAX_RANGES_PER_DEVICE: usize = 64;

/// A set of sequence numbers as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeqSet {
    ranges: Vec<(u64, u64)>,
}

impl SeqSet {
    /// Adds `seq`; false when it may have been there already (it was, or it lies in a gap that
    /// the cap closed, see the module).
    pub fn insert(&mut self, seq: u64) -> bool {
        self.insert_capped(seq, MAX_RANGES_PER_DEVICE)
    }

    /// Adds `seq` keeping every gap (for `check`, which must see them all).
    pub fn insert_exact(&mut self, seq: u64) -> bool {
        self.insert_capped(seq, usize::MAX)
    }

    fn insert_capped(&mut self, seq: u64, cap: usize) -> bool {
        // The common case: the next reading of a device streaming in order.
        if let Some(last) = self.ranges.last_mut() {
            if seq == last.1.wrapping_add(1) && seq != 0 {
                last.1 = seq;
                return true;
            }
            if seq >= last.0 && seq <= last.1 {
                return false;
            }
        }
        // Index of the first range that starts after seq.
        let i = self.ranges.partition_point(|&(lo, _)| lo <= seq);
        if i > 0 && self.ranges[i - 1].1 >= seq {
            return false;
        }
        let joins_left = i > 0 && self.ranges[i - 1].1 + 1 == seq;
        let joins_right = i < self.ranges.len() && seq + 1 == self.ranges[i].0;
        match (joins_left, joins_right) {
            (true, true) => {
                self.ranges[i - 1].1 = self.ranges[i].1;
                self.ranges.remove(i);
            }
            (true, false) => self.ranges[i - 1].1 = seq,
            (false, true) => self.ranges[i].0 = seq,
            (false, false) => self.ranges.insert(i, (seq, seq)),
        }
        if self.ranges.len() > cap {
            let (_, hi) = self.ranges.remove(1);
            self.ranges[0].1 = hi;
        }
        true
    }

    pub fn contains(&self, seq: u64) -> bool {
        let i = self.ranges.partition_point(|&(lo, _)| lo <= seq);
        i > 0 && self.ranges[i - 1].1 >= seq
    }

    pub fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges
    }

    /// Number of seqs in the set.
    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|&(lo, hi)| hi - lo + 1).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The holes between the ranges: readings never seen.
    pub fn gaps(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.ranges.windows(2).map(|w| (w[0].1 + 1, w[1].0 - 1))
    }
}

/// The hasher of the device map: xxh3 of the id with a per-process random seed. SipHash (std's)
/// was a tenth of the filing thread's time, and the seed keeps crafted ids from colliding on
/// purpose (hash flooding).
#[derive(Debug, Clone, Copy)]
pub struct IdHash {
    seed: u64,
}

impl Default for IdHash {
    fn default() -> Self {
        IdHash {
            seed: random_seed(),
        }
    }
}

/// A seed for in-memory hashes that differs per process (std's `RandomState` keys), so that
/// nobody can craft input whose hashes collide.
pub fn random_seed() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64)
}

impl std::hash::BuildHasher for IdHash {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher(self.seed)
    }
}

#[derive(Debug)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = xxhash_rust::xxh3::xxh3_64_with_seed(bytes, self.0);
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = self.0.rotate_left(17) ^ n as u64;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Whether the lake may already hold a reading with a device's seq.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The seq was never filed for this device: the reading is new.
    Never,
    /// It may have been: the lake has the last word.
    Maybe,
}

/// Everything the lake already holds, as identities.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Marks {
    /// Device id (its UTF-8 bytes) → seqs that may be in the lake.
    pub devices: HashMap<Box<[u8]>, SeqSet, IdHash>,
    pub alerts: HashSet<u64>,
    pub rejected: HashSet<u64>,
    /// Identity hash → content hash of each admission and settings record.
    pub keyed: HashMap<u64, u64>,
}

/// What the marks say about an admission or settings record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyedSeen {
    /// Its identity is new: file it (it is now marked).
    New,
    /// This very record is in the lake: skip it.
    Same,
    /// Another record holds its identity: quarantine it.
    Other,
}

impl Marks {
    /// Adds a reading's seq to its device's summary and says whether it may have been there.
    pub fn add_reading(&mut self, device: &[u8], seq: u64) -> Seen {
        let seqs = match self.devices.get_mut(device) {
            Some(d) => d,
            None => self.devices.entry(device.into()).or_default(),
        };
        if seqs.insert(seq) {
            Seen::Never
        } else {
            Seen::Maybe
        }
    }

    pub fn insert_alert(&mut self, id: u64) -> bool {
        self.alerts.insert(id)
    }

    pub fn insert_rejected(&mut self, id: u64) -> bool {
        self.rejected.insert(id)
    }

    /// Marks an admission or settings record unless its identity is taken already.
    pub fn insert_keyed(&mut self, key: u64, fingerprint: u64) -> KeyedSeen {
        match self.keyed.entry(key) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(fingerprint);
                KeyedSeen::New
            }
            std::collections::hash_map::Entry::Occupied(o) if *o.get() == fingerprint => {
                KeyedSeen::Same
            }
            std::collections::hash_map::Entry::Occupied(_) => KeyedSeen::Other,
        }
    }

    /// Text form for the checkpoint: one line per device (`d <json id> lo-hi …`), per alert
    /// (`a <hex>`), per rejected line (`r <hex>`) and per admission or settings record
    /// (`k <identity hex> <content hex>`).
    pub fn encode(&self, out: &mut String) {
        // Written on the filing thread after every round, so kept cheap: no sorting, and plain
        // ids (the normal case) are copied between quotes instead of going through serde.
        out.reserve(
            self.devices.len() * 40
                + (self.alerts.len() + self.rejected.len()) * 19
                + self.keyed.len() * 36,
        );
        for (id, seqs) in &self.devices {
            out.push_str("d ");
            match std::str::from_utf8(id) {
                Ok(plain)
                    if plain
                        .bytes()
                        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\') =>
                {
                    out.push('"');
                    out.push_str(plain);
                    out.push('"');
                }
                _ => {
                    let id = String::from_utf8_lossy(id);
                    out.push_str(&serde_json::to_string(&id).expect("a string serialises"));
                }
            }
            for (lo, hi) in seqs.ranges() {
                let _ = write!(out, " {lo}-{hi}");
            }
            out.push('\n');
        }
        for (tag, set) in [("a", &self.alerts), ("r", &self.rejected)] {
            for h in set {
                let _ = writeln!(out, "{tag} {h:016x}");
            }
        }
        for (key, fingerprint) in &self.keyed {
            let _ = writeln!(out, "k {key:016x} {fingerprint:016x}");
        }
    }

    /// Reads one line of the text form; false when the line is not one.
    pub fn decode_line(&mut self, line: &str) -> bool {
        if let Some(rest) = line.strip_prefix("d ") {
            let mut de = serde_json::Deserializer::from_str(rest).into_iter::<String>();
            let Some(Ok(id)) = de.next() else {
                return false;
            };
            let tail = &rest[de.byte_offset()..];
            let mut ranges = Vec::new();
            for r in tail.split_ascii_whitespace() {
                let Some((lo, hi)) = r.split_once('-') else {
                    return false;
                };
                let (Ok(lo), Ok(hi)) = (lo.parse::<u64>(), hi.parse::<u64>()) else {
                    return false;
                };
                if lo > hi {
                    return false;
                }
                ranges.push((lo, hi));
            }
            let seqs = self.devices.entry(id.into_bytes().into()).or_default();
            for (lo, hi) in ranges {
                seqs.insert_range(lo, hi);
            }
            return true;
        }
        if let Some(rest) = line.strip_prefix("k ") {
            let parsed = rest
                .split_once(' ')
                .map(|(k, f)| (u64::from_str_radix(k, 16), u64::from_str_radix(f, 16)));
            let Some((Ok(key), Ok(fingerprint))) = parsed else {
                return false;
            };
            self.keyed.insert(key, fingerprint);
            return true;
        }
        for (tag, set) in [("a ", &mut self.alerts), ("r ", &mut self.rejected)] {
            if let Some(hex) = line.strip_prefix(tag) {
                return match u64::from_str_radix(hex, 16) {
                    Ok(h) => {
                        set.insert(h);
                        true
                    }
                    Err(_) => false,
                };
            }
        }
        false
    }
}

impl SeqSet {
    /// Adds a whole range (used when loading a checkpoint).
    pub fn insert_range(&mut self, lo: u64, hi: u64) {
        if self
            .ranges
            .last()
            .is_none_or(|&(_, last_hi)| lo > last_hi.saturating_add(1))
        {
            self.ranges.push((lo, hi));
            if self.ranges.len() > MAX_RANGES_PER_DEVICE {
                let (_, h) = self.ranges.remove(1);
                self.ranges[0].1 = h;
            }
            return;
        }
        // Out of order or overlapping: merge by hand.
        let mut all = std::mem::take(&mut self.ranges);
        all.push((lo, hi));
        all.sort_unstable();
        for (lo, hi) in all {
            match self.ranges.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => self.ranges.push((lo, hi)),
            }
        }
        while self.ranges.len() > MAX_RANGES_PER_DEVICE {
            let (_, h) = self.ranges.remove(1);
            self.ranges[0].1 = h;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_readings_stay_one_range_and_repeats_are_refused() {
        let mut s = SeqSet::default();
        for i in 0..10_000 {
            assert!(s.insert(i));
        }
        assert_eq!(s.ranges(), &[(0, 9_999)]);
        assert!(!s.insert(0));
        assert!(!s.insert(5_000));
        assert!(!s.insert(9_999));
        assert!(s.insert(10_000));
    }

    #[test]
    fn holes_are_filled_exactly_once_in_any_order() {
        let mut s = SeqSet::default();
        for i in [5, 1, 3, 9, 2, 4, 0, 8, 6, 7] {
            assert!(s.insert(i), "{i}");
        }
        for i in 0..10 {
            assert!(!s.insert(i));
            assert!(s.contains(i));
        }
        assert_eq!(s.ranges(), &[(0, 9)]);
        assert_eq!(s.len(), 10);
    }

    #[test]
    fn gaps_are_listed_and_capped() {
        let mut s = SeqSet::default();
        for i in [0, 1, 5, 6, 10] {
            s.insert(i);
        }
        assert_eq!(s.gaps().collect::<Vec<_>>(), vec![(2, 4), (7, 9)]);
        let mut s = SeqSet::default();
        for i in 0..1000 {
            s.insert(i * 2);
        }
        assert_eq!(s.ranges().len(), MAX_RANGES_PER_DEVICE);
        assert!(!s.insert(1), "a closed gap may hold the seq: look it up");
        assert!(s.contains(1));
        assert!(s.insert(1999));
    }

    #[test]
    fn a_seq_is_never_seen_until_added_and_maybe_seen_after() {
        let mut m = Marks::default();
        for seq in 0..10 {
            assert_eq!(m.add_reading(b"D", seq), Seen::Never);
        }
        assert_eq!(m.add_reading(b"D", 3), Seen::Maybe);
        assert_eq!(m.add_reading(b"E", 3), Seen::Never, "per device");
        assert_eq!(m.add_reading(b"D", 12), Seen::Never, "a gap");
        assert_eq!(m.add_reading(b"D", 11), Seen::Never, "filled late");
        assert_eq!(m.add_reading(b"D", 11), Seen::Maybe);
    }

    #[test]
    fn marks_survive_their_text_form() {
        let mut m = Marks::default();
        for i in [0, 1, 2, 7, 8] {
            m.add_reading(b"D-001", i);
        }
        m.add_reading(b"we\"ird \n id", 3);
        m.insert_alert(0xdead_beef);
        m.insert_rejected(42);
        assert_eq!(m.insert_keyed(7, 70), KeyedSeen::New);
        let mut text = String::new();
        m.encode(&mut text);
        let mut back = Marks::default();
        for line in text.lines() {
            assert!(back.decode_line(line), "{line}");
        }
        assert_eq!(back, m);
        assert!(!back.decode_line("d \"x\" 5-3"));
        assert!(!back.decode_line("d \"x\" @0 5-7"), "not a range");
        assert!(!back.decode_line("zz"));
        assert!(
            !back.decode_line("k 07"),
            "an identity without its content hash"
        );
    }

    #[test]
    fn a_keyed_identity_is_filed_once_and_other_bytes_under_it_are_told_apart() {
        let mut m = Marks::default();
        assert_eq!(m.insert_keyed(1, 10), KeyedSeen::New);
        assert_eq!(m.insert_keyed(1, 10), KeyedSeen::Same);
        assert_eq!(m.insert_keyed(1, 11), KeyedSeen::Other);
        assert_eq!(m.keyed[&1], 10, "the first record keeps the identity");
        assert_eq!(m.insert_keyed(2, 11), KeyedSeen::New);
    }
}
