//! The back channel: the code redeemed at the token endpoint and the answer validated.

use super::exchange::{form_post_exchange, mask_token_json, record_response};
use crate::flow::problem::{Problem, TransportError};
use crate::flow::server_check::{self, Proof};
use crate::flow::timeline::{Actor, Channel, Param, Step, StepId, StepKind, Timeline};
use crate::protocol::callback::AuthorizedCallback;
use crate::protocol::error::{sanitize_for_display, Explain};
use crate::protocol::http::HttpResponse;
use crate::protocol::pending::PendingAuthorization;
use crate::protocol::scope;
use crate::protocol::secret::ClientSecret;
use crate::protocol::token::{
    authorization_code_request, confidential_code_request, parse_token_response_with, TokenRequest,
    TokenSet,
};
use crate::protocol::uri::UriError;

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
