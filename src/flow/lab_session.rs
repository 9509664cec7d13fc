//! PURE: experiments 1 and 2 of the attack lab (and the checkup's login-only lines) as a
//! sans-I/O session on the session engine's vocabulary. After a lab login's callback passed its
//! checks, the attacker tries the stolen code without and with a wrong verifier, the real client
//! redeems it, (checkup: refreshes once), the first tokens are tried at the API, the attacker
//! replays the exact token request, and the tokens are tried again. Every request is a
//! `Fetch` command, every answer an `HttpAnswered` event; the reports and scorecard lines come
//! from `flow::attack` and `flow::checkup`. A new experiment is a new script of this kind.

use crate::flow::attack::{self, LabRecord, TokenAnswer};
use crate::flow::checkup::{self, Check, Verdict};
use crate::flow::engine::{self, TokenCall};
use crate::flow::lifecycle::{self, RefreshCall};
use crate::flow::problem::Problem;
use crate::flow::session::{HttpRequest, Outcome, RequestId};
use crate::flow::timeline::{Param, Step, StepId, StepKind, Timeline};
use crate::protocol::callback::AuthorizedCallback;
use crate::protocol::pkce::CodeVerifier;
use crate::protocol::secret::{mask, AccessToken, AuthorizationCode};
use crate::protocol::token::{attacker_code_request, TokenRequest};

/// What the driver must do for the experiment.
#[derive(Debug)]
pub enum LabCommand {
    /// Send this request; answer with `CodeRun::answered(id, ..)`.
    Fetch {
        /// Echoed in the answer.
        id: RequestId,
        /// What to send.
        request: HttpRequest,
    },
    /// The experiment is over (`problem`: the real client's redemption failed).
    Finished {
        /// Why the experiment stopped early, if it did.
        problem: Option<Problem>,
    },
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

/// Where the experiment stands; each stage holds exactly what its answer needs.
enum Stage {
    /// One of the attacker's two tries (no verifier, then a wrong one).
    Attacker {
        id: RequestId,
        step: StepId,
    },
    Real {
        id: RequestId,
        call: TokenCall,
        replay: TokenRequest,
    },
    Refresh {
        id: RequestId,
        call: RefreshCall,
        first: AccessToken,
        replay: TokenRequest,
    },
    StatusBefore {
        id: RequestId,
        step: StepId,
        first: AccessToken,
        replay: TokenRequest,
    },
    Replay {
        id: RequestId,
        step: StepId,
        first: AccessToken,
        before: Option<u16>,
    },
    StatusAfter {
        id: RequestId,
        step: StepId,
        before: Option<u16>,
        second: TokenAnswer,
    },
    Done,
}

/// Experiments 1 and 2 on one login's code.
pub struct CodeRun {
    checkup: bool,
    code: AuthorizationCode,
    token_endpoint: String,
    redirect_uri: String,
    client_id: String,
    /// A guessed verifier (fresh entropy): it does not hash to the challenge.
    wrong: String,
    /// The real client's checked callback, until it redeems the code.
    authorized: Option<AuthorizedCallback>,
    /// The API (or UserInfo) URL the first tokens are tried at; `None`: neither is known.
    resource_url: Option<String>,
    iss_advertised: bool,
    stage: Stage,
    answers: Vec<TokenAnswer>,
    facts: LoginFacts,
    next_id: RequestId,
}

const DEFENCE_NONE: &str = "PKCE: no verifier, no tokens";
const DEFENCE_WRONG: &str = "PKCE: the guess does not hash to the challenge";

impl CodeRun {
    /// Starts on a lab login's checked callback: draws the leak and sends the attacker's first
    /// try. `wrong` is fresh entropy for the guessed verifier; `resource_url` where the tokens
    /// are tried (the demo API's `/api/profile`, else UserInfo).
    pub fn start(
        authorized: AuthorizedCallback,
        checkup: bool,
        wrong: [u8; 32],
        resource_url: Option<String>,
        iss_advertised: bool,
        timeline: &mut Timeline,
        now: u64,
    ) -> (Self, Vec<LabCommand>) {
        let code = authorized.code.clone();
        attack::leaked(
            timeline,
            "your code from the address bar",
            vec![Param::secret("code", code.masked(), code.secret())],
            now,
        );
        let pending = &authorized.pending;
        let mut run = CodeRun {
            checkup,
            token_endpoint: pending.token_endpoint.clone(),
            redirect_uri: pending.redirect_uri.clone(),
            client_id: pending.client_id.clone(),
            wrong: CodeVerifier::from_random(wrong).into_secret(),
            facts: LoginFacts {
                iss_returned: authorized.iss.is_some(),
                ..LoginFacts::default()
            },
            code,
            authorized: Some(authorized),
            resource_url,
            iss_advertised,
            stage: Stage::Done,
            answers: Vec::new(),
            next_id: 1,
        };
        // The checkup grades the provider's token answers, which the attacker's tries do not
        // touch; a provider that burns a code after a failed PKCE attempt (LemonLDAP::NG) would
        // leave no tokens to grade. So the checkup's login goes straight to the real client.
        let commands = if checkup {
            run.real_redemption(timeline, now)
        } else {
            run.attacker_try(timeline, now)
        };
        (run, commands)
    }

    fn take_id(&mut self) -> RequestId {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn code_chip(&self) -> Param {
        Param::secret("code", self.code.masked(), self.code.secret())
    }

    /// The attacker's next try with the stolen code (none, then a guessed verifier).
    fn attacker_try(&mut self, timeline: &mut Timeline, now: u64) -> Vec<LabCommand> {
        let (verifier, label) = match self.answers.len() {
            0 => (None, "Redeem the stolen code without a verifier"),
            _ => (
                Some(self.wrong.clone()),
                "Redeem it with a guessed verifier",
            ),
        };
        let request = match attacker_code_request(
            &self.token_endpoint,
            &self.code,
            &self.redirect_uri,
            &self.client_id,
            verifier.as_deref(),
        ) {
            Ok(request) => request,
            Err(error) => return self.stop(Problem::from_error(&error)),
        };
        let mut params = vec![self.code_chip()];
        if let Some(v) = &verifier {
            params.push(Param::public("code_verifier", &mask(v)));
        }
        let step = attack::attack_request(timeline, label, &request, params, now);
        let id = self.take_id();
        self.stage = Stage::Attacker { id, step };
        vec![LabCommand::Fetch {
            id,
            request: HttpRequest::form(&request),
        }]
    }

    fn stop(&mut self, problem: Problem) -> Vec<LabCommand> {
        self.stage = Stage::Done;
        vec![LabCommand::Finished {
            problem: Some(problem),
        }]
    }

    /// Whether the experiment still waits for an answer.
    pub fn busy(&self) -> bool {
        !matches!(self.stage, Stage::Done)
    }

    /// An answer to a `Fetch`: the next request, or the reports. Answers to a request the run
    /// no longer waits for are ignored.
    pub fn answered(
        &mut self,
        id: RequestId,
        outcome: Outcome,
        timeline: &mut Timeline,
        record: &mut LabRecord,
        now: u64,
    ) -> Vec<LabCommand> {
        let waiting = match &self.stage {
            Stage::Attacker { id, .. }
            | Stage::Real { id, .. }
            | Stage::Refresh { id, .. }
            | Stage::StatusBefore { id, .. }
            | Stage::Replay { id, .. }
            | Stage::StatusAfter { id, .. } => Some(*id),
            Stage::Done => None,
        };
        if waiting != Some(id) {
            return Vec::new();
        }
        match std::mem::replace(&mut self.stage, Stage::Done) {
            Stage::Attacker { step, .. } => {
                let defence = if self.answers.is_empty() {
                    DEFENCE_NONE
                } else {
                    DEFENCE_WRONG
                };
                let answer = attack::attack_answer(timeline, step, outcome, defence, now);
                self.answers.push(answer);
                if self.answers.len() < 2 {
                    return self.attacker_try(timeline, now);
                }
                self.real_redemption(timeline, now)
            }
            Stage::Real { call, replay, .. } => {
                self.facts.cache_control =
                    outcome.as_ref().ok().and_then(|r| r.cache_control.clone());
                let real_answer = match &outcome {
                    Ok(response) => attack::read_token_answer(response),
                    Err(error) => TokenAnswer::Unreadable {
                        why: crate::protocol::error::Explain::what_happened(error),
                    },
                };
                let result = engine::token_response_received(timeline, &call, outcome, now);
                self.facts.redeemed = Some(result.is_ok());
                if let [no_verifier, wrong_verifier] = &self.answers[..] {
                    let stolen =
                        attack::stolen_code_report(no_verifier, wrong_verifier, &real_answer);
                    record.set_report(stolen);
                }
                let tokens = match result {
                    Ok(tokens) => tokens,
                    Err(problem) => {
                        if self.checkup {
                            // Only what the callback itself showed can be graded without tokens.
                            let evidence = of(timeline, &[StepKind::RedirectBack]);
                            if let Some(card) = record.scorecard.as_mut() {
                                let (v, d) = checkup::judge_iss(
                                    self.iss_advertised,
                                    Some(self.facts.iss_returned),
                                );
                                card.record(Check::IssInResponse, v, d, evidence);
                            }
                        }
                        return self.stop(problem);
                    }
                };
                let first = tokens.access_token.clone();
                if let (true, Some(refresh)) = (self.checkup, &tokens.refresh_token) {
                    if let Ok(call) = lifecycle::refresh_started(
                        timeline,
                        &self.token_endpoint,
                        refresh,
                        &self.client_id,
                        &tokens.granted_scope,
                        false,
                        now,
                    ) {
                        let id = self.take_id();
                        let request = HttpRequest::form(&call.request);
                        self.stage = Stage::Refresh {
                            id,
                            call,
                            first,
                            replay,
                        };
                        return vec![LabCommand::Fetch { id, request }];
                    }
                }
                self.status_before(first, replay, timeline, now)
            }
            Stage::Refresh {
                call,
                first,
                replay,
                ..
            } => {
                let old = call.old_refresh.secret().to_owned();
                // What the answer itself carried: none (LemonLDAP::NG), the same, or a new one.
                let returned = outcome.as_ref().ok().and_then(|r| {
                    serde_json::from_str::<serde_json::Value>(&r.body)
                        .ok()?
                        .get("refresh_token")?
                        .as_str()
                        .map(str::to_owned)
                });
                if lifecycle::refresh_response_received(timeline, &call, outcome, now).is_ok() {
                    self.facts.rotation = Some((old, returned));
                }
                self.status_before(first, replay, timeline, now)
            }
            Stage::StatusBefore {
                step,
                first,
                replay,
                ..
            } => {
                let before = status_of(timeline, step, outcome, now);
                let request = replay;
                let params = vec![
                    self.code_chip(),
                    Param::public("code_verifier", "the victim's, copied"),
                ];
                let step = attack::attack_request(
                    timeline,
                    "Replay the same token request (code and right verifier)",
                    &request,
                    params,
                    now,
                );
                let id = self.take_id();
                self.stage = Stage::Replay {
                    id,
                    step,
                    first,
                    before,
                };
                vec![LabCommand::Fetch {
                    id,
                    request: HttpRequest::form(&request),
                }]
            }
            Stage::Replay {
                step,
                first,
                before,
                ..
            } => {
                let second = attack::attack_answer(timeline, step, outcome, "single-use code", now);
                self.facts.single_use = match &second {
                    TokenAnswer::Refused { .. } => Some(true),
                    TokenAnswer::Tokens { .. } => Some(false),
                    TokenAnswer::Unreadable { .. } => None,
                };
                match self.resource_call(&first, timeline, now) {
                    Some((id, step, request)) => {
                        self.stage = Stage::StatusAfter {
                            id,
                            step,
                            before,
                            second,
                        };
                        vec![LabCommand::Fetch { id, request }]
                    }
                    None => self.finish(second, before, None, timeline, record),
                }
            }
            Stage::StatusAfter {
                step,
                before,
                second,
                ..
            } => {
                let after = status_of(timeline, step, outcome, now);
                self.finish(second, before, after, timeline, record)
            }
            Stage::Done => Vec::new(),
        }
    }

    /// The real client redeems the code with its own verifier (moved into the request).
    fn real_redemption(&mut self, timeline: &mut Timeline, now: u64) -> Vec<LabCommand> {
        let Some(authorized) = self.authorized.take() else {
            return self.stop(attack::cannot_start("The code was already used."));
        };
        match engine::token_request_started(timeline, authorized, None, now) {
            Ok(call) => {
                // The attacker's copy of the exact request, for the replay.
                let replay = call.request.replay_copy();
                let id = self.take_id();
                let request = HttpRequest::form(&call.request);
                self.stage = Stage::Real { id, call, replay };
                vec![LabCommand::Fetch { id, request }]
            }
            Err(problem) => self.stop(problem),
        }
    }

    /// The first tokens at the API before the replay (or straight to the replay without one).
    fn status_before(
        &mut self,
        first: AccessToken,
        replay: TokenRequest,
        timeline: &mut Timeline,
        now: u64,
    ) -> Vec<LabCommand> {
        match self.resource_call(&first, timeline, now) {
            Some((id, step, request)) => {
                self.stage = Stage::StatusBefore {
                    id,
                    step,
                    first,
                    replay,
                };
                vec![LabCommand::Fetch { id, request }]
            }
            None => {
                // No API to try the tokens at: the replay still runs.
                let id = self.take_id();
                let step = attack::attack_request(
                    timeline,
                    "Replay the same token request (code and right verifier)",
                    &replay,
                    vec![
                        self.code_chip(),
                        Param::public("code_verifier", "the victim's, copied"),
                    ],
                    now,
                );
                let request = HttpRequest::form(&replay);
                self.stage = Stage::Replay {
                    id,
                    step,
                    first,
                    before: None,
                };
                vec![LabCommand::Fetch { id, request }]
            }
        }
    }

    fn resource_call(
        &mut self,
        token: &AccessToken,
        timeline: &mut Timeline,
        now: u64,
    ) -> Option<(RequestId, StepId, HttpRequest)> {
        let url = self.resource_url.clone()?;
        let (step, header) = engine::resource_request_started(timeline, &url, token, now);
        Some((self.take_id(), step, HttpRequest::get(&url, Some(header))))
    }

    /// The reports and (checkup) the login-only lines.
    fn finish(
        &mut self,
        second: TokenAnswer,
        before: Option<u16>,
        after: Option<u16>,
        timeline: &mut Timeline,
        record: &mut LabRecord,
    ) -> Vec<LabCommand> {
        if after == Some(401) {
            attack::replay_revoked_the_tokens(timeline);
        }
        // Only a token that worked before the replay tells anything by failing after it.
        self.facts.revoked_status = match before {
            Some(200..=299) => after,
            _ => None,
        };
        record.set_report(attack::replay_report(&second, before, after));
        if self.checkup {
            self.record_login_facts(timeline, record);
        }
        self.stage = Stage::Done;
        vec![LabCommand::Finished { problem: None }]
    }

    /// Records what the checkup's login taught.
    fn record_login_facts(&self, timeline: &Timeline, record: &mut LabRecord) {
        let facts = &self.facts;
        let Some(card) = record.scorecard.as_mut() else {
            return;
        };
        let token = of(timeline, &[StepKind::TokenRequest, StepKind::TokenResponse]);
        let (v, d) = checkup::judge_public_clients(None, facts.redeemed);
        if card.finding(Check::PublicClients).verdict != Verdict::Pass || v == Verdict::Pass {
            card.record(Check::PublicClients, v, d, token.clone());
        }
        let (v, d) = checkup::judge_iss(self.iss_advertised, Some(facts.iss_returned));
        card.record(
            Check::IssInResponse,
            v,
            d,
            of(timeline, &[StepKind::RedirectBack]),
        );
        let (v, d) = checkup::judge_no_store(facts.cache_control.as_deref());
        card.record(Check::NoStore, v, d, token);
        let (v, d) = checkup::judge_single_use(facts.single_use.map(|refused| !refused));
        card.record(
            Check::CodeSingleUse,
            v,
            d,
            of(
                timeline,
                &[StepKind::AttackRequest, StepKind::AttackResponse],
            ),
        );
        let (v, d) = checkup::judge_replay_revocation(facts.revoked_status);
        card.record(
            Check::ReplayRevokes,
            v,
            d,
            of(
                timeline,
                &[StepKind::ResourceRequest, StepKind::ResourceResponse],
            ),
        );
        let (v, d) = match &facts.rotation {
            Some((old, new)) => checkup::judge_rotation(Some(old), new.as_deref()),
            None => checkup::judge_rotation(None, None),
        };
        card.record(
            Check::RefreshRotates,
            v,
            d,
            of(
                timeline,
                &[StepKind::RefreshRequest, StepKind::RefreshResponse],
            ),
        );
    }
}

/// The steps of `kinds`, as evidence.
fn of(timeline: &Timeline, kinds: &[StepKind]) -> Vec<Step> {
    timeline
        .steps()
        .iter()
        .filter(|s| kinds.contains(&s.kind))
        .cloned()
        .collect()
}

/// Records a resource answer and returns its status.
fn status_of(timeline: &mut Timeline, step: StepId, outcome: Outcome, now: u64) -> Option<u16> {
    let status = outcome.as_ref().ok().map(|r| r.status);
    let _ = engine::resource_response_received(timeline, step, outcome, now);
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::attack::{Experiment, Outcome as Verdict2};
    use crate::flow::checkup::Scorecard;
    use crate::flow::scripted::fixtures::{checked_login, ISSUER};
    use crate::protocol::http::HttpResponse;

    const API: &str = "https://api.example/api/profile";

    fn json(status: u16, body: &str) -> Outcome {
        let mut response = HttpResponse::json(status, body);
        response.cache_control = Some("no-store".into());
        Ok(response)
    }

    fn invalid_grant() -> Outcome {
        json(400, r#"{"error":"invalid_grant"}"#)
    }

    fn tokens(access: &str, refresh: Option<&str>) -> Outcome {
        let refresh = refresh
            .map(|r| format!(r#","refresh_token":"{r}""#))
            .unwrap_or_default();
        json(
            200,
            &format!(
                r#"{{"access_token":"{access}","token_type":"Bearer","expires_in":60{refresh}}}"#
            ),
        )
    }

    /// A lab login's checked callback (PKCE, `iss` returned), and the verifier it holds.
    fn authorized(timeline: &mut Timeline) -> (AuthorizedCallback, String) {
        let login = checked_login(timeline, "read:profile offline_access", "c0de");
        (login.authorized, login.verifier)
    }

    fn fetch(commands: &[LabCommand]) -> (RequestId, &HttpRequest) {
        match commands {
            [LabCommand::Fetch { id, request }] => (*id, request),
            other => panic!("expected one Fetch, got {other:?}"),
        }
    }

    fn body(request: &HttpRequest) -> String {
        request.body.clone().unwrap_or_default()
    }

    fn record(checkup: bool) -> LabRecord {
        let mut record = LabRecord::default();
        if checkup {
            record.scorecard = Some(Scorecard::new(
                ISSUER,
                "flow-lab",
                "https://app.example",
                "other",
            ));
        }
        record
    }

    #[test]
    fn rfc7636_rfc6749_4_1_2_code_experiments_as_commands_stolen_code_refused_replay_refused_tokens_revoked(
    ) {
        let mut timeline = Timeline::new();
        let (authorized, verifier) = authorized(&mut timeline);
        let mut record = record(false);
        let (mut run, commands) = CodeRun::start(
            authorized,
            false,
            [42; 32],
            Some(API.into()),
            true,
            &mut timeline,
            10,
        );
        // 1. The attacker's token request without a verifier.
        let (id, request) = fetch(&commands);
        assert_eq!(request.url, "https://as.example/token");
        assert!(body(request).contains("code=c0de") && !body(request).contains("code_verifier"));
        let commands = run.answered(id, invalid_grant(), &mut timeline, &mut record, 11);
        // 2. With a guessed verifier (not the real one).
        let (id, request) = fetch(&commands);
        assert!(body(request).contains("code_verifier=") && !body(request).contains(&verifier));
        let commands = run.answered(id, invalid_grant(), &mut timeline, &mut record, 12);
        // 3. The real client, with the real verifier.
        let (id, request) = fetch(&commands);
        assert!(body(request).contains(&format!("code_verifier={verifier}")));
        let real_body = body(request);
        let commands = run.answered(id, tokens("first", None), &mut timeline, &mut record, 13);
        let report = record.report(Experiment::StolenCode).unwrap();
        assert_eq!(report.outcome, Verdict2::Stopped, "{report:?}");
        // 4. The first tokens at the API.
        let (id, request) = fetch(&commands);
        assert_eq!((request.method, request.url.as_str()), ("GET", API));
        let commands = run.answered(id, json(200, "{}"), &mut timeline, &mut record, 14);
        // 5. The attacker replays the exact request, real verifier and all.
        let (id, request) = fetch(&commands);
        assert_eq!(body(request), real_body);
        let commands = run.answered(id, invalid_grant(), &mut timeline, &mut record, 15);
        // 6. The first tokens again: revoked.
        let (id, _) = fetch(&commands);
        let commands = run.answered(id, json(401, "{}"), &mut timeline, &mut record, 16);
        assert!(matches!(
            commands[..],
            [LabCommand::Finished { problem: None }]
        ));
        assert!(!run.busy());
        let replay = record.report(Experiment::CodeReplay).unwrap();
        assert_eq!(replay.outcome, Verdict2::Stopped, "{replay:?}");
        assert!(
            replay.findings[1].contains("the provider revoked them"),
            "{replay:?}"
        );
        // A late answer changes nothing.
        assert!(run
            .answered(id, tokens("x", None), &mut timeline, &mut record, 17)
            .is_empty());
    }

    #[test]
    fn rfc7636_a_provider_that_hands_the_stolen_code_tokens_is_reported_as_the_attack_working() {
        let mut timeline = Timeline::new();
        let (authorized, _) = authorized(&mut timeline);
        let mut record = record(false);
        let (mut run, commands) =
            CodeRun::start(authorized, false, [42; 32], None, true, &mut timeline, 10);
        let (id, _) = fetch(&commands);
        let commands = run.answered(id, tokens("stolen", None), &mut timeline, &mut record, 11);
        let (id, _) = fetch(&commands);
        let commands = run.answered(id, invalid_grant(), &mut timeline, &mut record, 12);
        // The real client's redemption fails (the code was used): the run stops with why.
        let (id, _) = fetch(&commands);
        let commands = run.answered(id, invalid_grant(), &mut timeline, &mut record, 13);
        assert!(matches!(
            commands[..],
            [LabCommand::Finished { problem: Some(_) }]
        ));
        let report = record.report(Experiment::StolenCode).unwrap();
        assert_eq!(report.outcome, Verdict2::Succeeded, "{report:?}");
    }

    #[test]
    fn checkup_login_lines_single_use_no_store_rotation_and_revocation_are_graded_from_the_answers()
    {
        let mut timeline = Timeline::new();
        let (authorized, verifier) = authorized(&mut timeline);
        let mut record = record(true);
        let (mut run, commands) = CodeRun::start(
            authorized,
            true,
            [42; 32],
            Some(API.into()),
            true,
            &mut timeline,
            10,
        );
        // The checkup's login goes straight to the real client: no attacker tries that could
        // make a strict provider burn the code before any token answer is graded.
        let (id, request) = fetch(&commands);
        assert!(body(request).contains(&format!("code_verifier={verifier}")));
        let commands = run.answered(
            id,
            tokens("first", Some("r1")),
            &mut timeline,
            &mut record,
            13,
        );
        // The checkup refreshes once: the provider does not rotate.
        let (id, request) = fetch(&commands);
        assert!(body(request).contains("grant_type=refresh_token") && body(request).contains("r1"));
        let commands = run.answered(id, tokens("second", None), &mut timeline, &mut record, 14);
        let (id, _) = fetch(&commands);
        let commands = run.answered(id, json(200, "{}"), &mut timeline, &mut record, 15);
        let (id, _) = fetch(&commands);
        // The replay is answered with tokens: the code is not single-use.
        let commands = run.answered(id, tokens("third", None), &mut timeline, &mut record, 16);
        let (id, _) = fetch(&commands);
        run.answered(id, json(200, "{}"), &mut timeline, &mut record, 17);
        let card = record.scorecard.as_ref().unwrap();
        let verdict = |check| card.finding(check).verdict;
        assert_eq!(verdict(Check::CodeSingleUse), Verdict::Fail);
        assert_eq!(verdict(Check::NoStore), Verdict::Pass);
        assert_eq!(verdict(Check::IssInResponse), Verdict::Pass);
        assert_eq!(verdict(Check::PublicClients), Verdict::Pass);
        assert_eq!(verdict(Check::RefreshRotates), Verdict::Fail);
        let rotation = &crate::text::plain(&card.finding(Check::RefreshRotates).detail);
        assert!(
            rotation.contains("carried no new refresh token"),
            "{rotation}"
        );
        assert_ne!(verdict(Check::ReplayRevokes), Verdict::Pass);
        assert_eq!(
            record.report(Experiment::CodeReplay).unwrap().outcome,
            Verdict2::Succeeded
        );
    }

    #[test]
    fn rfc6749_4_1_2_a_token_the_api_refused_before_the_replay_proves_no_revocation() {
        let mut timeline = Timeline::new();
        let (authorized, _) = authorized(&mut timeline);
        let mut record = record(true);
        let (mut run, commands) = CodeRun::start(
            authorized,
            true,
            [42; 32],
            Some(API.into()),
            false,
            &mut timeline,
            10,
        );
        let (id, _) = fetch(&commands);
        let commands = run.answered(id, tokens("first", None), &mut timeline, &mut record, 11);
        // The API does not accept this provider's tokens at all: 401 before and after.
        let (id, _) = fetch(&commands);
        let commands = run.answered(id, json(401, "{}"), &mut timeline, &mut record, 12);
        let (id, _) = fetch(&commands);
        let commands = run.answered(id, invalid_grant(), &mut timeline, &mut record, 13);
        let (id, _) = fetch(&commands);
        run.answered(id, json(401, "{}"), &mut timeline, &mut record, 14);
        let card = record.scorecard.as_ref().unwrap();
        assert_eq!(card.finding(Check::ReplayRevokes).verdict, Verdict::Unknown);
        assert_eq!(card.finding(Check::CodeSingleUse).verdict, Verdict::Pass);
    }
}
