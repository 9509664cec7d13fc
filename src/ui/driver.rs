//! The thin driver of the session engine: a DOM or browser event becomes a
//! [`session::Event`], the session decides (one state write per event), and each
//! [`Command`] it returns is carried out with `src/browser`; answers come back as events.

use crate::browser::{cache, clock, http, location, popup, storage, webcrypto};
use crate::flow::attack::{Outcome, Report};
use crate::flow::checkup::{Check, Scorecard, Verdict};
use crate::flow::engine::LoginEntropy;
use crate::flow::oidc::VerifiedIdToken;
use crate::flow::problem::Problem;
use crate::flow::problem::TransportError;
use crate::flow::session::{
    self, Action, Command, Entropy, Event, Forget, LabEntropy, LabStart, Persist, Saved, Session,
};
use crate::flow::session::{RejectedIdToken, Revoked};
use crate::flow::settings::ProviderSettings;
use crate::protocol::dpop::{allowed_algs, DpopAlg};
use crate::protocol::http::HttpResponse;
use crate::protocol::jwt::Jwks;
use crate::protocol::probe::ProbeKind;
use crate::protocol::secret::RefreshToken;
use crate::protocol::token::TokenSet;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::future::Future;
use std::pin::Pin;

pub use crate::flow::session::Phase;

/// The page's state: the one session (live run and attack lab), written once per event.
pub type Lab = Session;

/// State at page load: the saved settings (the run and the lab's record come with
/// `Event::PageLoaded`).
pub fn restore() -> Lab {
    Session::new(storage::load_settings(), &location::origin())
}

/// Enough fresh values for any lab run (the checkup's eight probes with two each, or a login
/// and a forged `state`).
const LAB_ENTROPY: usize = 16;

/// The one way components act: hands an event to the session and runs what it asks for.
#[derive(Clone, Copy)]
pub struct Dispatch(pub RwSignal<Lab>);

impl Dispatch {
    /// Sends a user action on the logged-in session.
    pub fn action(self, action: Action) {
        // The logout request's `state` (RP-Initiated Logout 1.0 §2) is drawn now, at the click.
        let action = match action {
            Action::LogoutAtProvider(_) => match crate::flow::engine::random_32() {
                Ok(random) => Action::LogoutAtProvider(random),
                Err(problem) => {
                    self.0.update(|s| s.problem = Some(problem));
                    return;
                }
            },
            other => other,
        };
        dispatch(
            self.0,
            Event::Action {
                action,
                redirect_uri: location::redirect_uri(),
                now: clock::now_ms(),
            },
        );
    }

    /// Starts a login.
    pub fn login(self) {
        dispatch(
            self.0,
            Event::LoginPressed {
                redirect_uri: location::redirect_uri(),
                entropy: Entropy(LoginEntropy::draw()),
                intent: None,
                now: clock::now_ms(),
            },
        );
    }

    /// The settings form changed one thing.
    pub fn edit_settings(self, edit: impl FnOnce(&mut ProviderSettings)) {
        let Some(mut settings) = self.0.try_with_untracked(|l| l.settings.clone()) else {
            return;
        };
        edit(&mut settings);
        dispatch(self.0, Event::SettingsEdited(settings));
    }

    /// A preset was chosen.
    pub fn preset(self, id: &str) {
        dispatch(self.0, Event::PresetChosen(id.to_owned()));
    }

    /// One of the attack lab's Run buttons. Its window (if it needs one) opens while this
    /// click's handler runs: the `OpenPopup` command comes back in the same batch.
    pub fn lab(self, run: LabStart) {
        dispatch(
            self.0,
            Event::LabStarted {
                run,
                redirect_uri: location::redirect_uri(),
                entropy: LabEntropy::draw(LAB_ENTROPY),
                now: clock::now_ms(),
            },
        );
    }

    /// Retry after a blocked lab window (the window opens from this click).
    pub fn retry_popup(self) {
        dispatch(
            self.0,
            Event::RetryPressed {
                now: clock::now_ms(),
            },
        );
    }

    /// PKCE off: the typed client secret.
    pub fn secret(self, secret: String) {
        dispatch(
            self.0,
            Event::SecretTyped {
                secret,
                now: clock::now_ms(),
            },
        );
    }
}

/// What the controls, the banner, the secret prompt and the API panel show, in one read-only
/// memo (one memo type, not one per field: each costs wasm size; it notifies only on a change).
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    /// The activity.
    pub phase: Phase,
    /// Whether tokens are held.
    pub logged_in: bool,
    /// The problem shown.
    pub problem: Option<Problem>,
    /// The neutral notice shown.
    pub notice: Option<String>,
    /// The last API answer.
    pub api_answer: Option<session::ApiAnswer>,
    /// PKCE off: the bundled demo client's secret to pre-fill, while a code waits.
    pub demo_secret: Option<&'static str>,
}

/// The [`Status`] in context.
#[derive(Clone, Copy)]
pub struct StatusView(pub Memo<Status>);

// The panels' contexts below let a panel read only its own part (typed, as in Leptos's
// todomvc) and act only by dispatching events. The settings form and the session panels read
// through one memo each: every event used to re-run each of their closures (and clone what
// the session panels show once per closure), though most events change neither (issue 12).

/// What the settings form shows: the settings, and DPoP as it stands for their issuer.
#[derive(Clone, PartialEq)]
pub struct SettingsShown {
    /// The settings as typed.
    pub settings: ProviderSettings,
    /// DPoP for the form's issuer: on or off, the user's own choice if any, and whether the
    /// provider's metadata (once known) lists a proof algorithm this app signs with.
    pub dpop: (bool, Option<bool>, Option<bool>),
    /// The DPoP proof algorithms allowed for the issuer, the one the next login uses, and the
    /// algorithm of the tab's current key.
    pub dpop_algs: (Vec<DpopAlg>, DpopAlg, Option<DpopAlg>),
}

fn settings_shown(l: &Lab) -> SettingsShown {
    let issuer = l.settings.normalized().issuer;
    let listed = l
        .known_metadata(&issuer)
        .map(|m| !allowed_algs(&m.dpop_signing_alg_values_supported, None, None).is_empty());
    let (allowed, chosen) = l.dpop_algs_for(&issuer);
    SettingsShown {
        settings: l.settings.clone(),
        dpop: (l.dpop_on_for(&issuer), l.settings.dpop, listed),
        dpop_algs: (allowed, chosen, l.dpop_key_alg()),
    }
}

/// The settings form's context: reads what it shows through one memo, writes by dispatching
/// `Event::SettingsEdited` / `Event::PresetChosen`.
#[derive(Clone, Copy)]
pub struct SettingsForm(Dispatch, Memo<SettingsShown>);

impl SettingsForm {
    /// Reads the settings (tracked: notified only when the form's view changes).
    pub fn with<T>(&self, f: impl FnOnce(&ProviderSettings) -> T) -> T {
        self.1.with(|s| f(&s.settings))
    }

    /// The form changed one thing.
    pub fn edit(self, edit: impl FnOnce(&mut ProviderSettings)) {
        self.0.edit_settings(edit);
    }

    /// A preset was chosen.
    pub fn preset(self, id: &str) {
        self.0.preset(id);
    }

    /// DPoP for the form's issuer (see [`SettingsShown::dpop`]; tracked).
    pub fn dpop(&self) -> (bool, Option<bool>, Option<bool>) {
        self.1.with(|s| s.dpop)
    }

    /// The DPoP algorithms for the form's issuer (see [`SettingsShown::dpop_algs`]; tracked).
    pub fn dpop_algs(&self) -> (Vec<DpopAlg>, DpopAlg, Option<DpopAlg>) {
        self.1.with(|s| s.dpop_algs.clone())
    }

    /// Whether this page was loaded with a provider's answer (the form starts folded then).
    pub fn back_from_provider(&self) -> bool {
        self.0 .0.with_untracked(Session::back_from_provider)
    }

    /// Probes once which DPoP key algorithms this browser makes (for [`Self::dpop_algs`]).
    pub fn probe_dpop(&self) {
        super::dpop::probe(self.0 .0);
    }
}

/// What the token panel, the identity panel and the session actions show, and nothing else.
#[derive(Clone, PartialEq)]
pub struct SessionShown {
    /// The tokens in memory.
    pub tokens: Option<TokenSet>,
    /// When they arrived (epoch ms).
    pub received_at: u64,
    /// The scope the settings ask for.
    pub requested: String,
    /// The refresh token the last rotation replaced.
    pub replaced: Option<RefreshToken>,
    /// Tokens revoked at the provider.
    pub revoked: Revoked,
    /// The issuer of the tokens.
    pub issuer: Option<String>,
    /// The client id of the login.
    pub client_id: String,
    /// The `scope` a 403 from the API asked for.
    pub needed: Option<String>,
    /// The key set of the provider that issued the tokens, once fetched.
    pub jwks: Option<Jwks>,
    /// The verified ID token.
    pub identity: Option<VerifiedIdToken>,
    /// The last ID token that failed validation, decoded for display.
    pub rejected: Option<RejectedIdToken>,
    /// The last UserInfo answer.
    pub userinfo: Option<String>,
    /// Which optional endpoints the provider that issued the tokens has (which actions it
    /// allows); `None` before its metadata is known.
    pub provider: Option<ProviderEndpoints>,
}

/// The optional endpoints a provider's metadata lists, as the session actions need them.
#[derive(Clone, Copy, PartialEq)]
pub struct ProviderEndpoints {
    /// UserInfo (OpenID Connect Core §5.3).
    pub userinfo: bool,
    /// Token revocation (RFC 7009).
    pub revocation: bool,
    /// RP-Initiated Logout.
    pub end_session: bool,
}

/// The token and identity panels' context (read only: they act through [`Dispatch`]).
#[derive(Clone, Copy)]
pub struct SessionView(Memo<SessionShown>);

impl SessionView {
    /// Reads what the session panels show (tracked: notified only when it changes).
    pub fn with<T>(&self, f: impl FnOnce(&SessionShown) -> T) -> T {
        self.0.with(f)
    }
}

fn session_shown(l: &Lab) -> SessionShown {
    let uri = l.provider().and_then(|p| p.jwks_uri.as_ref());
    SessionShown {
        tokens: l.tokens().cloned(),
        received_at: l.tokens_received_at_ms(),
        requested: l.settings.normalized().scope,
        replaced: l.replaced_refresh().cloned(),
        revoked: l.revoked(),
        issuer: l.info().map(|s| s.issuer.clone()),
        client_id: l.info().map(|s| s.client_id.clone()).unwrap_or_default(),
        needed: l.api_needed_scope.clone(),
        // Only the key set published by the provider that issued these tokens.
        jwks: l
            .jwks()
            .filter(|(at_uri, _)| Some(at_uri) == uri)
            .map(|(_, k)| k.clone()),
        identity: l.identity().cloned(),
        rejected: l.rejected_id_token.clone(),
        userinfo: l.userinfo().cloned(),
        provider: l.provider().map(|m| ProviderEndpoints {
            userinfo: m.userinfo_endpoint.is_some(),
            revocation: m.revocation_endpoint.is_some(),
            end_session: m.end_session_endpoint.is_some(),
        }),
    }
}

/// Puts the dispatcher, the read-only status and the panels' narrow contexts in context for
/// the components below `App` (none of them gets the whole state).
pub fn provide(lab: RwSignal<Lab>) {
    let dispatch = Dispatch(lab);
    provide_context(dispatch);
    provide_context(SettingsForm(
        dispatch,
        Memo::new(move |_| lab.with(settings_shown)),
    ));
    provide_context(SessionView(Memo::new(move |_| lab.with(session_shown))));
    provide_context(StatusView(Memo::new(move |_| {
        lab.with(|l| Status {
            phase: l.phase(),
            logged_in: l.tokens().is_some(),
            problem: l.problem.clone(),
            notice: l.notice.clone(),
            api_answer: l.api_answer().cloned(),
            demo_secret: l.demo_secret(),
        })
    })));
}

/// What the attack-lab tab shows, and nothing else.
#[derive(Clone)]
pub struct LabPanel {
    /// The latest report of each experiment.
    pub reports: Vec<Report>,
    /// The checkup's scorecard, when one was run in this tab.
    pub scorecard: Option<Scorecard>,
    /// Whether the checkup was the last thing started (the tab opens on it).
    pub checkup_active: bool,
    /// The lab's window was blocked: Retry is offered.
    pub blocked: bool,
    /// Probes that got no answer, offered interactively (none while probes run).
    pub offer: Vec<ProbeKind>,
    /// The checkup's probes are done and the lines that need a code are still open.
    pub needs_login: bool,
    /// The stolen-token experiment's verdict and findings, once run.
    pub stolen_token: Option<(Outcome, Vec<String>)>,
    /// The stolen-token experiment can run: tokens in memory and nothing else running.
    pub stolen_ready: bool,
    /// Seconds left before the late replay (the stolen-token run waits out the API's window).
    pub stolen_waiting: Option<u32>,
    /// The tokens held are Bearer: the late replay (which captures a DPoP proof) needs a DPoP
    /// login.
    pub stolen_needs_dpop: bool,
}

/// The attack-lab tab's context (read only: it acts through [`Dispatch`]); a newtype over
/// the state, not a memo: the tab is seldom open, and each memo type costs wasm size.
#[derive(Clone, Copy)]
pub struct LabPanelView(RwSignal<Lab>);

impl LabPanelView {
    /// Reads what the lab's tab shows (tracked).
    pub fn with<T>(&self, f: impl FnOnce(&LabPanel) -> T) -> T {
        f(&self.0.with(lab_panel))
    }

    /// Reads it without tracking.
    pub fn with_untracked<T>(&self, f: impl FnOnce(&LabPanel) -> T) -> T {
        f(&self.0.with_untracked(lab_panel))
    }
}

fn lab_panel(l: &Lab) -> LabPanel {
    let record = &l.attack;
    // Probes that got no answer (kept across page loads) also count as done.
    let probed = l.checkup_probes_done() || !record.unanswered.is_empty();
    let needs_login = record.scorecard.as_ref().is_some_and(|c| {
        c.finding(Check::CodeSingleUse).verdict == Verdict::Unknown
            && (probed || c.finding(Check::ImplicitRefused).verdict != Verdict::Unknown)
    });
    LabPanel {
        reports: record.reports.clone(),
        scorecard: record.scorecard.clone(),
        checkup_active: record.checkup_active,
        blocked: l.lab_blocked(),
        offer: if l.probes_busy() {
            Vec::new()
        } else {
            record.unanswered.clone()
        },
        needs_login,
        stolen_token: record.stolen_token.clone(),
        stolen_ready: l.tokens().is_some() && !l.phase().is_busy(),
        stolen_waiting: l.stolen_waiting(),
        stolen_needs_dpop: l.tokens().is_some_and(|t| t.token_type != "DPoP"),
    }
}

/// Puts the attack-lab tab's context in context (called when the tab is shown).
pub fn provide_lab_panel() -> LabPanelView {
    let Dispatch(lab) = expect_context();
    let view = LabPanelView(lab);
    provide_context(view);
    view
}

/// One event: one state write, then the commands.
pub fn dispatch(lab: RwSignal<Lab>, event: Event) {
    let Some(commands) = lab.try_update(|l| l.handle(event)) else {
        return;
    };
    run(lab, commands);
}

/// The page load: reads what this tab kept and hands it in with the URL (the session routes
/// every kind of landing: callback, lab login, forged link, late probe answer, share link).
pub fn page_loaded(lab: RwSignal<Lab>) {
    let (query, fragment) = location::query_and_fragment();
    let saved = Saved {
        pending: storage::load_pending(),
        timeline: storage::load_timeline(),
        runs: cache::load_runs()
            .into_iter()
            .map(|(id, json)| (id, crate::flow::timeline::Timeline::from_json(&json)))
            .collect(),
        end_session_mark: cache::end_session_marked(),
        end_session_state: cache::end_session_state(),
        lab: storage::load_lab(),
        metadata: cache::load_all_metadata(),
    };
    dispatch(
        lab,
        Event::PageLoaded {
            query,
            fragment,
            saved,
            entropy: LabEntropy::draw(1),
            now: clock::now_ms(),
        },
    );
}

/// How long the page waits at most for a DPoP token request to leave before it draws.
const DRAW_AT_LATEST: std::time::Duration = std::time::Duration::from_millis(300);

/// Whether the page's main part may be drawn: at once, unless a request waits for its DPoP
/// proof (the callback page's token request: WebCrypto answers the key and the signature in
/// later tasks, which a synchronous first render would hold back); then once it has left, so
/// its round trip overlaps the first render instead of following it (issue 12). The ready
/// mark then waits for that drawing; `main` sets it itself otherwise.
pub fn draw_when_sent(lab: RwSignal<Lab>) -> RwSignal<bool> {
    let sent = RwSignal::new(!lab.with_untracked(Session::proof_pending));
    if !sent.get_untracked() {
        DRAWING_DEFERRED.set(true);
        let draw = move || {
            if !sent.get_untracked() {
                sent.set(true);
                clock::mark_when_applied(clock::READY_MARK);
            }
        };
        crate::diagram::view::effect(Box::new(move || {
            if !lab.with(Session::proof_pending) {
                draw();
            }
        }));
        set_timeout(draw, DRAW_AT_LATEST);
    }
    sent
}

thread_local! {
    /// Set when the first render waits for a request to leave ([`draw_when_sent`]).
    static DRAWING_DEFERRED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this page load drew its main part later than the mount (`main` then leaves the
/// ready mark to [`draw_when_sent`]).
pub fn drawing_deferred() -> bool {
    DRAWING_DEFERRED.get()
}

/// Carries out the commands in order; a command that cannot be carried out stops the batch
/// and is reported back to the session.
fn run(lab: RwSignal<Lab>, commands: Vec<Command>) {
    for command in commands {
        if let Err(problem) = carry_out(lab, command) {
            dispatch(lab, Event::CommandFailed { problem });
            return;
        }
    }
}

fn carry_out(lab: RwSignal<Lab>, command: Command) -> Result<(), Problem> {
    match command {
        Command::Fetch { id, request } => {
            // Sent now, before the page is mounted on the callback page: the round trip
            // overlaps the first render (scripts/bench).
            let answer = send(request);
            spawn_local(async move {
                let outcome = answer.await;
                dispatch(
                    lab,
                    Event::HttpAnswered {
                        id,
                        outcome,
                        now: clock::now_ms(),
                    },
                );
            });
        }
        Command::Navigate { url } => {
            // The explicit save before leaving (the effect would run too late).
            lab.with_untracked(save);
            location::navigate(&url)
                .map_err(|reason| Problem::local(&reason, "Reload the page and try again."))?;
        }
        Command::CleanAddressBar => location::clean_url(),
        Command::Persist(what) => match what {
            Persist::PendingLogin(pending) => storage::save_pending(pending, clock::now_ms())?,
            Persist::PendingLogins(set) => storage::store_pending(&set),
            Persist::Settings(settings) => storage::save_settings(&settings),
            Persist::Metadata(metadata) => cache::save_metadata(&metadata),
            Persist::Run { state, timeline } => cache::save_run(&state, &timeline),
            Persist::Runs(runs) => cache::store_runs_of(
                &runs
                    .iter()
                    .map(|(id, timeline)| (id.clone(), timeline.to_json()))
                    .collect::<Vec<_>>(),
            ),
            Persist::EndSessionMark(state) => cache::mark_end_session(&state),
        },
        Command::Forget(Forget::EndSessionMark) => {
            cache::take_end_session_mark();
        }
        Command::CheckIdToken {
            id,
            check,
            hash,
            access_token,
        } => {
            // Both asked for now, so WebCrypto works on them side by side: one answer event.
            let digest = webcrypto::digest(hash, access_token.secret().as_bytes());
            spawn_local(async move {
                let verdict = webcrypto::verify(&check).await;
                // A failed digest leaves it empty, which the claims check reports.
                let digest = digest.await.unwrap_or_default();
                dispatch(
                    lab,
                    Event::IdTokenChecked {
                        id,
                        verdict,
                        digest,
                        now: clock::now_ms(),
                    },
                );
            })
        }
        Command::MarkDrawn(name) => clock::mark_when_applied(name),
        // In the same batch as the click's event: the browser sees the user activation.
        Command::OpenPopup => {
            popup::open_from_click();
        }
        Command::PopupTo { url } => {
            popup::listen(move |url| {
                let now = clock::now_ms();
                dispatch(lab, Event::PopupReturned { url, now });
            });
            if popup::load(&url) {
                if let Some(trip) = lab.with_untracked(Session::popup_trip) {
                    watch_closed(lab, trip);
                }
            } else {
                dispatch(lab, Event::PopupBlocked);
            }
        }
        Command::MakeDpopKey { key, alg } => super::dpop::make_key(lab, key, alg),
        Command::Sign { id, key, input } => super::dpop::sign(lab, id, key, input),
        Command::ClosePopup => popup::close(),
        Command::SetTimer { id, after_ms } => popup::after(after_ms, move || {
            let now = clock::now_ms();
            // Back on this origin but not handed over (a path the app is not served on, or
            // still loading): the window came back all the same.
            let current = lab.try_with_untracked(Session::popup_trip).flatten() == Some(id);
            match popup::landed_here().filter(|_| current) {
                Some(url) => dispatch(lab, Event::PopupReturned { url, now }),
                None => dispatch(lab, Event::TimerFired { id, now }),
            }
        }),
    }
    Ok(())
}

/// A lab window the user closed is reported at once (while the session waits for `trip`).
fn watch_closed(lab: RwSignal<Lab>, trip: session::TimerId) {
    popup::after(500, move || {
        if lab.try_with_untracked(Session::popup_trip).flatten() != Some(trip) {
            return;
        }
        if popup::closed() {
            let now = clock::now_ms();
            dispatch(lab, Event::PopupClosed { now });
        } else {
            watch_closed(lab, trip);
        }
    });
}

/// The timeline and the lab's record, as this tab keeps them.
pub(crate) fn save(l: &Lab) {
    storage::save_timeline(&l.timeline);
    storage::save_lab(&l.attack);
}

/// How long a change may wait to be saved, so that the events of a burst (the callback
/// page's seven, within a few hundred ms) are serialised once or twice, not once each.
const SAVE_DELAY_MS: u32 = 150;

thread_local! {
    /// Whether a save is scheduled.
    static SAVE_PENDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Saves the timeline and the lab's record after an event changed the session: the one save
/// path (plus the explicit save before navigating away, and one when the page is left, so a
/// reload right after an event still restores it).
pub fn save_on_change(lab: RwSignal<Lab>) {
    let revision = Memo::new(move |_| lab.with(|l| l.revision()));
    let flush = move || {
        if SAVE_PENDING.with(|p| p.replace(false)) {
            lab.try_with_untracked(save);
        }
    };
    location::on_page_hide(flush);
    crate::diagram::view::effect(Box::new(move || {
        // `get`, not `track`: tracking a memo that was never read leaves it unevaluated, so it
        // never subscribes to the session and the effect saved only once (a reload after a
        // login then restored the run as it was when the code left).
        revision.get();
        // The page load's own state waits like any other change: a redirect saves before it
        // leaves (`Command::Navigate`), and leaving the page flushes; saved at once, its
        // serialising ran on the callback page's way to the tokens (issue 12).
        if !SAVE_PENDING.with(|p| p.replace(true)) {
            popup::after(SAVE_DELAY_MS, flush);
        }
    }));
}

/// A fetch's outcome.
type Answer = Result<HttpResponse, TransportError>;
/// A boxed future.
type Later<T> = Pin<Box<dyn Future<Output = T>>>;

/// Sends a request the session built.
#[inline(never)]
pub(crate) fn send(request: session::HttpRequest) -> Later<Answer> {
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .map(|(n, v)| (*n, v.as_str()))
        .collect();
    Box::pin(http::fetch(http::FetchRequest {
        method: request.method,
        url: &request.url,
        headers: &headers,
        body: request.body.as_deref(),
    }))
}
