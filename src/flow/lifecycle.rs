//! After the login: refreshing tokens (with rotation made visible), revoking them (RFC 7009) and
//! ending the provider's session (RP-initiated logout). Pure step-emitting functions, like the
//! engine.

use crate::flow::engine::{
    fail_step, form_post_exchange, mask_query, mask_token_json, record_response,
};
use crate::flow::problem::{Problem, TransportError};
use crate::flow::timeline::{
    Actor, Channel, HttpExchange, Param, Step, StepId, StepKind, Timeline,
};
use crate::protocol::error::{sanitize_for_display, Explain};
use crate::protocol::http::HttpResponse;
use crate::protocol::revocation::{
    end_session_url, parse_revocation_response, revocation_request, TokenKind,
};
use crate::protocol::secret::{mask, IdToken, RefreshToken};
use crate::protocol::state::State;
use crate::protocol::token::{refresh_token_request, Deviation, TokenRequest, TokenSet};
use crate::protocol::uri::UriError;

/// A refresh in flight.
#[derive(Debug)]
pub struct RefreshCall {
    /// The request step.
    pub step: StepId,
    /// What to send.
    pub request: TokenRequest,
    /// The refresh token sent (kept if the provider does not return a new one).
    pub old_refresh: RefreshToken,
    /// The scope currently granted (a refresh without `scope` asks for the same).
    pub scope: String,
    /// Whether an ID token may come back (openid was granted).
    pub openid: bool,
    /// Whether the request carried a DPoP proof (then `token_type=DPoP` is accepted).
    pub proof_sent: bool,
}

/// The outcome of a refresh.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refreshed {
    /// The new tokens; `refresh_token` is the old one when none was returned.
    pub tokens: TokenSet,
    /// The refresh token this one replaced, when it was rotated.
    pub replaced: Option<RefreshToken>,
}

/// Builds the refresh request (`grant_type=refresh_token`, public client: `client_id`, no
/// secret) and appends its step.
pub fn refresh_started(
    timeline: &mut Timeline,
    token_endpoint: &str,
    refresh: &RefreshToken,
    client_id: &str,
    scope: &str,
    openid: bool,
    now_ms: u64,
) -> Result<RefreshCall, Problem> {
    let request = refresh_token_request(token_endpoint, refresh, client_id)
        .map_err(|error: UriError| Problem::from_error(&error))?;
    let step = timeline.push(
        Step::new(
            StepKind::RefreshRequest,
            Actor::ClientApp,
            Actor::AuthorizationServer,
            Channel::Back,
            "Trade the refresh token for new tokens",
            now_ms,
        )
        .with_params(vec![
            Param::public("grant_type", "refresh_token"),
            Param::secret("refresh_token", refresh.masked(), refresh.secret()),
            Param::public("client_id", client_id),
        ])
        .with_exchange(form_post_exchange(&request.url, request.masked_body()))
        .with_note(t!("lifecycle.no_user_interaction")),
    );
    Ok(RefreshCall {
        step,
        request,
        old_refresh: refresh.clone(),
        scope: scope.to_owned(),
        openid,
        proof_sent: false,
    })
}

/// Validates the refresh answer, showing the old and the new refresh token side by side.
pub fn refresh_response_received(
    timeline: &mut Timeline,
    call: &RefreshCall,
    outcome: Result<HttpResponse, TransportError>,
    now_ms: u64,
) -> Result<Refreshed, Problem> {
    let response = record_response(timeline, call.step, outcome, mask_token_json, now_ms)?;
    timeline.complete(call.step, now_ms);
    let mut answer = Step::new(
        StepKind::RefreshResponse,
        Actor::AuthorizationServer,
        Actor::ClientApp,
        Channel::Back,
        "New tokens come back",
        now_ms,
    );
    let mut tokens = match crate::protocol::token::parse_token_response_with(
        &response,
        &call.scope,
        call.openid,
        call.proof_sent,
    ) {
        Ok(tokens) => tokens,
        Err(error) => {
            timeline.push_failed(answer, &error.what_happened());
            return Err(Problem::from_error(&error));
        }
    };
    // An ID token is optional on a refresh (OIDC Core §12.2): its absence is no deviation.
    tokens
        .deviations
        .retain(|d| *d != Deviation::IdTokenMissing);
    let mut params = vec![Param::secret(
        "access_token",
        tokens.access_token.masked(),
        tokens.access_token.secret(),
    )];
    params.push(Param::secret(
        "refresh_token (sent)",
        call.old_refresh.masked(),
        call.old_refresh.secret(),
    ));
    let replaced = match &tokens.refresh_token {
        Some(new) if *new != call.old_refresh => {
            params.push(Param::secret(
                "refresh_token (new)",
                new.masked(),
                new.secret(),
            ));
            answer.label = "New tokens come back; the refresh token was rotated".to_owned();
            answer.note = t!("lifecycle.rotation_the_provider").to_owned();
            Some(call.old_refresh.clone())
        }
        Some(_) => {
            answer.note = t!("lifecycle.the_provider_returned").to_owned();
            None
        }
        None => {
            answer.note = t!("lifecycle.no_refresh_token").to_owned();
            tokens.refresh_token = Some(call.old_refresh.clone());
            None
        }
    };
    params.push(Param::public(
        "scope",
        &sanitize_for_display(&tokens.granted_scope, 4096),
    ));
    if let Some(expires_in) = tokens.expires_in {
        params.push(Param::public("expires_in", &expires_in.to_string()));
    }
    answer.params = params;
    answer.deviations = tokens.deviations.iter().map(|d| d.explain()).collect();
    // Compared as sets (RFC 6749 §3.3); RFC 6749 §6 forbids widening on refresh.
    if let Some(note) = crate::protocol::scope::trace(&call.scope, &tokens.granted_scope).note() {
        answer.deviations.push(sanitize_for_display(&note, 4096));
    }
    timeline.push_done(answer, 0.0);
    Ok(Refreshed { tokens, replaced })
}

/// Builds the revocation request and appends its step. `token` is the real value.
pub fn revocation_started(
    timeline: &mut Timeline,
    endpoint: &str,
    kind: TokenKind,
    token: &str,
    client_id: &str,
    now_ms: u64,
) -> Result<(StepId, TokenRequest), Problem> {
    let request = revocation_request(endpoint, token, kind, client_id)
        .map_err(|error| Problem::from_error(&error))?;
    let shown_body = format!(
        "token={}&token_type_hint={}&client_id={client_id}",
        mask(token),
        kind.hint()
    );
    let what = match kind {
        TokenKind::Access => "access token",
        TokenKind::Refresh => "refresh token",
    };
    let step = timeline.push(
        Step::new(
            StepKind::Revoke,
            Actor::ClientApp,
            Actor::AuthorizationServer,
            Channel::Back,
            &format!("Revoke the {what} (RFC 7009)"),
            now_ms,
        )
        .with_params(vec![
            Param::secret("token", mask(token), token),
            Param::public("token_type_hint", kind.hint()),
            Param::public("client_id", client_id),
        ])
        .with_exchange(form_post_exchange(&request.url, shown_body))
        .with_note(match kind {
            TokenKind::Access => {
                t!("lifecycle.revocation_tells_the")
            }
            TokenKind::Refresh => {
                t!("lifecycle.revoking_the_refresh")
            }
        }),
    );
    Ok((step, request))
}

/// Records the revocation answer: any 200 counts (RFC 7009 §2.2).
pub fn revocation_finished(
    timeline: &mut Timeline,
    step: StepId,
    outcome: Result<HttpResponse, TransportError>,
    now_ms: u64,
) -> Result<(), Problem> {
    let response = record_response(timeline, step, outcome, |body| body.to_owned(), now_ms)?;
    match parse_revocation_response(&response) {
        Ok(()) => {
            timeline.complete(step, now_ms);
            Ok(())
        }
        Err(error) => Err(fail_step(timeline, step, &error, now_ms)),
    }
}

/// Builds the RP-initiated logout navigation and appends its step; returns the URL.
pub fn end_session_planned(
    timeline: &mut Timeline,
    end_session_endpoint: &str,
    id_token: Option<&IdToken>,
    post_logout_redirect_uri: &str,
    client_id: &str,
    state: Option<&State>,
    now_ms: u64,
) -> Result<String, Problem> {
    let url = end_session_url(
        end_session_endpoint,
        id_token.map(IdToken::secret),
        post_logout_redirect_uri,
        client_id,
        state.map(State::secret),
    )
    .map_err(|error| Problem::from_error(&error))?;
    let mut params = Vec::new();
    if let Some(token) = id_token {
        params.push(Param::secret(
            "id_token_hint",
            token.masked(),
            token.secret(),
        ));
    }
    params.push(Param::public(
        "post_logout_redirect_uri",
        post_logout_redirect_uri,
    ));
    params.push(Param::public("client_id", client_id));
    if let Some(state) = state {
        params.push(Param::secret("state", state.masked(), state.secret()));
    }
    timeline.push_done(
        Step::new(
            StepKind::EndSession,
            Actor::ClientApp,
            Actor::AuthorizationServer,
            Channel::Front,
            "Send the browser to the provider to end its session",
            now_ms,
        )
        .with_params(params)
        .with_exchange(HttpExchange {
            method: "NAVIGATE".into(),
            url: mask_query(&url, &["id_token_hint", "state"]),
            ..HttpExchange::default()
        })
        .with_note(t!("lifecycle.forgetting_the_tokens"))
        .with_callout(t!("lifecycle.the_id_token")),
        0.0,
    );
    Ok(url)
}

/// Marks the return from the provider's logout with the `state` check (RP-Initiated Logout 1.0
/// §2: the provider hands the `state` of the logout request back): `true` when it is the one
/// this tab sent. A different one is drawn as a failed check: the return was not this tab's
/// logout, so nothing says the provider's session ended.
pub fn end_session_state_checked(timeline: &mut Timeline, matches: bool, now_ms: u64) {
    if matches {
        if let Some(id) = timeline.last_of(StepKind::Logout).map(|(id, _)| id) {
            if let Some(step) = timeline.step_mut(id) {
                step.params
                    .push(Param::public("state", "matches the one sent ✓"));
            }
        }
        return;
    }
    timeline.push_failed(
        Step::new(
            StepKind::Logout,
            Actor::AuthorizationServer,
            Actor::ClientApp,
            Channel::Front,
            "Back from the provider's logout with another state",
            now_ms,
        )
        .with_note(t!("lifecycle.the_state_handed")),
        "the state does not match the logout request's",
    );
}

/// The return from the provider's logout came without the `state` that request carried: said
/// on the step (the return cannot be told from any other page load).
pub fn end_session_state_missing(timeline: &mut Timeline) {
    if let Some(id) = timeline.last_of(StepKind::Logout).map(|(id, _)| id) {
        if let Some(step) = timeline.step_mut(id) {
            step.params
                .push(Param::public("state", "not handed back by the provider"));
        }
    }
}

/// Appends the step for the return from the provider's logout page.
pub fn back_from_end_session(timeline: &mut Timeline, now_ms: u64) {
    timeline.push_done(
        Step::new(
            StepKind::Logout,
            Actor::AuthorizationServer,
            Actor::ClientApp,
            Channel::Front,
            "Back from the provider: its session has ended too",
            now_ms,
        )
        .with_note(t!("lifecycle.the_provider_ended")),
        0.0,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str) -> Result<HttpResponse, TransportError> {
        Ok(HttpResponse::json(200, body))
    }

    fn call(timeline: &mut Timeline) -> RefreshCall {
        refresh_started(
            timeline,
            "https://as.example/token",
            &RefreshToken::new("old-refresh-token".into()),
            "flow-lab",
            "openid read:profile offline_access",
            true,
            1,
        )
        .unwrap()
    }

    #[test]
    fn rotation_shows_old_and_new_refresh_token_masked() {
        let mut timeline = Timeline::new();
        let call = call(&mut timeline);
        assert!(call.request.body.contains("grant_type=refresh_token"));
        assert!(!timeline.to_json().contains("old-refresh-token"));
        let refreshed = refresh_response_received(
            &mut timeline,
            &call,
            ok(r#"{"access_token":"new-access-token","token_type":"Bearer","refresh_token":"new-refresh-token"}"#),
            2,
        )
        .unwrap();
        assert_eq!(
            refreshed.replaced.as_ref().map(RefreshToken::secret),
            Some("old-refresh-token")
        );
        assert_eq!(
            refreshed
                .tokens
                .refresh_token
                .as_ref()
                .map(RefreshToken::secret),
            Some("new-refresh-token")
        );
        let step = &timeline.steps()[1];
        assert_eq!(step.kind, StepKind::RefreshResponse);
        assert!(step.label.contains("rotated"));
        let names: Vec<&str> = step.params.iter().map(|p| p.name.as_str()).collect();
        assert!(names.contains(&"refresh_token (sent)") && names.contains(&"refresh_token (new)"));
        assert!(step.deviations.is_empty(), "{:?}", step.deviations);
        let json = timeline.to_json();
        assert!(!json.contains("new-refresh-token") && !json.contains("new-access-token"));
    }

    #[test]
    fn no_new_refresh_token_keeps_the_old_one() {
        let mut timeline = Timeline::new();
        let call = call(&mut timeline);
        let refreshed = refresh_response_received(
            &mut timeline,
            &call,
            ok(r#"{"access_token":"a2","token_type":"Bearer","scope":"openid read:profile"}"#),
            2,
        )
        .unwrap();
        assert_eq!(refreshed.replaced, None);
        assert_eq!(
            refreshed
                .tokens
                .refresh_token
                .as_ref()
                .map(RefreshToken::secret),
            Some("old-refresh-token")
        );
        let note = &timeline.steps()[1].deviations[0];
        assert!(
            note.contains("narrowed") && note.contains("offline_access"),
            "{note}"
        );
    }

    #[test]
    fn refresh_refused_is_a_red_response_step() {
        let mut timeline = Timeline::new();
        let call = call(&mut timeline);
        let problem = refresh_response_received(
            &mut timeline,
            &call,
            Ok(HttpResponse::json(400, r#"{"error":"invalid_grant"}"#)),
            2,
        )
        .unwrap_err();
        assert!(problem.what_happened.contains("invalid_grant"));
        assert!(timeline.steps()[1].is_failed());
    }

    #[test]
    fn revocation_masks_the_token_and_accepts_any_200() {
        let mut timeline = Timeline::new();
        let (step, request) = revocation_started(
            &mut timeline,
            "https://as.example/revoke",
            TokenKind::Access,
            "the-access-token-value",
            "flow-lab",
            1,
        )
        .unwrap();
        assert!(request.body.contains("token=the-access-token-value"));
        assert!(!timeline.to_json().contains("the-access-token-value"));
        revocation_finished(&mut timeline, step, ok(""), 2).unwrap();
        assert_eq!(timeline.steps()[0].status.css(), "ok");
    }

    #[test]
    fn end_session_masks_the_hint_on_the_timeline() {
        let mut timeline = Timeline::new();
        let token = IdToken::new("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln".into());
        let url = end_session_planned(
            &mut timeline,
            "https://as.example/session/end",
            Some(&token),
            "https://app.example/",
            "flow-lab",
            Some(&State::from_random([9; 32])),
            1,
        )
        .unwrap();
        assert!(url.contains("id_token_hint=eyJhbGciOiJSUzI1NiJ9"));
        assert!(!timeline.to_json().contains("eyJzdWIiOiJhbGljZSJ9"));
        // RP-Initiated Logout 1.0 §2: the state goes along, masked on the timeline like the
        // login's.
        let state = State::from_random([9; 32]);
        assert!(
            url.ends_with(&format!("&state={}", state.secret())),
            "{url}"
        );
        let exchange = timeline.steps()[0].exchange.clone().unwrap_or_default();
        assert!(!exchange.url.contains(state.secret()), "{}", exchange.url);
        assert!(timeline.steps()[0]
            .params
            .iter()
            .any(|p| p.name == "state" && p.secret));
        assert_eq!(timeline.steps()[0].channel, Channel::Front);
    }
}
