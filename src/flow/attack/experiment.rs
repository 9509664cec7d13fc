//! The experiments themselves: what each one is, the lab logins and probe answers it waits
//! for, and the record kept across the trips to the provider.

use super::report::{Outcome, Report};
use crate::flow::checkup::Scorecard;
use crate::protocol::document::{stored, stored_or_default, unit_variant, FromStored, Map, Value};
use crate::protocol::probe::ProbeKind;
use serde::{Deserialize, Serialize};

/// One guided experiment of the attack lab.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Experiment {
    /// An intercepted code redeemed without (or with a wrong) verifier.
    StolenCode,
    /// The same code redeemed twice; are the first tokens revoked?
    CodeReplay,
    /// A callback with the attacker's own code and a state this tab never issued.
    ForgedCallback,
    /// Authorization requests with `plain` or without a challenge.
    PkceDowngrade,
    /// `response_type=token`: tokens in the URL.
    Implicit,
}

impl Experiment {
    /// Every experiment, in the order the lab lists them.
    pub const ALL: [Experiment; 5] = [
        Experiment::StolenCode,
        Experiment::CodeReplay,
        Experiment::ForgedCallback,
        Experiment::PkceDowngrade,
        Experiment::Implicit,
    ];

    /// Stable id for the page and the tests.
    pub fn id(self) -> &'static str {
        match self {
            Experiment::StolenCode => "stolen-code",
            Experiment::CodeReplay => "code-replay",
            Experiment::ForgedCallback => "forged-callback",
            Experiment::PkceDowngrade => "pkce-downgrade",
            Experiment::Implicit => "implicit",
        }
    }

    /// Title of the experiment.
    pub fn title(self) -> &'static str {
        match self {
            Experiment::StolenCode => "Stolen code",
            Experiment::CodeReplay => "Code replay",
            Experiment::ForgedCallback => "Forged callback (login CSRF)",
            Experiment::PkceDowngrade => "PKCE downgrade",
            Experiment::Implicit => "Implicit grant",
        }
    }

    /// What the attacker wants.
    pub fn wanted(self) -> &'static str {
        match self {
            Experiment::StolenCode => {
                t!("attack.the_attacker_read")
            }
            Experiment::CodeReplay => {
                t!("attack.the_attacker_copied")
            }
            Experiment::ForgedCallback => {
                t!("attack.the_attacker_sends")
            }
            Experiment::PkceDowngrade => {
                t!("attack.the_attacker_wants")
            }
            Experiment::Implicit => {
                t!("attack.the_attacker_wants_2")
            }
        }
    }

    /// The defence that should stop it.
    pub fn defence(self) -> &'static str {
        match self {
            Experiment::StolenCode => {
                t!("attack.pkce_the_provider")
            }
            Experiment::CodeReplay => {
                t!("attack.single_use_codes")
            }
            Experiment::ForgedCallback => {
                t!("attack.state_this_tab")
            }
            Experiment::PkceDowngrade => {
                t!("attack.the_provider_requires")
            }
            Experiment::Implicit => {
                t!("attack.the_provider_refuses")
            }
        }
    }

    /// What would happen without the defence.
    pub fn without(self) -> &'static str {
        match self {
            Experiment::StolenCode => {
                t!("attack.without_pkce_a")
            }
            Experiment::CodeReplay => {
                t!("attack.without_single_use")
            }
            Experiment::ForgedCallback => {
                t!("attack.without_the_check")
            }
            Experiment::PkceDowngrade => {
                t!("attack.a_downgraded_code")
            }
            Experiment::Implicit => {
                t!("attack.the_access_token")
            }
        }
    }
}

/// A login this tab started for the lab: its callback runs an experiment, not a plain login.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum LabLogin {
    /// The victim's login: its code feeds the stolen-code and replay experiments (and the
    /// checkup's login-only checks when `checkup` is on).
    CodeExperiments {
        /// Whether the provider checkup is waiting for these results.
        checkup: bool,
    },
}

/// One downgrade probe's answer, kept until both are in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DowngradeAnswer {
    /// Which probe.
    pub kind: ProbeKind,
    /// What the provider did, one sentence.
    pub sentence: String,
    /// Whether it accepted the weak request; `None` when its answer was unclear.
    pub accepted: Option<bool>,
}

/// Everything the lab keeps in this tab's sessionStorage across the trips to the provider.
/// Nothing secret: probe and login states only (the probes themselves run in a popup and are
/// kept in memory).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Map<String, Value>")]
pub struct LabRecord {
    /// The latest report of each experiment.
    pub reports: Vec<Report>,
    /// Lab logins by their `state`.
    pub logins: Vec<(String, LabLogin)>,
    /// The probes of the last silent run whose window did not come back: offered to run
    /// interactively (kept across the checkup's login).
    pub unanswered: Vec<ProbeKind>,
    /// The `state` of the last probes sent from this tab: an answer that lands in the tab
    /// itself instead of the probe window is recognised and dropped.
    pub probe_states: Vec<String>,
    /// Answers of the downgrade probes, to report both together.
    pub downgrade: Vec<DowngradeAnswer>,
    /// The provider checkup's scorecard, when one was run in this tab.
    pub scorecard: Option<Scorecard>,
    /// Whether the checkup (rather than an experiment) was the last thing started.
    pub checkup_active: bool,
    /// The stolen-token experiment's verdict and findings (issue 17), once run.
    pub stolen_token: Option<(Outcome, Vec<String>)>,
}

// The stored record is read from the parsed object with the rules serde's derive had, pinned
// by `tests.rs::lab_record_*`: `reports`, `logins` and `downgrade` required, `scorecard` `None`
// when missing, the members added later (`unanswered`, `probe_states`, `checkup_active`,
// `stolen_token`) their defaults; unknown members ignored; a member of another type or a name
// this app does not store makes the text unreadable (`LabRecord::from_json`: the empty record,
// as before). A plain match per member instead of derived visitors (issue 14's size goal).
impl TryFrom<Map<String, Value>> for LabRecord {
    type Error = &'static str;

    fn try_from(mut o: Map<String, Value>) -> Result<Self, Self::Error> {
        let mut read = || {
            Some(LabRecord {
                reports: stored(&mut o, "reports")?,
                logins: stored(&mut o, "logins")?,
                unanswered: stored_or_default(&mut o, "unanswered")?,
                probe_states: stored_or_default(&mut o, "probe_states")?,
                downgrade: stored(&mut o, "downgrade")?,
                scorecard: stored(&mut o, "scorecard")?,
                checkup_active: stored_or_default(&mut o, "checkup_active")?,
                stolen_token: stored_or_default(&mut o, "stolen_token")?,
            })
        };
        read().ok_or("not a stored lab record")
    }
}

impl FromStored for Experiment {
    fn from_stored(value: Value) -> Option<Self> {
        unit_variant(value)
    }
}

impl FromStored for ProbeKind {
    fn from_stored(value: Value) -> Option<Self> {
        unit_variant(value)
    }
}

impl FromStored for LabLogin {
    fn from_stored(value: Value) -> Option<Self> {
        // serde_json's spelling of a struct variant: `{"CodeExperiments":{"checkup":true}}`.
        match value {
            Value::Object(o) if o.len() == 1 => match o.into_iter().next()? {
                (name, Value::Object(mut fields)) if name == "CodeExperiments" => {
                    Some(LabLogin::CodeExperiments {
                        checkup: stored(&mut fields, "checkup")?,
                    })
                }
                _ => None,
            },
            _ => None,
        }
    }
}

impl FromStored for DowngradeAnswer {
    fn from_stored(value: Value) -> Option<Self> {
        let Value::Object(mut o) = value else {
            return None;
        };
        Some(DowngradeAnswer {
            kind: stored(&mut o, "kind")?,
            sentence: stored(&mut o, "sentence")?,
            accepted: stored(&mut o, "accepted")?,
        })
    }
}

impl LabRecord {
    /// Keeps `report` as the latest of its experiment.
    pub fn set_report(&mut self, report: Report) {
        self.reports.retain(|r| r.experiment != report.experiment);
        self.reports.push(report);
    }

    /// The latest report of `experiment`.
    pub fn report(&self, experiment: Experiment) -> Option<&Report> {
        self.reports.iter().find(|r| r.experiment == experiment)
    }

    /// The record as JSON for sessionStorage.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Restores a saved record; anything unreadable gives an empty one.
    pub fn from_json(json: &str) -> Self {
        crate::protocol::document::load_stored(json).unwrap_or_default()
    }

    /// Takes the lab login started with `state`, if it was one.
    pub fn take_login(&mut self, state: &str) -> Option<LabLogin> {
        let index = self.logins.iter().position(|(s, _)| s == state)?;
        Some(self.logins.remove(index).1)
    }
}
