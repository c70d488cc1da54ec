//! The Markdown tables: for each rule variant, detection per scenario beside its chance-hit rate;
//! then the alarm classes and the alarm burden of every variant side by side.

use super::score::{Chance, Detection, Score};
use crate::wording::duration;

fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    // Nearest rank.
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

fn share(d: usize, n: usize) -> String {
    let pct = if n > 0 {
        100.0 * d as f64 / n as f64
    } else {
        0.0
    };
    format!("{d}/{n} ({pct:.0} %)")
}

fn chance(c: &Chance) -> String {
    c.rate()
        .map_or("–".to_owned(), |p| format!("{:.0} %", 100.0 * p))
}

/// The detection table of one variant.
fn detections(s: &Score, out: &mut String) {
    out.push_str(&format!(
        "### {}\n\n| scenario | episodes | detected | by chance | before the peak | by chance | \
         median | p90 |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
        s.label
    ));
    let row = |out: &mut String, name: &str, d: &Detection| {
        let mut times = d.delays_ms.clone();
        times.sort_unstable();
        let fmt = |v: Option<i64>| v.map_or("–".to_owned(), duration);
        out.push_str(&format!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} |\n",
            d.episodes,
            share(d.detected, d.episodes),
            chance(&d.chance),
            share(d.before_peak, d.episodes),
            chance(&d.chance_before_peak),
            fmt(percentile(&times, 0.5)),
            fmt(percentile(&times, 0.9))
        ));
    };
    let mut all = Detection::default();
    for (name, d) in &s.scenarios {
        row(out, name, d);
        all.merge(d);
    }
    row(out, "**all deteriorations**", &all);
    out.push('\n');
}

/// The Markdown tables of one or more variants.
pub fn table(scores: &[Score]) -> String {
    let mut out = String::new();
    for s in scores {
        detections(s, &mut out);
    }
    out.push_str("| alarms raised per patient-day |");
    for s in scores {
        out.push_str(&format!(" {} |", s.label));
    }
    out.push_str("\n|---|");
    for _ in scores {
        out.push_str("---:|");
    }
    out.push('\n');
    let line = |out: &mut String, what: &str, f: &dyn Fn(&Score) -> String| {
        out.push_str(&format!("| {what} |"));
        for s in scores {
            out.push_str(&format!(" {} |", f(s)));
        }
        out.push('\n');
    };
    let per_day = |n: usize, s: &Score| {
        if s.patient_days > 0.0 {
            format!("{:.2}", n as f64 / s.patient_days)
        } else {
            "–".to_owned()
        }
    };
    line(&mut out, "physiological", &|s| {
        per_day(s.physiological_raised, s)
    });
    line(
        &mut out,
        "… detection (relevant, during a scripted deterioration)",
        &|s| per_day(s.detection, s),
    );
    line(
        &mut out,
        "… true but not actionable (relevant, during a spontaneous event or a recovery)",
        &|s| per_day(s.not_actionable, s),
    );
    line(
        &mut out,
        "… **false** (nothing real that the rule is about)",
        &|s| per_day(s.false_physiological, s),
    );
    line(&mut out, "…… of which during a device artifact", &|s| {
        per_day(s.false_during_artifact, s)
    });
    line(
        &mut out,
        "…… of which during an episode, on a rule unrelated to it",
        &|s| per_day(s.false_unrelated, s),
    );
    let mut rules: Vec<&String> = scores.iter().flat_map(|s| s.false_by_rule.keys()).collect();
    rules.sort();
    rules.dedup();
    for rule in rules {
        line(&mut out, &format!("…… of which {rule}"), &|s| {
            per_day(s.false_by_rule.get(rule).copied().unwrap_or(0), s)
        });
    }
    let mut profiles: Vec<(&String, f64)> = scores
        .iter()
        .flat_map(|s| s.false_by_profile.iter().map(|(p, (_, days))| (p, *days)))
        .collect();
    profiles.sort_by(|a, b| a.0.cmp(b.0));
    profiles.dedup_by(|a, b| a.0 == b.0);
    for (profile, days) in profiles {
        line(
            &mut out,
            &format!("…… false per {profile} patient-day ({days:.1} patient-days)"),
            &|s| match s.false_by_profile.get(profile) {
                Some(&(n, d)) if d > 0.0 => format!("{:.2}", n as f64 / d),
                _ => "–".to_owned(),
            },
        );
    }
    line(&mut out, "technical", &|s| per_day(s.technical_raised, s));
    line(&mut out, "… during a device artifact", &|s| {
        per_day(s.technical_matching_artifact, s)
    });
    line(
        &mut out,
        "**all alarms** (physiological + technical)",
        &|s| per_day(s.physiological_raised + s.technical_raised, s),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 0.5), Some(5));
        assert_eq!(percentile(&v, 0.9), Some(9));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
