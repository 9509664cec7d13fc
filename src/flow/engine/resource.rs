//! The API call with the access token, and its answer.

use super::exchange::{path_of, record_response, with_token_get};
use crate::flow::problem::{Problem, TransportError};
use crate::flow::server_check::{self};
use crate::flow::timeline::{Actor, Channel, Step, StepId, StepKind, Timeline};
use crate::protocol::error::Explain;
use crate::protocol::http::HttpResponse;
use crate::protocol::resource::{parse_resource_response, ResourceError};
use crate::protocol::secret::AccessToken;
use serde_json::Value;

/// Appends the resource call step and returns its id and the `Authorization` header value.
pub fn resource_request_started(
    timeline: &mut Timeline,
    url: &str,
    token: &AccessToken,
    now_ms: u64,
) -> (StepId, String) {
    resource_request_started_as(timeline, url, token, false, now_ms)
}

/// [`resource_request_started`] for a token of either type: a DPoP-bound one (`dpop`) goes as
/// `Authorization: DPoP …` (RFC 9449 §7.1); its proof is added when signed.
pub fn resource_request_started_as(
    timeline: &mut Timeline,
    url: &str,
    token: &AccessToken,
    dpop: bool,
    now_ms: u64,
) -> (StepId, String) {
    let (step, header) = with_token_get(
        Step::new(
            StepKind::ResourceRequest,
            Actor::ClientApp,
            Actor::ResourceServer,
            Channel::Back,
            &format!("Call the API: GET {}", path_of(url)),
            now_ms,
        ),
        url,
        token,
        dpop,
    );
    let step = timeline.push(step.with_note(t!("engine.the_access_token")));
    server_check::api_checks(timeline, &format!("GET {}", path_of(url)), now_ms);
    (step, header)
}

/// Validates the API's answer and records it.
pub fn resource_response_received(
    timeline: &mut Timeline,
    step: StepId,
    outcome: Result<HttpResponse, TransportError>,
    now_ms: u64,
) -> Result<Value, Problem> {
    // The API's checks were drawn pending right after the request.
    let checks = step + 1;
    let outcome = record_response(timeline, step, outcome, |body| body.to_owned(), now_ms);
    server_check::settle_api_checks(timeline, checks, outcome.as_ref().ok(), now_ms);
    let response = outcome?;
    timeline.complete(step, now_ms);
    let answer = Step::new(
        StepKind::ResourceResponse,
        Actor::ResourceServer,
        Actor::ClientApp,
        Channel::Back,
        &format!("API answers {}", response.status),
        now_ms,
    )
    .with_note(t!("engine.401_means_the"));
    match parse_resource_response(&response) {
        Ok(value) => {
            timeline.push_done(answer, 0.0);
            Ok(value)
        }
        Err(error) => {
            let error: ResourceError = error;
            timeline.push_failed(answer, &error.what_happened());
            Err(Problem::from_error(&error))
        }
    }
}
