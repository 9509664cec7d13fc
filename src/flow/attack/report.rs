//! The verdicts: how an experiment ended, judged from the provider's real answers, and the
//! report the lab shows.

use super::back_channel::TokenAnswer;
use super::experiment::{DowngradeAnswer, Experiment};
use crate::protocol::document::{stored, unit_variant, FromStored, Value};
use crate::protocol::probe::ProbeAnswer;
use serde::{Deserialize, Serialize};

/// How an experiment ended, judged from the provider's real answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// The defence held.
    Stopped,
    /// The attack worked: the server (or setting) is weak.
    Succeeded,
    /// The answers do not allow a verdict.
    Unknown,
}

impl Outcome {
    /// Short word for the badge.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Stopped => "stopped",
            Outcome::Succeeded => "attack worked",
            Outcome::Unknown => "unclear",
        }
    }
}

/// The result of one experiment, as shown in the lab.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Which experiment.
    pub experiment: Experiment,
    /// The verdict.
    pub outcome: Outcome,
    /// What the provider (or this app) did, one sentence each, in order.
    pub findings: Vec<String>,
}

impl FromStored for Outcome {
    fn from_stored(value: Value) -> Option<Self> {
        unit_variant(value)
    }
}

impl FromStored for Report {
    fn from_stored(value: Value) -> Option<Self> {
        let Value::Object(mut o) = value else {
            return None;
        };
        Some(Report {
            experiment: stored(&mut o, "experiment")?,
            outcome: stored(&mut o, "outcome")?,
            findings: stored(&mut o, "findings")?,
        })
    }
}

/// Whether the provider accepted the probe (the attack's first half worked).
pub fn probe_accepted(answer: &ProbeAnswer) -> Option<bool> {
    match answer {
        ProbeAnswer::Refused { .. } => Some(false),
        ProbeAnswer::Unclear { .. } => None,
        _ => Some(true),
    }
}

/// The stolen-code experiment's report from the three answers.
pub fn stolen_code_report(
    no_verifier: &TokenAnswer,
    wrong_verifier: &TokenAnswer,
    real_client: &TokenAnswer,
) -> Report {
    let mut findings = vec![
        format!("Without a verifier: {}.", no_verifier.sentence()),
        format!("With a wrong verifier: {}.", wrong_verifier.sentence()),
    ];
    findings.push(
        match (
            real_client,
            no_verifier.refused() || wrong_verifier.refused(),
        ) {
            (TokenAnswer::Tokens { .. }, true) => t!("attack.then_the_real").to_owned(),
            (TokenAnswer::Refused { .. }, true) => t!("attack.then_the_real_2").to_owned(),
            (answer, _) => format!("Then the real client tried: {}.", answer.sentence()),
        },
    );
    let outcome = if matches!(no_verifier, TokenAnswer::Tokens { .. })
        || matches!(wrong_verifier, TokenAnswer::Tokens { .. })
    {
        Outcome::Succeeded
    } else if no_verifier.refused() && wrong_verifier.refused() {
        Outcome::Stopped
    } else {
        Outcome::Unknown
    };
    Report {
        experiment: Experiment::StolenCode,
        outcome,
        findings,
    }
}

/// The replay experiment's report: the second redemption and the first tokens afterwards.
pub fn replay_report(
    second: &TokenAnswer,
    before_status: Option<u16>,
    after_status: Option<u16>,
) -> Report {
    let mut findings = vec![format!(
        "Second redemption of the same code: {}.",
        second.sentence()
    )];
    let revoked = match (before_status, after_status) {
        (Some(before), Some(after)) => {
            findings.push(format!(
                "The tokens from the first redemption: {before} before the replay, {after} \
                 after it — {}.",
                if after == 401 {
                    "the provider revoked them, as RFC 6749 §4.1.2 recommends"
                } else {
                    "still valid: this provider does not revoke them (RFC 6749 §4.1.2 says it \
                     SHOULD)"
                }
            ));
            Some(after == 401)
        }
        _ => {
            findings.push(t!("attack.could_not_check").to_owned());
            None
        }
    };
    let outcome = match (second, revoked) {
        (TokenAnswer::Tokens { .. }, _) => Outcome::Succeeded,
        (TokenAnswer::Refused { .. }, _) => Outcome::Stopped,
        _ => Outcome::Unknown,
    };
    Report {
        experiment: Experiment::CodeReplay,
        outcome,
        findings,
    }
}

/// The downgrade experiment's report from the two probes (and any redemption it enabled).
/// Stopped only when both probes were clearly refused; an unclear answer is no verdict.
pub fn downgrade_report(answers: &[DowngradeAnswer]) -> Report {
    let findings = answers
        .iter()
        .map(|a| format!("{}: {}.", a.kind.label(), a.sentence))
        .collect();
    let refused = answers.iter().filter(|a| a.accepted == Some(false)).count();
    Report {
        experiment: Experiment::PkceDowngrade,
        outcome: if answers.iter().any(|a| a.accepted == Some(true)) {
            Outcome::Succeeded
        } else if refused == 2 {
            Outcome::Stopped
        } else {
            Outcome::Unknown
        },
        findings,
    }
}

/// One sentence for a probe answer.
pub fn probe_sentence(answer: &ProbeAnswer) -> String {
    match answer {
        ProbeAnswer::Refused { error, .. } => format!("refused ({error})"),
        ProbeAnswer::AcceptedNeedsLogin { error } => {
            format!("accepted; the provider only wants a login first ({error})")
        }
        ProbeAnswer::AcceptedCode { .. } => "accepted: a code came back".to_owned(),
        ProbeAnswer::AcceptedToken { .. } => t!("attack.accepted_an_access").to_owned(),
        ProbeAnswer::Unclear { what } => format!("unclear: {what}"),
    }
}

/// The implicit experiment's report.
pub fn implicit_report(answer: &ProbeAnswer) -> Report {
    Report {
        experiment: Experiment::Implicit,
        outcome: match probe_accepted(answer) {
            Some(true) => Outcome::Succeeded,
            Some(false) => Outcome::Stopped,
            None => Outcome::Unknown,
        },
        findings: vec![format!("response_type=token: {}.", probe_sentence(answer))],
    }
}
