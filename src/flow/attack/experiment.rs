//! The experiments themselves: what each one is, the lab logins and probe answers it waits
//! for, and the record kept across the trips to the provider.

use super::report::{Outcome, Report};
use crate::flow::checkup::Scorecard;
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LabLogin {
    /// The victim's login: its code feeds the stolen-code and replay experiments (and the
    /// checkup's login-only checks when `checkup` is on).
    CodeExperiments {
        /// Whether the provider checkup is waiting for these results.
        checkup: bool,
    },
}

/// One downgrade probe's answer, kept until both are in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct LabRecord {
    /// The latest report of each experiment.
    pub reports: Vec<Report>,
    /// Lab logins by their `state`.
    pub logins: Vec<(String, LabLogin)>,
    /// The probes of the last silent run whose window did not come back: offered to run
    /// interactively (kept across the checkup's login).
    #[serde(default)]
    pub unanswered: Vec<ProbeKind>,
    /// The `state` of the last probes sent from this tab: an answer that lands in the tab
    /// itself instead of the probe window is recognised and dropped.
    #[serde(default)]
    pub probe_states: Vec<String>,
    /// Answers of the downgrade probes, to report both together.
    pub downgrade: Vec<DowngradeAnswer>,
    /// The provider checkup's scorecard, when one was run in this tab.
    pub scorecard: Option<Scorecard>,
    /// Whether the checkup (rather than an experiment) was the last thing started.
    #[serde(default)]
    pub checkup_active: bool,
    /// The stolen-token experiment's verdict and findings (issue 17), once run.
    #[serde(default)]
    pub stolen_token: Option<(Outcome, Vec<String>)>,
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
