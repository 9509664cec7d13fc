//! The app's state and the glue that runs the flow: it asks `browser` for I/O and `flow` for
//! every decision, and keeps the one timeline up to date.

use crate::browser::{clock, crypto, http, location, storage};
use crate::flow::engine::{self, LoginEntropy, Problem, TransportError};
use crate::flow::settings::ProviderSettings;
use crate::flow::timeline::{Actor, Channel, Step, StepKind, Timeline};
use crate::protocol::callback::{parse_callback, AuthorizedCallback};
use crate::protocol::discovery::{openid_configuration_url, ProviderMetadata};
use crate::protocol::secret::ClientSecret;
use crate::protocol::token::{HttpResponse, TokenRequest, TokenSet};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::{Arc, Mutex};

/// What the app is doing right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Nothing in progress, no tokens.
    Idle,
    /// Fetching discovery.
    Discovering,
    /// About to leave for the provider.
    Redirecting,
    /// Redeeming the code.
    Exchanging,
    /// Tokens in memory.
    LoggedIn,
    /// A resource call in flight.
    CallingApi,
    /// PKCE off: the code is held in memory until the user types the client secret.
    AwaitingSecret,
    /// The last action failed; the problem banner says why.
    Failed,
}

impl Phase {
    /// Name used in `data-phase` (tests and CSS).
    pub fn css(&self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Discovering => "discovering",
            Phase::Redirecting => "redirecting",
            Phase::Exchanging => "exchanging",
            Phase::LoggedIn => "logged-in",
            Phase::CallingApi => "calling-api",
            Phase::AwaitingSecret => "awaiting-secret",
            Phase::Failed => "failed",
        }
    }

    /// Whether an action is in flight.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            Phase::Discovering | Phase::Redirecting | Phase::Exchanging | Phase::CallingApi
        )
    }
}

/// The last resource API answer shown to the user.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiAnswer {
    /// The path called.
    pub path: String,
    /// Pretty-printed JSON (rendered as text).
    pub body: String,
}

/// A checked code waiting for the confidential variant's secret (memory only).
#[derive(Clone, Debug)]
pub struct HeldCode(Arc<Mutex<Option<AuthorizedCallback>>>);

/// Everything the page shows, in one signal.
#[derive(Debug)]
pub struct Lab {
    /// What the user typed (non-secret).
    pub settings: ProviderSettings,
    /// The single source of truth for what happened.
    pub timeline: Timeline,
    /// Tokens, in memory only.
    pub tokens: Option<TokenSet>,
    /// When the tokens arrived (epoch ms), for the expiry display.
    pub tokens_received_at_ms: u64,
    /// Discovery result, fetched at most once per issuer per page.
    pub metadata: Option<ProviderMetadata>,
    /// What the user must know about the last failure.
    pub problem: Option<Problem>,
    /// A neutral notice (e.g. an abandoned login was discarded).
    pub notice: Option<String>,
    /// Current activity.
    pub phase: Phase,
    /// Last API answer.
    pub api_answer: Option<ApiAnswer>,
    /// PKCE off: the checked code, waiting for the secret.
    pub held_code: Option<HeldCode>,
    /// PKCE off with the bundled demo client: its (public) secret, to pre-fill.
    pub demo_secret: Option<&'static str>,
}

impl Lab {
    /// State at page load: saved settings and, if this tab had a run, its timeline.
    pub fn restore() -> Self {
        Lab {
            settings: storage::load_settings(),
            timeline: Timeline::new(),
            tokens: None,
            tokens_received_at_ms: 0,
            metadata: None,
            problem: None,
            notice: None,
            phase: Phase::Idle,
            api_answer: None,
            held_code: None,
            demo_secret: None,
        }
    }

    fn fail(&mut self, problem: Problem) {
        self.problem = Some(problem);
        self.phase = Phase::Failed;
        storage::save_timeline(&self.timeline);
    }
}

/// Handles the page load: a callback from the provider is checked and redeemed; an ordinary
/// load restores this tab's last timeline.
pub fn resume_after_load(lab: RwSignal<Lab>) {
    let now = clock::now_ms();
    let (query, fragment) = location::query_and_fragment();
    let parsed = parse_callback(&query, &fragment);
    if matches!(parsed, Ok(None)) {
        restore_previous_run(lab, now);
        clock::mark("oauth-flow-lab:ready");
        return;
    }
    // The code and state leave the address bar and history before anything else (C-25).
    location::clean_url();
    let pending = match &parsed {
        Ok(Some(params)) => storage::take_pending(&params.state),
        _ => Ok(None),
    };
    let pending = match pending {
        Ok(pending) => pending,
        Err(problem) => {
            lab.update(|l| l.fail(problem));
            clock::mark("oauth-flow-lab:ready");
            return;
        }
    };
    // Continue this tab's run only when the callback answers a login it started; a forged or
    // replayed callback is drawn as a run of its own.
    let mut timeline = if pending.is_some() {
        storage::load_timeline().unwrap_or_default()
    } else {
        Timeline::new()
    };
    let params = match engine::callback_received(&mut timeline, &query, &fragment, now) {
        Ok(Some(params)) => params,
        // parse_callback already said this is a callback; the engine agrees by construction.
        Ok(None) => return restore_previous_run(lab, now),
        Err(problem) => return finish_with_problem(lab, timeline, problem),
    };
    let authorized = match engine::check_callback(&mut timeline, params, pending, now) {
        Ok(authorized) => authorized,
        Err(problem) => return finish_with_problem(lab, timeline, problem),
    };
    lab.update(|l| l.timeline = timeline);
    if authorized.pending.verifier.is_none() {
        // PKCE off: the secret was never stored, so the user supplies it again to redeem.
        let demo = ProviderSettings::known_demo_secret(&authorized.pending.client_id);
        lab.update(|l| {
            l.phase = Phase::AwaitingSecret;
            l.held_code = Some(HeldCode(Arc::new(Mutex::new(Some(authorized)))));
            l.demo_secret = demo;
        });
        storage::save_timeline(&lab.with_untracked(|l| l.timeline.clone()));
        clock::mark("oauth-flow-lab:ready");
        return;
    }
    redeem(lab, authorized, None);
    clock::mark("oauth-flow-lab:ready");
}

/// Redeems the confidential variant's held code with the secret the user typed.
pub fn redeem_with_secret(lab: RwSignal<Lab>, secret: String) {
    let held = lab.with_untracked(|l| l.held_code.clone());
    let Some(authorized) = held.and_then(|h| h.0.lock().ok().and_then(|mut c| c.take())) else {
        return;
    };
    lab.update(|l| {
        l.held_code = None;
        l.demo_secret = None;
    });
    redeem(lab, authorized, Some(ClientSecret::new(secret)));
}

/// Builds the token request, sends it on the back channel and records the answer.
fn redeem(lab: RwSignal<Lab>, authorized: AuthorizedCallback, secret: Option<ClientSecret>) {
    let mut call = None;
    lab.update(|l| {
        match engine::token_request_started(
            &mut l.timeline,
            authorized,
            secret.as_ref(),
            clock::now_ms(),
        ) {
            Ok(c) => {
                call = Some(c);
                l.phase = Phase::Exchanging;
            }
            Err(problem) => l.fail(problem),
        }
    });
    // The secret is dropped here: it lives only as long as building the request.
    drop(secret);
    let Some(call) = call else { return };
    storage::save_timeline(&lab.with_untracked(|l| l.timeline.clone()));
    spawn_local(async move {
        let outcome = http::fetch(http::FetchRequest {
            method: "POST",
            url: &call.request.url,
            headers: &TokenRequest::headers(),
            body: Some(&call.request.body),
        })
        .await;
        let now = clock::now_ms();
        lab.update(|l| {
            match engine::token_response_received(&mut l.timeline, &call, outcome, now) {
                Ok(tokens) => {
                    l.tokens = Some(tokens);
                    l.tokens_received_at_ms = now;
                    l.phase = Phase::LoggedIn;
                    l.problem = None;
                    storage::save_timeline(&l.timeline);
                }
                Err(problem) => l.fail(problem),
            }
        });
        clock::mark("oauth-flow-lab:tokens");
    });
}

fn finish_with_problem(lab: RwSignal<Lab>, timeline: Timeline, problem: Problem) {
    lab.update(|l| {
        l.timeline = timeline;
        l.fail(problem);
    });
    clock::mark("oauth-flow-lab:ready");
}

fn restore_previous_run(lab: RwSignal<Lab>, now: u64) {
    let dropped = storage::drop_expired_pending(now);
    let Some(mut timeline) = storage::load_timeline() else {
        if dropped > 0 {
            lab.update(|l| l.notice = Some(abandoned_notice()));
        }
        return;
    };
    if timeline.is_empty() {
        return;
    }
    timeline.fail_unfinished("The page was reloaded before this step finished.", now);
    timeline.push_done(
        Step::new(
            StepKind::Logout,
            Actor::ClientApp,
            Actor::ClientApp,
            Channel::Local,
            "Page reloaded: the tokens in memory are gone",
            now,
        )
        .with_note(
            "Tokens are kept in memory only, so a reload ends the app's session (S-1). The \
             timeline itself holds no secrets, which is why it could be kept.",
        ),
        0.0,
    );
    storage::save_timeline(&timeline);
    lab.update(|l| {
        l.timeline = timeline;
        if dropped > 0 {
            l.notice = Some(abandoned_notice());
        }
    });
}

fn abandoned_notice() -> String {
    "A login started in this tab was not completed within 10 minutes and has been discarded. \
     Start a new login when you are ready."
        .to_owned()
}

/// Saves edited settings (non-secret) and forgets discovery if the issuer changed.
pub fn update_settings(lab: RwSignal<Lab>, edit: impl FnOnce(&mut ProviderSettings)) {
    lab.update(|l| {
        let before = l.settings.issuer.clone();
        edit(&mut l.settings);
        if l.settings.issuer.trim() != before.trim() {
            l.metadata = None;
        }
        storage::save_settings(&l.settings);
    });
}

/// Starts a login: discovery (once), fresh verifier and state, pending saved, then away.
pub fn login(lab: RwSignal<Lab>) {
    let settings = lab.with_untracked(|l| l.settings.normalized());
    let problems = settings.problems();
    if !problems.is_empty() {
        lab.update(|l| {
            l.fail(Problem::local(
                &problems.join(" "),
                "Fix the settings above, then press Log in again.",
            ))
        });
        return;
    }
    lab.update(|l| {
        l.timeline = Timeline::new();
        l.tokens = None;
        l.problem = None;
        l.notice = None;
        l.api_answer = None;
        l.held_code = None;
        l.demo_secret = None;
        l.phase = Phase::Discovering;
    });
    spawn_local(async move {
        let Some(metadata) = discover(lab, &settings).await else {
            return;
        };
        let entropy = match draw_entropy() {
            Ok(entropy) => entropy,
            Err(problem) => return lab.update(|l| l.fail(problem)),
        };
        let now = clock::now_ms();
        let redirect_uri = location::redirect_uri();
        let mut plan = None;
        lab.update(|l| {
            match engine::plan_login(
                &mut l.timeline,
                &settings,
                &metadata,
                &redirect_uri,
                entropy,
                now,
            ) {
                Ok(p) => plan = Some(p),
                Err(problem) => l.fail(problem),
            }
        });
        let Some(plan) = plan else { return };
        if let Err(problem) = storage::save_pending(plan.pending, now) {
            return lab.update(|l| l.fail(problem));
        }
        lab.update(|l| l.phase = Phase::Redirecting);
        storage::save_timeline(&lab.with_untracked(|l| l.timeline.clone()));
        if let Err(reason) = location::navigate(&plan.authorize_url) {
            lab.update(|l| l.fail(Problem::local(&reason, "Reload the page and try again.")));
        }
    });
}

async fn discover(lab: RwSignal<Lab>, settings: &ProviderSettings) -> Option<ProviderMetadata> {
    if let Some(metadata) =
        lab.with_untracked(|l| l.metadata.clone().filter(|m| m.issuer == settings.issuer))
    {
        return Some(metadata);
    }
    let url = match openid_configuration_url(&settings.issuer) {
        Ok(url) => url,
        Err(error) => {
            lab.update(|l| l.fail(Problem::from_error(&error)));
            return None;
        }
    };
    let mut step = 0;
    lab.update(|l| step = engine::discovery_started(&mut l.timeline, &url, clock::now_ms()));
    let outcome = http::fetch(http::FetchRequest {
        method: "GET",
        url: &url,
        headers: &[("Accept", "application/json")],
        body: None,
    })
    .await;
    let mut result = None;
    lab.update(|l| {
        match engine::discovery_finished(
            &mut l.timeline,
            step,
            &settings.issuer,
            outcome,
            clock::now_ms(),
        ) {
            Ok(metadata) => {
                l.metadata = Some(metadata.clone());
                result = Some(metadata);
            }
            Err(problem) => l.fail(problem),
        }
    });
    result
}

fn draw_entropy() -> Result<LoginEntropy, Problem> {
    Ok(LoginEntropy {
        verifier: crypto::random_32()?,
        state: crypto::random_32()?,
        nonce: crypto::random_32()?,
    })
}

/// Calls the demo resource API with the access token as `Authorization: Bearer`.
pub fn call_api(lab: RwSignal<Lab>, path: &'static str) {
    let Some((token, base)) = lab.with_untracked(|l| {
        l.tokens
            .as_ref()
            .map(|t| (t.access_token.clone(), l.settings.normalized().api_base))
    }) else {
        return;
    };
    let url = format!("{base}{path}");
    let mut started = None;
    lab.update(|l| {
        l.phase = Phase::CallingApi;
        l.problem = None;
        started = Some(engine::resource_request_started(
            &mut l.timeline,
            &url,
            &token,
            clock::now_ms(),
        ));
    });
    let Some((step, authorization)) = started else {
        return;
    };
    spawn_local(async move {
        let outcome: Result<HttpResponse, TransportError> = http::fetch(http::FetchRequest {
            method: "GET",
            url: &url,
            headers: &[
                ("Accept", "application/json"),
                ("Authorization", &authorization),
            ],
            body: None,
        })
        .await;
        lab.update(|l| {
            match engine::resource_response_received(
                &mut l.timeline,
                step,
                outcome,
                clock::now_ms(),
            ) {
                Ok(value) => {
                    l.api_answer = Some(ApiAnswer {
                        path: path.to_owned(),
                        body: serde_json::to_string_pretty(&value).unwrap_or_default(),
                    });
                    l.phase = Phase::LoggedIn;
                    storage::save_timeline(&l.timeline);
                }
                Err(problem) => {
                    l.api_answer = None;
                    l.fail(problem);
                    // Still logged in: the tokens are fine, only this call failed.
                    l.phase = Phase::LoggedIn;
                }
            }
        });
    });
}

/// Forgets the tokens held in memory.
pub fn logout(lab: RwSignal<Lab>) {
    lab.update(|l| {
        l.tokens = None;
        l.api_answer = None;
        l.problem = None;
        l.phase = Phase::Idle;
        engine::logged_out(&mut l.timeline, clock::now_ms());
        storage::save_timeline(&l.timeline);
    });
}
