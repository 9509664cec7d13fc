//! What every back-channel step shares: the exchange as drawn, with its secrets masked, and
//! the answer (or the transport failure) recorded on its step.

use crate::flow::problem::{Problem, TransportError};
use crate::flow::timeline::{HttpExchange, Param, Step, StepId, Timeline};
use crate::protocol::callback::is_harmless_callback_parameter;
use crate::protocol::error::{sanitize_for_display, Explain};
use crate::protocol::http::HttpResponse;
use crate::protocol::secret::{mask, AccessToken};
use crate::protocol::token::TokenRequest;
use crate::protocol::uri::parse_query;
use serde_json::Value;

/// A GET with the access token (an API call, UserInfo) on `step`: its `Authorization`
/// parameter and exchange show the token masked, as `Bearer …` or, for a DPoP-bound token,
/// `DPoP …` (RFC 9449 §7.1; its proof is added when signed). Returns the step and the header's
/// real value.
pub(crate) fn with_token_get(
    step: Step,
    url: &str,
    token: &AccessToken,
    dpop: bool,
) -> (Step, String) {
    let (header, shown) = if dpop {
        (
            crate::protocol::dpop::dpop_authorization(token),
            format!("DPoP {}", token.masked()),
        )
    } else {
        (
            crate::protocol::token::bearer_authorization(token),
            format!("Bearer {}", token.masked()),
        )
    };
    let step = step
        .with_params(vec![Param::secret("Authorization", shown.clone(), &header)])
        .with_exchange({
            let mut get = HttpExchange::json_get(url);
            get.request_headers.push(("Authorization".into(), shown));
            get
        });
    (step, header)
}

/// Longest response body kept on a step for the inspector.
const SHOWN_BODY_CHARS: usize = 2_000;

/// The exchange of a form POST to the token (or revocation) endpoint, as drawn: the safelisted
/// headers and the body with its secrets masked.
pub(crate) fn form_post_exchange(url: &str, shown_body: String) -> HttpExchange {
    HttpExchange {
        method: "POST".into(),
        url: url.to_owned(),
        request_headers: TokenRequest::headers()
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        request_body: Some(shown_body),
        ..HttpExchange::default()
    }
}

pub(crate) fn fail_step(
    timeline: &mut Timeline,
    step: StepId,
    error: &dyn Explain,
    now_ms: u64,
) -> Problem {
    timeline.fail(step, &error.what_happened(), now_ms);
    Problem::from_error(error)
}

/// Takes a fetch's outcome: a transport failure fails the step; an answer is attached to it.
pub(crate) fn record_response(
    timeline: &mut Timeline,
    step: StepId,
    outcome: Result<HttpResponse, TransportError>,
    mask_body: impl Fn(&str) -> String,
    now_ms: u64,
) -> Result<HttpResponse, Problem> {
    match outcome {
        Ok(response) => {
            attach_response(timeline, step, &response, mask_body);
            Ok(response)
        }
        Err(error) => Err(fail_step(timeline, step, &error, now_ms)),
    }
}

pub(crate) fn attach_response(
    timeline: &mut Timeline,
    step: StepId,
    response: &HttpResponse,
    mask_body: impl Fn(&str) -> String,
) {
    if let Some(s) = timeline.step_mut(step) {
        let exchange = s.exchange.get_or_insert_with(HttpExchange::default);
        exchange.status = Some(response.status);
        if let Some(ct) = &response.content_type {
            exchange
                .response_headers
                .push(("Content-Type".into(), ct.clone()));
        }
        if let Some(www) = &response.www_authenticate {
            exchange
                .response_headers
                .push(("WWW-Authenticate".into(), sanitize_for_display(www, 500)));
        }
        if let Some(cache) = &response.cache_control {
            exchange
                .response_headers
                .push(("Cache-Control".into(), sanitize_for_display(cache, 200)));
        }
        if let Some(nonce) = &response.dpop_nonce {
            exchange
                .response_headers
                .push(("DPoP-Nonce".into(), sanitize_for_display(nonce, 200)));
        }
        exchange.response_body = Some(match response.unread {
            // Says why there is no body: over the read cap, or not UTF-8 (T-24, T-29).
            Some(unread) => unread.shown(),
            None => sanitize_for_display(&mask_body(&response.body), SHOWN_BODY_CHARS),
        });
    }
}

/// Masks token values in a JSON body for display; a body that is not JSON is shown as is.
pub(crate) fn mask_token_json(body: &str) -> String {
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(body) else {
        return body.to_owned();
    };
    if let Some(object) = value.as_object_mut() {
        for key in ["access_token", "refresh_token", "id_token"] {
            if let Some(Value::String(secret)) = object.get(key) {
                let masked = mask(secret);
                object.insert(key.to_owned(), Value::String(masked));
            }
        }
    }
    crate::protocol::document::pretty(&value)
}

/// Masks the values of the named query parameters in a URL this app built itself (it knows
/// which of its own parameters are secret).
pub(crate) fn mask_query(url: &str, secret_names: &[&str]) -> String {
    mask_query_where(url, |name| secret_names.contains(&name))
}

/// Masks a URL a provider sent the browser back to: every value except the parameters known
/// to be harmless (C-17, S-2), since a provider can put a credential under any name.
pub(crate) fn mask_callback_query(url: &str) -> String {
    mask_query_where(url, |name| !is_harmless_callback_parameter(name))
}

fn mask_query_where(url: &str, is_secret: impl Fn(&str) -> bool) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, query),
        None => return url.to_owned(),
    };
    let masked: Vec<String> = parse_query(query)
        .into_iter()
        .map(|(name, value)| {
            let shown = if is_secret(&name) {
                mask(&value)
            } else {
                sanitize_for_display(&value, 200)
            };
            format!("{}={shown}", sanitize_for_display(&name, 64))
        })
        .collect();
    format!("{base}?{}", masked.join("&"))
}

pub(crate) fn path_of(url: &str) -> &str {
    url.split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or(url)
}
