//! The thin driver of the session engine: a DOM or browser event becomes a
//! [`session::Event`], the session decides (one state write per event), and each
//! [`Command`] it returns is carried out with `src/browser`; answers come back as events.

use crate::browser::{cache, clock, http, location, storage, webcrypto};
use crate::flow::attack::{LabLogin, LabRecord};
use crate::flow::engine::LoginEntropy;
use crate::flow::problem::Problem;
use crate::flow::problem::TransportError;
use crate::flow::session::{
    self, Action, Command, Entropy, Event, Forget, Persist, Saved, Session,
};
use crate::flow::settings::ProviderSettings;
use crate::protocol::http::HttpResponse;
use crate::protocol::token::TokenRequest;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;

pub use crate::flow::session::Phase;

/// The page's state: the live session and the attack lab's record beside it.
#[derive(Debug)]
pub struct Lab {
    /// The live run: settings, timeline, state.
    pub session: Session,
    /// The attack lab's reports, checkup and trips in flight (this tab).
    pub attack: LabRecord,
}

impl Deref for Lab {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

impl DerefMut for Lab {
    fn deref_mut(&mut self) -> &mut Session {
        &mut self.session
    }
}

impl Lab {
    /// State at page load: saved settings and this tab's lab record (the run comes with
    /// `Event::PageLoaded`).
    pub fn restore() -> Self {
        Lab {
            session: Session::new(storage::load_settings(), &location::origin()),
            attack: storage::load_lab(),
        }
    }

    /// Saves the attack lab's record and the run beside it (before a trip to the provider, or
    /// when a lab step ends).
    pub(crate) fn save_lab_run(&self) {
        storage::save_timeline(&self.session.timeline);
        storage::save_lab(&self.attack);
    }
}

/// The one way components act: hands an event to the session and runs what it asks for.
#[derive(Clone, Copy)]
pub struct Dispatch(pub RwSignal<Lab>);

impl Dispatch {
    /// Sends a user action on the logged-in session.
    pub fn action(self, action: Action) {
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
        start_login(self.0, None);
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

/// Puts the dispatcher and the read-only status in context, for the components below `App`.
pub fn provide(lab: RwSignal<Lab>) {
    provide_context(Dispatch(lab));
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

/// One event: one state write, then the commands.
pub fn dispatch(lab: RwSignal<Lab>, event: Event) {
    let Some(commands) = lab.try_update(|l| l.session.handle(event)) else {
        return;
    };
    run(lab, commands);
}

/// The page load: reads what this tab kept and hands it in with the URL.
pub fn page_loaded(lab: RwSignal<Lab>) {
    let (mut query, mut fragment) = location::query_and_fragment();
    // An attack-lab probe's answer lands in the probe window, which hands it to the lab and
    // never mounts the app (`browser::popup`). One that lands here anyway (a provider resumed
    // a stale probe request after a sign-in in this tab) is dropped, never read as a callback.
    let late_probe = super::attack::late_probe_answer(lab, &query, &fragment);
    if late_probe {
        location::clean_url();
        query.clear();
        fragment.clear();
    }
    let saved = Saved {
        pending: storage::load_pending(),
        timeline: storage::load_timeline(),
        runs: cache::load_runs()
            .into_iter()
            .map(|(id, json)| (id, crate::flow::timeline::Timeline::from_json(&json)))
            .collect(),
        end_session_mark: cache::end_session_marked(),
        end_session_state: cache::end_session_state(),
        lab_logins: lab
            .with_untracked(|l| l.attack.logins.iter().map(|(s, _)| s.clone()).collect()),
        metadata: cache::load_all_metadata(),
    };
    dispatch(
        lab,
        Event::PageLoaded {
            query,
            fragment,
            saved,
            now: clock::now_ms(),
        },
    );
    if late_probe {
        super::attack::explain_late_probe_answer(lab);
    }
}

/// Starts a login, for the attack lab when `intent` says so.
pub(crate) fn start_login(lab: RwSignal<Lab>, intent: Option<LabLogin>) {
    dispatch(
        lab,
        Event::LoginPressed {
            redirect_uri: location::redirect_uri(),
            entropy: Entropy(LoginEntropy::draw()),
            intent,
            now: clock::now_ms(),
        },
    );
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
            lab.with_untracked(|l| storage::save_timeline(&l.timeline));
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
        Command::VerifySignature { id, check } => spawn_local(async move {
            let verdict = webcrypto::verify(&check).await;
            dispatch(
                lab,
                Event::SignatureChecked {
                    id,
                    verdict,
                    now: clock::now_ms(),
                },
            );
        }),
        Command::Digest { id, hash, data } => spawn_local(async move {
            // A failed digest leaves it empty, which the claims check reports.
            let digest = webcrypto::digest(hash, &data).await.unwrap_or_default();
            dispatch(
                lab,
                Event::DigestComputed {
                    id,
                    digest,
                    now: clock::now_ms(),
                },
            );
        }),
        Command::MarkDrawn(name) => clock::mark_when_drawn(name),
        Command::LabLoginStarted { state, intent } => {
            lab.update(|l| {
                // Like the pending logins themselves (at most 4), abandoned ones fall off.
                if l.attack.logins.len() >= 4 {
                    l.attack.logins.remove(0);
                }
                l.attack.logins.push((state, intent));
                storage::save_lab(&l.attack);
            });
        }
        Command::LabLoginReturned { authorized } => {
            let state = authorized.pending.state.secret().to_owned();
            if let Some(intent) = super::attack::take_lab_login(lab, &state) {
                super::attack::lab_login_returned(lab, authorized, intent);
            }
        }
        Command::ForgedLinkRefused => {
            let timeline = lab.with_untracked(|l| l.timeline.clone());
            super::attack::forged_link_arrived(lab, timeline);
        }
        Command::MakeDpopKey => super::dpop::make_key(lab),
        Command::Sign { id, input } => super::dpop::sign(lab, id, input),
    }
    Ok(())
}

/// Saves the timeline whenever an event changed the session: the one save path.
pub fn save_on_change(lab: RwSignal<Lab>) {
    let revision = Memo::new(move |_| lab.with(|l| l.revision()));
    Effect::new(move |_| {
        revision.track();
        lab.with_untracked(|l| storage::save_timeline(&l.timeline));
    });
}

/// A fetch's outcome (the attack lab's own requests).
pub(crate) type Answer = Result<HttpResponse, TransportError>;
/// A boxed future.
pub(crate) type Later<T> = Pin<Box<dyn Future<Output = T>>>;

/// A form `POST` for the attack lab's glue.
pub(crate) fn post_form(request: &TokenRequest) -> Later<Answer> {
    send(session::HttpRequest::form(request))
}

/// Sends a request the session built (the lab's glue awaits it itself).
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
