//! The rules cardio-alert runs: the defaults of docs/spec.md §3.2 (vitals-core's `default_rules()`),
//! changed by an optional rules file (`--rules FILE`, TOML or JSON) with settings, added or replaced
//! rules, disabled rules and per-patient overrides. See `examples/rules.toml` for a documented file.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use vitals_core::Priority;
use vitals_core::news2::Spo2Scale;
use vitals_core::rules::{Condition, Rule, Trigger, default_rules};

use crate::alarm::Timing;

/// Carry-forward of intermittent parameters for NEWS2 (docs/spec.md §3.1): 60 min each.
pub const DEFAULT_CARRY_BP_S: f64 = 3600.0;
pub const DEFAULT_CARRY_TEMP_S: f64 = 3600.0;
/// A patient with no reading for this long (event time) is forgotten, so state stays bounded.
pub const DEFAULT_EVICT_AFTER_S: f64 = 3600.0;
/// Patients whose state the engine holds at most (`--max-patients`). At 1.3 KB each
/// (`bench/alert-memory.sh`: 255 MB peak RSS at 200,000 patients) that is twenty times the largest
/// ward stream cardio-alert is built for (10,000 patients), and still a bound when a broken gateway
/// invents a patient id a line.
pub const DEFAULT_MAX_PATIENTS: usize = 200_000;
/// A fall of SpO2 by this many % from one reading to the next (≤ 2 s apart) is faster than an
/// averaging oximeter displays a real desaturation (4–16 s averaging, docs/spec.md §4; a simulated acute
/// hypoxia falls about 0.1 %/s): motion artifact. On cardio-sim's artifact-free readings a 1 s fall
/// of 2 happens in 0.3 % of readings and one of 3 never; the hold after a fall of 2 that is only
/// noise ends at the next reading.
pub const DEFAULT_SPO2_ARTIFACT_DROP_PCT: f64 = 2.0;
/// SpO2 after such a fall is held as suspect until it is back within 2 % of the level before it,
/// for at most this long; a level that stays down longer is real, and the time held counts toward
/// the SpO2 rules' condition delays (docs/spec.md §3.2).
pub const DEFAULT_SPO2_ARTIFACT_HOLD_S: f64 = 30.0;
/// NEWS2 scores 3 for RR ≤ 8 or ≥ 25, SBP ≤ 90, HR ≤ 40 and T ≤ 35.0 °C: the very limits of
/// rr_low, rr_high, sbp_low, hr_extreme_low and temp_low. A low-priority news2_single_3 for the
/// reading that has already raised one of those (high- or medium-priority) alarms announces the same
/// condition twice, and duplicate alarms are a named cause of alarm fatigue. So news2_single_3 is
/// raised only for a 3 that no raised alarm on that vital announces: SpO2 90–91 % on scale 1 before
/// spo2_low, consciousness, HR 131+ before hr_high has raised, or a threshold rule switched off.
/// Nor for a 3 that the patient's individualised limit accepts (a nurse's sbp_low of 80 for a
/// patient resting near 100: SBP 86 scores 3): the same switch covers it (engine.rs,
/// `unalarmed_three`).
/// Once raised it clears as docs/spec.md §3.2 says, when no 3 is left. On `bench/alert-eval.sh` it
/// removed 288 of 614 news2_single_3 raises (233 of them SBP ≤ 90 with sbp_low raised); two
/// episodes' first detection had been such a news2_single_3 and came later (docs/alarm-evaluation.md).
pub const DEFAULT_NEWS2_SINGLE_3_SKIPS_ALARMED_VITALS: bool = true;

/// NEWS2 is an intermittent observation score; on a 1 Hz stream, noise at a band edge flips it from
/// reading to reading. docs/spec.md §3.2 leaves the NEWS2 rows' condition delay blank: cardio-alert
/// asks for 2 min of persistence and clears after 5 min below the band, which took false NEWS2
/// alarms on the evaluation cohort from about 700 to under 1 per patient-day (docs/alarm-evaluation.md).
pub const NEWS2_DELAY_S: f64 = 120.0;
pub const NEWS2_CLEAR_HOLD_S: f64 = 300.0;

/// cardio-alert's built-in rules: vitals-core's `default_rules()` (docs/spec.md §3.2, row for row) with the
/// NEWS2 rows' blank delay filled in (see [`NEWS2_DELAY_S`]).
pub fn builtin_rules() -> Vec<Rule> {
    let mut rules = default_rules();
    for r in &mut rules {
        if matches!(
            r.trigger,
            Trigger::News2SingleThree | Trigger::News2Range { .. }
        ) {
            r.delay_s = NEWS2_DELAY_S;
            r.clear_hold_s = NEWS2_CLEAR_HOLD_S;
        }
    }
    rules
}

/// A rules file as written by a user.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    /// Start from the built-in defaults (true, the default) or from nothing but this file's rules.
    #[serde(default = "yes")]
    pub defaults: bool,
    /// Names of rules to switch off for every patient.
    #[serde(default)]
    pub disable: Vec<String>,
    #[serde(default)]
    pub settings: SettingsFile,
    /// Rules to add; one with the name of a default replaces that default.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Per-patient overrides, keyed by `patient_id`.
    #[serde(default)]
    pub patients: BTreeMap<String, PatientOverride>,
}

fn yes() -> bool {
    true
}

/// Engine settings a rules file may set (command-line flags win over them).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsFile {
    pub carry_bp_s: Option<f64>,
    pub carry_temp_s: Option<f64>,
    pub evict_after_s: Option<f64>,
    /// 0 switches the SpO2 motion-artifact hold off.
    pub spo2_artifact_drop_pct: Option<f64>,
    pub spo2_artifact_hold_s: Option<f64>,
    /// false: news2_single_3 also raises for a 3 whose vital already has a raised alarm.
    pub news2_single_3_skips_alarmed_vitals: Option<bool>,
}

/// What one patient does differently.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientOverride {
    /// NEWS2 SpO2 scale: 2 for hypercapnic respiratory failure (COPD), prescribed per patient.
    #[serde(default)]
    pub spo2_scale: Option<ScaleSpec>,
    /// Rules switched off for this patient.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Individual limits and timings, by rule name.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleOverride>,
}

/// `spo2_scale = 2` or `spo2_scale = "2"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ScaleSpec {
    Number(u8),
    Text(String),
}

impl ScaleSpec {
    fn scale(&self) -> anyhow::Result<Spo2Scale> {
        match self {
            ScaleSpec::Number(1) => Ok(Spo2Scale::Scale1),
            ScaleSpec::Number(2) => Ok(Spo2Scale::Scale2),
            ScaleSpec::Text(s) if s == "1" => Ok(Spo2Scale::Scale1),
            ScaleSpec::Text(s) if s == "2" => Ok(Spo2Scale::Scale2),
            other => bail!("spo2_scale must be 1 or 2, not {other:?}"),
        }
    }
}

/// Fields of one rule that a patient may change; absent fields keep the rule's value.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleOverride {
    pub priority: Option<Priority>,
    /// For threshold rules: the alarm condition.
    pub when: Option<Condition>,
    /// For threshold rules: the clearing condition.
    pub clear: Option<Condition>,
    /// For `news2_range` rules.
    pub min: Option<u8>,
    pub delay_s: Option<f64>,
    pub clear_hold_s: Option<f64>,
    pub latch_s: Option<f64>,
}

/// One rule ready to run.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    pub rule: Rule,
    pub timing: Timing,
    /// Escalations' `after_s` in ms, aligned with `rule.escalate`.
    pub escalate_after_ms: Vec<i64>,
    pub enabled: bool,
}

impl CompiledRule {
    pub(crate) fn new(rule: Rule, enabled: bool) -> Self {
        let timing = Timing::from_seconds(rule.delay_s, rule.clear_hold_s, rule.latch_s);
        let escalate_after_ms = rule
            .escalate
            .iter()
            .map(|e| (e.after_s.max(0.0) * 1000.0).round() as i64)
            .collect();
        CompiledRule {
            rule,
            timing,
            escalate_after_ms,
            enabled,
        }
    }

    /// The priority the rule asks for at `value` after being raised for `active_ms`.
    pub fn target(&self, value: Option<f64>, active_ms: i64) -> Priority {
        let mut p = self.rule.priority;
        if let Some(x) = value {
            for (e, &after) in self.rule.escalate.iter().zip(&self.escalate_after_ms) {
                if active_ms >= after && e.when.holds(x) {
                    p = p.max(e.priority);
                }
            }
        }
        p
    }
}

/// The rules of one group of patients (the default group, or one patient with overrides). Every
/// set holds the same rules in the same order, so alarm state lines up by index.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// Shared between sets: a set that changes a few rules (a patient's own limits) holds new
    /// copies of those only.
    pub rules: Vec<Arc<CompiledRule>>,
    pub scale: Spo2Scale,
    /// Per rule: the rules file sets it for this patient (`[patients.<id>.rules.<rule>]` or the
    /// patient's `disable`), which wins over a `settings` record in the stream.
    pub file_override: Vec<bool>,
    /// The rules file sets this patient's `spo2_scale`, which wins over an `admission` record.
    pub file_scale: bool,
}

/// Everything the engine needs to know before the first record.
#[derive(Debug, Clone)]
pub struct Config {
    /// Set 0 is the default; others belong to patients named in `patient_sets`.
    pub sets: Vec<RuleSet>,
    pub patient_sets: HashMap<String, u32>,
    pub carry_bp_ms: i64,
    pub carry_temp_ms: i64,
    pub evict_after_ms: i64,
    /// SpO2 motion-artifact hold: the fall that starts it (0: off) and its longest duration.
    pub spo2_drop_pct: i32,
    pub spo2_hold_ms: i64,
    /// news2_single_3 raises only for a 3 that no raised threshold alarm on the same vital
    /// already announces (see [`DEFAULT_NEWS2_SINGLE_3_SKIPS_ALARMED_VITALS`]).
    pub single_three_skips_alarmed: bool,
    /// Readings of new patients beyond this many held are passed on unscored.
    pub max_patients: usize,
}

/// Command-line settings that win over the file's.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub carry_bp_s: Option<f64>,
    pub carry_temp_s: Option<f64>,
    pub evict_after_s: Option<f64>,
    /// The naive baseline: every delay, clearing hold and latch set to 0, no artifact hold.
    pub no_delays: bool,
    pub max_patients: Option<usize>,
}

impl Config {
    /// The defaults of docs/spec.md §3.2 and 3.1.
    pub fn defaults() -> Self {
        Self::build(&RulesFile {
            defaults: true,
            ..RulesFile::default()
        })
        .expect("the built-in rules are valid")
    }

    pub fn build(file: &RulesFile) -> anyhow::Result<Self> {
        Self::build_with(file, &Overrides::default())
    }

    pub fn build_with(file: &RulesFile, over: &Overrides) -> anyhow::Result<Self> {
        let mut rules: Vec<Rule> = if file.defaults {
            builtin_rules()
        } else {
            Vec::new()
        };
        for r in &file.rules {
            check_rule(r)?;
            match rules.iter_mut().find(|d| d.name == r.name) {
                Some(d) => *d = r.clone(),
                None => rules.push(r.clone()),
            }
        }
        let mut seen = std::collections::HashSet::new();
        for r in &rules {
            if !seen.insert(r.name.as_str()) {
                bail!("rule `{}` is defined twice", r.name);
            }
        }
        for name in &file.disable {
            if !rules.iter().any(|r| &r.name == name) {
                bail!("cannot disable `{name}`: no such rule");
            }
        }
        if over.no_delays {
            for r in &mut rules {
                r.delay_s = 0.0;
                r.clear_hold_s = 0.0;
                r.latch_s = 0.0;
            }
        }
        let base = RuleSet {
            rules: rules
                .iter()
                .map(|r| {
                    Arc::new(CompiledRule::new(
                        r.clone(),
                        !file.disable.contains(&r.name),
                    ))
                })
                .collect(),
            scale: Spo2Scale::Scale1,
            file_override: vec![false; rules.len()],
            file_scale: false,
        };
        let mut sets = vec![base.clone()];
        let mut patient_sets = HashMap::new();
        for (patient, o) in &file.patients {
            let mut set = base.clone();
            if let Some(s) = &o.spo2_scale {
                set.scale = s.scale().with_context(|| format!("patient {patient}"))?;
                set.file_scale = true;
            }
            for name in &o.disable {
                let r = find(&mut set, name).with_context(|| format!("patient {patient}"))?;
                r.enabled = false;
            }
            for name in o.disable.iter().chain(o.rules.keys()) {
                if let Some(i) = set.rules.iter().position(|r| &r.rule.name == name) {
                    set.file_override[i] = true;
                }
            }
            for (name, ro) in &o.rules {
                let r = find(&mut set, name).with_context(|| format!("patient {patient}"))?;
                let mut rule = r.rule.clone();
                apply(&mut rule, ro, over.no_delays)
                    .with_context(|| format!("patient {patient}, rule {name}"))?;
                check_rule(&rule).with_context(|| format!("patient {patient}"))?;
                *r = CompiledRule::new(rule, r.enabled);
            }
            patient_sets.insert(patient.clone(), sets.len() as u32);
            sets.push(set);
        }
        let s = &file.settings;
        let ms = |flag: Option<f64>, file: Option<f64>, default: f64, what: &str| {
            let v = flag.or(file).unwrap_or(default);
            if !(v.is_finite() && v >= 0.0) {
                bail!("[settings] {what} must be a number of seconds ≥ 0, not {v}");
            }
            Ok((v * 1000.0).round() as i64)
        };
        Ok(Config {
            sets,
            patient_sets,
            carry_bp_ms: ms(
                over.carry_bp_s,
                s.carry_bp_s,
                DEFAULT_CARRY_BP_S,
                "carry_bp_s",
            )?,
            carry_temp_ms: ms(
                over.carry_temp_s,
                s.carry_temp_s,
                DEFAULT_CARRY_TEMP_S,
                "carry_temp_s",
            )?,
            evict_after_ms: ms(
                over.evict_after_s,
                s.evict_after_s,
                DEFAULT_EVICT_AFTER_S,
                "evict_after_s",
            )?,
            spo2_drop_pct: match s
                .spo2_artifact_drop_pct
                .unwrap_or(DEFAULT_SPO2_ARTIFACT_DROP_PCT)
            {
                _ if over.no_delays => 0,
                p if (0.0..=100.0).contains(&p) => p.ceil() as i32,
                p => bail!("[settings] spo2_artifact_drop_pct must be 0–100 %, not {p}"),
            },
            spo2_hold_ms: ms(
                None,
                s.spo2_artifact_hold_s,
                DEFAULT_SPO2_ARTIFACT_HOLD_S,
                "spo2_artifact_hold_s",
            )?,
            single_three_skips_alarmed: s
                .news2_single_3_skips_alarmed_vitals
                .unwrap_or(DEFAULT_NEWS2_SINGLE_3_SKIPS_ALARMED_VITALS),
            max_patients: match over.max_patients.unwrap_or(DEFAULT_MAX_PATIENTS) {
                0 => bail!("--max-patients must be at least 1"),
                n => n,
            },
        })
    }

    /// Reads a rules file: JSON when it ends in `.json`, TOML otherwise.
    pub fn load(path: &Path, over: &Overrides) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read rules file {}", path.display()))?;
        let file = parse_rules_file(&text, path.extension().is_some_and(|e| e == "json"))
            .with_context(|| format!("rules file {}", path.display()))?;
        Self::build_with(&file, over).with_context(|| format!("rules file {}", path.display()))
    }

    /// The rules in the default set (names are the same in every set).
    pub fn rules(&self) -> &[Arc<CompiledRule>] {
        &self.sets[0].rules
    }
}

/// Parses the text of a rules file.
pub fn parse_rules_file(text: &str, json: bool) -> anyhow::Result<RulesFile> {
    if json {
        Ok(serde_json::from_str(text)?)
    } else {
        Ok(toml::from_str(text)?)
    }
}

fn find<'a>(set: &'a mut RuleSet, name: &str) -> anyhow::Result<&'a mut CompiledRule> {
    set.rules
        .iter_mut()
        .find(|r| r.rule.name == name)
        .map(Arc::make_mut)
        .with_context(|| format!("no rule named `{name}`"))
}

fn apply(rule: &mut Rule, o: &RuleOverride, no_delays: bool) -> anyhow::Result<()> {
    if let Some(p) = o.priority {
        rule.priority = p;
    }
    match &mut rule.trigger {
        Trigger::Threshold { when, clear, .. } => {
            if let Some(w) = o.when {
                *when = w;
            }
            if let Some(c) = o.clear {
                *clear = c;
            }
        }
        _ if o.when.is_some() || o.clear.is_some() => {
            bail!("`when` and `clear` apply only to threshold rules")
        }
        _ => {}
    }
    match (&mut rule.trigger, o.min) {
        (Trigger::News2Range { min, .. }, Some(m)) => *min = m,
        (_, Some(_)) => bail!("`min` applies only to news2_range rules"),
        _ => {}
    }
    if !no_delays {
        if let Some(d) = o.delay_s {
            rule.delay_s = d;
        }
        if let Some(d) = o.clear_hold_s {
            rule.clear_hold_s = d;
        }
        if let Some(d) = o.latch_s {
            rule.latch_s = d;
        }
    }
    Ok(())
}

/// Every number of a rule, named as the rules file spells its place: `nan` or `inf` in any of them
/// would switch the rule off or on for good without a word (`x < nan` never holds), so none may
/// be anything but finite.
fn numbers(r: &Rule) -> Vec<(String, f64)> {
    let mut out = vec![
        ("delay_s".to_owned(), r.delay_s),
        ("clear_hold_s".to_owned(), r.clear_hold_s),
        ("latch_s".to_owned(), r.latch_s),
    ];
    match &r.trigger {
        Trigger::Threshold { when, clear, .. } => {
            out.push(("when.limit".to_owned(), when.limit));
            out.push(("clear.limit".to_owned(), clear.limit));
        }
        Trigger::DeviceSilent { after_s } => out.push(("after_s".to_owned(), *after_s)),
        Trigger::SatSeconds {
            limit,
            sat_seconds,
            excursion_window_s,
            ..
        } => {
            out.push(("limit".to_owned(), *limit));
            out.push(("sat_seconds".to_owned(), *sat_seconds));
            out.push(("excursion_window_s".to_owned(), *excursion_window_s));
        }
        Trigger::News2SingleThree
        | Trigger::News2Range { .. }
        | Trigger::SensorFault
        | Trigger::ClockSkew => {}
    }
    for (i, e) in r.escalate.iter().enumerate() {
        out.push((format!("escalate[{i}].when.limit"), e.when.limit));
        out.push((format!("escalate[{i}].after_s"), e.after_s));
    }
    out
}

fn check_rule(r: &Rule) -> anyhow::Result<()> {
    for (what, v) in numbers(r) {
        if !v.is_finite() {
            bail!("rule `{}`: {what} must be a finite number, not {v}", r.name);
        }
    }
    for (what, v) in [
        ("delay_s", r.delay_s),
        ("clear_hold_s", r.clear_hold_s),
        ("latch_s", r.latch_s),
    ] {
        if v < 0.0 {
            bail!("rule `{}`: {what} must be ≥ 0, not {v}", r.name);
        }
    }
    if let Trigger::Threshold { when, clear, vital } = &r.trigger {
        for v in [when.limit - 0.1, when.limit, when.limit + 0.1] {
            if when.holds(v) && clear.holds(v) {
                bail!(
                    "rule `{}`: the clearing condition on {vital} overlaps the alarm condition at {v}",
                    r.name
                );
            }
        }
    }
    if let Trigger::SatSeconds {
        limit,
        sat_seconds,
        excursion_window_s,
        ..
    } = r.trigger
    {
        if !(0.0..=100.0).contains(&limit) {
            bail!(
                "rule `{}`: limit must be an SpO2 of 0–100 %, not {limit}",
                r.name
            );
        }
        if sat_seconds <= 0.0 {
            bail!(
                "rule `{}`: sat_seconds must be > 0, not {sat_seconds}",
                r.name
            );
        }
        if excursion_window_s < 0.0 {
            bail!(
                "rule `{}`: excursion_window_s must be ≥ 0, not {excursion_window_s}",
                r.name
            );
        }
    }
    if r.name.is_empty() {
        bail!("a rule needs a name");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_example_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rules.toml");
        let cfg = Config::load(&path, &Overrides::default()).unwrap();
        let set = &cfg.sets[cfg.patient_sets["PT-1003"] as usize];
        assert_eq!(set.scale, Spo2Scale::Scale2);
        let spo2 = set
            .rules
            .iter()
            .find(|r| r.rule.name == "spo2_low")
            .unwrap();
        let Trigger::Threshold { when, .. } = spo2.rule.trigger else {
            panic!()
        };
        assert_eq!(when.limit, 86.0);
        assert_eq!(cfg.rules().len(), cfg.sets[1].rules.len());
    }

    #[test]
    fn the_committed_sat_seconds_example_loads_with_nellcors_safety_net() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/satseconds.toml");
        let cfg = Config::load(&path, &Overrides::default()).unwrap();
        let rules = cfg.rules();
        let spo2: Vec<_> = rules.iter().filter(|r| r.rule.name == "spo2_low").collect();
        assert_eq!(spo2.len(), 1, "replaces the built-in");
        assert_eq!(
            spo2[0].rule.trigger,
            Trigger::SatSeconds {
                limit: 90.0,
                sat_seconds: 25.0,
                excursions: 3,
                excursion_window_s: 60.0
            }
        );
        let text = "[[rules]]\nname = \"s\"\nkind = \"physiological\"\npriority = \"low\"\n\
                    trigger = \"sat_seconds\"\nlimit = 88\nsat_seconds = 50\n";
        let Trigger::SatSeconds {
            excursions,
            excursion_window_s,
            ..
        } = parse_rules_file(text, false).unwrap().rules[0].trigger
        else {
            panic!("not sat_seconds");
        };
        assert_eq!(
            (excursions, excursion_window_s),
            (3, 60.0),
            "Nellcor's defaults"
        );
    }

    #[test]
    fn json_rules_files_load_too() {
        let text = r#"{"disable":["battery_low"],"settings":{"carry_bp_s":600},
            "patients":{"PT-1":{"spo2_scale":"2"}}}"#;
        let cfg = Config::build(&parse_rules_file(text, true).unwrap()).unwrap();
        assert_eq!(cfg.carry_bp_ms, 600_000);
        assert!(
            !cfg.rules()
                .iter()
                .find(|r| r.rule.name == "battery_low")
                .unwrap()
                .enabled
        );
    }

    #[test]
    fn unknown_fields_and_overlapping_limits_are_refused() {
        assert!(parse_rules_file("colour = 1", false).is_err());
        let text = r#"
            [[rules]]
            name = "spo2_low"
            kind = "physiological"
            priority = "medium"
            trigger = "threshold"
            vital = "spo2_pct"
            when = { op = "<", limit = 90 }
            clear = { op = "<", limit = 95 }
        "#;
        let err = Config::build(&parse_rules_file(text, false).unwrap()).unwrap_err();
        assert!(err.to_string().contains("overlaps"), "{err}");
    }

    #[test]
    fn no_delays_zeroes_every_timing() {
        let cfg = Config::build_with(
            &RulesFile {
                defaults: true,
                ..Default::default()
            },
            &Overrides {
                no_delays: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(cfg.rules().iter().all(|r| r.timing == Timing::default()));
    }
}
