//! The attack lab's glue: it sends the attacker's real requests, takes the provider's real
//! answers to `flow::attack` for the steps and verdicts, and carries the lab's run across the
//! trips to the provider in sessionStorage.

use super::driver::{self, Lab, Phase};
use crate::browser::{clock, location, popup, storage};
use crate::flow::attack::{self, Experiment, LabLogin, Report};
use crate::flow::checkup::{self, Check, Verdict};
use crate::flow::engine;
use crate::flow::lab_session::{CodeRun, LabCommand};
use crate::flow::probe_session::{ProbeCommand, ProbeEntropy, ProbeEvent, ProbeRun, ProbeTarget};
use crate::flow::problem::Problem;
use crate::flow::timeline::{Param, Step, StepKind, Timeline};
use crate::protocol::callback::AuthorizedCallback;
use crate::protocol::discovery::ProviderMetadata;
use crate::protocol::probe::ProbeKind;
use crate::protocol::state::State;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Runs `f` on the state and returns its result (`None` only if the page is being torn down).
fn with_lab<T>(lab: RwSignal<Lab>, f: impl FnOnce(&mut Lab) -> T) -> Option<T> {
    lab.try_update(f)
}

/// Discovery by issuer for the lab's probes and checkup, through the session's own discovery
/// (the same steps, fallback and CORS diagnosis); kept for the page.
async fn discover(lab: RwSignal<Lab>, issuer: &str) -> Result<ProviderMetadata, Problem> {
    if let Some(metadata) =
        lab.with_untracked(|l| l.metadata().cloned().filter(|m| m.issuer == issuer))
    {
        return Ok(metadata);
    }
    let torn_down = || Problem::local("The page was closed.", "Reload the page.");
    let (mut discovery, mut request) =
        with_lab(lab, |l| l.lab_discovery(issuer, clock::now_ms())).ok_or_else(torn_down)??;
    loop {
        let outcome = driver::send(request).await;
        let next = with_lab(lab, |l| {
            l.lab_discovery_answer(&mut discovery, outcome, clock::now_ms())
        })
        .ok_or_else(torn_down)??;
        match next {
            Ok(metadata) => {
                crate::browser::cache::save_metadata(&metadata);
                return Ok(metadata);
            }
            Err(next) => request = next,
        }
    }
}

/// Saves the lab's record (and its run) before leaving or after a change.
fn save(lab: RwSignal<Lab>) {
    lab.with_untracked(|l| storage::save_lab(&l.attack));
}

/// Takes the lab login that `state` answers, if the lab started it.
pub(crate) fn take_lab_login(lab: RwSignal<Lab>, state: &str) -> Option<LabLogin> {
    let intent = lab.try_update(|l| l.attack.take_login(state)).flatten()?;
    save(lab);
    Some(intent)
}

/// Experiments 1 and 2 (and the checkup's login-only lines): one real login's code.
pub fn run_code_experiments(lab: RwSignal<Lab>, checkup: bool) {
    lab_login(lab, LabLogin::CodeExperiments { checkup });
}

/// Experiment 3: the attacker signs in to their own account first.
pub fn run_forged_callback(lab: RwSignal<Lab>) {
    lab_login(lab, LabLogin::AttackerCode);
}

/// A lab login is always the public client with PKCE: the defences under test are its own.
fn lab_login(lab: RwSignal<Lab>, intent: LabLogin) {
    let checkup = intent == LabLogin::CodeExperiments { checkup: true };
    lab.update(|l| l.attack.checkup_active = checkup);
    let confidential = lab.with_untracked(|l| {
        l.settings.client_type == crate::flow::settings::ClientType::Confidential
    });
    if confidential {
        return lab.update(|l| {
            l.fail(Problem::local(
                "The attack lab tests the defences of a public client with PKCE, and the \
                 settings say \"Confidential, PKCE off\".",
                "Choose \"Public client with PKCE\" under Client type, then run the \
                 experiment again.",
            ))
        });
    }
    driver::start_login(lab, Some(intent));
}

/// Experiment 4: the two downgrade probes, one after the other, in the probe window.
pub fn run_downgrade(lab: RwSignal<Lab>) {
    start_probes(
        lab,
        vec![ProbeKind::NoChallenge, ProbeKind::PlainChallenge],
        false,
        false,
    );
}

/// Experiment 5: the implicit probe, in the probe window.
pub fn run_implicit(lab: RwSignal<Lab>) {
    start_probes(lab, vec![ProbeKind::Implicit], false, false);
}

/// Runs the probes whose window timed out again without `prompt=none`: the user signs in or
/// consents in the probe window, and the answer grades them.
pub fn run_interactively(lab: RwSignal<Lab>) {
    let (kinds, checkup) =
        lab.with_untracked(|l| (l.attack.unanswered.clone(), l.attack.checkup_active));
    if !kinds.is_empty() {
        start_probes(lab, kinds, checkup, true);
    }
}

/// Retry after a blocked probe window: opened from this click, the same probe is sent again.
pub fn retry_popup(lab: RwSignal<Lab>) {
    if popup::open_from_click() {
        drive(
            lab,
            ProbeEvent::RetryPressed {
                now: clock::now_ms(),
            },
        );
    }
}

/// On page load: whether the URL is the answer to one of this tab's probes (a provider sent
/// it here instead of the probe window). It is forgotten, never read as a login callback.
pub(crate) fn late_probe_answer(lab: RwSignal<Lab>, query: &str, fragment: &str) -> bool {
    if query.is_empty() && fragment.is_empty() {
        return false;
    }
    let answer = crate::protocol::probe::read_probe_return(ProbeKind::NoChallenge, query, fragment);
    let Some(state) = answer.state else {
        return false;
    };
    let known = with_lab(lab, |l| {
        let at = l
            .attack
            .probe_states
            .iter()
            .position(|s| s == state.secret());
        at.map(|at| l.attack.probe_states.remove(at)).is_some()
    })
    .unwrap_or(false);
    if known {
        save(lab);
    }
    known
}

/// Says what happened when a probe's answer landed in this tab.
pub(crate) fn explain_late_probe_answer(lab: RwSignal<Lab>) {
    lab.update(|l| {
        l.notice = Some(
            "The provider sent the answer to one of the checkup's earlier probes to this tab \
             (it resumed that request after you signed in here), not the answer to your login. \
             It was dropped without being used. You are now signed in at the provider: press \
             the login button again and it comes straight back."
                .to_owned(),
        );
    });
}

/// Whether the probe window was blocked and the lab waits for Retry (reactive).
pub fn popup_blocked(lab: RwSignal<Lab>) -> bool {
    // Tracks the state: every probe event writes it once.
    lab.track();
    with_run(|r| r.is_some_and(ProbeRun::blocked))
}

/// The probes the lab offers to run interactively (reactive).
pub fn timed_out_probes(lab: RwSignal<Lab>) -> Vec<ProbeKind> {
    let busy = with_run(|r| r.is_some_and(ProbeRun::busy));
    lab.with(|l| {
        if busy {
            Vec::new()
        } else {
            l.attack.unanswered.clone()
        }
    })
}

/// Whether a probe run of the checkup is over (reactive).
pub fn checkup_probes_done(lab: RwSignal<Lab>) -> bool {
    lab.track();
    with_run(|r| r.is_some_and(|r| r.checkup() && !r.busy()))
}

thread_local! {
    /// The popup probes in progress (memory only: the lab's tab never leaves, issue 15).
    static PROBES: std::cell::RefCell<Option<ProbeRun>> = const { std::cell::RefCell::new(None) };
}

fn with_run<T>(f: impl FnOnce(Option<&ProbeRun>) -> T) -> T {
    PROBES.with(|p| f(p.borrow().as_ref()))
}

/// Starts probes from a click: the window opens now, in the click's synchronous part (user
/// activation); the requests follow once the provider's metadata is known.
fn start_probes(lab: RwSignal<Lab>, kinds: Vec<ProbeKind>, checkup: bool, interactive: bool) {
    // A blocked window is reported when the first probe needs it.
    popup::open_from_click();
    lab.update(|l| {
        l.attack.checkup_active = checkup;
        if !checkup {
            l.timeline = Timeline::new();
        }
        l.problem = None;
        l.lab_phase(Phase::Discovering);
    });
    spawn_local(async move {
        let settings = lab.with_untracked(|l| l.settings.normalized());
        match metadata_for(lab, &settings).await {
            Ok(metadata) => start_run(lab, kinds, checkup, interactive, &metadata),
            Err(problem) => {
                popup::close();
                lab.update(|l| l.fail(problem));
            }
        }
    });
}

/// Hands the probe session its start event (with fresh entropy) and carries out its commands.
fn start_run(
    lab: RwSignal<Lab>,
    kinds: Vec<ProbeKind>,
    checkup: bool,
    interactive: bool,
    metadata: &ProviderMetadata,
) {
    let settings = lab.with_untracked(|l| l.settings.normalized());
    let mut entropy = Vec::new();
    for _ in &kinds {
        match (engine::random_32(), engine::random_32()) {
            (Ok(state), Ok(plain)) => entropy.push(ProbeEntropy { state, plain }),
            (Err(problem), _) | (_, Err(problem)) => {
                popup::close();
                return lab.update(|l| l.fail(problem));
            }
        }
    }
    let event = ProbeEvent::Started {
        target: ProbeTarget {
            issuer: metadata.issuer.clone(),
            client_id: settings.client_id.clone(),
            redirect_uri: location::redirect_uri(),
            scope: settings.scope.clone(),
            authorization_endpoint: metadata.authorization_endpoint.clone(),
            token_endpoint: metadata.token_endpoint.clone(),
            iss_advertised: metadata.iss_parameter_supported,
        },
        kinds,
        checkup,
        interactive,
        entropy,
        now: clock::now_ms(),
    };
    let commands = with_lab(lab, |l| {
        let (run, commands) = ProbeRun::start(event, &mut l.session.timeline, &mut l.attack)?;
        PROBES.with(|p| *p.borrow_mut() = Some(run));
        settle(l);
        Some(commands)
    })
    .flatten()
    .unwrap_or_default();
    carry_out(lab, commands);
}

thread_local! {
    /// The popup trip the window is on now (its answer is handed back without an id).
    static TRIP: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// One event through the probe session: one state write, then its commands.
fn drive(lab: RwSignal<Lab>, event: ProbeEvent) {
    let commands = with_lab(lab, |l| {
        let mut run = PROBES.with(|p| p.borrow_mut().take())?;
        let commands = run.handle(event, &mut l.session.timeline, &mut l.attack);
        PROBES.with(|p| *p.borrow_mut() = Some(run));
        settle(l);
        Some(commands)
    })
    .flatten()
    .unwrap_or_default();
    carry_out(lab, commands);
}

/// The page's phase follows the probe run; the run is saved with the lab's record.
fn settle(l: &mut Lab) {
    let waiting = with_run(|r| r.is_some_and(|r| r.busy() && !r.blocked()));
    if waiting {
        l.lab_phase(Phase::Redirecting);
    } else if matches!(l.phase(), Phase::Redirecting | Phase::Discovering) {
        l.lab_phase(Phase::Idle);
    }
    l.save_lab_run();
}

/// A probe window the user closed counts as timed out at once (no need to wait minutes).
fn watch_closed(lab: RwSignal<Lab>, id: u32) {
    popup::after(500, move || {
        if TRIP.with(std::cell::Cell::get) != id {
            return;
        }
        if popup::closed() {
            let now = clock::now_ms();
            drive(lab, ProbeEvent::PopupClosed { id, now });
        } else {
            watch_closed(lab, id);
        }
    });
}

/// Carries out the probe session's commands with the browser.
fn carry_out(lab: RwSignal<Lab>, commands: Vec<ProbeCommand>) {
    for command in commands {
        match command {
            ProbeCommand::OpenPopup {
                id,
                url,
                timeout_ms,
            } => {
                TRIP.with(|t| t.set(id));
                popup::listen(move |url| {
                    let id = TRIP.with(std::cell::Cell::get);
                    let now = clock::now_ms();
                    drive(lab, ProbeEvent::PopupReturned { id, url, now });
                });
                if popup::load(&url) {
                    popup::after(timeout_ms, move || {
                        let now = clock::now_ms();
                        // Back on this origin but not handed over (a path the app is not
                        // served on, or still loading): it came back all the same.
                        match popup::landed_here() {
                            Some(url) => drive(lab, ProbeEvent::PopupReturned { id, url, now }),
                            None => drive(lab, ProbeEvent::PopupTimedOut { id, now }),
                        }
                    });
                    watch_closed(lab, id);
                } else {
                    drive(lab, ProbeEvent::PopupBlocked { id });
                }
            }
            ProbeCommand::ClosePopup => popup::close(),
            ProbeCommand::Fetch { id, request } => spawn_local(async move {
                let outcome = driver::send(request).await;
                let now = clock::now_ms();
                drive(lab, ProbeEvent::HttpAnswered { id, outcome, now });
            }),
        }
    }
}

/// A callback of a lab login: the code is used for the experiment instead of a plain login.
pub(crate) fn lab_login_returned(
    lab: RwSignal<Lab>,
    authorized: AuthorizedCallback,
    intent: LabLogin,
) {
    match intent {
        LabLogin::CodeExperiments { checkup } => code_experiments(lab, authorized, checkup),
        LabLogin::AttackerCode => send_forged_link(lab, authorized),
    }
}

/// The attacker keeps their own code and sends the victim a link carrying it.
fn send_forged_link(lab: RwSignal<Lab>, authorized: AuthorizedCallback) {
    let now = clock::now_ms();
    let state = match crate::flow::engine::random_32() {
        Ok(bytes) => State::from_random(bytes),
        Err(problem) => return lab.update(|l| l.fail(problem)),
    };
    let code = authorized.code;
    let link = match crate::protocol::uri::url_with_query(
        &authorized.pending.redirect_uri,
        &["code", "state", "iss"],
        &[("code", code.secret()), ("state", state.secret())],
    ) {
        Ok(link) => link,
        Err(error) => return lab.update(|l| l.fail(Problem::from_error(&error))),
    };
    lab.update(|l| {
        attack::leaked(
            &mut l.timeline,
            "a valid code for their OWN account (and does not redeem it)",
            vec![Param::secret("code", code.masked(), code.secret())],
            now,
        );
        attack::forged_link(&mut l.timeline, &link, now);
        l.lab_phase(Phase::Redirecting);
        l.save_lab_run();
    });
    if let Err(reason) = location::navigate(&link) {
        lab.update(|l| l.fail(Problem::local(&reason, "Reload the page and try again.")));
    }
}

/// The forged link arrived and the callback check refused it: report and draw the ghost path.
pub(crate) fn forged_link_arrived(lab: RwSignal<Lab>, mut timeline: Timeline) {
    let report = attack::forged_link_stopped(&mut timeline, clock::now_ms());
    lab.update(|l| {
        l.timeline = timeline;
        l.lab_phase(Phase::Idle);
        l.problem = None;
        l.notice = Some(
            "Attack lab: the forged callback was refused before any token request — see the \
             diagram and the lab's report."
                .to_owned(),
        );
        l.attack.set_report(report);
        l.save_lab_run();
    });
}

/// Experiments 1 and 2 on one login's code: the pure `CodeRun` decides, this glue sends its
/// requests and hands the answers back.
fn code_experiments(lab: RwSignal<Lab>, authorized: AuthorizedCallback, checkup: bool) {
    let wrong = match engine::random_32() {
        Ok(bytes) => bytes,
        Err(problem) => return lab.update(|l| l.fail(problem)),
    };
    let issuer = authorized.pending.issuer.clone();
    let metadata = lab.with_untracked(|l| {
        l.metadata()
            .cloned()
            .filter(|m| m.issuer == issuer)
            .or_else(|| crate::browser::cache::load_metadata(&issuer))
    });
    let api = lab.with_untracked(|l| l.settings.normalized().api_base);
    let resource_url = if api.is_empty() {
        metadata.as_ref().and_then(|m| m.userinfo_endpoint.clone())
    } else {
        Some(format!("{api}/api/profile"))
    };
    let iss_advertised = metadata.is_some_and(|m| m.iss_parameter_supported);
    let commands = with_lab(lab, |l| {
        l.lab_phase(Phase::Exchanging);
        let (run, commands) = CodeRun::start(
            authorized,
            checkup,
            wrong,
            resource_url,
            iss_advertised,
            &mut l.session.timeline,
            clock::now_ms(),
        );
        CODE_RUN.with(|r| *r.borrow_mut() = Some(run));
        commands
    })
    .unwrap_or_default();
    carry_out_lab(lab, commands);
}

thread_local! {
    /// The code experiment in progress (memory only: it holds the code until it is redeemed).
    static CODE_RUN: std::cell::RefCell<Option<CodeRun>> = const { std::cell::RefCell::new(None) };
}

/// Carries out the code experiment's commands.
fn carry_out_lab(lab: RwSignal<Lab>, commands: Vec<LabCommand>) {
    for command in commands {
        match command {
            LabCommand::Fetch { id, request } => spawn_local(async move {
                let outcome = driver::send(request).await;
                let now = clock::now_ms();
                let commands = with_lab(lab, |l| {
                    CODE_RUN.with(|r| {
                        r.borrow_mut().as_mut().map(|run| {
                            run.answered(id, outcome, &mut l.session.timeline, &mut l.attack, now)
                        })
                    })
                })
                .flatten()
                .unwrap_or_default();
                carry_out_lab(lab, commands);
            }),
            LabCommand::Finished { problem } => {
                CODE_RUN.with(|r| r.borrow_mut().take());
                lab.update(|l| {
                    storage::save_lab(&l.attack);
                    match problem {
                        Some(problem) => l.fail(problem),
                        None => {
                            l.lab_phase(Phase::Idle);
                            l.problem = None;
                            l.save_lab_run();
                        }
                    }
                });
                clock::mark_when_drawn("oauth-flow-lab:tokens");
            }
        }
    }
}

/// The provider's metadata as a login would get it: the manual endpoints when the settings
/// say so, discovery (once per page) otherwise.
async fn metadata_for(
    lab: RwSignal<Lab>,
    settings: &crate::flow::settings::ProviderSettings,
) -> Result<ProviderMetadata, Problem> {
    if settings.manual {
        return settings
            .manual_metadata()
            .map_err(|error| Problem::from_error(&error));
    }
    discover(lab, &settings.issuer).await
}

/// The latest report of `experiment` (reactive).
pub fn report_of(lab: RwSignal<Lab>, experiment: Experiment) -> Option<Report> {
    lab.with(|l| l.attack.report(experiment).cloned())
}

// ---- provider checkup ----

/// Runs the provider checkup: discovery, the CORS probe and the three authorization probes
/// now; the login-only lines after one login the user starts.
pub fn run_checkup(lab: RwSignal<Lab>) {
    // The probe window opens from the click (user activation); the probes follow discovery.
    popup::open_from_click();
    let settings = lab.with_untracked(|l| l.settings.normalized());
    lab.update(|l| {
        l.timeline = Timeline::new();
        // Discovery is drawn again so its answer is evidence.
        l.forget_metadata();
        l.problem = None;
        l.attack.downgrade.clear();
        l.attack.scorecard = Some(checkup::Scorecard::new(
            &settings.issuer,
            &settings.client_id,
            &location::origin(),
            &settings.preset,
        ));
        l.lab_phase(Phase::Discovering);
    });
    spawn_local(async move {
        let discovered = metadata_for(lab, &settings).await;
        let metadata = match discovered {
            Ok(m) => m,
            Err(problem) => {
                lab.update(|l| {
                    let evidence = l.timeline.steps().to_vec();
                    if let Some(card) = l.attack.scorecard.as_mut() {
                        let (verdict, detail) = (Verdict::Fail, problem.what_happened.clone());
                        card.record(Check::IssuerExact, verdict, detail, evidence);
                    }
                    storage::save_lab(&l.attack);
                    l.fail(problem);
                });
                popup::close();
                return;
            }
        };
        lab.update(|l| {
            let evidence: Vec<Step> = l
                .timeline
                .steps()
                .iter()
                .filter(|s| s.kind == StepKind::Discover)
                .cloned()
                .collect();
            if settings.manual {
                // Nothing was published to check: say so rather than grade the typed values.
                if let Some(card) = l.attack.scorecard.as_mut() {
                    for check in [
                        Check::IssuerExact,
                        Check::S256Advertised,
                        Check::PublicClients,
                        Check::Dpop,
                    ] {
                        card.record(
                            check,
                            Verdict::Unknown,
                            "Manual endpoints are set: no metadata was fetched to check."
                                .to_owned(),
                            Vec::new(),
                        );
                    }
                }
            } else if let Some(card) = l.attack.scorecard.as_mut() {
                let (v, d) = checkup::judge_issuer(&settings.issuer, Some(&metadata.issuer));
                card.record(Check::IssuerExact, v, d, evidence.clone());
                let (v, d) = checkup::judge_s256(Some(&metadata.code_challenge_methods_supported));
                card.record(Check::S256Advertised, v, d, evidence.clone());
                let (v, d) = checkup::judge_dpop(Some(&metadata.dpop_signing_alg_values_supported));
                card.record(Check::Dpop, v, d, evidence.clone());
                let (v, d) = checkup::judge_public_clients(
                    Some(&metadata.token_endpoint_auth_methods_supported),
                    None,
                );
                card.record(Check::PublicClients, v, d, evidence);
            }
        });
        cors_probe(lab, &metadata, &settings.client_id).await;
        save(lab);
        start_run(lab, ProbeKind::CHECKUP.to_vec(), true, false, &metadata);
    });
}

/// Is the token endpoint readable from this origin? A token request with a made-up code: a
/// readable `invalid_grant` says yes, a network-level failure says no (or the server is down).
async fn cors_probe(lab: RwSignal<Lab>, metadata: &ProviderMetadata, client_id: &str) {
    let redirect_uri = location::redirect_uri();
    let started = with_lab(lab, |l| {
        attack::cors_probe_started(
            &mut l.timeline,
            &metadata.token_endpoint,
            &redirect_uri,
            client_id,
            clock::now_ms(),
        )
    });
    let Some(Some((step, request))) = started else {
        return;
    };
    let outcome = driver::post_form(&request).await;
    lab.update(|l| {
        let readable = attack::cors_probe_answered(&mut l.timeline, step, outcome, clock::now_ms());
        let evidence = vec![l.timeline.steps()[step].clone()];
        if let Some(card) = l.attack.scorecard.as_mut() {
            let (v, d) = checkup::judge_token_cors(readable);
            card.record(Check::TokenCors, v, d, evidence);
        }
    });
}
