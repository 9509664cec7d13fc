//! The server's checks, drawn as notes on its lane between a request and its answer: what the
//! authorization server verifies when it redeems a code (PKCE, single use, client binding), and
//! what the resource server verifies on an API call. The app cannot see inside a server, so a
//! note is drawn pending while the request is in flight and settled from the real answer.

use crate::flow::timeline::{Actor, Channel, Param, Step, StepId, StepKind, StepStatus, Timeline};
use crate::protocol::error::sanitize_for_display;
use crate::protocol::http::HttpResponse;
use crate::protocol::pkce::CodeVerifier;
use crate::protocol::resource::parse_www_authenticate;
use crate::protocol::secret::mask;
use crate::protocol::token::{parse_token_response_with, TokenError};

/// What a token request presented to prove it may redeem the code.
pub enum Proof<'a> {
    /// A `code_verifier` (the client's, or an attacker's guess).
    Verifier(&'a str),
    /// No verifier at all.
    NoVerifier,
    /// A `client_secret` (the confidential variant).
    Secret,
}

/// Label of the note for a code redemption.
pub const PKCE_CHECKS: &str = "Server checks BASE64URL(SHA-256(code_verifier)) = \
    code_challenge; code unused, issued to this client_id and redirect_uri";
const SECRET_CHECKS: &str =
    "Server checks client_secret; code unused, issued to this client_id and redirect_uri";

/// The earlier step a server check refers to: the authorization request that gave the server
/// the challenge (and client_id, redirect_uri), or the answer that issued the token.
pub fn refers_to(steps: &[Step], index: usize) -> Option<usize> {
    let step = steps.get(index)?;
    if step.kind != StepKind::ServerCheck {
        return None;
    }
    let wanted: &[StepKind] = if step.from == Actor::ResourceServer {
        &[StepKind::TokenResponse, StepKind::RefreshResponse]
    } else {
        &[StepKind::RedirectToAuthorize, StepKind::ProbeRequest]
    };
    steps[..index]
        .iter()
        .rposition(|s| wanted.contains(&s.kind) && !s.ghost)
}

/// The scopes the consent page listed: the `scope` the authorization request asked for.
pub fn consent_scopes(authorize: &Step) -> Vec<Param> {
    authorize
        .params
        .iter()
        .filter(|p| p.name == "scope")
        .map(|p| Param::public("scopes shown", &p.shown))
        .collect()
}

fn note(server: Actor, label: &str, now_ms: u64) -> Step {
    let mut step = Step::new(
        StepKind::ServerCheck,
        server,
        server,
        Channel::Local,
        label,
        now_ms,
    );
    step.status = StepStatus::Pending;
    step
}

/// The code redemption's checks, drawn pending until [`settle_code_checks`]: the computed
/// `BASE64URL(SHA-256(code_verifier))` beside the challenge the server stored.
pub fn code_checks(timeline: &mut Timeline, proof: Proof, now_ms: u64) -> StepId {
    let mut step = note(
        Actor::AuthorizationServer,
        match proof {
            Proof::Secret => SECRET_CHECKS,
            _ => PKCE_CHECKS,
        },
        now_ms,
    );
    let stored = refers_to_challenge(timeline);
    step.params = match proof {
        Proof::Verifier(verifier) => {
            let mut params = vec![Param::secret("code_verifier", mask(verifier), verifier)];
            if let Ok(v) = CodeVerifier::parse(verifier) {
                params.push(Param::public(
                    "its hash (computed here)",
                    v.challenge().as_str(),
                ));
            }
            params.push(Param::public("code_challenge (stored)", &stored));
            params
        }
        Proof::NoVerifier => vec![
            Param::public("code_verifier", "(none sent)"),
            Param::public("code_challenge (stored)", &stored),
        ],
        Proof::Secret => Vec::new(),
    };
    timeline.push(step)
}

fn refers_to_challenge(timeline: &Timeline) -> String {
    let steps = timeline.steps();
    steps
        .iter()
        .rev()
        .find(|s| {
            matches!(
                s.kind,
                StepKind::RedirectToAuthorize | StepKind::ProbeRequest
            )
        })
        .and_then(|s| s.params.iter().find(|p| p.name == "code_challenge"))
        .map_or_else(|| "(none sent)".to_owned(), |p| p.shown.clone())
}

/// Settles the code redemption's checks from the token endpoint's real answer (`None`: no
/// readable answer).
pub fn settle_code_checks(
    timeline: &mut Timeline,
    id: StepId,
    answer: Option<&HttpResponse>,
    now_ms: u64,
) {
    // Only whether the server took the code matters here: a DPoP token is as good as any.
    let verdict = answer.and_then(|r| match parse_token_response_with(r, "", false, true) {
        Err(TokenError::ErrorResponse {
            code,
            description,
            status,
            ..
        }) => Some(Err(refusal(status, code.as_str(), description.as_deref()))),
        Ok(_) => Some(Ok(r.status)),
        Err(_) => None,
    });
    settle(
        timeline,
        id,
        verdict,
        " with tokens, so it accepted",
        now_ms,
    );
}

/// The resource server's checks for `call` (e.g. `GET /api/profile`), pending until
/// [`settle_api_checks`].
pub fn api_checks(timeline: &mut Timeline, call: &str, now_ms: u64) -> StepId {
    timeline.push(note(
        Actor::ResourceServer,
        &format!("API checks the token: valid, unexpired, scope covers {call}"),
        now_ms,
    ))
}

/// Settles the API's checks from its real answer (401/403 carry the error in
/// `WWW-Authenticate`, RFC 6750).
pub fn settle_api_checks(
    timeline: &mut Timeline,
    id: StepId,
    answer: Option<&HttpResponse>,
    now_ms: u64,
) {
    let verdict = answer.and_then(|r| match r.status {
        200..=299 => Some(Ok(r.status)),
        status @ (401 | 403) => {
            let params = r
                .www_authenticate
                .as_deref()
                .map(parse_www_authenticate)
                .unwrap_or_default();
            let get = |name: &str| {
                params
                    .iter()
                    .find(|(n, v)| n == name && !v.is_empty())
                    .map(|(_, v)| v.clone())
            };
            let error = get("error").unwrap_or_default();
            Some(Err(refusal(
                status,
                &error,
                get("error_description").as_deref(),
            )))
        }
        _ => None,
    });
    settle(timeline, id, verdict, ", so it accepted", now_ms);
}

fn refusal(status: u16, error: &str, description: Option<&str>) -> String {
    let said = description.map(|d| format!(": {d}")).unwrap_or_default();
    sanitize_for_display(&format!("Refused: {status} {error}{said}"), 300)
}

fn settle(
    timeline: &mut Timeline,
    id: StepId,
    verdict: Option<Result<u16, String>>,
    accepted: &str,
    now_ms: u64,
) {
    if timeline.steps().get(id).map(|s| s.kind) != Some(StepKind::ServerCheck) {
        return;
    }
    match verdict {
        Some(Ok(status)) => {
            timeline.complete(id, now_ms);
            if let Some(s) = timeline.step_mut(id) {
                s.note = format!(
                    "Inferred from the answer: the server answered {status}{accepted} all of \
                     these."
                );
            }
        }
        Some(Err(reason)) => timeline.fail(id, &reason, now_ms),
        // No OAuth answer (network, CORS, an HTML page): the note stays outlined, not failed,
        // because nothing says whether the server ran its checks.
        None => {
            if let Some(s) = timeline.step_mut(id) {
                s.note = "No OAuth answer, so unknown.".to_owned();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::timeline::Param;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn after_authorize() -> Timeline {
        let mut t = Timeline::new();
        t.push_done(Step::local(StepKind::GenerateState, "state", 0), 0.0);
        t.push_done(
            Step::new(
                StepKind::RedirectToAuthorize,
                Actor::ClientApp,
                Actor::AuthorizationServer,
                Channel::Front,
                "authorize",
                0,
            )
            .with_params(vec![Param::public("code_challenge", CHALLENGE)]),
            0.0,
        );
        t
    }

    #[test]
    fn p07_pkce_note_shows_the_computed_hash_beside_the_stored_challenge_from_the_request() {
        let mut t = after_authorize();
        let id = code_checks(&mut t, Proof::Verifier(VERIFIER), 5);
        let note = &t.steps()[id];
        assert_eq!(note.status, StepStatus::Pending);
        assert_eq!(
            (note.from, note.to),
            (Actor::AuthorizationServer, Actor::AuthorizationServer)
        );
        assert!(note
            .label
            .contains("BASE64URL(SHA-256(code_verifier)) = code_challenge"));
        assert_eq!(
            refers_to(t.steps(), id),
            Some(1),
            "tied to the authorization request"
        );
        let value = |name: &str| note.params.iter().find(|p| p.name == name).unwrap().clone();
        let verifier = value("code_verifier");
        assert!(
            verifier.secret && !verifier.shown.contains(VERIFIER),
            "masked until revealed"
        );
        let kept = t.revealable(id, "code_verifier").map(|v| v.expose());
        assert_eq!(kept, Some(VERIFIER));
        assert_eq!(value("its hash (computed here)").shown, CHALLENGE);
        assert_eq!(value("code_challenge (stored)").shown, CHALLENGE);
    }

    #[test]
    fn p07_accepted_exchange_settles_the_note_as_inferred_from_the_answer() {
        let mut t = after_authorize();
        let id = code_checks(&mut t, Proof::Verifier(VERIFIER), 5);
        let ok = HttpResponse::json(
            200,
            r#"{"access_token":"a","token_type":"Bearer","expires_in":60}"#,
        );
        settle_code_checks(&mut t, id, Some(&ok), 9);
        let note = &t.steps()[id];
        assert_eq!(note.status, StepStatus::Ok);
        assert!(note
            .note
            .starts_with("Inferred from the answer: the server answered 200"));
    }

    #[test]
    fn p07_refused_exchange_draws_the_same_note_failed_with_the_providers_error() {
        let mut t = after_authorize();
        let id = code_checks(
            &mut t,
            Proof::Verifier("wrong-guess-wrong-guess-wrong-guess-wrong-g"),
            5,
        );
        let refused = HttpResponse::json(
            400,
            r#"{"error":"invalid_grant","error_description":"PKCE verification failed"}"#,
        );
        settle_code_checks(&mut t, id, Some(&refused), 9);
        let note = &t.steps()[id];
        assert_eq!(note.label, PKCE_CHECKS);
        assert_eq!(
            note.status,
            StepStatus::Failed {
                reason: "Refused: 400 invalid_grant: PKCE verification failed".into()
            }
        );
        let hash = note
            .params
            .iter()
            .find(|p| p.name == "its hash (computed here)");
        assert_ne!(
            hash.unwrap().shown,
            CHALLENGE,
            "a wrong guess hashes elsewhere"
        );
    }

    #[test]
    fn no_oauth_answer_leaves_the_checks_unknown_neither_passed_nor_failed() {
        let mut t = after_authorize();
        let id = code_checks(&mut t, Proof::NoVerifier, 5);
        settle_code_checks(&mut t, id, None, 9);
        assert_eq!(t.steps()[id].status, StepStatus::Pending);
        assert!(t.steps()[id].note.contains("unknown"));
        let html = HttpResponse {
            content_type: Some("text/html".into()),
            ..HttpResponse::json(500, "<h1>oops</h1>")
        };
        let id = code_checks(&mut t, Proof::Secret, 5);
        settle_code_checks(&mut t, id, Some(&html), 9);
        assert_eq!(
            t.steps()[id].status,
            StepStatus::Pending,
            "an HTML 500 says nothing"
        );
    }

    #[test]
    fn r03_api_note_is_tied_to_the_token_answer_and_carries_the_rfc6750_error() {
        let mut t = after_authorize();
        t.push_done(
            Step::new(
                StepKind::TokenResponse,
                Actor::AuthorizationServer,
                Actor::ClientApp,
                Channel::Back,
                "tokens",
                0,
            ),
            0.0,
        );
        let id = api_checks(&mut t, "GET /api/files", 5);
        assert_eq!(refers_to(t.steps(), id), Some(2));
        assert!(t.steps()[id].label.contains("scope covers GET /api/files"));
        let mut forbidden = HttpResponse::json(403, "{}");
        forbidden.www_authenticate =
            Some(r#"Bearer error="insufficient_scope", scope="read:files""#.into());
        settle_api_checks(&mut t, id, Some(&forbidden), 9);
        assert_eq!(
            t.steps()[id].status,
            StepStatus::Failed {
                reason: "Refused: 403 insufficient_scope".into()
            }
        );
        let id = api_checks(&mut t, "GET /api/profile", 5);
        settle_api_checks(&mut t, id, Some(&HttpResponse::json(200, "{}")), 9);
        assert!(t.steps()[id].note.contains("answered 200, so it accepted"));
    }
}
