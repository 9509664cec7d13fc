//! The app's state and the glue that runs the flow: it asks `browser` for I/O and `flow` for
//! every decision, and keeps the one timeline up to date.

use crate::browser::{cache, clock, http, location, storage, webcrypto};
use crate::flow::attack::{LabLogin, LabRecord};
use crate::flow::engine::{self, LoginEntropy, Problem, TransportError};
use crate::flow::lifecycle;
use crate::flow::oidc::{self, VerifiedIdToken};
use crate::flow::presets;
use crate::flow::settings::{ClientType, ProviderSettings};
use crate::flow::timeline::{StepKind, Timeline};
use crate::protocol::callback::{parse_callback, AuthorizedCallback};
use crate::protocol::discovery::ProviderMetadata;
use crate::protocol::jwt::{decode, ClaimRules, Jwks, NonceRule};
use crate::protocol::revocation::TokenKind;
use crate::protocol::secret::{AccessToken, ClientSecret, IdToken, RefreshToken};
use crate::protocol::token::{HttpResponse, TokenRequest, TokenSet};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::future::Future;
use std::pin::Pin;
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
    /// Checking the ID token (keys, signature, claims).
    Verifying,
    /// Tokens in memory.
    LoggedIn,
    /// A resource or UserInfo call in flight.
    CallingApi,
    /// A refresh in flight.
    Refreshing,
    /// A revocation in flight.
    Revoking,
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
            Phase::Verifying => "verifying",
            Phase::LoggedIn => "logged-in",
            Phase::CallingApi => "calling-api",
            Phase::Refreshing => "refreshing",
            Phase::Revoking => "revoking",
            Phase::AwaitingSecret => "awaiting-secret",
            Phase::Failed => "failed",
        }
    }

    /// Whether an action is in flight.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            Phase::Discovering
                | Phase::Redirecting
                | Phase::Exchanging
                | Phase::Verifying
                | Phase::CallingApi
                | Phase::Refreshing
                | Phase::Revoking
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

/// Who the current tokens came from (whatever the settings say now: they may have been
/// switched to another provider since the login started).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// The issuer the login was sent to.
    pub issuer: String,
    /// The client id used.
    pub client_id: String,
    /// The nonce of the login (a refreshed ID token may repeat it).
    pub nonce: Option<String>,
}

/// An ID token that failed validation, decoded for display only (never trusted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedIdToken {
    /// The header, pretty-printed.
    pub header_json: String,
    /// The claims, pretty-printed.
    pub claims_json: String,
}

/// Which tokens were revoked at the provider (they are kept in memory to show the effect).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Revoked {
    /// The access token.
    pub access: bool,
    /// The refresh token.
    pub refresh: bool,
}

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
    /// Discovery result for the settings' issuer, fetched at most once per issuer per page.
    pub metadata: Option<ProviderMetadata>,
    /// The metadata of the provider that issued the current tokens.
    pub provider: Option<ProviderMetadata>,
    /// The login the current tokens belong to.
    pub session: Option<SessionInfo>,
    /// The verified ID token: who logged in.
    pub identity: Option<VerifiedIdToken>,
    /// The last ID token that failed validation, for display.
    pub rejected_id_token: Option<RejectedIdToken>,
    /// The last UserInfo answer, pretty-printed.
    pub userinfo: Option<String>,
    /// The refresh token the last rotation replaced (memory only).
    pub replaced_refresh: Option<RefreshToken>,
    /// Tokens revoked at the provider.
    pub revoked: Revoked,
    /// The provider's key set, fetched at most once per page unless a key is missing.
    pub jwks: Option<(String, Jwks)>,
    /// What the user must know about the last failure.
    pub problem: Option<Problem>,
    /// A neutral notice (e.g. an abandoned login was discarded).
    pub notice: Option<String>,
    /// Current activity.
    pub phase: Phase,
    /// Last API answer.
    pub api_answer: Option<ApiAnswer>,
    /// The `scope` a 403 from the API asked for (RFC 6750 §3), for the token panel.
    pub api_needed_scope: Option<String>,
    /// PKCE off: the checked code, waiting for the secret.
    pub held_code: Option<HeldCode>,
    /// PKCE off with the bundled demo client: its (public) secret, to pre-fill.
    pub demo_secret: Option<&'static str>,
    /// The attack lab's reports, checkup and trips in flight (this tab).
    pub attack: LabRecord,
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
            provider: None,
            session: None,
            identity: None,
            rejected_id_token: None,
            userinfo: None,
            replaced_refresh: None,
            revoked: Revoked::default(),
            jwks: None,
            problem: None,
            notice: None,
            phase: Phase::Idle,
            api_answer: None,
            api_needed_scope: None,
            held_code: None,
            demo_secret: None,
            attack: storage::load_lab(),
        }
    }

    /// Saves the attack lab's record and the run beside it (before a trip to the provider, or
    /// when a lab step ends).
    pub(crate) fn save_lab_run(&self) {
        storage::save_timeline(&self.timeline);
        storage::save_lab(&self.attack);
    }

    pub(crate) fn fail(&mut self, problem: Problem) {
        self.problem = Some(problem);
        self.phase = Phase::Failed;
        storage::save_timeline(&self.timeline);
    }

    /// Forgets everything that belongs to the current tokens.
    pub(crate) fn forget_session(&mut self) {
        self.tokens = None;
        self.identity = None;
        self.userinfo = None;
        self.replaced_refresh = None;
        self.revoked = Revoked::default();
        self.api_answer = None;
    }

    /// The preset's CORS setting, when `issuer` is the one the settings (and preset) describe.
    fn cors_setting(&self, issuer: &str) -> Option<(&'static str, &'static str)> {
        let settings = self.settings.normalized();
        (settings.issuer == issuer)
            .then(|| presets::cors_setting_for(&settings.preset))
            .flatten()
    }
}

/// A fetch's outcome.
pub(crate) type Answer = Result<HttpResponse, TransportError>;
/// A boxed future: one copy of each state machine in the wasm, however many callers.
pub(crate) type Later<T> = Pin<Box<dyn Future<Output = T>>>;

/// The one back-channel sender: `GET` (JSON, optionally with a bearer token) or `POST` of a
/// form with the token endpoint's CORS-safelisted headers.
#[inline(never)]
fn send(post: Option<String>, url: String, authorization: Option<String>) -> Later<Answer> {
    let form = TokenRequest::headers();
    let mut headers: Vec<(&str, &str)> = match &post {
        Some(_) => form.to_vec(),
        None => vec![("Accept", "application/json")],
    };
    if let Some(value) = &authorization {
        headers.push(("Authorization", value));
    }
    Box::pin(http::fetch(http::FetchRequest {
        method: if post.is_some() { "POST" } else { "GET" },
        url: &url,
        headers: &headers,
        body: post.as_deref(),
    }))
}

pub(crate) fn get(url: &str, authorization: Option<&str>) -> Later<Answer> {
    send(None, url.to_owned(), authorization.map(str::to_owned))
}

pub(crate) fn post_form(request: &TokenRequest) -> Later<Answer> {
    send(Some(request.body.clone()), request.url.clone(), None)
}

/// Runs `f` on the state and returns its result (`None` only if the page is being torn down).
pub(crate) fn with_lab<T>(lab: RwSignal<Lab>, f: impl FnOnce(&mut Lab) -> T) -> Option<T> {
    lab.try_update(f)
}

/// The origin reached, when a fetch failed at the network level (possibly CORS).
fn network_origin(outcome: &Result<HttpResponse, TransportError>) -> Option<String> {
    match outcome {
        Err(TransportError::Network { origin }) => Some(origin.clone()),
        _ => None,
    }
}

/// Replaces a network failure's generic problem by the CORS diagnosis for `endpoint`.
fn diagnosed(
    lab: RwSignal<Lab>,
    problem: Problem,
    network: Option<String>,
    endpoint: &str,
    issuer: &str,
) -> Problem {
    match network {
        Some(origin) => {
            let setting = lab.with_untracked(|l| l.cors_setting(issuer));
            engine::cors_diagnosis(&origin, endpoint, &location::origin(), setting)
        }
        None => problem,
    }
}

/// Handles the page load: a callback from the provider is checked and redeemed; an ordinary
/// load applies a shareable link, notes a return from the provider's logout and restores this
/// tab's last timeline.
pub fn resume_after_load(lab: RwSignal<Lab>) {
    let now = clock::now_ms();
    let (query, fragment) = location::query_and_fragment();
    let parsed = parse_callback(&query, &fragment);
    if matches!(parsed, Ok(None)) {
        let shared = apply_share_link(lab, &query);
        let back_from_logout = cache::take_end_session_mark();
        restore_previous_run(lab, now, back_from_logout);
        if shared {
            lab.update(|l| {
                l.notice = Some(format!(
                    "Settings pre-filled from the link you opened: issuer {}, client id {}, \
                     scopes {}. Check them before you log in.",
                    l.settings.issuer, l.settings.client_id, l.settings.scope
                ))
            });
        }
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
            return;
        }
    };
    // Continue this tab's run only when the callback answers a login it started; a forged or
    // replayed callback is drawn as a run of its own.
    // Each pending login has its own run: the callback continues the one it answers, not the
    // last one started (which may be a login at another provider).
    // The attack lab's forged link arrives as a callback nobody here started: it continues the
    // lab's run so the diagram shows the attacker's steps and the check that stops them.
    // (Its run, saved before the link was opened, ends with the ForgedLink step.)
    let saved = storage::load_timeline();
    let forged = pending.is_none()
        && saved
            .as_ref()
            .and_then(|t| t.steps().last())
            .is_some_and(|s| s.kind == StepKind::ForgedLink);
    let mut timeline = match (&parsed, &pending) {
        (Ok(Some(params)), Some(_)) => cache::take_run(&params.state).or(saved).unwrap_or_default(),
        _ if forged => saved.unwrap_or_default(),
        _ => Timeline::new(),
    };
    let params = match engine::callback_received(&mut timeline, &query, &fragment, now) {
        Ok(Some(params)) => params,
        // parse_callback already said this is a callback; the engine agrees by construction.
        Ok(None) => return restore_previous_run(lab, now, false),
        Err(problem) => return finish_with_problem(lab, timeline, problem),
    };
    // Mix-up defence: the pending entry found by `state` remembers its issuer, and `iss` is
    // checked against it — not against the settings, which may name another provider by now.
    let authorized = match engine::check_callback(&mut timeline, params, pending, now) {
        Ok(authorized) => authorized,
        Err(_) if forged => return super::attack::forged_link_arrived(lab, timeline),
        Err(problem) => return finish_with_problem(lab, timeline, problem),
    };
    lab.update(|l| l.timeline = timeline);
    let state = authorized.pending.state.secret().to_owned();
    if let Some(intent) = super::attack::take_lab_login(lab, &state) {
        super::attack::lab_login_returned(lab, authorized, intent);
        return;
    }
    if authorized.pending.verifier.is_none() {
        // PKCE off: the secret was never stored, so the user supplies it again to redeem.
        let demo = ProviderSettings::known_demo_secret(&authorized.pending.client_id);
        lab.update(|l| {
            l.phase = Phase::AwaitingSecret;
            l.held_code = Some(HeldCode(Arc::new(Mutex::new(Some(authorized)))));
            l.demo_secret = demo;
        });
        storage::save_timeline(&lab.with_untracked(|l| l.timeline.clone()));
        return;
    }
    redeem(lab, authorized, None);
}

/// Applies `?issuer=…&client_id=…&scope=…&preset=…` once, then removes it from the address bar.
fn apply_share_link(lab: RwSignal<Lab>, query: &str) -> bool {
    if query.is_empty() {
        return false;
    }
    let mut applied = false;
    lab.update(|l| {
        let before = l.settings.issuer.clone();
        applied = l.settings.apply_share_query(query);
        if applied {
            if l.settings.issuer != before {
                l.metadata = None;
            }
            storage::save_settings(&l.settings);
        }
    });
    if applied {
        location::clean_url();
    }
    applied
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

/// Builds the token request, sends it on the back channel, records the answer and, for
/// OpenID Connect, verifies the ID token before the tokens are kept.
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
    // Sent now: on the callback page this is before the page is mounted, so the round trip
    // overlaps the first render instead of following it (scripts/bench).
    let answer = post_form(&call.request);
    spawn_local(async move {
        let outcome = answer.await;
        let network = network_origin(&outcome);
        let now = clock::now_ms();
        let Some(result) = with_lab(lab, |l| {
            engine::token_response_received(&mut l.timeline, &call, outcome, now)
        }) else {
            return;
        };
        let tokens = match result {
            Ok(tokens) => tokens,
            Err(problem) => {
                let problem = diagnosed(lab, problem, network, "token endpoint", &call.issuer);
                lab.update(|l| l.fail(problem));
                clock::mark_when_drawn("oauth-flow-lab:tokens");
                return;
            }
        };
        let identity = match &tokens.id_token {
            Some(id_token) => {
                lab.update(|l| l.phase = Phase::Verifying);
                let rules = ClaimRules {
                    issuer: call.issuer.clone(),
                    client_id: call.client_id.clone(),
                    nonce: match &call.nonce {
                        Some(nonce) => NonceRule::Expected(nonce.clone()),
                        None => NonceRule::IfPresent(None),
                    },
                    expected_sub: None,
                    now_ms: clock::now_ms(),
                };
                match verify_id_token(lab, &call.issuer, id_token, &tokens.access_token, rules)
                    .await
                {
                    Ok(verified) => Some(verified),
                    Err(problem) => {
                        // OpenID Connect: an invalid ID token fails the whole login; the
                        // tokens that came with it are not kept.
                        lab.update(|l| {
                            l.rejected_id_token = rejected_view(id_token);
                            l.fail(problem);
                        });
                        clock::mark_when_drawn("oauth-flow-lab:tokens");
                        return;
                    }
                }
            }
            None => None,
        };
        if identity.is_none() {
            // Without an ID token, the provider's metadata is still wanted for the session's
            // own calls (UserInfo, revocation, logout): from this tab's cache, never refetched.
            let cached = lab.with_untracked(|l| known_metadata(l, &call.issuer));
            lab.update(|l| l.provider = cached);
        }
        let now = clock::now_ms();
        lab.update(|l| {
            l.forget_session();
            l.tokens = Some(tokens);
            l.tokens_received_at_ms = now;
            l.identity = identity;
            l.rejected_id_token = None;
            l.session = Some(SessionInfo {
                issuer: call.issuer.clone(),
                client_id: call.client_id.clone(),
                nonce: call.nonce.clone(),
            });
            l.phase = Phase::LoggedIn;
            l.problem = None;
            storage::save_timeline(&l.timeline);
        });
        clock::mark_when_drawn("oauth-flow-lab:tokens");
    });
}

fn rejected_view(id_token: &IdToken) -> Option<RejectedIdToken> {
    decode(id_token.secret()).ok().map(|d| RejectedIdToken {
        header_json: d.header_json(),
        claims_json: d.claims_json(),
    })
}

/// Metadata already known for `issuer` on this page or in this tab.
pub(crate) fn known_metadata(l: &Lab, issuer: &str) -> Option<ProviderMetadata> {
    l.provider
        .clone()
        .filter(|m| m.issuer == issuer)
        .or_else(|| l.metadata.clone().filter(|m| m.issuer == issuer))
        .or_else(|| cache::load_metadata(issuer))
}

/// The metadata of `issuer`: known already, or discovered now (a "Discover" step after the
/// callback, when this tab's copy was lost).
async fn provider_metadata(lab: RwSignal<Lab>, issuer: &str) -> Result<ProviderMetadata, Problem> {
    let known = lab.with_untracked(|l| known_metadata(l, issuer));
    let metadata = match known {
        Some(metadata) => metadata,
        None => discover(lab, issuer).await?,
    };
    lab.update(|l| l.provider = Some(metadata.clone()));
    Ok(metadata)
}

/// JWKS, signature (WebCrypto), claims: each a step on the timeline.
fn verify_id_token(
    lab: RwSignal<Lab>,
    issuer: &str,
    id_token: &IdToken,
    access_token: &AccessToken,
    rules: ClaimRules,
) -> Later<Result<VerifiedIdToken, Problem>> {
    let (issuer, id_token, access_token) =
        (issuer.to_owned(), id_token.clone(), access_token.clone());
    Box::pin(
        async move { verify_id_token_steps(lab, &issuer, &id_token, &access_token, rules).await },
    )
}

async fn verify_id_token_steps(
    lab: RwSignal<Lab>,
    issuer: &str,
    id_token: &IdToken,
    access_token: &AccessToken,
    rules: ClaimRules,
) -> Result<VerifiedIdToken, Problem> {
    let check = with_lab(lab, |l| {
        oidc::id_token_received(&mut l.timeline, id_token, clock::now_ms())
    })
    .ok_or_else(torn_down)??;
    let metadata = provider_metadata(lab, issuer).await?;
    let Some(jwks_uri) = metadata.jwks_uri.clone() else {
        return Err(with_lab(lab, |l| {
            oidc::no_jwks_uri(&mut l.timeline, &check, clock::now_ms())
        })
        .unwrap_or_else(torn_down));
    };
    let cached = lab.with_untracked(|l| {
        l.jwks
            .clone()
            .filter(|(uri, jwks)| *uri == jwks_uri && oidc::has_key_for(jwks, &check))
            .map(|(_, jwks)| jwks)
    });
    let jwks = match cached {
        Some(jwks) => jwks,
        None => {
            let step = with_lab(lab, |l| {
                oidc::jwks_fetch_started(&mut l.timeline, &jwks_uri, clock::now_ms())
            })
            .ok_or_else(torn_down)?;
            let outcome = get(&jwks_uri, None).await;
            let network = network_origin(&outcome);
            let result = with_lab(lab, |l| {
                oidc::jwks_fetch_finished(&mut l.timeline, step, outcome, clock::now_ms())
            })
            .ok_or_else(torn_down)?;
            let jwks =
                result.map_err(|p| diagnosed(lab, p, network, "key set (jwks_uri)", issuer))?;
            lab.update(|l| l.jwks = Some((jwks_uri.clone(), jwks.clone())));
            jwks
        }
    };
    let key = with_lab(lab, |l| {
        oidc::signature_check(&mut l.timeline, &check, &jwks, clock::now_ms())
    })
    .ok_or_else(torn_down)??;
    let verdict = webcrypto::verify(&key).await;
    with_lab(lab, |l| {
        oidc::signature_checked(&mut l.timeline, &check, &key, verdict, clock::now_ms())
    })
    .ok_or_else(torn_down)??;
    // at_hash is checked with the algorithm's own SHA-2; a failed digest leaves it empty, which
    // the check reports (only when the token carries an at_hash).
    let access_token_digest =
        webcrypto::digest(check.alg.hash_name(), access_token.secret().as_bytes())
            .await
            .unwrap_or_default();
    let rules = ClaimRules {
        now_ms: clock::now_ms(),
        ..rules
    };
    with_lab(lab, |l| {
        oidc::claims_checked(
            &mut l.timeline,
            &check,
            &rules,
            &access_token_digest,
            clock::now_ms(),
        )
    })
    .ok_or_else(torn_down)?
}

fn torn_down() -> Problem {
    Problem::local(
        "The page was closed while checking the login.",
        "Reload the page.",
    )
}

fn finish_with_problem(lab: RwSignal<Lab>, timeline: Timeline, problem: Problem) {
    lab.update(|l| {
        l.timeline = timeline;
        l.fail(problem);
    });
}

fn restore_previous_run(lab: RwSignal<Lab>, now: u64, back_from_logout: bool) {
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
    if back_from_logout {
        lifecycle::back_from_end_session(&mut timeline, now);
    } else {
        engine::page_reloaded(&mut timeline, now);
    }
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

/// Saves edited settings (non-secret) and forgets discovery if the issuer changed. Pending
/// logins are not touched: each remembers its own provider.
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

/// Switches to a preset: its issuer (template), client id, scopes and, for a provider without
/// discovery, its known endpoints.
pub fn apply_preset(lab: RwSignal<Lab>, id: &str) {
    let Some(preset) = presets::find(id) else {
        if id == presets::OTHER {
            // Keep what was typed; only the hints go.
            update_settings(lab, |s| s.preset = presets::OTHER.to_owned());
        }
        return;
    };
    update_settings(lab, |s| {
        s.preset = preset.id.to_owned();
        s.issuer = preset.issuer_template.to_owned();
        s.client_id = preset.client_id.to_owned();
        s.scope = preset.scope.to_owned();
        s.client_type = ClientType::Public;
        match preset.endpoints {
            Some(endpoints) => {
                s.manual = true;
                s.endpoints = Default::default();
                s.endpoints.authorization_endpoint = endpoints.authorization.to_owned();
                s.endpoints.token_endpoint = endpoints.token.to_owned();
            }
            None => s.manual = false,
        }
    });
}

/// Starts a login: discovery (once), fresh verifier and state, pending saved, then away.
pub fn login(lab: RwSignal<Lab>) {
    start_login(lab, None);
}

/// Starts a login, for the attack lab when `intent` says so (its callback then runs the
/// experiment instead of an ordinary redemption).
pub(crate) fn start_login(lab: RwSignal<Lab>, intent: Option<LabLogin>) {
    let mut settings = lab.with_untracked(|l| l.settings.normalized());
    if intent == Some(LabLogin::AttackerCode) {
        // The attacker signs in to their own account: ask for the login form even when the
        // provider still has a session for the victim (one prompt, never two).
        settings.auth_params.prompt = "login".to_owned();
    }
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
        l.forget_session();
        l.rejected_id_token = None;
        l.problem = None;
        l.notice = None;
        l.held_code = None;
        l.demo_secret = None;
        l.phase = Phase::Discovering;
    });
    spawn_local(async move {
        let metadata = if settings.manual {
            match settings.manual_metadata() {
                Ok(metadata) => {
                    lab.update(|l| {
                        engine::manual_endpoints_used(&mut l.timeline, &metadata, clock::now_ms())
                    });
                    cache::save_metadata(&metadata);
                    metadata
                }
                Err(error) => return lab.update(|l| l.fail(Problem::from_error(&error))),
            }
        } else {
            match discover(lab, &settings.issuer).await {
                Ok(metadata) => metadata,
                Err(problem) => return lab.update(|l| l.fail(problem)),
            }
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
        let state = plan.pending.state.clone();
        if let Err(problem) = storage::save_pending(plan.pending, now) {
            return lab.update(|l| l.fail(problem));
        }
        if let Some(intent) = intent {
            lab.update(|l| {
                // Like the pending logins themselves (at most 4), abandoned ones fall off.
                if l.attack.logins.len() >= 4 {
                    l.attack.logins.remove(0);
                }
                l.attack.logins.push((state.secret().to_owned(), intent));
                storage::save_lab(&l.attack);
            });
        }
        lab.update(|l| l.phase = Phase::Redirecting);
        let timeline = lab.with_untracked(|l| l.timeline.clone());
        storage::save_timeline(&timeline);
        cache::save_run(&state, &timeline);
        if let Err(reason) = location::navigate(&plan.authorize_url) {
            lab.update(|l| l.fail(Problem::local(&reason, "Reload the page and try again.")));
        }
    });
}

/// Discovery by issuer: the OpenID Connect location, then the RFC 8414 one (see
/// `engine::discovery_urls`), each a step. Cached for the page and for this tab.
pub(crate) async fn discover(
    lab: RwSignal<Lab>,
    issuer: &str,
) -> Result<ProviderMetadata, Problem> {
    if let Some(metadata) =
        lab.with_untracked(|l| l.metadata.clone().filter(|m| m.issuer == issuer))
    {
        return Ok(metadata);
    }
    let urls = engine::discovery_urls(issuer)?;
    let mut first_problem = None;
    let mut network = None;
    for (attempt, url) in urls.iter().enumerate() {
        let step = with_lab(lab, |l| {
            engine::discovery_started(&mut l.timeline, url, attempt, clock::now_ms())
        })
        .ok_or_else(torn_down)?;
        let outcome = get(url, None).await;
        let more = attempt + 1 < urls.len();
        let result = with_lab(lab, |l| {
            engine::discovery_finished(
                &mut l.timeline,
                step,
                issuer,
                outcome,
                more,
                clock::now_ms(),
            )
        })
        .ok_or_else(torn_down)?;
        match result {
            Ok(metadata) => {
                lab.update(|l| l.metadata = Some(metadata.clone()));
                cache::save_metadata(&metadata);
                return Ok(metadata);
            }
            // A document was found but is not acceptable: never look for another one.
            Err(failure) if !failure.try_next => return Err(failure.problem),
            Err(failure) => {
                network = network.or(failure.network_origin);
                first_problem.get_or_insert(failure.problem);
            }
        }
    }
    let problem = first_problem.unwrap_or_else(torn_down);
    Err(diagnosed(
        lab,
        problem,
        network,
        "discovery endpoint (/.well-known/…)",
        issuer,
    ))
}

fn draw_entropy() -> Result<LoginEntropy, Problem> {
    LoginEntropy::draw()
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
        let outcome: Result<HttpResponse, TransportError> = get(&url, Some(&authorization)).await;
        // A 403's challenge names the scope the call needed (RFC 6750 §3).
        let needed = outcome
            .as_ref()
            .ok()
            .filter(|r| r.status == 403)
            .and_then(|r| r.www_authenticate.as_deref())
            .map(crate::protocol::resource::parse_www_authenticate)
            .and_then(|p| p.into_iter().find(|(k, _)| k == "scope").map(|(_, v)| v));
        lab.update(|l| {
            l.api_needed_scope = needed;
            match engine::resource_response_received(
                &mut l.timeline,
                step,
                outcome,
                clock::now_ms(),
            ) {
                Ok(value) => {
                    l.api_answer = Some(ApiAnswer {
                        path: path.to_owned(),
                        body: crate::protocol::document::pretty(&value),
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

/// Ends an action that keeps the session: a failure is shown, the tokens stay.
fn settle(lab: RwSignal<Lab>, outcome: Result<(), Problem>) {
    lab.update(|l| {
        match outcome {
            Ok(()) => l.problem = None,
            Err(problem) => l.fail(problem),
        }
        l.phase = if l.tokens.is_some() {
            Phase::LoggedIn
        } else {
            Phase::Idle
        };
        storage::save_timeline(&l.timeline);
    });
}

/// Calls the provider's UserInfo endpoint with the access token.
pub fn call_userinfo(lab: RwSignal<Lab>) {
    let Some((token, url, issuer, sub)) = lab.with_untracked(|l| {
        Some((
            l.tokens.as_ref()?.access_token.clone(),
            l.provider.as_ref()?.userinfo_endpoint.clone()?,
            l.session.as_ref()?.issuer.clone(),
            l.identity.as_ref().map(|i| i.claims.sub.clone()),
        ))
    }) else {
        return;
    };
    let Some((step, authorization)) = with_lab(lab, |l| {
        l.phase = Phase::CallingApi;
        l.problem = None;
        oidc::userinfo_request_started(&mut l.timeline, &url, &token, clock::now_ms())
    }) else {
        return;
    };
    spawn_local(async move {
        let outcome = get(&url, Some(&authorization)).await;
        let network = network_origin(&outcome);
        let result = with_lab(lab, |l| {
            oidc::userinfo_response_received(
                &mut l.timeline,
                step,
                outcome,
                sub.as_deref(),
                clock::now_ms(),
            )
        });
        let outcome = match result {
            Some(Ok(claims)) => {
                let shown = crate::protocol::document::pretty(&claims);
                lab.update(|l| l.userinfo = Some(shown));
                Ok(())
            }
            Some(Err(problem)) => Err(diagnosed(
                lab,
                problem,
                network,
                "UserInfo endpoint",
                &issuer,
            )),
            None => return,
        };
        settle(lab, outcome);
    });
}

/// Trades the refresh token for new tokens; a rotated refresh token replaces the old one.
pub fn refresh(lab: RwSignal<Lab>) {
    let Some((refresh, endpoint, session, scope)) = lab.with_untracked(|l| {
        let tokens = l.tokens.as_ref()?;
        Some((
            tokens.refresh_token.clone()?,
            l.provider.as_ref()?.token_endpoint.clone(),
            l.session.clone()?,
            tokens.granted_scope.clone(),
        ))
    }) else {
        return;
    };
    let openid = scope.split_whitespace().any(|s| s == "openid");
    let started = with_lab(lab, |l| {
        l.phase = Phase::Refreshing;
        l.problem = None;
        lifecycle::refresh_started(
            &mut l.timeline,
            &endpoint,
            &refresh,
            &session.client_id,
            &scope,
            openid,
            clock::now_ms(),
        )
    });
    let call = match started {
        Some(Ok(call)) => call,
        Some(Err(problem)) => return settle(lab, Err(problem)),
        None => return,
    };
    spawn_local(async move {
        let outcome = post_form(&call.request).await;
        let network = network_origin(&outcome);
        let Some(result) = with_lab(lab, |l| {
            lifecycle::refresh_response_received(&mut l.timeline, &call, outcome, clock::now_ms())
        }) else {
            return;
        };
        let refreshed = match result {
            Ok(refreshed) => refreshed,
            Err(problem) => {
                let problem = diagnosed(lab, problem, network, "token endpoint", &session.issuer);
                return settle(lab, Err(problem));
            }
        };
        // A refreshed ID token is checked like the first one, and must name the same user.
        let mut identity = lab.with_untracked(|l| l.identity.clone());
        if let Some(id_token) = &refreshed.tokens.id_token {
            let rules = ClaimRules {
                issuer: session.issuer.clone(),
                client_id: session.client_id.clone(),
                nonce: NonceRule::IfPresent(session.nonce.clone()),
                expected_sub: identity.as_ref().map(|i| i.claims.sub.clone()),
                now_ms: clock::now_ms(),
            };
            let access = refreshed.tokens.access_token.clone();
            match verify_id_token(lab, &session.issuer, id_token, &access, rules).await {
                Ok(verified) => identity = Some(verified),
                Err(problem) => {
                    lab.update(|l| l.rejected_id_token = rejected_view(id_token));
                    return settle(lab, Err(problem));
                }
            }
        }
        let now = clock::now_ms();
        lab.update(|l| {
            if refreshed.replaced.is_some() {
                l.replaced_refresh = refreshed.replaced.clone();
            }
            l.tokens = Some(refreshed.tokens.clone());
            l.tokens_received_at_ms = now;
            l.identity = identity;
            l.revoked = Revoked::default();
        });
        settle(lab, Ok(()));
    });
}

/// Revokes the access or the refresh token at the provider (RFC 7009). The token stays in
/// memory, marked revoked, so that calling the API with it shows the 401.
pub fn revoke(lab: RwSignal<Lab>, kind: TokenKind) {
    let Some((token, endpoint, session)) = lab.with_untracked(|l| {
        let tokens = l.tokens.as_ref()?;
        let token = match kind {
            TokenKind::Access => tokens.access_token.secret().to_owned(),
            TokenKind::Refresh => tokens.refresh_token.as_ref()?.secret().to_owned(),
        };
        Some((
            token,
            l.provider.as_ref()?.revocation_endpoint.clone()?,
            l.session.clone()?,
        ))
    }) else {
        return;
    };
    let started = with_lab(lab, |l| {
        l.phase = Phase::Revoking;
        l.problem = None;
        lifecycle::revocation_started(
            &mut l.timeline,
            &endpoint,
            kind,
            &token,
            &session.client_id,
            clock::now_ms(),
        )
    });
    let (step, request) = match started {
        Some(Ok(started)) => started,
        Some(Err(problem)) => return settle(lab, Err(problem)),
        None => return,
    };
    drop(token);
    spawn_local(async move {
        let outcome = post_form(&request).await;
        let network = network_origin(&outcome);
        let Some(result) = with_lab(lab, |l| {
            lifecycle::revocation_finished(&mut l.timeline, step, outcome, clock::now_ms())
        }) else {
            return;
        };
        let result = match result {
            Ok(()) => {
                lab.update(|l| match kind {
                    TokenKind::Access => l.revoked.access = true,
                    TokenKind::Refresh => l.revoked.refresh = true,
                });
                Ok(())
            }
            Err(problem) => Err(diagnosed(
                lab,
                problem,
                network,
                "revocation endpoint",
                &session.issuer,
            )),
        };
        settle(lab, result);
    });
}

/// RP-initiated logout: forgets the tokens and sends the browser to the provider's
/// end-session endpoint with `id_token_hint`; it comes back to this page.
pub fn logout_at_provider(lab: RwSignal<Lab>) {
    let Some((endpoint, id_token, client_id)) = lab.with_untracked(|l| {
        Some((
            l.provider.as_ref()?.end_session_endpoint.clone()?,
            l.identity.as_ref().map(|i| i.token.clone()),
            l.session.as_ref()?.client_id.clone(),
        ))
    }) else {
        return;
    };
    let redirect_uri = location::redirect_uri();
    let planned = with_lab(lab, |l| {
        let url = lifecycle::end_session_planned(
            &mut l.timeline,
            &endpoint,
            id_token.as_ref(),
            &redirect_uri,
            &client_id,
            clock::now_ms(),
        );
        if url.is_ok() {
            l.forget_session();
            l.session = None;
            l.phase = Phase::Redirecting;
        }
        storage::save_timeline(&l.timeline);
        url
    });
    match planned {
        Some(Ok(url)) => {
            cache::mark_end_session();
            if let Err(reason) = location::navigate(&url) {
                lab.update(|l| l.fail(Problem::local(&reason, "Reload the page and try again.")));
            }
        }
        Some(Err(problem)) => lab.update(|l| l.fail(problem)),
        None => {}
    }
}

/// Forgets the tokens held in memory.
pub fn logout(lab: RwSignal<Lab>) {
    lab.update(|l| {
        l.forget_session();
        l.session = None;
        l.problem = None;
        l.phase = Phase::Idle;
        engine::logged_out(&mut l.timeline, clock::now_ms());
        storage::save_timeline(&l.timeline);
    });
}
