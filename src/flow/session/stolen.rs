//! The attack lab's "Stolen access token" experiment (issue 17, RFC 9449) as a lab run of the
//! session: the live login's access token is copied and the demo API called with it as an
//! attacker would. Every request is a `Fetch`, the attacker's own key a `MakeDpopKey` of
//! `DpopKeyRole::Attacker`, every proof a `Sign`, every answer an event; `flow::stolen_token`
//! draws the steps and judges the answers. The login is kept in the run and given back at the
//! end, so the Live tab still has its tokens.

use super::lab::LabRun;
use super::*;
use crate::flow::stolen_token::{self, Attempt, AttemptAnswer};
use crate::protocol::dpop::{self, DpopAlg, DpopProof, PublicJwk, UnsignedProof};
use std::collections::VecDeque;

/// What the run waits for.
#[derive(Debug)]
enum Stage {
    /// The attacker's key (`MakeDpopKey { key: Attacker }`).
    AttackerKey,
    /// A signature of the attacker's proof.
    SignOwn {
        id: RequestId,
        unsigned: UnsignedProof,
    },
    /// A signature of this tab's proof for the app's own request.
    SignTab {
        id: RequestId,
        unsigned: UnsignedProof,
    },
    /// The answer to the app's own proof-carrying request.
    AppRequest { id: RequestId, step: StepId },
    /// The answer to one attempt of the attacker.
    Attempt {
        id: RequestId,
        step: StepId,
        attempt: Attempt,
    },
    /// Waiting out the API's `iat` window before the late replay: one `SetTimer` of a second
    /// per tick, so the card counts down without the engine reading a clock.
    Waiting { timer: TimerId, left_s: u32 },
}

/// The experiment while it runs.
pub(super) struct StolenRun {
    /// The live login, given back when the run ends.
    pub(super) login: Box<LoggedIn>,
    token: AccessToken,
    dpop: bool,
    /// The late-replay variant: the API's `iat` window, seconds.
    stale: Option<u32>,
    /// Whether the late replay's wait is over.
    waited: bool,
    profile: String,
    files: String,
    own: Option<DpopProof>,
    captured: Option<DpopProof>,
    answers: Vec<AttemptAnswer>,
    plan: VecDeque<(Attempt, String, Option<DpopProof>)>,
    stage: Stage,
}

impl StolenRun {
    /// Seconds left while the late replay waits out the API's `iat` window.
    pub(super) fn waiting_s(&self) -> Option<u32> {
        match self.stage {
            Stage::Waiting { left_s, .. } => Some(left_s),
            _ => None,
        }
    }
}

impl std::fmt::Debug for StolenRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token and the proofs are never printed.
        f.debug_struct("StolenRun")
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

impl StolenRun {
    /// The request this run waits for.
    pub(super) fn awaited_fetch(&self) -> Option<RequestId> {
        match self.stage {
            Stage::AppRequest { id, .. } | Stage::Attempt { id, .. } => Some(id),
            _ => None,
        }
    }

    /// The signature this run waits for.
    fn awaited_sign(&self) -> Option<RequestId> {
        match self.stage {
            Stage::SignOwn { id, .. } | Stage::SignTab { id, .. } => Some(id),
            _ => None,
        }
    }
}

/// `GET url` with `Authorization: DPoP <token>` and the proof.
fn with_proof(url: &str, token: &AccessToken, proof: &DpopProof) -> HttpRequest {
    let mut request = HttpRequest::get(url, Some(dpop::dpop_authorization(token)));
    request
        .headers
        .push((dpop::DPOP_HEADER, proof.header_value().to_owned()));
    request
}

/// A step the run could not take, as the attempt's answer (the report says "no answer (…)").
fn not_sent(attempt: Attempt, why: String) -> AttemptAnswer {
    AttemptAnswer {
        attempt,
        status: 0,
        error: None,
        description: Some(why),
    }
}

impl Session {
    /// `LabStart::StolenToken` (`stale` `None`) or `LabStart::StaleProof` (the API's window):
    /// the token is copied and the attacker's first move asked for.
    pub(super) fn stolen_started(&mut self, stale: Option<u32>, now: u64) -> Vec<Command> {
        let flow = std::mem::replace(&mut self.flow, Flow::Idle);
        let Flow::LoggedIn(login) = flow else {
            self.flow = flow;
            self.problem = Some(Problem::local(
                "The stolen-token experiment copies the live session's access token, and this \
                 tab has none.",
                "Log in on the Live tab first, then run the experiment again.",
            ));
            return Vec::new();
        };
        let token = login.tokens.access_token.clone();
        let dpop = login.tokens.token_type == "DPoP";
        if stale.is_some() && !dpop {
            self.flow = Flow::LoggedIn(login);
            self.problem = Some(Problem::local(
                "The late replay needs a DPoP proof to capture; this tab's token is a Bearer token.",
                "Switch DPoP on, log in again, then run it.",
            ));
            return Vec::new();
        }
        let api = self.settings.normalized().api_base;
        self.attack.stolen_token = None;
        self.problem = None;
        stolen_token::token_copied(&mut self.timeline, &token, dpop, now);
        let run = StolenRun {
            login,
            token,
            dpop,
            stale,
            waited: false,
            profile: format!("{api}/api/profile"),
            files: format!("{api}/api/files"),
            own: None,
            captured: None,
            answers: Vec::new(),
            plan: VecDeque::new(),
            stage: Stage::AttackerKey,
        };
        if stale.is_some() {
            // Only this tab's proof is needed: it is captured and replayed twice.
            return self.stolen_tab_proof(Box::new(run), now);
        }
        if dpop {
            self.flow = Flow::Lab(Box::new(LabRun::StolenToken(Box::new(run))));
            // The attacker's key is of the same kind as the tab's, so its proof differs only
            // in the key.
            return vec![Command::MakeDpopKey {
                key: DpopKeyRole::Attacker,
                alg: self.dpop_key_alg().unwrap_or(DpopAlg::Es256),
            }];
        }
        self.stolen_attempts(run, now)
    }

    /// Whether the stolen-token run waits for the signature `id`.
    pub(super) fn stolen_awaits(&self, id: RequestId) -> bool {
        matches!(&self.flow, Flow::Lab(run) if matches!(&**run, LabRun::StolenToken(s) if s.awaited_sign() == Some(id)))
    }

    /// The attacker's key, or a signature, for the stolen-token run (ignored otherwise).
    pub(super) fn stolen_event(&mut self, event: Event) -> Vec<Command> {
        let flow = std::mem::replace(&mut self.flow, Flow::Idle);
        let Flow::Lab(boxed) = flow else {
            self.flow = flow;
            return Vec::new();
        };
        let LabRun::StolenToken(mut run) = *boxed else {
            self.flow = Flow::Lab(boxed);
            return Vec::new();
        };
        let stage = std::mem::replace(&mut run.stage, Stage::AttackerKey);
        match (stage, event) {
            (
                Stage::AttackerKey,
                Event::DpopKeyReady {
                    key: DpopKeyRole::Attacker,
                    public_jwk_json,
                    jti_seed,
                    now,
                },
            ) => {
                let jti = Sha256::digest(jti_seed);
                let mut entropy = [0u8; 16];
                entropy.copy_from_slice(&jti[..16]);
                let built = PublicJwk::from_json(&public_jwk_json).and_then(|jwk| {
                    dpop::unsigned_proof(
                        &jwk,
                        self.dpop_key_alg().unwrap_or(DpopAlg::Es256),
                        &dpop::ProofRequest {
                            method: "GET",
                            url: &run.profile,
                            access_token: Some(&run.token),
                            nonce: None,
                        },
                        now / 1000,
                        &entropy,
                    )
                });
                match built {
                    Ok(unsigned) => {
                        let id = self.fresh_id();
                        let input = unsigned.signing_input().to_owned();
                        run.stage = Stage::SignOwn { id, unsigned };
                        self.flow = Flow::Lab(Box::new(LabRun::StolenToken(run)));
                        vec![Command::Sign {
                            id,
                            key: DpopKeyRole::Attacker,
                            input,
                        }]
                    }
                    Err(error) => {
                        run.answers.push(not_sent(
                            Attempt::OwnKey,
                            format!("the attacker's proof could not be built: {error}"),
                        ));
                        self.stolen_tab_proof(run, now)
                    }
                }
            }
            (
                Stage::AttackerKey,
                Event::DpopKeyFailed {
                    key: DpopKeyRole::Attacker,
                    message,
                    now,
                },
            ) => {
                run.answers.push(not_sent(
                    Attempt::OwnKey,
                    format!(
                        "this browser could not make the attacker's key: {}",
                        crate::protocol::error::sanitize_for_display(&message, 200)
                    ),
                ));
                self.stolen_tab_proof(run, now)
            }
            (Stage::SignOwn { unsigned, .. }, Event::Signed { signature, now, .. }) => {
                match unsigned.finish(&signature) {
                    Ok(proof) => run.own = Some(proof),
                    Err(error) => run.answers.push(not_sent(
                        Attempt::OwnKey,
                        format!("the attacker's proof could not be finished: {error}"),
                    )),
                }
                self.stolen_tab_proof(run, now)
            }
            (Stage::SignOwn { .. }, Event::SignFailed { message, now, .. }) => {
                run.answers.push(not_sent(
                    Attempt::OwnKey,
                    format!(
                        "the browser refused to sign the attacker's proof: {}",
                        crate::protocol::error::sanitize_for_display(&message, 200)
                    ),
                ));
                self.stolen_tab_proof(run, now)
            }
            (Stage::SignTab { unsigned, .. }, Event::Signed { signature, now, .. }) => {
                match unsigned.finish(&signature) {
                    Ok(proof) => self.stolen_app_request(run, proof, now),
                    Err(error) => {
                        run.answers.push(not_sent(
                            Attempt::ReplayedProof,
                            format!("this tab's proof could not be finished: {error}"),
                        ));
                        self.stolen_attempts(*run, now)
                    }
                }
            }
            (Stage::SignTab { .. }, Event::SignFailed { message, now, .. }) => {
                run.answers.push(not_sent(
                    Attempt::ReplayedProof,
                    format!(
                        "the browser refused to sign this tab's proof, so there was none to \
                         capture: {}",
                        crate::protocol::error::sanitize_for_display(&message, 200)
                    ),
                ));
                self.stolen_attempts(*run, now)
            }
            (stage, _) => {
                run.stage = stage;
                self.flow = Flow::Lab(Box::new(LabRun::StolenToken(run)));
                Vec::new()
            }
        }
    }

    /// This tab's proof for the app's own request, to be captured.
    fn stolen_tab_proof(&mut self, mut run: Box<StolenRun>, now: u64) -> Vec<Command> {
        let profile = run.profile.clone();
        let token = run.token.clone();
        match self.tab_proof(&profile, &token, now) {
            Some(Ok(unsigned)) => {
                let id = self.fresh_id();
                let input = unsigned.signing_input().to_owned();
                run.stage = Stage::SignTab { id, unsigned };
                self.flow = Flow::Lab(Box::new(LabRun::StolenToken(run)));
                vec![Command::Sign {
                    id,
                    key: DpopKeyRole::Tab,
                    input,
                }]
            }
            Some(Err(error)) => {
                run.answers.push(not_sent(
                    Attempt::ReplayedProof,
                    format!("this tab's proof could not be built: {error}"),
                ));
                self.stolen_attempts(*run, now)
            }
            None => {
                run.answers.push(not_sent(
                    Attempt::ReplayedProof,
                    "this tab has no DPoP key in memory (the page was reloaded?), so there was \
                     no proof to capture"
                        .to_owned(),
                ));
                self.stolen_attempts(*run, now)
            }
        }
    }

    /// The app's own request carrying the proof, before the attacker captures it.
    fn stolen_app_request(
        &mut self,
        mut run: Box<StolenRun>,
        proof: DpopProof,
        now: u64,
    ) -> Vec<Command> {
        let (step, _) = engine::resource_request_started_as(
            &mut self.timeline,
            &run.profile,
            &run.token,
            true,
            now,
        );
        if let Some(x) = self
            .timeline
            .step_mut(step)
            .and_then(|s| s.exchange.as_mut())
        {
            x.request_headers.push(("DPoP".into(), proof.masked()));
        }
        let id = self.fresh_id();
        let request = with_proof(&run.profile, &run.token, &proof);
        run.captured = Some(proof);
        run.stage = Stage::AppRequest { id, step };
        self.flow = Flow::Lab(Box::new(LabRun::StolenToken(run)));
        vec![Command::Fetch { id, request }]
    }

    /// The attacker's attempts, planned from the proofs there are; the first is sent.
    fn stolen_attempts(&mut self, mut run: StolenRun, now: u64) -> Vec<Command> {
        let own = run.own.take();
        let captured = run.captured.take();
        if run.stale.is_some() {
            // Replayed at once (the jti is still remembered), then after the window (iat).
            if let Some(captured) = captured {
                run.plan.push_back((
                    Attempt::ReplayedProof,
                    run.profile.clone(),
                    Some(captured.clone()),
                ));
                run.plan
                    .push_back((Attempt::ReplayedStale, run.profile.clone(), Some(captured)));
            }
            return self.stolen_next(Box::new(run), now);
        }
        run.plan
            .push_back((Attempt::AsBearer, run.profile.clone(), None));
        if let Some(own) = own {
            run.plan
                .push_back((Attempt::OwnKey, run.profile.clone(), Some(own)));
        }
        if let Some(captured) = captured {
            run.plan.push_back((
                Attempt::ReplayedProof,
                run.profile.clone(),
                Some(captured.clone()),
            ));
            run.plan.push_back((
                Attempt::ReplayedElsewhere,
                run.files.clone(),
                Some(captured),
            ));
        }
        self.stolen_next(Box::new(run), now)
    }

    /// Sends the next attempt, or ends the run with its report.
    fn stolen_next(&mut self, mut run: Box<StolenRun>, now: u64) -> Vec<Command> {
        let Some((attempt, url, proof)) = run.plan.pop_front() else {
            let mut answers = std::mem::take(&mut run.answers);
            // One line per attempt, in the order they are tried.
            answers.sort_by_key(|a| a.attempt as u8);
            self.attack.stolen_token = Some(stolen_token::report(run.dpop, &answers));
            self.flow = Flow::LoggedIn(run.login);
            return Vec::new();
        };
        if let (Attempt::ReplayedStale, Some(window), false) = (attempt, run.stale, run.waited) {
            // Not yet: the API still remembers the jti. Wait out its window first.
            run.plan.push_front((attempt, url, proof));
            let timer = self.fresh_id();
            run.stage = Stage::Waiting {
                timer,
                left_s: window + stolen_token::STALE_MARGIN_S,
            };
            self.flow = Flow::Lab(Box::new(LabRun::StolenToken(run)));
            return vec![Command::SetTimer {
                id: timer,
                after_ms: 1000,
            }];
        }
        let masked = run.token.masked();
        let (request, shown) = match &proof {
            Some(p) => (with_proof(&url, &run.token, p), format!("DPoP {masked}")),
            None => (
                HttpRequest::get(&url, Some(format!("Bearer {}", run.token.secret()))),
                format!("Bearer {masked}"),
            ),
        };
        let step = stolen_token::attacker_call(
            &mut self.timeline,
            attempt,
            &url,
            &shown,
            proof.map(|p| p.masked()),
            now,
        );
        let id = self.fresh_id();
        run.stage = Stage::Attempt { id, step, attempt };
        self.flow = Flow::Lab(Box::new(LabRun::StolenToken(run)));
        vec![Command::Fetch { id, request }]
    }

    /// A second of the late replay's wait went by: count down, then replay.
    pub(super) fn stolen_timer(&mut self, mut run: Box<StolenRun>, event: Event) -> Vec<Command> {
        match (&mut run.stage, event) {
            (Stage::Waiting { timer, left_s }, Event::TimerFired { id, now }) if *timer == id => {
                *left_s = left_s.saturating_sub(1);
                if *left_s == 0 {
                    run.waited = true;
                    return self.stolen_next(run, now);
                }
                let id = *timer;
                self.flow = Flow::Lab(Box::new(LabRun::StolenToken(run)));
                vec![Command::SetTimer { id, after_ms: 1000 }]
            }
            _ => {
                self.flow = Flow::Lab(Box::new(LabRun::StolenToken(run)));
                Vec::new()
            }
        }
    }

    /// Seconds left before the late replay, while the stolen-token run waits out the API's
    /// `iat` window (for the card's countdown).
    pub fn stolen_waiting(&self) -> Option<u32> {
        match &self.flow {
            Flow::Lab(run) => match &**run {
                LabRun::StolenToken(s) => s.waiting_s(),
                _ => None,
            },
            _ => None,
        }
    }

    /// An HTTP answer the stolen-token run waited for (the id was checked by the caller).
    pub(super) fn stolen_answered(
        &mut self,
        mut run: Box<StolenRun>,
        outcome: Outcome,
        now: u64,
    ) -> Vec<Command> {
        match std::mem::replace(&mut run.stage, Stage::AttackerKey) {
            Stage::AppRequest { step, .. } => {
                // The app's own call: drawn like any API call; its failure is on the diagram.
                let _ = engine::resource_response_received(&mut self.timeline, step, outcome, now);
                self.stolen_attempts(*run, now)
            }
            Stage::Attempt { step, attempt, .. } => {
                let answer =
                    stolen_token::attacker_answer(&mut self.timeline, step, attempt, outcome, now);
                run.answers.push(answer);
                self.stolen_next(run, now)
            }
            stage => {
                run.stage = stage;
                self.flow = Flow::Lab(Box::new(LabRun::StolenToken(run)));
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests;
