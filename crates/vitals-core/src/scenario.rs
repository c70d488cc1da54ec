//! The names of the deteriorations cardio-sim scripts (docs/spec.md §4), in one list: cardio-sim's
//! `--scenario` script parser and truth file use them, and `cardio-alert evaluate` scores the
//! truth file's episodes by them, so a scenario renamed or added in one place cannot silently go
//! unscored in the other. Beside them, the names of the [`Spontaneous`] events: real physiology
//! that is not a deterioration (the truth file's `spontaneous` category).

use serde::{Deserialize, Serialize};

/// A kind of clinical deterioration; the truth file's `name` of a `scenario` episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// Over hours: temperature, HR and RR up, SBP down, confusion late (SIRS, qSOFA).
    Sepsis,
    /// Blood loss through the ATLS classes: HR up and pulse pressure narrowing before SBP falls.
    Haemorrhage,
    /// Acute hypoxia over minutes: SpO2 down, RR and HR up.
    Hypoxia,
    /// HR falling below 40–50.
    Bradycardia,
    /// Atrial fibrillation with rapid ventricular response: irregular HR, often ≥ 150.
    AfRvr,
    /// SBP ≥ 180, DBP ≥ 110.
    HypertensiveCrisis,
    /// Fever alone; HR and RR follow through the fever coupling.
    Fever,
    /// Recovery after treatment: a patient back from theatre or resuscitation, on oxygen, settling
    /// to baseline. Not a deterioration.
    Recovery,
}

impl Scenario {
    pub const ALL: [Scenario; 8] = [
        Scenario::Sepsis,
        Scenario::Haemorrhage,
        Scenario::Hypoxia,
        Scenario::Bradycardia,
        Scenario::AfRvr,
        Scenario::HypertensiveCrisis,
        Scenario::Fever,
        Scenario::Recovery,
    ];

    /// The name in scripts and in the truth file (`af_rvr`), as serde writes it.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Sepsis => "sepsis",
            Scenario::Haemorrhage => "haemorrhage",
            Scenario::Hypoxia => "hypoxia",
            Scenario::Bradycardia => "bradycardia",
            Scenario::AfRvr => "af_rvr",
            Scenario::HypertensiveCrisis => "hypertensive_crisis",
            Scenario::Fever => "fever",
            Scenario::Recovery => "recovery",
        }
    }

    /// The scenario of that name, if any.
    pub fn from_name(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// A spontaneous event: a real but self-limiting change of the vital signs that is not a
/// deterioration (sleep, opioids, pain, getting out of bed); the truth file's `name` of a
/// `spontaneous` episode. An alarm on one is true but not actionable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Spontaneous {
    /// A transient fall of SpO2 (sleep-disordered breathing, opioids), minutes to hours.
    Desaturation,
    /// A slow respiratory rate (opioids, sleep), minutes.
    Bradypnoea,
    /// A run of sinus tachycardia (pain, anxiety, exertion), minutes.
    TachycardiaRun,
    /// A fall of blood pressure on getting up (orthostatic), minutes.
    MobilisationHypotension,
}

impl Spontaneous {
    pub const ALL: [Spontaneous; 4] = [
        Spontaneous::Desaturation,
        Spontaneous::Bradypnoea,
        Spontaneous::TachycardiaRun,
        Spontaneous::MobilisationHypotension,
    ];

    /// The name in the truth file, as serde writes it.
    pub fn name(self) -> &'static str {
        match self {
            Spontaneous::Desaturation => "desaturation",
            Spontaneous::Bradypnoea => "bradypnoea",
            Spontaneous::TachycardiaRun => "tachycardia_run",
            Spontaneous::MobilisationHypotension => "mobilisation_hypotension",
        }
    }

    /// The spontaneous event of that name, if any.
    pub fn from_name(name: &str) -> Option<Spontaneous> {
        Spontaneous::ALL.into_iter().find(|s| s.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `name` is what serde reads and writes, so the truth file and a script agree with it.
    #[test]
    fn every_name_is_what_serde_writes_and_reads_back() {
        for s in Scenario::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.name()));
            assert_eq!(serde_json::from_str::<Scenario>(&json).unwrap(), s);
            assert_eq!(Scenario::from_name(s.name()), Some(s));
        }
        assert_eq!(Scenario::from_name("septic"), None);
    }

    #[test]
    fn every_spontaneous_name_is_what_serde_writes_and_reads_back() {
        for s in Spontaneous::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.name()));
            assert_eq!(serde_json::from_str::<Spontaneous>(&json).unwrap(), s);
            assert_eq!(Spontaneous::from_name(s.name()), Some(s));
        }
        // The two lists never share a name: a truth `name` says which list it is from.
        for s in Spontaneous::ALL {
            assert_eq!(Scenario::from_name(s.name()), None);
        }
        assert_eq!(Spontaneous::from_name("desat"), None);
    }
}
