//! PURE attack lab experiment "Stolen access token" (issue 17, RFC 9449): an injected script
//! (or a leaked log) copies the live session's access token and the attacker calls the demo
//! API with it from elsewhere. With a Bearer token the API answers 200 and the attacker reads
//! the profile; with a DPoP-bound token every attempt is refused: the copy sent as Bearer or
//! with the attacker's own key's proof (`cnf.jkt` does not match), and a captured proof
//! replayed (`jti` already used) or sent to another URL (`htu`). The session's lab run
//! (`flow/session/stolen.rs`) sends the real requests as commands and hands the answers in.

use crate::flow::attack::Outcome;
use crate::flow::engine::{attach_response, path_of};
use crate::flow::problem::TransportError;
use crate::flow::timeline::{
    Actor, Channel, HttpExchange, Param, Step, StepId, StepKind, Timeline,
};
use crate::protocol::dpop::parse_dpop_challenge;
use crate::protocol::error::sanitize_for_display;
use crate::protocol::http::HttpResponse;
use crate::protocol::secret::AccessToken;

/// The defence named on the ✔ line.
pub const DEFENCE: &str = "DPoP: the token is bound to this tab's key";

/// The ✔ line of a DPoP run.
pub const BOUND_LINE: &str = "The token is bound to the key whose thumbprint is cnf.jkt; the \
     private key is non-extractable, so the script could use the token only from inside this \
     tab, while it is open.";

/// The ✔ line of the stale-proof variant, when the API named `iat`.
pub const IAT_LINE: &str = "✔ Stopped by the proof's iat: the API keeps a jti only for its \
     window; after it, the proof's iat is too old (RFC 9449 §11.1). jti stops a quick replay, \
     iat a late one.";

/// How long the stale-proof variant waits beyond the API's window: `iat` is in whole seconds,
/// and the clocks of the page and the API may differ a little.
pub const STALE_MARGIN_S: u32 = 2;

/// What DPoP does not stop, said plainly.
pub const LIMIT: &str = "Honest limit: a script injected into this tab (XSS) can still ask \
     WebCrypto to sign proofs while the tab is open, and use the token from here. DPoP stops \
     the exfiltrated token, not the live script.";

/// One thing the attacker tries with the copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// `Authorization: Bearer <copy>`, no proof.
    AsBearer,
    /// `Authorization: DPoP <copy>` with a valid proof signed by the attacker's own key.
    OwnKey,
    /// The `DPoP` header of a real request of this tab, captured and sent again.
    ReplayedProof,
    /// The same captured proof, sent to another URL of the API.
    ReplayedElsewhere,
    /// The captured request sent again after the API's acceptance window: the API no longer
    /// remembers its `jti`, so its `iat` check is what refuses it (RFC 9449 §11.1).
    ReplayedStale,
}

impl Attempt {
    /// The arrow's label.
    pub fn label(self, path: &str) -> String {
        match self {
            Attempt::AsBearer => format!("The attacker calls GET {path} with the copy (Bearer)"),
            Attempt::OwnKey => {
                format!("The attacker calls GET {path} with the copy and a proof of its own key")
            }
            Attempt::ReplayedProof => {
                format!("The attacker replays the captured request to GET {path}")
            }
            Attempt::ReplayedElsewhere => {
                format!("The attacker sends the captured proof to GET {path}")
            }
            Attempt::ReplayedStale => format!(
                "The attacker replays the captured request to GET {path} after the API's iat \
                 window"
            ),
        }
    }
}

/// What the API answered one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptAnswer {
    /// Which attempt.
    pub attempt: Attempt,
    /// The HTTP status (0: no answer could be read).
    pub status: u16,
    /// The `error` of the `WWW-Authenticate` challenge, if any.
    pub error: Option<String>,
    /// Its `error_description` (or why there was no answer).
    pub description: Option<String>,
}

/// The attacker copies the token out of this tab.
pub fn token_copied(timeline: &mut Timeline, token: &AccessToken, dpop: bool, now_ms: u64) {
    let kind = if dpop { "DPoP-bound" } else { "Bearer" };
    timeline.push_done(
        Step::new(
            StepKind::Intercept,
            Actor::ClientApp,
            Actor::Attacker,
            Channel::Local,
            &format!("An injected script copies the {kind} access token"),
            now_ms,
        )
        .with_params(vec![
            Param::masked("access_token", token.masked()),
            Param::public("token_type", if dpop { "DPoP" } else { "Bearer" }),
        ])
        .with_note(
            "A script injected into the page, a malicious extension or a leaked log copies \
             the access token. The lab plays the attacker with that copy and calls the API \
             from outside the app's own code.",
        ),
        0.0,
    );
}

/// The attacker's request to the API, drawn with the headers it carries (the token masked,
/// the proof without its signature).
pub fn attacker_call(
    timeline: &mut Timeline,
    attempt: Attempt,
    url: &str,
    authorization_shown: &str,
    proof_masked: Option<String>,
    now_ms: u64,
) -> StepId {
    let mut headers = vec![
        ("Accept".to_owned(), "application/json".to_owned()),
        ("Authorization".to_owned(), authorization_shown.to_owned()),
    ];
    let mut params = vec![Param::public("Authorization", authorization_shown)];
    if let Some(proof) = proof_masked {
        headers.push(("DPoP".to_owned(), proof));
        params.push(Param::public(
            "DPoP",
            match attempt {
                Attempt::OwnKey => "a proof signed by the attacker's own key",
                _ => "the captured proof of this tab's request",
            },
        ));
    }
    timeline.push(
        Step::new(
            StepKind::AttackRequest,
            Actor::Attacker,
            Actor::ResourceServer,
            Channel::Back,
            &attempt.label(path_of(url)),
            now_ms,
        )
        .with_params(params)
        .with_exchange(HttpExchange {
            method: "GET".into(),
            url: url.into(),
            request_headers: headers,
            ..HttpExchange::default()
        })
        .with_note(
            "A real request to the real demo API, sent by this page on the attacker's behalf: \
             the answer below is what the API actually said.",
        ),
    )
}

/// Records the API's answer to the attacker: a 200 is drawn as the attack working (the
/// profile read), a refusal as the attacker's failure with the defence highlighted.
pub fn attacker_answer(
    timeline: &mut Timeline,
    step: StepId,
    attempt: Attempt,
    outcome: Result<HttpResponse, TransportError>,
    now_ms: u64,
) -> AttemptAnswer {
    let response = match outcome {
        Ok(response) => response,
        Err(error) => {
            let why = crate::protocol::error::Explain::what_happened(&error);
            timeline.fail(step, &why, now_ms);
            return AttemptAnswer {
                attempt,
                status: 0,
                error: None,
                description: Some(why),
            };
        }
    };
    attach_response(timeline, step, &response, |body| body.to_owned());
    timeline.complete(step, now_ms);
    let challenge = response
        .www_authenticate
        .as_deref()
        .and_then(parse_dpop_challenge);
    let error = challenge.as_ref().and_then(|c| c.error.clone());
    let description = challenge
        .and_then(|c| c.error_description)
        .map(|d| sanitize_for_display(&d, 400));
    let base = Step::new(
        StepKind::AttackResponse,
        Actor::ResourceServer,
        Actor::Attacker,
        Channel::Back,
        "",
        now_ms,
    );
    if response.status == 200 {
        let mut step = base.with_note(
            "The API took the copied token: a Bearer token works for whoever holds it. The \
             attacker reads the profile (shown in the request's HTTP details).",
        );
        step.label = "200: the attacker reads the profile".to_owned();
        step.deviations
            .push("The attack worked: a Bearer token is not bound to anything.".to_owned());
        timeline.push_done(step, 0.0);
    } else {
        let mut step = base.with_defence(DEFENCE).with_note(BOUND_LINE);
        step.label = format!(
            "Refused: {} {}",
            response.status,
            error.as_deref().unwrap_or("(no DPoP error)")
        );
        timeline.push_failed(
            step,
            description
                .as_deref()
                .unwrap_or("the API refused the copied token"),
        );
    }
    AttemptAnswer {
        attempt,
        status: response.status,
        error,
        description,
    }
}

/// The verdict and the findings, one line per attempt, then the ✔ line (or what went wrong)
/// and the honest limit.
pub fn report(dpop: bool, answers: &[AttemptAnswer]) -> (Outcome, Vec<String>) {
    let mut findings: Vec<String> = answers
        .iter()
        .map(|a| {
            let what = match a.attempt {
                Attempt::AsBearer => "The copy sent as Bearer",
                Attempt::OwnKey => "The copy with a proof of the attacker's own key",
                Attempt::ReplayedProof => "The captured request replayed",
                Attempt::ReplayedElsewhere => "The captured proof at another URL",
                Attempt::ReplayedStale => "The captured request replayed after the iat window",
            };
            match (a.status, &a.error, &a.description) {
                (200, _, _) => format!("{what}: 200, the attacker read the profile."),
                (0, _, Some(why)) => format!("{what}: no answer ({why})"),
                (status, error, description) => format!(
                    "{what}: {status} {}{}",
                    error.as_deref().unwrap_or(""),
                    description
                        .as_deref()
                        .map(|d| format!(" — {d}"))
                        .unwrap_or_default()
                ),
            }
        })
        .collect();
    let worked = answers.iter().any(|a| a.status == 200);
    let refused = !answers.is_empty() && answers.iter().all(|a| a.status == 401);
    let outcome = if worked {
        Outcome::Succeeded
    } else if refused {
        Outcome::Stopped
    } else {
        Outcome::Unknown
    };
    // The late-replay variant gets its own ✔ line, only when the API's answer really named iat.
    let late = answers.iter().find(|a| a.attempt == Attempt::ReplayedStale);
    let late_by_iat = late.is_some_and(|a| {
        a.status == 401
            && a.error.as_deref() == Some("invalid_dpop_proof")
            && a.description.as_deref().is_some_and(|d| d.contains("iat"))
    });
    match (dpop, outcome, late) {
        (false, Outcome::Succeeded, _) => findings.push(
            "✘ A Bearer token works for whoever holds it. Switch DPoP on in the Provider panel, \
             log in again and run this once more."
                .to_owned(),
        ),
        (true, Outcome::Stopped, None) => {
            findings.push(format!("✔ Stopped by {DEFENCE}. {BOUND_LINE}"))
        }
        (true, Outcome::Stopped, Some(_)) if late_by_iat => findings.push(IAT_LINE.to_owned()),
        (true, Outcome::Stopped, Some(_)) => findings.push(
            "The late replay was refused, but not for iat: is the API's window longer than the \
             one set in the card?"
                .to_owned(),
        ),
        _ => {}
    }
    if dpop {
        findings.push(LIMIT.to_owned());
    }
    (outcome, findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, www: Option<&str>) -> Result<HttpResponse, TransportError> {
        Ok(HttpResponse {
            www_authenticate: www.map(str::to_owned),
            ..HttpResponse::json(status, r#"{"sub":"alice","name":"Alice Liddell"}"#)
        })
    }

    #[test]
    fn r9449_bearer_copy_is_read_by_the_attacker() {
        let mut t = Timeline::new();
        let token = AccessToken::new("SECRET-AT".into());
        token_copied(&mut t, &token, false, 1);
        let url = "http://127.0.0.1:9001/api/profile";
        let step = attacker_call(&mut t, Attempt::AsBearer, url, "Bearer SEC…", None, 2);
        let a = attacker_answer(&mut t, step, Attempt::AsBearer, answer(200, None), 3);
        let (outcome, findings) = report(false, &[a]);
        assert_eq!(outcome, Outcome::Succeeded);
        assert!(findings[0].contains("200, the attacker read the profile"));
        assert!(t.has_attacker());
        assert!(!t.to_json().contains("SECRET-AT"));
    }

    #[test]
    fn r9449_7_every_attempt_with_a_bound_copy_is_refused_with_the_defence_named() {
        let mut t = Timeline::new();
        let url = "http://127.0.0.1:9001/api/profile";
        let mut answers = Vec::new();
        for (attempt, www) in [
            (
                Attempt::AsBearer,
                r#"DPoP realm="x", error="invalid_token", error_description="bound to a DPoP key""#,
            ),
            (
                Attempt::OwnKey,
                r#"DPoP error="invalid_token", error_description="cnf.jkt does not match""#,
            ),
            (
                Attempt::ReplayedProof,
                r#"DPoP error="invalid_dpop_proof", error_description="DPoP proof already used (jti)""#,
            ),
        ] {
            let step = attacker_call(
                &mut t,
                attempt,
                url,
                "DPoP x…",
                Some("a.b.[signature hidden]".into()),
                2,
            );
            answers.push(attacker_answer(
                &mut t,
                step,
                attempt,
                answer(401, Some(www)),
                3,
            ));
        }
        let (outcome, findings) = report(true, &answers);
        assert_eq!(outcome, Outcome::Stopped);
        assert!(findings[2].contains("invalid_dpop_proof") && findings[2].contains("jti"));
        assert!(findings.iter().any(|f| f.starts_with("✔ Stopped by DPoP")));
        assert!(findings.last().unwrap().starts_with("Honest limit"));
        let refused = t
            .steps()
            .iter()
            .filter(|s| s.defence.as_deref() == Some(DEFENCE))
            .count();
        assert_eq!(refused, 3);
        assert!(
            !findings.iter().any(|f| f == IAT_LINE),
            "no late replay here"
        );
    }

    #[test]
    fn r9449_11_1_a_late_replay_refused_by_iat_gets_the_iat_line_and_only_then() {
        let late = |description: &str| AttemptAnswer {
            attempt: Attempt::ReplayedStale,
            status: 401,
            error: Some("invalid_dpop_proof".into()),
            description: Some(description.into()),
        };
        let quick = AttemptAnswer {
            attempt: Attempt::ReplayedProof,
            status: 401,
            error: Some("invalid_dpop_proof".into()),
            description: Some("This DPoP proof was already used (its jti was seen before)".into()),
        };
        let (outcome, findings) = report(
            true,
            &[
                quick.clone(),
                late("The proof's iat is not within 3 s of the server's time"),
            ],
        );
        assert_eq!(outcome, Outcome::Stopped);
        assert!(findings[1].starts_with("The captured request replayed after the iat window: 401"));
        assert!(findings.iter().any(|f| f == IAT_LINE), "{findings:?}");
        // Not the key-binding line: this variant replays this tab's own proof.
        assert!(!findings.iter().any(|f| f.starts_with("✔ Stopped by DPoP")));
        // Still refused by jti (the lab waited less than the API's window): no iat line.
        let (_, findings) = report(true, &[quick, late("already used (jti)")]);
        assert!(!findings.iter().any(|f| f == IAT_LINE));
        assert!(findings.iter().any(|f| f.contains("not for iat")));
    }
}
