//! The attack lab inside the session: its experiments and the provider checkup are states of
//! the same engine, on the same vocabulary. Every request of the attacker is a `Fetch`, every
//! trip of the lab's window an `OpenPopup`/`PopupTo` with a `SetTimer` that gives up on it, and
//! every answer an event; the pure machines of `lab_session` (experiments 1 and 2) and
//! `probe_session` (probes) decide, with their own ids mapped onto the session's.

use super::*;
use crate::flow::attack::{self, Experiment, Report};
use crate::flow::checkup::{self, Check, Scorecard, Verdict};
use crate::flow::lab_session::{CodeRun, LabCommand};
use crate::flow::probe_session::{
    ProbeCommand, ProbeEntropy, ProbeEvent, ProbeRun, ProbeTarget, INTERACTIVE_TIMEOUT_MS,
};
use crate::flow::timeline::{Param, Step};
use crate::protocol::probe::{read_probe_return, ProbeKind};

/// Which of the attack lab's Run buttons was pressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabStart {
    /// Experiments 1 and 2 on one real login's code (`checkup`: the checkup's login-only lines).
    CodeExperiments {
        /// Whether the provider checkup waits for these results.
        checkup: bool,
    },
    /// Experiment 3: the attacker signs in in the lab's window, then forges a link.
    ForgedCallback,
    /// Experiment 4: the two downgrade probes.
    Downgrade,
    /// Experiment 5: the implicit probe.
    Implicit,
    /// The probes whose window did not come back, again without `prompt=none`.
    Interactive,
    /// The provider checkup: discovery, CORS and the three probes.
    Checkup,
    /// Issue 17: the live session's access token copied and used by the attacker.
    StolenToken,
    /// Issue 17's late replay: this tab's captured proof replayed at once (`jti`) and again
    /// after the API's `iat` window of `window_s` seconds.
    StaleProof {
        /// The API's acceptance window, seconds (the demo API's `API_DPOP_IAT_WINDOW_S`).
        window_s: u32,
    },
}

/// A lab run waiting for the provider's metadata: what it goes on with.
pub(super) struct Next {
    start: LabStart,
    redirect_uri: String,
    entropy: LabEntropy,
}

/// A probe run with its popup trip and fetch mapped onto the session's ids.
pub(super) struct Probes {
    run: ProbeRun,
    /// The session's timer id of the window's trip, and the probe run's own trip id.
    trip: Option<(TimerId, u32)>,
    /// The session's request id, and the probe run's own.
    fetch: Option<(RequestId, RequestId)>,
}

/// Experiment 3's attacker login, in the lab's window.
pub(super) struct AttackerLogin {
    /// The attacker's pending login: memory only (the lab's tab never leaves for it).
    pending: PendingAuthorization,
    /// The authorization request (sent again on Retry).
    url: String,
    /// The window's trip and its timer; `None`: the window was blocked, Retry waits.
    trip: Option<TimerId>,
    /// Fresh bytes for the `state` the attacker makes up for the forged link.
    forged: [u8; 32],
}

/// The lab's state while it runs; each variant carries exactly what its next answer needs.
// Boxed whole in `Flow::Lab`, and one moment at a time: boxing the large variant buys nothing.
#[allow(clippy::large_enum_variant)]
pub(super) enum LabRun {
    /// Discovery for the lab's probes, checkup or attacker login.
    Discovering { discovery: Discovery, next: Next },
    /// The checkup's CORS probe on the token endpoint.
    Cors {
        id: RequestId,
        step: StepId,
        metadata: ProviderMetadata,
        next: Next,
    },
    /// Front-channel probes in the lab's window (kept when done: the page reads the result).
    Probes(Probes),
    /// Experiments 1 and 2 on a lab login's code.
    Code {
        run: CodeRun,
        fetch: Option<(RequestId, RequestId)>,
    },
    /// Experiment 3's attacker signs in in the lab's window.
    AttackerLogin(AttackerLogin),
    /// The stolen-token experiment, with the live login it borrowed.
    StolenToken(Box<super::stolen::StolenRun>),
}

impl std::fmt::Debug for LabRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Codes, verifiers and the attacker's pending login are never printed.
        f.write_str(match self {
            LabRun::Discovering { .. } => "LabRun::Discovering",
            LabRun::Cors { .. } => "LabRun::Cors",
            LabRun::Probes(_) => "LabRun::Probes",
            LabRun::Code { .. } => "LabRun::Code",
            LabRun::AttackerLogin(_) => "LabRun::AttackerLogin",
            LabRun::StolenToken(_) => "LabRun::StolenToken",
        })
    }
}

impl LabRun {
    /// The page's activity while the lab runs.
    pub(super) fn phase(&self) -> Phase {
        match self {
            LabRun::Discovering { .. } | LabRun::Cors { .. } => Phase::Discovering,
            LabRun::Probes(p) if p.run.busy() && !p.run.blocked() => Phase::Redirecting,
            LabRun::Probes(_) => Phase::Idle,
            LabRun::Code { .. } => Phase::Exchanging,
            LabRun::AttackerLogin(AttackerLogin { trip: Some(_), .. }) => Phase::Redirecting,
            LabRun::AttackerLogin(_) => Phase::Idle,
            // Its requests go to the API ("Calling the API…"), except while the late replay
            // waits out the API's iat window: the status line counts that down.
            LabRun::StolenToken(run) => {
                run.waiting_s()
                    .map_or(Phase::CallingApi, |left_s| Phase::WaitingIatWindow {
                        left_s,
                    })
            }
        }
    }

    /// The live login a run keeps while it runs (the stolen-token experiment's).
    pub(super) fn logged_in(&self) -> Option<&LoggedIn> {
        match self {
            LabRun::StolenToken(run) => Some(&run.login),
            _ => None,
        }
    }

    /// The request this run waits for.
    pub(super) fn awaited_fetch(&self) -> Option<RequestId> {
        match self {
            LabRun::Discovering { discovery, .. } => Some(discovery.id),
            LabRun::Cors { id, .. } => Some(*id),
            LabRun::Probes(Probes { fetch, .. }) | LabRun::Code { fetch, .. } => {
                fetch.map(|(id, _)| id)
            }
            LabRun::AttackerLogin(_) => None,
            LabRun::StolenToken(run) => run.awaited_fetch(),
        }
    }
}

/// The attack lab tests a public client with PKCE: its own defences.
fn not_public() -> Problem {
    Problem::local(
        "The attack lab tests the defences of a public client with PKCE, and the settings say \
         \"Confidential, PKCE off\".",
        "Choose \"Public client with PKCE\" under Client type, then run the experiment again.",
    )
}

/// Three fresh values as a login's verifier, state and nonce.
fn login_entropy(entropy: &mut LabEntropy) -> Result<LoginEntropy, Problem> {
    Ok(LoginEntropy {
        verifier: entropy.take()?,
        state: entropy.take()?,
        nonce: entropy.take()?,
    })
}

/// What experiment 3 reports when the attacker's window never came back.
fn attacker_gave_up_report() -> Report {
    Report {
        experiment: Experiment::ForgedCallback,
        outcome: attack::Outcome::Unknown,
        findings: vec![
            "The attacker's login window was closed, or did not come back within 3 minutes: \
             there was no code to forge a link with, so nothing was tested. Run it again and \
             sign in as the attacker in the small window."
                .to_owned(),
        ],
    }
}

impl Session {
    // ----- what the page reads ---------------------------------------------------------------

    /// Whether the lab's window was blocked and the lab waits for Retry.
    pub fn lab_blocked(&self) -> bool {
        match &self.flow {
            Flow::Lab(run) => match &**run {
                LabRun::Probes(p) => p.run.blocked(),
                LabRun::AttackerLogin(a) => a.trip.is_none(),
                _ => false,
            },
            _ => false,
        }
    }

    /// The trip of the lab's window the session waits for (the driver watches the window
    /// for a close while it does).
    pub fn popup_trip(&self) -> Option<TimerId> {
        match &self.flow {
            Flow::Lab(run) => match &**run {
                LabRun::Probes(p) => p.trip.map(|(id, _)| id),
                LabRun::AttackerLogin(a) => a.trip,
                _ => None,
            },
            _ => None,
        }
    }

    fn probes(&self) -> Option<&ProbeRun> {
        match &self.flow {
            Flow::Lab(run) => match &**run {
                LabRun::Probes(p) => Some(&p.run),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether a probe run still waits for its window, its fetch or a retry.
    pub fn probes_busy(&self) -> bool {
        self.probes().is_some_and(ProbeRun::busy)
    }

    /// Whether the checkup's probe run of this page is over.
    pub fn checkup_probes_done(&self) -> bool {
        self.probes().is_some_and(|r| r.checkup() && !r.busy())
    }

    // ----- starting --------------------------------------------------------------------------

    pub(super) fn lab_started(
        &mut self,
        start: LabStart,
        redirect_uri: String,
        mut entropy: LabEntropy,
        now: u64,
    ) -> Vec<Command> {
        if self.phase().is_busy() {
            return Vec::new();
        }
        let public = self.settings.client_type != ClientType::Confidential;
        match start {
            LabStart::CodeExperiments { checkup } => {
                self.attack.checkup_active = checkup;
                if !public {
                    self.fail(not_public());
                    return Vec::new();
                }
                let intent = LabLogin::CodeExperiments { checkup };
                let entropy = login_entropy(&mut entropy);
                self.login(redirect_uri, entropy, Some(intent), now)
            }
            LabStart::ForgedCallback => {
                self.attack.checkup_active = false;
                if !public {
                    self.fail(not_public());
                    return Vec::new();
                }
                let problems = self.settings.normalized().problems();
                if !problems.is_empty() {
                    self.fail(Problem::local(
                        &problems.join(" "),
                        "Fix the settings above, then run the experiment again.",
                    ));
                    return Vec::new();
                }
                self.timeline = Timeline::new();
                self.rejected_id_token = None;
                self.problem = None;
                self.notice = None;
                let next = Next {
                    start,
                    redirect_uri,
                    entropy,
                };
                // The window opens in this batch: the click's user activation allows it.
                commands_with(Command::OpenPopup, self.lab_metadata(next, now))
            }
            LabStart::Downgrade | LabStart::Implicit | LabStart::Interactive => {
                let checkup = start == LabStart::Interactive && self.attack.checkup_active;
                if start == LabStart::Interactive && self.attack.unanswered.is_empty() {
                    return Vec::new();
                }
                self.attack.checkup_active = checkup;
                if !checkup {
                    self.timeline = Timeline::new();
                }
                self.problem = None;
                let next = Next {
                    start,
                    redirect_uri,
                    entropy,
                };
                commands_with(Command::OpenPopup, self.lab_metadata(next, now))
            }
            LabStart::StolenToken => self.stolen_started(None, now),
            LabStart::StaleProof { window_s } => self.stolen_started(Some(window_s), now),
            LabStart::Checkup => {
                let settings = self.settings.normalized();
                self.timeline = Timeline::new();
                // Discovery is drawn again so its answer is evidence.
                self.metadata = None;
                self.problem = None;
                self.attack.checkup_active = true;
                self.attack.downgrade.clear();
                self.attack.scorecard = Some(Scorecard::new(
                    &settings.issuer,
                    &settings.client_id,
                    &self.origin,
                    &settings.preset,
                ));
                let next = Next {
                    start,
                    redirect_uri,
                    entropy,
                };
                commands_with(Command::OpenPopup, self.lab_metadata(next, now))
            }
        }
    }

    /// The provider's metadata as a login would get it: the manual endpoints when the settings
    /// say so, this page's discovery result, or discovery now.
    fn lab_metadata(&mut self, next: Next, now: u64) -> Vec<Command> {
        let settings = self.settings.normalized();
        if settings.manual {
            return match settings.manual_metadata() {
                Ok(metadata) => self.lab_with_metadata(next, metadata, now),
                Err(error) => self.lab_discovery_failed(&next, Problem::from_error(&error)),
            };
        }
        if let Some(metadata) = self
            .metadata
            .clone()
            .filter(|m| m.issuer == settings.issuer)
        {
            return self.lab_with_metadata(next, metadata, now);
        }
        match self.start_discovery(&settings.issuer, now) {
            Ok((discovery, fetch)) => {
                self.flow = Flow::Lab(Box::new(LabRun::Discovering { discovery, next }));
                vec![fetch]
            }
            Err(problem) => self.lab_discovery_failed(&next, problem),
        }
    }

    /// No metadata: the checkup grades the issuer line failed; the lab stops.
    fn lab_discovery_failed(&mut self, next: &Next, problem: Problem) -> Vec<Command> {
        if next.start == LabStart::Checkup {
            let evidence = self.timeline.steps().to_vec();
            if let Some(card) = self.attack.scorecard.as_mut() {
                let detail = problem.what_happened.clone();
                card.record(Check::IssuerExact, Verdict::Fail, detail, evidence);
            }
        }
        self.lab_stopped(problem)
    }

    /// The lab stops with `problem` shown; its window closes.
    fn lab_stopped(&mut self, problem: Problem) -> Vec<Command> {
        self.fail(problem);
        vec![Command::ClosePopup]
    }

    /// The metadata is known: the run goes on with what it was started for.
    fn lab_with_metadata(
        &mut self,
        next: Next,
        metadata: ProviderMetadata,
        now: u64,
    ) -> Vec<Command> {
        match next.start {
            LabStart::Checkup => {
                self.grade_metadata(&metadata);
                let client_id = self.settings.normalized().client_id;
                match attack::cors_probe_started(
                    &mut self.timeline,
                    &metadata.token_endpoint,
                    &next.redirect_uri,
                    &client_id,
                    now,
                ) {
                    Some((step, request)) => {
                        let id = self.fresh_id();
                        let request = HttpRequest::form(&request);
                        self.flow = Flow::Lab(Box::new(LabRun::Cors {
                            id,
                            step,
                            metadata,
                            next,
                        }));
                        vec![Command::Fetch { id, request }]
                    }
                    None => self.start_probes(
                        ProbeKind::CHECKUP.to_vec(),
                        true,
                        false,
                        next,
                        &metadata,
                        now,
                    ),
                }
            }
            LabStart::ForgedCallback => self.attacker_login(next, &metadata, now),
            LabStart::Downgrade => {
                let kinds = vec![ProbeKind::NoChallenge, ProbeKind::PlainChallenge];
                self.start_probes(kinds, false, false, next, &metadata, now)
            }
            LabStart::Implicit => self.start_probes(
                vec![ProbeKind::Implicit],
                false,
                false,
                next,
                &metadata,
                now,
            ),
            LabStart::Interactive => {
                let (kinds, checkup) = (self.attack.unanswered.clone(), self.attack.checkup_active);
                self.start_probes(kinds, checkup, true, next, &metadata, now)
            }
            // A lab login's code never waits for metadata here.
            LabStart::CodeExperiments { .. }
            | LabStart::StolenToken
            | LabStart::StaleProof { .. } => Vec::new(),
        }
    }

    // ----- experiments 1 and 2 ---------------------------------------------------------------

    /// A lab login's checked callback: the code experiments run on its code.
    pub(super) fn start_code_run(
        &mut self,
        authorized: AuthorizedCallback,
        checkup: bool,
        mut entropy: LabEntropy,
        now: u64,
    ) -> Vec<Command> {
        let wrong = match entropy.take() {
            Ok(bytes) => bytes,
            Err(problem) => {
                self.fail(problem);
                return Vec::new();
            }
        };
        let metadata = self.known_metadata(&authorized.pending.issuer);
        let api = self.settings.normalized().api_base;
        let resource_url = if api.is_empty() {
            metadata.as_ref().and_then(|m| m.userinfo_endpoint.clone())
        } else {
            Some(format!("{api}/api/profile"))
        };
        let iss_advertised = metadata.is_some_and(|m| m.iss_parameter_supported);
        let (run, commands) = CodeRun::start(
            authorized,
            checkup,
            wrong,
            resource_url,
            iss_advertised,
            &mut self.timeline,
            now,
        );
        self.code_commands(run, commands)
    }

    /// The code experiment's commands on the session's vocabulary; its end settles the page.
    fn code_commands(&mut self, run: CodeRun, commands: Vec<LabCommand>) -> Vec<Command> {
        let mut out = Vec::new();
        let mut fetch = None;
        let mut finished = None;
        for command in commands {
            match command {
                LabCommand::Fetch { id, request } => {
                    let outer = self.fresh_id();
                    fetch = Some((outer, id));
                    out.push(Command::Fetch { id: outer, request });
                }
                LabCommand::Finished { problem } => finished = Some(problem),
            }
        }
        match finished {
            Some(Some(problem)) => self.fail(problem),
            Some(None) => {
                self.flow = Flow::Idle;
                self.problem = None;
            }
            None => {
                self.flow = Flow::Lab(Box::new(LabRun::Code { run, fetch }));
                return out;
            }
        }
        out.push(Command::MarkDrawn(TOKENS_MARK));
        out
    }

    // ----- answers ---------------------------------------------------------------------------

    /// An HTTP answer the lab waited for (the id was checked by the caller).
    pub(super) fn lab_answered(&mut self, run: LabRun, outcome: Outcome, now: u64) -> Vec<Command> {
        match run {
            LabRun::Discovering {
                mut discovery,
                next,
            } => match self.discovery_answer(&mut discovery, outcome, now) {
                Ok(Ok(metadata)) => {
                    commands_with(Command::Persist(Persist::Metadata(metadata.clone())), {
                        self.lab_with_metadata(next, metadata, now)
                    })
                }
                Ok(Err(fetch)) => {
                    self.flow = Flow::Lab(Box::new(LabRun::Discovering { discovery, next }));
                    vec![fetch]
                }
                Err(problem) => self.lab_discovery_failed(&next, problem),
            },
            LabRun::Cors {
                step,
                metadata,
                next,
                ..
            } => {
                let readable = attack::cors_probe_answered(&mut self.timeline, step, outcome, now);
                let evidence = vec![self.timeline.steps()[step].clone()];
                if let Some(card) = self.attack.scorecard.as_mut() {
                    let (v, d) = checkup::judge_token_cors(readable);
                    card.record(Check::TokenCors, v, d, evidence);
                }
                self.start_probes(
                    ProbeKind::CHECKUP.to_vec(),
                    true,
                    false,
                    next,
                    &metadata,
                    now,
                )
            }
            LabRun::Probes(mut probes) => {
                let commands = match probes.fetch.take() {
                    Some((_, id)) => {
                        let event = ProbeEvent::HttpAnswered { id, outcome, now };
                        let commands =
                            probes
                                .run
                                .handle(event, &mut self.timeline, &mut self.attack);
                        self.probe_commands(&mut probes, commands)
                    }
                    None => Vec::new(),
                };
                self.flow = Flow::Lab(Box::new(LabRun::Probes(probes)));
                commands
            }
            LabRun::Code { mut run, fetch } => {
                let Some((_, id)) = fetch else {
                    self.flow = Flow::Lab(Box::new(LabRun::Code { run, fetch }));
                    return Vec::new();
                };
                let commands = run.answered(id, outcome, &mut self.timeline, &mut self.attack, now);
                self.code_commands(run, commands)
            }
            LabRun::StolenToken(run) => self.stolen_answered(run, outcome, now),
            other @ LabRun::AttackerLogin(_) => {
                self.flow = Flow::Lab(Box::new(other));
                Vec::new()
            }
        }
    }

    /// A window, timer or retry event: to the lab run it belongs to; ignored otherwise.
    pub(super) fn lab_event(&mut self, event: Event) -> Vec<Command> {
        let flow = std::mem::replace(&mut self.flow, Flow::Idle);
        let Flow::Lab(run) = flow else {
            self.flow = flow;
            return Vec::new();
        };
        match *run {
            LabRun::Probes(mut probes) => {
                let commands = self.probes_event(&mut probes, event);
                self.flow = Flow::Lab(Box::new(LabRun::Probes(probes)));
                commands
            }
            LabRun::AttackerLogin(login) => self.attacker_event(login, event),
            LabRun::StolenToken(run) => self.stolen_timer(run, event),
            other => {
                self.flow = Flow::Lab(Box::new(other));
                Vec::new()
            }
        }
    }
}

mod forged;
mod probes;
