//! The attacker's back-channel steps: what leaked, the attacker's own token requests and the
//! provider's answers, the checkup's CORS probe.

use crate::flow::engine::{form_post_exchange, mask_token_json, record_response};
use crate::flow::problem::{Problem, TransportError};
use crate::flow::server_check::{self, Proof};
use crate::flow::timeline::{Actor, Channel, Param, Step, StepId, StepKind, Timeline};
use crate::protocol::http::HttpResponse;
use crate::protocol::secret::AuthorizationCode;
use crate::protocol::token::{
    attacker_code_request, parse_token_response, TokenError, TokenRequest,
};
use crate::protocol::uri::parse_query;

/// The provider's answer to a token request the attack lab sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenAnswer {
    /// An OAuth error: the request was refused.
    Refused {
        /// The `error` code.
        error: String,
        /// The HTTP status.
        status: u16,
    },
    /// Tokens were handed out (values are never kept beyond the masked chips).
    Tokens {
        /// Whether a refresh token came too.
        refresh: bool,
    },
    /// No usable answer (network, CORS, not an OAuth answer).
    Unreadable {
        /// Why, in one sentence.
        why: String,
    },
}

impl TokenAnswer {
    /// One sentence for the report.
    pub fn sentence(&self) -> String {
        match self {
            TokenAnswer::Refused { error, status } => {
                format!("the provider refused it ({status} {error})")
            }
            TokenAnswer::Tokens { .. } => "the provider handed out tokens".to_owned(),
            TokenAnswer::Unreadable { why } => format!("no readable answer: {why}"),
        }
    }

    pub(super) fn refused(&self) -> bool {
        matches!(self, TokenAnswer::Refused { .. })
    }
}

/// The attacker gets hold of something that leaked on the front channel.
pub fn leaked(timeline: &mut Timeline, what: &str, params: Vec<Param>, now_ms: u64) -> StepId {
    timeline.push_done(
        Step::new(
            StepKind::Intercept,
            Actor::Browser,
            Actor::Attacker,
            Channel::Front,
            &format!("The attacker gets {what}"),
            now_ms,
        )
        .with_params(params)
        .with_note(t!("attack.front_channel_values")),
        0.0,
    )
}

/// The attacker's own request to the token endpoint.
pub fn attack_request(
    timeline: &mut Timeline,
    label: &str,
    request: &TokenRequest,
    params: Vec<Param>,
    now_ms: u64,
) -> StepId {
    let step = timeline.push(
        Step::new(
            StepKind::AttackRequest,
            Actor::Attacker,
            Actor::AuthorizationServer,
            Channel::Back,
            label,
            now_ms,
        )
        .with_params(params)
        .with_exchange(form_post_exchange(&request.url, request.masked_body()))
        .with_note(t!("attack.a_real_request")),
    );
    let form = parse_query(&request.body);
    let field = |name: &str| {
        form.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let proof = match (field("code_verifier"), field("client_secret")) {
        (Some(verifier), _) => Proof::Verifier(verifier),
        (None, Some(_)) => Proof::Secret,
        (None, None) => Proof::NoVerifier,
    };
    server_check::code_checks(timeline, proof, now_ms);
    step
}

/// Records the provider's answer to the attacker. A refusal is drawn as the attacker's
/// failure with `defence` highlighted; tokens are drawn as the attack succeeding.
pub fn attack_answer(
    timeline: &mut Timeline,
    step: StepId,
    outcome: Result<HttpResponse, TransportError>,
    defence: &str,
    now_ms: u64,
) -> TokenAnswer {
    // The server's checks were drawn pending right after the request.
    let outcome = record_response(timeline, step, outcome, mask_token_json, now_ms);
    server_check::settle_code_checks(timeline, step + 1, outcome.as_ref().ok(), now_ms);
    let response = match outcome {
        Ok(response) => response,
        Err(problem) => {
            return TokenAnswer::Unreadable {
                why: problem.what_happened,
            }
        }
    };
    timeline.complete(step, now_ms);
    let answer = read_token_answer(&response);
    let base = Step::new(
        StepKind::AttackResponse,
        Actor::AuthorizationServer,
        Actor::Attacker,
        Channel::Back,
        "",
        now_ms,
    );
    match &answer {
        TokenAnswer::Refused { error, status } => {
            let mut step = base.with_defence(defence);
            step.label = format!("Refused: {status} {error}");
            timeline.push_failed(step, "the attacker gets no tokens");
        }
        TokenAnswer::Tokens { .. } => {
            let mut step = base.with_note(t!("attack.the_provider_handed"));
            step.label = "Tokens handed to the attacker".to_owned();
            step.deviations
                .push(t!("attack.the_attack_worked").to_owned());
            timeline.push_done(step, 0.0);
        }
        TokenAnswer::Unreadable { why } => {
            let mut step = base;
            step.label = format!("Answer {}", response.status);
            timeline.push_failed(step, why);
        }
    }
    answer
}

/// Classifies a token endpoint answer without keeping any token.
pub fn read_token_answer(response: &HttpResponse) -> TokenAnswer {
    match parse_token_response(response, "", false) {
        Ok(tokens) => TokenAnswer::Tokens {
            refresh: tokens.refresh_token.is_some(),
        },
        Err(TokenError::ErrorResponse { code, status, .. }) => TokenAnswer::Refused {
            error: code.as_str().to_owned(),
            status,
        },
        Err(error) => TokenAnswer::Unreadable {
            why: crate::protocol::error::Explain::what_happened(&error),
        },
    }
}

/// The checkup's CORS probe: a token request with a made-up code, sent by this page. `None`
/// when the endpoint is not one a request may be built for.
pub fn cors_probe_started(
    timeline: &mut Timeline,
    token_endpoint: &str,
    redirect_uri: &str,
    client_id: &str,
    now_ms: u64,
) -> Option<(StepId, TokenRequest)> {
    let code = AuthorizationCode::new("lab-made-up-code".to_owned());
    let request =
        attacker_code_request(token_endpoint, &code, redirect_uri, client_id, None).ok()?;
    let step = timeline.push(
        Step::new(
            StepKind::TokenRequest,
            Actor::ClientApp,
            Actor::AuthorizationServer,
            Channel::Back,
            "Can this page read the token endpoint? (a made-up code)",
            now_ms,
        )
        .with_exchange(form_post_exchange(&request.url, request.masked_body()))
        .with_note(t!("attack.a_browser_app")),
    );
    Some((step, request))
}

/// Records the CORS probe's answer: whether this page could read it.
pub fn cors_probe_answered(
    timeline: &mut Timeline,
    step: StepId,
    outcome: Result<HttpResponse, TransportError>,
    now_ms: u64,
) -> bool {
    let readable = record_response(timeline, step, outcome, |b| b.to_owned(), now_ms).is_ok();
    if readable {
        timeline.complete(step, now_ms);
    }
    readable
}

/// After a replay, the API's 401 for the first tokens is the defence working: marks it so.
pub fn replay_revoked_the_tokens(timeline: &mut Timeline) {
    if let Some((id, _)) = timeline.last_of(StepKind::ResourceResponse) {
        if let Some(step) = timeline.step_mut(id) {
            step.defence = Some("the replay made the provider revoke them".to_owned());
        }
    }
}

/// A problem for a lab step that could not even start.
pub fn cannot_start(what: &str) -> Problem {
    Problem::local(
        what,
        "Check the settings (issuer, client id) and that the provider is reachable, then run \
         the experiment again.",
    )
}
