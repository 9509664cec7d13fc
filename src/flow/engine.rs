//! The flow engine: pure functions that validate each event with `protocol` and append the
//! matching step to the timeline. The browser glue does the I/O in between.

use crate::flow::server_check::{self, Proof};
use crate::flow::settings::ProviderSettings;
use crate::flow::timeline::{
    Actor, Channel, HttpExchange, Param, Step, StepId, StepKind, StepStatus, Timeline,
};
use crate::protocol::authorize::AuthorizationRequest;
use crate::protocol::callback::{
    is_harmless_callback_parameter, parse_callback, validate_callback, AuthorizedCallback,
    CallbackParams,
};
use crate::protocol::discovery::{
    oauth_metadata_url, openid_configuration_url, parse_metadata, DiscoveryError, ProviderMetadata,
};
use crate::protocol::error::{sanitize_for_display, Explain, Side};
use crate::protocol::http::HttpResponse;
use crate::protocol::pending::PendingAuthorization;
use crate::protocol::pkce::{CodeChallenge, CodeVerifier};
use crate::protocol::resource::{parse_resource_response, ResourceError};
use crate::protocol::scope;
use crate::protocol::secret::{mask, AccessToken, ClientSecret};
use crate::protocol::state::State;
use crate::protocol::token::{
    authorization_code_request, bearer_authorization, confidential_code_request,
    parse_token_response_with, TokenRequest, TokenSet,
};
use crate::protocol::uri::{parse_query, UriError};
use serde_json::{Map, Value};

/// Longest response body kept on a step for the inspector.
const SHOWN_BODY_CHARS: usize = 2_000;

use crate::flow::problem::{Problem, TransportError};

/// 32 bytes (256 bits) from the platform's CSPRNG, as RFC 7636 §7.1 and RFC 6749 §10.10 ask
/// for: the operating system's on the host, `crypto.getRandomValues` in the browser (getrandom's
/// JS backend), so host tests draw from the same code path as the app.
pub fn random_32() -> Result<[u8; 32], Problem> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|_| {
        Problem::local(
            "The browser's secure random number generator is not available.",
            "Use a current browser over http://127.0.0.1 or https.",
        )
    })?;
    Ok(bytes)
}

/// Fresh randomness for one login, drawn by the platform's CSPRNG.
pub struct LoginEntropy {
    /// 32 bytes for the PKCE verifier.
    pub verifier: [u8; 32],
    /// 32 bytes for `state`.
    pub state: [u8; 32],
    /// 32 bytes for the OpenID Connect `nonce` (used only when `openid` is requested).
    pub nonce: [u8; 32],
}

impl LoginEntropy {
    /// Draws the verifier, state and nonce bytes from [`random_32`].
    pub fn draw() -> Result<Self, Problem> {
        Ok(LoginEntropy {
            verifier: random_32()?,
            state: random_32()?,
            nonce: random_32()?,
        })
    }
}

/// What the glue needs in order to leave for the provider.
pub struct LoginPlan {
    /// To save in sessionStorage before navigating.
    pub pending: PendingAuthorization,
    /// Where to navigate.
    pub authorize_url: String,
}

/// What the glue needs in order to redeem the code.
#[derive(Debug)]
pub struct TokenCall {
    /// The step to complete when the answer arrives.
    pub step: StepId,
    /// The request to send.
    pub request: TokenRequest,
    /// The scope that was asked for, to compare with what is granted.
    pub requested_scope: String,
    /// Whether `openid` was asked for (an ID token is only looked at then).
    pub openid_requested: bool,
    /// The issuer the login was sent to: the ID token's `iss` must equal it, and its JWKS is
    /// the one to use (whatever the settings say now: they may have been switched since).
    pub issuer: String,
    /// The client id the login used (the ID token's audience).
    pub client_id: String,
    /// The nonce sent with the login, if any.
    pub nonce: Option<String>,
    /// The server's checks, drawn pending until the answer settles them.
    pub checks: StepId,
    /// Whether the request carried a DPoP proof (then `token_type=DPoP` is accepted).
    pub proof_sent: bool,
}

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
        .with_exchange(HttpExchange {
            method: "GET".into(),
            url: url.into(),
            request_headers: vec![("Accept".into(), "application/json".into())],
            ..HttpExchange::default()
        })
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

/// Draws the verifier and state, appends the local steps and the redirect, and returns the
/// pending login to save and the URL to navigate to.
pub fn plan_login(
    timeline: &mut Timeline,
    settings: &ProviderSettings,
    metadata: &ProviderMetadata,
    redirect_uri: &str,
    entropy: LoginEntropy,
    now_ms: u64,
) -> Result<LoginPlan, Problem> {
    let mut extra = settings
        .authorization_parameters()
        .map_err(|problem| Problem {
            what_happened: problem,
            whose_side: Side::ThisApp,
            what_to_do: "Fix the extra parameters.".to_owned(),
        })?;
    // `prompt` has its own place in the request (and its own slot among the reserved names).
    let prompt = extra
        .iter()
        .position(|(name, _)| name == "prompt")
        .map(|i| extra.remove(i).1);
    let pkce = settings
        .uses_pkce()
        .then(|| generate_pkce(timeline, metadata, entropy.verifier, now_ms));
    let state = State::from_random(entropy.state);
    timeline.push_done(
        Step::local(StepKind::GenerateState, "Generate a random state", now_ms)
            .with_params(vec![Param::secret("state", state.masked(), state.secret())])
            .with_note(t!("engine.state_ties_the")),
        0.0,
    );
    // The nonce has the same shape as state (32 random bytes, base64url) but is independent.
    let nonce_value = State::from_random(entropy.nonce);
    let nonce = settings.requests_openid().then(|| nonce_value.secret());
    let challenge = pkce.as_ref().map(|(_, challenge)| challenge.clone());
    let request = AuthorizationRequest {
        authorization_endpoint: &metadata.authorization_endpoint,
        client_id: &settings.client_id,
        redirect_uri,
        scope: &settings.scope,
        state: &state,
        code_challenge: challenge.as_ref(),
        nonce,
        prompt: prompt.as_deref(),
        extra: &extra,
    };
    let authorize_url = request
        .to_url()
        .map_err(|error| Problem::from_error(&error))?;
    let pending = PendingAuthorization {
        state: state.clone(),
        verifier: pkce.map(|(verifier, _)| verifier),
        issuer: metadata.issuer.clone(),
        client_id: settings.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        token_endpoint: metadata.token_endpoint.clone(),
        scope: settings.scope.clone(),
        created_at_ms: now_ms,
        iss_parameter_supported: metadata.iss_parameter_supported,
        nonce: nonce.map(str::to_owned),
    };
    timeline.push_done(
        Step::local(
            StepKind::SavePending,
            "Remember state and verifier in sessionStorage",
            now_ms,
        )
        .with_note(t!("engine.the_page_is")),
        0.0,
    );
    let mut chips: Vec<Param> = request
        .parameters()
        .into_iter()
        .map(|(name, value)| match name {
            // The nonce guards against an injected ID token only while nobody else knows it.
            "state" | "nonce" => Param::secret(name, mask(&value), &value),
            _ => Param::public(name, &value),
        })
        .collect();
    chips.retain(|p| p.name != "redirect_uri");
    chips.push(Param::public("redirect_uri", redirect_uri));
    let mut redirect = Step::new(
        StepKind::RedirectToAuthorize,
        Actor::ClientApp,
        Actor::AuthorizationServer,
        Channel::Front,
        "Send the browser to the provider's authorization endpoint",
        now_ms,
    );
    if !settings.uses_pkce() {
        redirect = redirect.with_difference(t!("engine.pkce_off_no"));
    }
    timeline.push_done(
        redirect
            .with_params(chips)
            .with_exchange(HttpExchange {
                method: "NAVIGATE".into(),
                url: mask_query(&authorize_url, &["state", "nonce"]),
                ..HttpExchange::default()
            })
            .with_note(t!("engine.a_full_page")),
        0.0,
    );
    Ok(LoginPlan {
        pending,
        authorize_url,
    })
}

/// Appends the verifier and challenge steps and returns both.
fn generate_pkce(
    timeline: &mut Timeline,
    metadata: &ProviderMetadata,
    random: [u8; 32],
    now_ms: u64,
) -> (CodeVerifier, CodeChallenge) {
    let verifier = CodeVerifier::from_random(random);
    timeline.push_done(
        Step::local(
            StepKind::GenerateVerifier,
            "Generate a random code_verifier",
            now_ms,
        )
        .with_params(vec![Param::secret(
            "code_verifier",
            verifier.masked(),
            verifier.secret(),
        )])
        .with_note(t!("engine.32_random_bytes")),
        0.0,
    );
    let challenge = verifier.challenge();
    timeline.push_done(
        Step::local(
            StepKind::DeriveChallenge,
            "Hash it: code_challenge = BASE64URL(SHA-256(verifier))",
            now_ms,
        )
        .with_params(vec![
            Param::public("code_challenge", challenge.as_str()),
            Param::public("code_challenge_method", "S256"),
        ])
        .with_note(t!("engine.only_the_hash")),
        0.0,
    );
    if !metadata
        .code_challenge_methods_supported
        .iter()
        .any(|m| m == "S256")
    {
        if let Some((id, _)) = timeline.last_of(StepKind::DeriveChallenge) {
            if let Some(s) = timeline.step_mut(id) {
                s.deviations.push(
                    "The provider does not advertise S256 in code_challenge_methods_supported: \
                     PKCE support is unknown. S256 is sent anyway, never 'plain'."
                        .to_owned(),
                );
            }
        }
    }
    (verifier, challenge)
}

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

/// Builds the token request from a checked callback, appending its step. The verifier is moved
/// into the request, so it cannot be used twice.
pub fn token_request_started(
    timeline: &mut Timeline,
    authorized: AuthorizedCallback,
    client_secret: Option<&ClientSecret>,
    now_ms: u64,
) -> Result<TokenCall, Problem> {
    let AuthorizedCallback { code, pending, .. } = authorized;
    let PendingAuthorization {
        verifier,
        client_id,
        redirect_uri,
        token_endpoint,
        scope,
        issuer,
        nonce,
        ..
    } = pending;
    let shown_verifier = verifier.as_ref().map(|v| v.secret().to_owned());
    let (request, proof, confidential) = match (verifier, client_secret) {
        (Some(verifier), _) => {
            let chip = Param::secret("code_verifier", verifier.masked(), verifier.secret());
            let request = authorization_code_request(
                &token_endpoint,
                &code,
                &redirect_uri,
                &client_id,
                verifier,
            );
            (request, chip, false)
        }
        (None, Some(secret)) => {
            let chip = Param::secret("client_secret", secret.masked(), secret.secret());
            let request = confidential_code_request(
                &token_endpoint,
                &code,
                &redirect_uri,
                &client_id,
                secret,
            );
            (request, chip, true)
        }
        (None, None) => {
            return Err(Problem::local(
                "This login was started without PKCE, so redeeming the code needs the client \
                 secret, and none was given.",
                "Type the client secret, or switch back to the public client with PKCE.",
            ))
        }
    };
    let request = request.map_err(|error: UriError| Problem::from_error(&error))?;
    let step = timeline.push(
        Step::new(
            StepKind::TokenRequest,
            Actor::ClientApp,
            Actor::AuthorizationServer,
            Channel::Back,
            "Exchange the code (and verifier) for tokens",
            now_ms,
        )
        .with_params(vec![
            Param::public("grant_type", "authorization_code"),
            Param::secret("code", code.masked(), code.secret()),
            proof,
            Param::public("client_id", &client_id),
        ])
        .with_exchange(form_post_exchange(&request.url, request.masked_body()))
        .with_note(t!("engine.a_direct_fetch")),
    );
    if confidential {
        if let Some(s) = timeline.step_mut(step) {
            s.label = "Exchange the code (and client secret) for tokens".to_owned();
            s.difference = Some(t!("engine.client_secret_instead").to_owned());
            s.callout = Some(t!("engine.a_secret_shipped").to_owned());
        }
    }
    let checks = server_check::code_checks(
        timeline,
        match &shown_verifier {
            Some(v) => Proof::Verifier(v),
            None => Proof::Secret,
        },
        now_ms,
    );
    let openid_requested = scope.split_whitespace().any(|s| s == "openid");
    Ok(TokenCall {
        checks,
        step,
        request,
        requested_scope: scope,
        openid_requested,
        issuer,
        client_id,
        nonce,
        proof_sent: false,
    })
}

/// Validates the token endpoint's answer, completing the request step and appending the
/// response step.
pub fn token_response_received(
    timeline: &mut Timeline,
    call: &TokenCall,
    outcome: Result<HttpResponse, TransportError>,
    now_ms: u64,
) -> Result<TokenSet, Problem> {
    let response = record_response(timeline, call.step, outcome, mask_token_json, now_ms)
        .inspect_err(|_| server_check::settle_code_checks(timeline, call.checks, None, now_ms))?;
    timeline.complete(call.step, now_ms);
    server_check::settle_code_checks(timeline, call.checks, Some(&response), now_ms);
    let mut answer = Step::new(
        StepKind::TokenResponse,
        Actor::AuthorizationServer,
        Actor::ClientApp,
        Channel::Back,
        "Tokens come back in the response body",
        now_ms,
    )
    .with_note(t!("engine.the_tokens_arrive"))
    .with_callout(t!("engine.pitfall_an_access"));
    match parse_token_response_with(
        &response,
        &call.requested_scope,
        call.openid_requested,
        call.proof_sent,
    ) {
        Ok(tokens) => {
            if let Some(note) = token_binding_note(&tokens, call.proof_sent) {
                answer.note = note.to_owned();
            }
            let mut chips = vec![
                Param::secret(
                    "access_token",
                    tokens.access_token.masked(),
                    tokens.access_token.secret(),
                ),
                Param::public("token_type", &tokens.token_type),
                Param::public("scope", &sanitize_for_display(&tokens.granted_scope, 4096)),
            ];
            if let Some(expires_in) = tokens.expires_in {
                chips.push(Param::public("expires_in", &expires_in.to_string()));
            }
            if let Some(refresh) = &tokens.refresh_token {
                chips.push(Param::secret(
                    "refresh_token",
                    refresh.masked(),
                    refresh.secret(),
                ));
            }
            answer.params = chips;
            answer.deviations = tokens.deviations.iter().map(|d| d.explain()).collect();
            // Compared as sets (RFC 6749 §3.3): a reordered grant is the same grant.
            let trace = scope::trace(&call.requested_scope, &tokens.granted_scope);
            if let Some(note) = trace.note() {
                answer.deviations.push(sanitize_for_display(&note, 4096));
            }
            timeline.push_done(answer, 0.0);
            Ok(tokens)
        }
        Err(error) => {
            let problem = Problem::from_error(&error);
            timeline.push_failed(answer, &error.what_happened());
            Err(problem)
        }
    }
}

/// What the token answer step says about the token's binding: a DPoP token is bound to this
/// tab's key; a Bearer token despite a proof is not (`TokenBinding::note`).
pub fn token_binding_note(tokens: &TokenSet, proof_sent: bool) -> Option<&'static str> {
    if tokens.token_type == "DPoP" {
        return Some(
            "token_type=DPoP: the access token is bound to this tab's key (the provider keeps \
             its thumbprint as cnf.jkt). It works only together with a fresh proof signed by \
             that key, which cannot be read out of the browser: a copied token is useless \
             elsewhere (RFC 9449).",
        );
    }
    crate::protocol::dpop::TokenBinding::Bearer {
        proof_ignored: proof_sent,
    }
    .note()
}

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
    let scheme = if dpop { "DPoP" } else { "Bearer" };
    let header = if dpop {
        crate::protocol::dpop::dpop_authorization(token)
    } else {
        bearer_authorization(token)
    };
    let step = timeline.push(
        Step::new(
            StepKind::ResourceRequest,
            Actor::ClientApp,
            Actor::ResourceServer,
            Channel::Back,
            &format!("Call the API: GET {}", path_of(url)),
            now_ms,
        )
        .with_params(vec![Param::secret(
            "Authorization",
            format!("{scheme} {}", token.masked()),
            &header,
        )])
        .with_exchange(HttpExchange {
            method: "GET".into(),
            url: url.into(),
            request_headers: vec![
                ("Accept".into(), "application/json".into()),
                (
                    "Authorization".into(),
                    format!("{scheme} {}", token.masked()),
                ),
            ],
            ..HttpExchange::default()
        })
        .with_note(t!("engine.the_access_token")),
    );
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

/// Appends the step that ends a run restored after a reload: the tokens were in memory only.
pub fn page_reloaded(timeline: &mut Timeline, now_ms: u64) {
    timeline.push_done(
        Step::local(
            StepKind::Logout,
            "Page reloaded: the tokens in memory are gone",
            now_ms,
        )
        .with_note(t!("engine.tokens_are_kept")),
        0.0,
    );
}

/// Appends the logout step: tokens are dropped from memory.
pub fn logged_out(timeline: &mut Timeline, now_ms: u64) {
    timeline.push_done(
        Step::local(StepKind::Logout, "Forget the tokens held in memory", now_ms)
            .with_note(t!("engine.tokens_lived_only")),
        0.0,
    );
}

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

#[cfg(test)]
mod tests;
