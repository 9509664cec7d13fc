//! The start of a login: the entropy drawn, the PKCE pair and `state` made, the local steps
//! and the redirect to the authorization endpoint.

use super::exchange::mask_query;
use crate::flow::problem::Problem;
use crate::flow::settings::ProviderSettings;
use crate::flow::timeline::{Actor, Channel, HttpExchange, Param, Step, StepKind, Timeline};
use crate::protocol::authorize::AuthorizationRequest;
use crate::protocol::discovery::ProviderMetadata;
use crate::protocol::error::Side;
use crate::protocol::pending::PendingAuthorization;
use crate::protocol::pkce::{CodeChallenge, CodeVerifier};
use crate::protocol::secret::mask;
use crate::protocol::state::State;

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
