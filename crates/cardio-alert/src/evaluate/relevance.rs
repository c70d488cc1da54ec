//! Which alarms are about each episode of the truth file: the threshold alarms on the vitals its
//! physiology moves (docs/spec.md §4), and NEWS2's, which aggregates them. For a scripted
//! deterioration these alarms detect it; for a spontaneous event (or a recovery) they are true but
//! not actionable; any other alarm raised during the episode is false. Scenarios are vitals-core's
//! [`Scenario`] (the list cardio-sim scripts from), so a match over them covers every scenario;
//! the rule names are checked by the tests below against vitals-core's default rule table.

use vitals_core::Scenario;

/// The NEWS2 alarms: they aggregate every vital, so they detect every scenario.
pub const NEWS2_RULES: [&str; 3] = ["news2_single_3", "news2_urgent", "news2_emergency"];

/// The threshold alarms that count as detecting `scenario`, besides [`NEWS2_RULES`].
pub fn rules_for(scenario: Scenario) -> &'static [&'static str] {
    match scenario {
        Scenario::Sepsis => &[
            "hr_high",
            "hr_extreme_high",
            "rr_high",
            "temp_high",
            "temp_low",
            "sbp_low",
            "spo2_low",
            "spo2_desat",
        ],
        Scenario::Haemorrhage => &["hr_high", "hr_extreme_high", "sbp_low", "rr_high"],
        Scenario::Hypoxia => &["spo2_low", "spo2_desat", "rr_high"],
        Scenario::Bradycardia => &["hr_low", "hr_extreme_low"],
        Scenario::AfRvr => &["hr_high", "hr_extreme_high"],
        Scenario::HypertensiveCrisis => &["sbp_high"],
        Scenario::Fever => &["temp_high", "hr_high"],
        Scenario::Recovery => &[],
    }
}

/// Whether episodes of `scenario` are scored for sensitivity. Recovery is not a deterioration:
/// it is not scored, and an alarm on the vitals it still moves is true but not actionable.
pub fn scored(scenario: Scenario) -> bool {
    scenario != Scenario::Recovery
}

/// A recovery starts unwell (T +1 °C, HR +22, RR +6, SpO2 −3, SBP −12 at its start, on oxygen) and
/// settles: alarms on those vitals during it are real, and nothing new to act on.
const RECOVERY_RULES: [&str; 6] = [
    "temp_high",
    "hr_high",
    "rr_high",
    "spo2_low",
    "spo2_desat",
    "sbp_low",
];

/// The spontaneous events of the truth file (category `spontaneous`, docs/truth-format.md): real
/// transients that are not a deterioration, and the threshold alarms on every vital each one moves
/// in cardio-sim's physiology, besides [`NEWS2_RULES`]: a bradypnoea lowers SpO2 too (by up to
/// 2 %), a tachycardia run quickens breathing (up to 2/min), and a mobilisation hypotension brings
/// a compensatory rise in heart rate (half the systolic fall). An opioid desaturation slows
/// breathing by up to 2/min as well, but a sleep one does not, so `rr_low` is not listed for it.
pub const SPONTANEOUS: [(&str, &[&str]); 4] = [
    ("desaturation", &["spo2_low", "spo2_desat"]),
    ("bradypnoea", &["rr_low", "spo2_low", "spo2_desat"]),
    (
        "tachycardia_run",
        &["hr_high", "hr_extreme_high", "rr_high"],
    ),
    (
        "mobilisation_hypotension",
        &["sbp_low", "hr_high", "hr_extreme_high"],
    ),
];

/// Whether an alarm of `rule` counts as detecting an episode named `scenario` in the truth file (a
/// name vitals-core does not know is detected by the NEWS2 alarms alone).
pub fn relevant(scenario: &str, rule: &str) -> bool {
    NEWS2_RULES.contains(&rule)
        || Scenario::from_name(scenario).is_some_and(|s| match s {
            Scenario::Recovery => RECOVERY_RULES.contains(&rule),
            s => rules_for(s).contains(&rule),
        })
}

/// Whether an alarm of `rule` is about a spontaneous event named `name` (a name not in
/// [`SPONTANEOUS`] is matched by the NEWS2 alarms alone).
pub fn relevant_spontaneous(name: &str, rule: &str) -> bool {
    NEWS2_RULES.contains(&rule)
        || SPONTANEOUS
            .iter()
            .any(|(n, rules)| *n == name && rules.contains(&rule))
}

#[cfg(test)]
mod tests {
    use vitals_core::AlertKind;
    use vitals_core::rules::default_rules;

    use super::*;

    /// A misspelt or renamed rule here would never match an alert, and the scenario would look
    /// missed: every rule the evaluator names must be a physiological rule of the default table.
    #[test]
    fn every_rule_the_evaluator_names_is_a_physiological_default_rule() {
        let rules = default_rules();
        let named = Scenario::ALL
            .into_iter()
            .flat_map(rules_for)
            .chain(NEWS2_RULES.iter())
            .chain(RECOVERY_RULES.iter())
            .chain(SPONTANEOUS.iter().flat_map(|(_, rules)| rules.iter()));
        let mut checked = 0;
        for name in named {
            let rule = rules.iter().find(|r| r.name == *name);
            assert!(rule.is_some(), "{name} is not in default_rules()");
            assert_eq!(
                rule.unwrap().kind,
                AlertKind::Physiological,
                "{name} is not physiological, and only physiological alarms detect"
            );
            checked += 1;
        }
        assert!(checked > NEWS2_RULES.len());
    }

    /// Every deterioration cardio-sim can script is detectable by some threshold alarm, not only
    /// by NEWS2, and is found by the name the truth file writes.
    #[test]
    fn every_scored_scenario_has_threshold_alarms_under_its_truth_name() {
        for s in Scenario::ALL.into_iter().filter(|s| scored(*s)) {
            assert!(!rules_for(s).is_empty(), "{} has no alarm", s.name());
            for rule in rules_for(s) {
                assert!(relevant(s.name(), rule), "{} / {rule}", s.name());
            }
        }
        assert!(!scored(Scenario::Recovery));
        assert!(relevant("recovery", "hr_high"));
        assert!(!relevant("recovery", "hr_low"));
        assert!(relevant("no_such_scenario", "news2_urgent"));
        assert!(!relevant("no_such_scenario", "hr_high"));
    }

    /// Each spontaneous event is matched by the alarms on the vital it moves, not by others.
    #[test]
    fn spontaneous_events_are_matched_by_their_own_vitals_alarms() {
        assert!(relevant_spontaneous("desaturation", "spo2_low"));
        assert!(relevant_spontaneous("bradypnoea", "rr_low"));
        assert!(relevant_spontaneous("tachycardia_run", "hr_extreme_high"));
        assert!(relevant_spontaneous("mobilisation_hypotension", "sbp_low"));
        assert!(relevant_spontaneous("desaturation", "news2_single_3"));
        assert!(!relevant_spontaneous("desaturation", "hr_low"));
        assert!(!relevant_spontaneous("tachycardia_run", "spo2_low"));
        assert!(!relevant_spontaneous("no_such_event", "spo2_low"));
    }
}
