//! The way back: the callback's parameters read, drawn (masked) and checked against the
//! pending login that matched its `state`.

use super::exchange::mask_callback_query;
use crate::flow::problem::Problem;
use crate::flow::server_check::{self};
use crate::flow::timeline::{
    Actor, Channel, HttpExchange, Param, Step, StepKind, StepStatus, Timeline,
};
use crate::protocol::callback::{
    is_harmless_callback_parameter, parse_callback, validate_callback, AuthorizedCallback,
    CallbackParams,
};
use crate::protocol::error::{sanitize_for_display, Explain};
use crate::protocol::pending::PendingAuthorization;
use crate::protocol::secret::mask;
use crate::protocol::uri::parse_query;

/// Reads the page's query and fragment. `Ok(None)` is an ordinary page load. On a callback it
/// appends the steps for the time at the provider and the redirect back.
pub fn callback_received(
    timeline: &mut Timeline,
    query: &str,
    fragment: &str,
    now_ms: u64,
) -> Result<Option<CallbackParams>, Problem> {
    let parsed = parse_callback(query, fragment);
    let looks_like_callback = !matches!(parsed, Ok(None));
    if !looks_like_callback {
        return Ok(None);
    }
    // Time at the provider is drawn only for a trip this run made and that has not come back
    // yet (a second callback, e.g. the attack lab's forged link, did not go through it).
    let back_already = timeline.last_of(StepKind::RedirectBack).map(|(id, _)| id);
    let trip = timeline
        .last_of(StepKind::RedirectToAuthorize)
        .filter(|(id, _)| back_already.is_none_or(|back| back < *id));
    if let Some((_, redirect)) = trip {
        let left_at = redirect.started_at_ms;
        let mut at_provider = Step::new(
            StepKind::UserAtProvider,
            Actor::User,
            Actor::AuthorizationServer,
            Channel::UserAction,
            "Sign in and consent at the provider",
            left_at,
        )
        .with_note(t!("engine.the_provider_not"))
        .with_params(server_check::consent_scopes(redirect));
        at_provider.status = StepStatus::Ok;
        at_provider.duration_ms = Some(now_ms.saturating_sub(left_at) as f64);
        timeline.push(at_provider);
    }
    let chips = parse_query(query)
        .into_iter()
        .map(|(name, value)| callback_chip(&name, &value))
        .collect();
    let shown_query = mask_callback_query(&format!("?{}", query.trim_start_matches('?')));
    let redirect_back = Step::new(
        StepKind::RedirectBack,
        Actor::AuthorizationServer,
        Actor::ClientApp,
        Channel::Front,
        "Redirect back to the app with the result",
        now_ms,
    )
    .with_params(chips)
    .with_exchange(HttpExchange {
        method: "NAVIGATE".into(),
        url: shown_query,
        ..HttpExchange::default()
    })
    .with_note(t!("engine.the_provider_sends"));
    let id = timeline.push_done(redirect_back, 0.0);
    match parsed {
        Ok(params) => Ok(params),
        Err(error) => {
            let problem = Problem::from_error(&error);
            timeline.push_failed(check_step(now_ms), &error.what_happened());
            let _ = id;
            Err(problem)
        }
    }
}

/// One callback parameter as a chip (C-17, S-2): harmless ones as they arrived, `code` and
/// `state` masked with a reveal, anything else (tokens, a JARM `response`, unknown names) masked
/// with nothing kept to reveal it.
fn callback_chip(name: &str, value: &str) -> Param {
    let shown_name = sanitize_for_display(name, 64);
    match name {
        "code" | "state" => Param::secret(name, mask(value), value),
        _ if is_harmless_callback_parameter(name) => {
            Param::public(&shown_name, &sanitize_for_display(value, 200))
        }
        _ => Param::masked(&shown_name, mask(value)),
    }
}

/// Checks the callback against the pending login that matched its `state` (already taken out
/// of storage by the glue, so it is consumed whatever the outcome).
pub fn check_callback(
    timeline: &mut Timeline,
    params: CallbackParams,
    pending: Option<PendingAuthorization>,
    now_ms: u64,
) -> Result<AuthorizedCallback, Problem> {
    match validate_callback(params, pending, now_ms) {
        Ok(authorized) => {
            timeline.push_done(check_step(now_ms), 0.0);
            Ok(authorized)
        }
        Err(error) => {
            timeline.push_failed(check_step(now_ms), &error.what_happened());
            Err(Problem::from_error(&error))
        }
    }
}

fn check_step(now_ms: u64) -> Step {
    Step::local(
        StepKind::CheckCallback,
        "Check state and iss before trusting anything",
        now_ms,
    )
    .with_note(t!("engine.the_state_in"))
    .with_callout(t!("engine.pitfall_an_app"))
}
