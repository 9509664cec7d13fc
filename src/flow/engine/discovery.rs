//! Discovery: where the metadata is looked for, each answer validated, and the CORS diagnosis
//! when the provider cannot be reached from this page.

use super::exchange::attach_response;
use crate::flow::problem::{Problem, TransportError};
use crate::flow::timeline::{
    Actor, Channel, HttpExchange, Param, Step, StepId, StepKind, Timeline,
};
use crate::protocol::discovery::{
    oauth_metadata_url, openid_configuration_url, parse_metadata, DiscoveryError, ProviderMetadata,
};
use crate::protocol::error::{Explain, Side};
use crate::protocol::http::HttpResponse;
use serde_json::{Map, Value};

/// Where the metadata is looked for, in order.
///
/// OpenID Connect discovery first (`/.well-known/openid-configuration` **appended** to the
/// issuer), then RFC 8414 (`/.well-known/oauth-authorization-server` **inserted** between host
/// and path). Why this order: every SPA-capable provider of the presets serves the OpenID
/// document, while several serve no RFC 8414 one (Entra ID, Cognito, Dex) or serve it appended
/// instead of inserted (Keycloak) — so for an issuer with a path the RFC 8414 address lands on
/// the host's root, where usually nothing is. Both documents are validated the same way, and
/// the issuer inside must equal the configured one exactly (RFC 8414 §3.3).
pub fn discovery_urls(issuer: &str) -> Result<Vec<String>, Problem> {
    let oidc = openid_configuration_url(issuer).map_err(|error| Problem::from_error(&error))?;
    let oauth = oauth_metadata_url(issuer).map_err(|error| Problem::from_error(&error))?;
    Ok(vec![oidc, oauth])
}

/// Appends a discovery request step and returns it. `attempt` is 0 for the OpenID Connect
/// location and 1 for the RFC 8414 one.
pub fn discovery_started(
    timeline: &mut Timeline,
    url: &str,
    attempt: usize,
    now_ms: u64,
) -> StepId {
    let (label, note) = if attempt == 0 {
        (
            "Fetch the provider's metadata",
            t!("engine.discovery_tells_the"),
        )
    } else {
        (
            "Fetch the provider's metadata (RFC 8414 location)",
            t!("engine.no_openid_connect"),
        )
    };
    timeline.push(
        Step::new(
            StepKind::Discover,
            Actor::ClientApp,
            Actor::AuthorizationServer,
            Channel::Back,
            label,
            now_ms,
        )
        .with_exchange(HttpExchange::json_get(url))
        .with_note(note),
    )
}

/// Appends the step for endpoints typed in the settings (no discovery request).
pub fn manual_endpoints_used(timeline: &mut Timeline, metadata: &ProviderMetadata, now_ms: u64) {
    let mut params = vec![
        Param::public("authorization_endpoint", &metadata.authorization_endpoint),
        Param::public("token_endpoint", &metadata.token_endpoint),
    ];
    if let Some(jwks) = &metadata.jwks_uri {
        params.push(Param::public("jwks_uri", jwks));
    }
    let mut step = Step::local(
        StepKind::Discover,
        "Use the endpoints typed in the settings (no discovery)",
        now_ms,
    )
    .with_params(params)
    .with_note(t!("engine.manual_endpoints_replace"));
    step.deviations = metadata.warnings.clone();
    timeline.push_done(step, 0.0);
}

/// The metadata as a discovery document, to keep it for this tab across the redirect; read back
/// with [`metadata_from_document`], which validates it again like a fresh answer.
pub fn metadata_document(metadata: &ProviderMetadata) -> String {
    let mut object = Map::new();
    let mut put = |name: &str, value: Value| {
        object.insert(name.to_owned(), value);
    };
    put("issuer", metadata.issuer.clone().into());
    put(
        "authorization_endpoint",
        metadata.authorization_endpoint.clone().into(),
    );
    put("token_endpoint", metadata.token_endpoint.clone().into());
    for (name, value) in [
        ("userinfo_endpoint", &metadata.userinfo_endpoint),
        ("jwks_uri", &metadata.jwks_uri),
        ("revocation_endpoint", &metadata.revocation_endpoint),
        ("end_session_endpoint", &metadata.end_session_endpoint),
    ] {
        if let Some(url) = value {
            put(name, url.clone().into());
        }
    }
    put("response_types_supported", vec![Value::from("code")].into());
    for (name, list) in [
        (
            "code_challenge_methods_supported",
            &metadata.code_challenge_methods_supported,
        ),
        (
            "token_endpoint_auth_methods_supported",
            &metadata.token_endpoint_auth_methods_supported,
        ),
        ("scopes_supported", &metadata.scopes_supported),
        (
            "dpop_signing_alg_values_supported",
            &metadata.dpop_signing_alg_values_supported,
        ),
    ] {
        if !list.is_empty() {
            put(name, list.clone().into());
        }
    }
    put(
        "authorization_response_iss_parameter_supported",
        metadata.iss_parameter_supported.into(),
    );
    Value::Object(object).to_string()
}

/// Reads back a document written by [`metadata_document`], validated against `issuer` with the
/// same rules as a fetched one (storage is outside this app's control). Warnings are not kept:
/// they were shown when the provider's answer was first read.
pub fn metadata_from_document(issuer: &str, document: &str) -> Option<ProviderMetadata> {
    let response = HttpResponse::json(200, document);
    parse_metadata(issuer, &response).ok().map(|mut m| {
        m.warnings.clear();
        m
    })
}

/// A discovery attempt that did not produce usable metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscoveryFailure {
    /// What to tell the user if no attempt succeeds.
    pub problem: Problem,
    /// Nothing usable was found at this address (no answer, not 200, not JSON): the next
    /// address may be tried. A document that was found but failed validation (an issuer
    /// mismatch, a missing endpoint) stops discovery: it is never silently replaced.
    pub try_next: bool,
    /// The failure was at the network level (possibly CORS): the origin reached.
    pub network_origin: Option<String>,
}

/// Validates one discovery answer and completes or fails its step. When `more_to_try` and
/// nothing was found here, the step's reason says that the next location is tried.
pub fn discovery_finished(
    timeline: &mut Timeline,
    step: StepId,
    issuer: &str,
    outcome: Result<HttpResponse, TransportError>,
    more_to_try: bool,
    now_ms: u64,
) -> Result<ProviderMetadata, DiscoveryFailure> {
    let next = " Trying the RFC 8414 location next.";
    let response = match outcome {
        Ok(response) => response,
        Err(error) => {
            let try_next = matches!(error, TransportError::Network { .. });
            let network_origin = match &error {
                TransportError::Network { origin } => Some(origin.clone()),
                TransportError::Timeout { .. } => None,
            };
            let mut reason = error.what_happened();
            if try_next && more_to_try {
                reason.push_str(next);
            }
            timeline.fail(step, &reason, now_ms);
            return Err(DiscoveryFailure {
                problem: Problem::from_error(&error),
                try_next,
                network_origin,
            });
        }
    };
    attach_response(timeline, step, &response, |body| body.to_owned());
    match parse_metadata(issuer, &response) {
        Ok(metadata) => {
            if let Some(s) = timeline.step_mut(step) {
                s.deviations = metadata.warnings.clone();
            }
            timeline.complete(step, now_ms);
            Ok(metadata)
        }
        Err(error) => {
            let try_next = matches!(
                error,
                DiscoveryError::UnexpectedStatus(_)
                    | DiscoveryError::NotJson
                    | DiscoveryError::NotAnObject
            );
            let mut reason = error.what_happened();
            if try_next && more_to_try {
                reason.push_str(next);
            }
            timeline.fail(step, &reason, now_ms);
            Err(DiscoveryFailure {
                problem: Problem::from_error(&error),
                try_next,
                network_origin: None,
            })
        }
    }
}

/// The plain-language CORS diagnosis (BBA §6.3.3.4, T-26): a fetch to the provider failed at the
/// network level, which for a provider that is up almost always means it does not send
/// `Access-Control-Allow-Origin` for this page. Names the exact origin to register and, when a
/// preset is known, the provider's setting for it.
pub fn cors_diagnosis(
    target_origin: &str,
    endpoint: &str,
    app_origin: &str,
    setting: Option<(&str, &str)>,
) -> Problem {
    let error = TransportError::Network {
        origin: target_origin.to_owned(),
    };
    let what = format!(
        "{} Most likely the provider does not allow this page's origin, {app_origin}, on its \
         {endpoint}: the browser then hides the answer from the page.",
        error.what_happened()
    );
    let register = match setting {
        Some((name, setting)) => format!("{name}: {setting}"),
        None => "the provider's CORS (allowed or web origins) setting for this client".to_owned(),
    };
    Problem {
        what_happened: what,
        whose_side: Side::Network,
        what_to_do: format!(
            "Check that the server is running. If it is, its CORS settings must allow this \
             page's origin: register exactly {app_origin} (scheme, host and port, no path and \
             no trailing slash) in {register}. The browser hides the details from the page on \
             purpose; its developer console names the missing Access-Control-Allow-Origin \
             header. Nothing was retried: start again when it is fixed."
        ),
    }
}
