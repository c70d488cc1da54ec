//! The Markdown table that sets the scores of several rule variants side by side.

use super::score::{Detection, Score};
use crate::wording::duration;

fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    // Nearest rank.
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// The Markdown table of one or more variants side by side.
pub fn table(scores: &[Score]) -> String {
    let mut out = String::new();
    let mut names: Vec<&String> = scores.iter().flat_map(|s| s.scenarios.keys()).collect();
    names.sort();
    names.dedup();
    out.push_str("| scenario | episodes |");
    for s in scores {
        out.push_str(&format!(
            " {0}: detected | {0}: median | {0}: p90 |",
            s.label
        ));
    }
    out.push('\n');
    out.push_str("|---|---:|");
    for _ in scores {
        out.push_str("---:|---:|---:|");
    }
    out.push('\n');
    let row = |out: &mut String, name: &str, pick: &dyn Fn(&Score) -> Detection| {
        let n = scores.first().map_or(0, |s| pick(s).0);
        out.push_str(&format!("| {name} | {n} |"));
        for s in scores {
            let (n, d, mut times) = pick(s);
            times.sort_unstable();
            let pct = if n > 0 {
                100.0 * d as f64 / n as f64
            } else {
                0.0
            };
            let fmt = |v: Option<i64>| v.map_or("–".to_owned(), duration);
            out.push_str(&format!(
                " {d}/{n} ({pct:.0} %) | {} | {} |",
                fmt(percentile(&times, 0.5)),
                fmt(percentile(&times, 0.9))
            ));
        }
        out.push('\n');
    };
    for name in &names {
        row(&mut out, name, &|s: &Score| {
            s.scenarios.get(*name).cloned().unwrap_or_default()
        });
    }
    row(&mut out, "**all deteriorations**", &|s: &Score| {
        s.scenarios
            .values()
            .fold((0, 0, vec![]), |(n, d, mut t), (n2, d2, t2)| {
                t.extend(t2);
                (n + n2, d + d2, t)
            })
    });
    out.push('\n');
    out.push_str("| per patient-day |");
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
    line(
        &mut out,
        "false physiological alarms (raised outside every scenario)",
        &|s| per_day(s.false_physiological, s),
    );
    let mut rules: Vec<&String> = scores.iter().flat_map(|s| s.false_by_rule.keys()).collect();
    rules.sort();
    rules.dedup();
    for rule in rules {
        line(&mut out, &format!("… of which {rule}"), &|s| {
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
            &format!("… per {profile} patient-day ({days:.1} patient-days)"),
            &|s| match s.false_by_profile.get(profile) {
                Some(&(n, d)) if d > 0.0 => format!("{:.2}", n as f64 / d),
                _ => "–".to_owned(),
            },
        );
    }
    line(&mut out, "physiological alarms raised, all", &|s| {
        per_day(s.physiological_raised, s)
    });
    line(&mut out, "technical alarms raised", &|s| {
        per_day(s.technical_raised, s)
    });
    line(
        &mut out,
        "technical alarms during a device artifact",
        &|s| per_day(s.technical_matching_artifact, s),
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
