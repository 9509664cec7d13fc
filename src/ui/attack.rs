//! The attack lab's glue: it sends the attacker's real requests, takes the provider's real
//! answers to `flow::attack` for the steps and verdicts, and carries the lab's run across the
//! trips to the provider in sessionStorage.

use super::driver::{self, Lab, Phase};
use crate::browser::{clock, location, storage};
use crate::flow::attack::{
    self, DowngradeAnswer, Experiment, LabLogin, PendingProbe, Report, TokenAnswer,
};
use crate::flow::checkup::{self, Check, Verdict};
use crate::flow::engine::{self, Problem};
use crate::flow::lifecycle;
use crate::flow::timeline::{Param, Step, StepKind, Timeline};
use crate::protocol::callback::AuthorizedCallback;
use crate::protocol::discovery::ProviderMetadata;
use crate::protocol::pkce::CodeVerifier;
use crate::protocol::probe::{read_probe_return, ProbeAnswer, ProbeKind, ProbeRequest};
use crate::protocol::secret::{AccessToken, AuthorizationCode};
use crate::protocol::state::State;
use crate::protocol::token::{attacker_code_request, TokenRequest};
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

fn random_verifier() -> Result<String, Problem> {
    Ok(CodeVerifier::from_random(crate::flow::engine::random_32()?).into_secret())
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

/// Experiment 4: the two downgrade probes, one after the other.
pub fn run_downgrade(lab: RwSignal<Lab>) {
    lab.update(|l| l.attack.downgrade.clear());
    start_probes(
        lab,
        vec![ProbeKind::NoChallenge, ProbeKind::PlainChallenge],
        false,
    );
}

/// Experiment 5: the implicit probe.
pub fn run_implicit(lab: RwSignal<Lab>) {
    start_probes(lab, vec![ProbeKind::Implicit], false);
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

/// Sends the attacker's token request and records the answer with `defence` highlighted.
async fn attacker_redeem(
    lab: RwSignal<Lab>,
    label: &str,
    request: TokenRequest,
    params: Vec<Param>,
    defence: &str,
) -> TokenAnswer {
    let Some(step) = with_lab(lab, |l| {
        attack::attack_request(&mut l.timeline, label, &request, params, clock::now_ms())
    }) else {
        return torn_down();
    };
    let outcome = driver::post_form(&request).await;
    with_lab(lab, |l| {
        attack::attack_answer(&mut l.timeline, step, outcome, defence, clock::now_ms())
    })
    .unwrap_or_else(torn_down)
}

fn torn_down() -> TokenAnswer {
    TokenAnswer::Unreadable {
        why: "the page was closed".to_owned(),
    }
}

/// What the login-only checks of the checkup learn from the code experiments.
#[derive(Default)]
struct LoginFacts {
    iss_returned: bool,
    redeemed: Option<bool>,
    cache_control: Option<String>,
    rotation: Option<(String, Option<String>)>,
    single_use: Option<bool>,
    revoked_status: Option<u16>,
}

/// Experiments 1 and 2 on one login: the attacker tries the code without and with a wrong
/// verifier, the real client redeems it, (checkup: refreshes once), the attacker replays the
/// exact request, and the first tokens are tried again at the API.
fn code_experiments(lab: RwSignal<Lab>, authorized: AuthorizedCallback, checkup: bool) {
    // Drawn at once (not in the task) so the page opens on the lab's tab.
    lab.update(|l| {
        l.lab_phase(Phase::Exchanging);
        attack::leaked(
            &mut l.timeline,
            "your code from the address bar",
            vec![Param::secret(
                "code",
                authorized.code.masked(),
                authorized.code.secret(),
            )],
            clock::now_ms(),
        );
    });
    spawn_local(async move {
        let mut facts = LoginFacts {
            iss_returned: authorized.iss.is_some(),
            ..LoginFacts::default()
        };
        let code: AuthorizationCode = authorized.code.clone();
        let pending = &authorized.pending;
        let (endpoint, redirect, client_id) = (
            pending.token_endpoint.clone(),
            pending.redirect_uri.clone(),
            pending.client_id.clone(),
        );
        let issuer = pending.issuer.clone();
        let wrong = match random_verifier() {
            Ok(v) => v,
            Err(problem) => return lab.update(|l| l.fail(problem)),
        };
        let code_chip = || Param::secret("code", code.masked(), code.secret());
        let mut answers = Vec::new();
        for (verifier, label, defence) in [
            (
                None,
                "Redeem the stolen code without a verifier",
                "PKCE: no verifier, no tokens",
            ),
            (
                Some(wrong.as_str()),
                "Redeem it with a guessed verifier",
                "PKCE: the guess does not hash to the challenge",
            ),
        ] {
            let request =
                match attacker_code_request(&endpoint, &code, &redirect, &client_id, verifier) {
                    Ok(r) => r,
                    Err(error) => return lab.update(|l| l.fail(Problem::from_error(&error))),
                };
            let mut params = vec![code_chip()];
            if let Some(v) = verifier {
                params.push(Param::public(
                    "code_verifier",
                    &crate::protocol::secret::mask(v),
                ));
            }
            answers.push(attacker_redeem(lab, label, request, params, defence).await);
        }
        // The real client redeems the code with its own verifier (moved into the request).
        let call = match with_lab(lab, |l| {
            engine::token_request_started(&mut l.timeline, authorized, None, clock::now_ms())
        }) {
            Some(Ok(call)) => call,
            Some(Err(problem)) => return lab.update(|l| l.fail(problem)),
            None => return,
        };
        let replay = call.request.replay_copy();
        let outcome = driver::post_form(&call.request).await;
        facts.cache_control = outcome.as_ref().ok().and_then(|r| r.cache_control.clone());
        let real_answer = match &outcome {
            Ok(response) => attack::read_token_answer(response),
            Err(error) => TokenAnswer::Unreadable {
                why: crate::protocol::error::Explain::what_happened(error),
            },
        };
        let result = with_lab(lab, |l| {
            engine::token_response_received(&mut l.timeline, &call, outcome, clock::now_ms())
        });
        let tokens = match result {
            Some(Ok(tokens)) => Ok(tokens),
            Some(Err(problem)) => Err(problem),
            None => return,
        };
        facts.redeemed = Some(tokens.is_ok());
        let stolen = attack::stolen_code_report(&answers[0], &answers[1], &real_answer);
        let tokens = match tokens {
            Ok(tokens) => tokens,
            Err(problem) => {
                lab.update(|l| {
                    l.attack.set_report(stolen);
                    if checkup {
                        // Only what the callback itself showed can be graded without tokens.
                        let advertised = iss_advertised(l);
                        let evidence = redirect_back(l);
                        if let Some(card) = l.attack.scorecard.as_mut() {
                            let (v, d) = checkup::judge_iss(advertised, Some(facts.iss_returned));
                            card.record(Check::IssInResponse, v, d, evidence);
                        }
                    }
                    storage::save_lab(&l.attack);
                    l.fail(problem);
                });
                return;
            }
        };
        let metadata = lab.with_untracked(|l| {
            l.metadata()
                .cloned()
                .filter(|m| m.issuer == issuer)
                .or_else(|| crate::browser::cache::load_metadata(&issuer))
        });
        if checkup {
            if let Some(refresh) = &tokens.refresh_token {
                facts.rotation =
                    rotate_once(lab, &endpoint, refresh, &client_id, &tokens.granted_scope)
                        .await
                        .map(|new| (refresh.secret().to_owned(), new));
            }
        }
        let first = tokens.access_token.clone();
        let before = token_status(lab, &first, metadata.as_ref()).await;
        let second = attacker_redeem(
            lab,
            "Replay the same token request (code and right verifier)",
            replay,
            vec![
                code_chip(),
                Param::public("code_verifier", "the victim's, copied"),
            ],
            "single-use code",
        )
        .await;
        facts.single_use = match &second {
            TokenAnswer::Refused { .. } => Some(true),
            TokenAnswer::Tokens { .. } => Some(false),
            TokenAnswer::Unreadable { .. } => None,
        };
        let after = token_status(lab, &first, metadata.as_ref()).await;
        if after == Some(401) {
            lab.update(|l| attack::replay_revoked_the_tokens(&mut l.timeline));
        }
        facts.revoked_status = before.and(after);
        let replayed = attack::replay_report(&second, before, after);
        lab.update(|l| {
            // The lab's tokens are never kept as a session: they were only evidence.
            l.attack.set_report(stolen);
            l.attack.set_report(replayed);
            l.lab_phase(Phase::Idle);
            l.problem = None;
            if checkup {
                record_login_facts(l, &facts);
            }
            l.save_lab_run();
        });
        clock::mark_when_drawn("oauth-flow-lab:tokens");
    });
}

/// One refresh; the new refresh token (if the provider sent one).
async fn rotate_once(
    lab: RwSignal<Lab>,
    endpoint: &str,
    refresh: &crate::protocol::secret::RefreshToken,
    client_id: &str,
    scope: &str,
) -> Option<Option<String>> {
    let call = with_lab(lab, |l| {
        lifecycle::refresh_started(
            &mut l.timeline,
            endpoint,
            refresh,
            client_id,
            scope,
            false,
            clock::now_ms(),
        )
    })?
    .ok()?;
    let outcome = driver::post_form(&call.request).await;
    let refreshed = with_lab(lab, |l| {
        lifecycle::refresh_response_received(&mut l.timeline, &call, outcome, clock::now_ms())
    })?
    .ok()?;
    Some(
        refreshed
            .replaced
            .map(|_| {
                refreshed
                    .tokens
                    .refresh_token
                    .map(|r| r.secret().to_owned())
            })
            .unwrap_or_else(|| Some(refresh.secret().to_owned())),
    )
}

/// The status the API (or UserInfo) gives `token` now, drawn as a resource call.
async fn token_status(
    lab: RwSignal<Lab>,
    token: &AccessToken,
    metadata: Option<&ProviderMetadata>,
) -> Option<u16> {
    let api = lab.with_untracked(|l| l.settings.normalized().api_base);
    let url = if !api.is_empty() {
        format!("{api}/api/profile")
    } else {
        metadata?.userinfo_endpoint.clone()?
    };
    let (step, header) = with_lab(lab, |l| {
        engine::resource_request_started(&mut l.timeline, &url, token, clock::now_ms())
    })?;
    let outcome = driver::get(&url, Some(&header)).await;
    let status = outcome.as_ref().ok().map(|r| r.status);
    with_lab(lab, |l| {
        let _ = engine::resource_response_received(&mut l.timeline, step, outcome, clock::now_ms());
    });
    status
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

/// Starts the probes in `queue` (the first now, the rest after each answer).
fn start_probes(lab: RwSignal<Lab>, mut queue: Vec<ProbeKind>, checkup: bool) {
    if queue.is_empty() {
        return;
    }
    lab.update(|l| l.attack.checkup_active = checkup);
    let first = queue.remove(0);
    lab.update(|l| {
        if !checkup {
            l.timeline = Timeline::new();
        }
        l.attack.checkup_probes = queue;
        l.problem = None;
        l.lab_phase(Phase::Discovering);
    });
    spawn_local(async move {
        let settings = lab.with_untracked(|l| l.settings.normalized());
        let metadata = match metadata_for(lab, &settings).await {
            Ok(m) => m,
            Err(problem) => return lab.update(|l| l.fail(problem)),
        };
        send_probe(lab, first, &metadata, checkup);
    });
}

/// Leaves for the provider with one deliberately weak authorization request.
fn send_probe(lab: RwSignal<Lab>, kind: ProbeKind, metadata: &ProviderMetadata, checkup: bool) {
    let settings = lab.with_untracked(|l| l.settings.normalized());
    let redirect_uri = location::redirect_uri();
    let state = match crate::flow::engine::random_32() {
        Ok(bytes) => State::from_random(bytes),
        Err(problem) => return lab.update(|l| l.fail(problem)),
    };
    let plain = match kind {
        ProbeKind::PlainChallenge => match random_verifier() {
            Ok(v) => Some(v),
            Err(problem) => return lab.update(|l| l.fail(problem)),
        },
        _ => None,
    };
    let request = ProbeRequest {
        authorization_endpoint: &metadata.authorization_endpoint,
        client_id: &settings.client_id,
        redirect_uri: &redirect_uri,
        scope: &settings.scope,
        state: &state,
        kind,
        plain_challenge: plain.as_deref(),
    };
    let url = match request.to_url() {
        Ok(url) => url,
        Err(error) => return lab.update(|l| l.fail(Problem::from_error(&error))),
    };
    let now = clock::now_ms();
    lab.update(|l| {
        attack::probe_request(&mut l.timeline, kind, &url, now);
        l.attack.probe = Some(PendingProbe {
            state: state.secret().to_owned(),
            kind,
            plain,
            issuer: metadata.issuer.clone(),
            client_id: settings.client_id.clone(),
            redirect_uri: redirect_uri.clone(),
            token_endpoint: metadata.token_endpoint.clone(),
            created_at_ms: now,
            checkup,
        });
        l.lab_phase(Phase::Redirecting);
        l.save_lab_run();
    });
    if let Err(reason) = location::navigate(&url) {
        lab.update(|l| l.fail(Problem::local(&reason, "Reload the page and try again.")));
    }
}

/// On page load: whether this is the answer to the lab's pending probe (then it is handled
/// here and never treated as a login callback).
pub(crate) fn probe_returned(lab: RwSignal<Lab>, query: &str, fragment: &str) -> bool {
    let Some(kind) = lab.with_untracked(|l| l.attack.probe.as_ref().map(|p| p.kind)) else {
        return false;
    };
    if query.is_empty() && fragment.is_empty() {
        return false;
    }
    let answer = read_probe_return(kind, query, fragment);
    let Some(state) = answer.state.as_ref() else {
        return false;
    };
    let Some(probe) = lab
        .try_update(|l| l.attack.take_probe(state.secret()))
        .flatten()
    else {
        return false;
    };
    // Whatever came back (a code, a token) leaves the address bar and history at once.
    location::clean_url();
    let now = clock::now_ms();
    let shown = shown_answer_url(query, fragment);
    lab.update(|l| {
        // The run continues from the timeline saved before leaving for the provider.
        l.timeline = storage::load_timeline().unwrap_or_default();
        attack::probe_answer(&mut l.timeline, kind, &answer, &shown, now);
        l.lab_phase(Phase::Idle);
    });
    let sentence = attack::probe_sentence(&answer.answer);
    if probe.checkup {
        lab.update(|l| record_probe(l, &probe, &answer.answer, answer.iss.is_some()));
    }
    match (kind, &answer.answer) {
        (
            ProbeKind::NoChallenge | ProbeKind::PlainChallenge,
            ProbeAnswer::AcceptedCode { code },
        ) => {
            // The downgrade worked and a session existed: show what the attacker does next.
            let code = code.clone();
            spawn_local(async move {
                let verifier = probe.plain.as_deref();
                let defence = "PKCE (missing on this server)";
                let redeemed = match attacker_code_request(
                    &probe.token_endpoint,
                    &code,
                    &probe.redirect_uri,
                    &probe.client_id,
                    verifier,
                ) {
                    Ok(request) => {
                        let label = if verifier.is_some() {
                            "Redeem it with the challenge read from the URL as the verifier"
                        } else {
                            "Redeem it with no verifier at all"
                        };
                        attacker_redeem(
                            lab,
                            label,
                            request,
                            vec![Param::secret("code", code.masked(), code.secret())],
                            defence,
                        )
                        .await
                    }
                    Err(error) => TokenAnswer::Unreadable {
                        why: crate::protocol::error::Explain::what_happened(&error),
                    },
                };
                let sentence = format!(
                    "{sentence}; the attacker then redeemed it: {}",
                    redeemed.sentence()
                );
                after_probe(lab, &probe, Some(true), sentence);
            });
        }
        _ => {
            after_probe(
                lab,
                &probe,
                attack::probe_accepted(&answer.answer),
                sentence,
            );
            if kind == ProbeKind::Implicit {
                lab.update(|l| {
                    l.attack.set_report(attack::implicit_report(&answer.answer));
                    storage::save_lab(&l.attack);
                });
            }
        }
    }
    true
}

/// The query or fragment as shown in the inspector: every value but the harmless ones masked,
/// as for the lab's own callback (C-17, S-2).
fn shown_answer_url(query: &str, fragment: &str) -> String {
    let mut shown = String::from("/");
    if !query.is_empty() {
        shown.push_str(&engine::mask_callback_query(&format!("?{query}")));
    }
    if !fragment.is_empty() {
        let masked = engine::mask_callback_query(&format!("?{fragment}"));
        shown.push('#');
        shown.push_str(masked.trim_start_matches('?'));
    }
    shown
}

/// After a probe's answer: the downgrade report, then the next probe of the queue (or the
/// checkup's login prompt).
fn after_probe(lab: RwSignal<Lab>, probe: &PendingProbe, accepted: Option<bool>, sentence: String) {
    let next = lab
        .try_update(|l| {
            if probe.kind != ProbeKind::Implicit {
                l.attack.downgrade.push(DowngradeAnswer {
                    kind: probe.kind,
                    sentence,
                    accepted,
                });
                if !probe.checkup || l.attack.downgrade.len() == 2 {
                    let report = attack::downgrade_report(&l.attack.downgrade);
                    l.attack.set_report(report);
                }
            }
            let next =
                (!l.attack.checkup_probes.is_empty()).then(|| l.attack.checkup_probes.remove(0));
            l.save_lab_run();
            next
        })
        .flatten();
    if let Some(kind) = next {
        let metadata = lab.with_untracked(|l| {
            l.metadata()
                .cloned()
                .filter(|m| m.issuer == probe.issuer)
                .or_else(|| crate::browser::cache::load_metadata(&probe.issuer))
        });
        match metadata {
            Some(metadata) => send_probe(lab, kind, &metadata, probe.checkup),
            None => lab.update(|l| {
                l.fail(attack::cannot_start(
                    "The provider's metadata was lost between two probes.",
                ))
            }),
        }
    }
}

/// The latest report of `experiment` (reactive).
pub fn report_of(lab: RwSignal<Lab>, experiment: Experiment) -> Option<Report> {
    lab.with(|l| l.attack.report(experiment).cloned())
}

// ---- provider checkup ----

/// Runs the provider checkup: discovery, the CORS probe and the three authorization probes
/// now; the login-only lines after one login the user starts.
pub fn run_checkup(lab: RwSignal<Lab>) {
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
                let (v, d) = checkup::judge_public_clients(
                    Some(&metadata.token_endpoint_auth_methods_supported),
                    None,
                );
                card.record(Check::PublicClients, v, d, evidence);
            }
        });
        cors_probe(lab, &metadata, &settings.client_id).await;
        save(lab);
        start_probes(lab, ProbeKind::ALL.to_vec(), true);
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

/// Whether the checked provider promised `iss` (RFC 9207), from its metadata known to this tab.
fn iss_advertised(l: &Lab) -> bool {
    l.attack
        .scorecard
        .as_ref()
        .and_then(|card| l.known_metadata(&card.issuer))
        .is_some_and(|m| m.iss_parameter_supported)
}

/// Records a probe's verdict on the scorecard.
fn record_probe(l: &mut Lab, probe: &PendingProbe, answer: &ProbeAnswer, iss_returned: bool) {
    let evidence: Vec<Step> = l
        .timeline
        .steps()
        .iter()
        .rev()
        .take(2)
        .rev()
        .cloned()
        .collect();
    let check = match probe.kind {
        ProbeKind::NoChallenge => Check::PkceEnforced,
        ProbeKind::PlainChallenge => Check::PlainRefused,
        ProbeKind::Implicit => Check::ImplicitRefused,
    };
    let advertised = iss_advertised(l);
    if let Some(card) = l.attack.scorecard.as_mut() {
        let (v, d) = checkup::judge_probe(check, answer);
        card.record(check, v, d, evidence.clone());
        if probe.kind == ProbeKind::NoChallenge {
            let (v, d) = checkup::judge_iss(advertised, Some(iss_returned));
            card.record(Check::IssInResponse, v, d, evidence);
        }
    }
}

/// The run's redirect back from the provider (evidence for the `iss` line).
fn redirect_back(l: &Lab) -> Vec<Step> {
    l.timeline
        .steps()
        .iter()
        .filter(|s| s.kind == StepKind::RedirectBack)
        .cloned()
        .collect()
}

/// Records what the checkup's login taught.
fn record_login_facts(l: &mut Lab, facts: &LoginFacts) {
    let steps = l.timeline.steps().to_vec();
    let of = |kinds: &[StepKind]| -> Vec<Step> {
        steps
            .iter()
            .filter(|s| kinds.contains(&s.kind))
            .cloned()
            .collect()
    };
    let advertised = iss_advertised(l);
    let Some(card) = l.attack.scorecard.as_mut() else {
        return;
    };
    let token = of(&[StepKind::TokenRequest, StepKind::TokenResponse]);
    let (v, d) = checkup::judge_public_clients(None, facts.redeemed);
    if card.finding(Check::PublicClients).verdict != Verdict::Pass || v == Verdict::Pass {
        card.record(Check::PublicClients, v, d, token.clone());
    }
    let (v, d) = checkup::judge_iss(advertised, Some(facts.iss_returned));
    card.record(Check::IssInResponse, v, d, of(&[StepKind::RedirectBack]));
    let (v, d) = checkup::judge_no_store(facts.cache_control.as_deref());
    card.record(Check::NoStore, v, d, token);
    let (v, d) = checkup::judge_single_use(facts.single_use.map(|refused| !refused));
    card.record(
        Check::CodeSingleUse,
        v,
        d,
        of(&[StepKind::AttackRequest, StepKind::AttackResponse]),
    );
    let (v, d) = checkup::judge_replay_revocation(facts.revoked_status);
    card.record(
        Check::ReplayRevokes,
        v,
        d,
        of(&[StepKind::ResourceRequest, StepKind::ResourceResponse]),
    );
    let (v, d) = match &facts.rotation {
        Some((old, new)) => checkup::judge_rotation(Some(old), new.as_deref()),
        None => checkup::judge_rotation(None, None),
    };
    card.record(
        Check::RefreshRotates,
        v,
        d,
        of(&[StepKind::RefreshRequest, StepKind::RefreshResponse]),
    );
}
