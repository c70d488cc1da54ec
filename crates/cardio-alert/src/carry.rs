//! Carry-forward of intermittent NEWS2 parameters (docs/spec.md §3.1): NIBP is measured every 5–15 min and
//! temperature now and then, so the last valid value stands in for a bounded time; past it, or
//! before the first, NEWS2 is null.

/// The last valid value of one intermittent parameter and its event time (ms).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Carried<T> {
    last: Option<(T, i64)>,
}

impl<T: Copy> Carried<T> {
    /// Records a valid reading taken at `ts`.
    pub fn update(&mut self, value: T, ts: i64) {
        if self.last.is_none_or(|(_, t)| ts >= t) {
            self.last = Some((value, ts));
        }
    }

    /// The value to score at `now`: the last one, if it is at most `max_age_ms` old (and not from
    /// after `now`, which only a late record can see).
    pub fn at(&self, now: i64, max_age_ms: i64) -> Option<T> {
        let (v, t) = self.last?;
        let age = now - t;
        (0..=max_age_ms).contains(&age).then_some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_carried_value_expires_after_its_time() {
        let mut c = Carried::default();
        assert_eq!(c.at(0, 1000), None, "nothing before the first reading");
        c.update(120, 0);
        assert_eq!(c.at(1000, 1000), Some(120));
        assert_eq!(c.at(1001, 1000), None);
        assert_eq!(
            c.at(-1, 1000),
            None,
            "a late record does not see the future"
        );
    }
}
