//! PURE: the attack lab's front-channel probes as a sans-I/O session. The three `prompt=none`
//! probes of the checkup and the downgrade and implicit experiments run in a popup window (issue
//! 15): this session says which URL the popup must open and when to give up on it, reads what
//! came back, draws the steps, grades the scorecard and writes the reports. The driver opens the
//! window, runs the timer and the attacker's fetch, and hands the results back as events; time
//! and entropy come in with the events, so every transition is a host test.

use crate::flow::attack::{self, DowngradeAnswer, LabRecord, TokenAnswer};
use crate::flow::checkup::{self, Check, RedirectAnswer, RedirectResult, Verdict};
use crate::flow::engine::mask_callback_query;
use crate::flow::session::{HttpRequest, Outcome, RequestId};
use crate::flow::timeline::{Step, StepId, Timeline};
use crate::protocol::pkce::CodeVerifier;
use crate::protocol::probe::{
    altered_redirect_uri, read_probe_return, ProbeAnswer, ProbeKind, ProbeRequest,
};
use crate::protocol::secret::AuthorizationCode;
use crate::protocol::state::State;
use crate::protocol::token::attacker_code_request;

/// How long a `prompt=none` probe may take before its window counts as stuck on a page of the
/// provider's own (an answer takes one redirect; the popup also loads this app: a few seconds).
pub const SILENT_TIMEOUT_MS: u32 = 10_000;
/// How long an interactive probe waits for the user to sign in or consent in the popup.
pub const INTERACTIVE_TIMEOUT_MS: u32 = 180_000;

/// What a timed-out `prompt=none` probe means, in one plain sentence (graded unknown).
pub const SILENT_TIMEOUT: &str = "the provider answered with its own page (a login form, a \
     consent or an error page) instead of redirecting back; prompt=none may be unsupported, so \
     this line cannot be graded silently — run the probes interactively to grade it";
/// What a timed-out interactive probe means.
pub const INTERACTIVE_TIMEOUT: &str = "the probe window was closed, or did not come back \
     within 3 minutes: the provider kept it on a page of its own (an error page, or a sign-in \
     that was not finished)";

/// How many probe `state`s the lab remembers (two runs of the checkup's eight probes).
pub const MAX_REMEMBERED_STATES: usize = 16;

/// The shortest wait for an altered redirect URI. Once the control came back, a provider that
/// accepts an altered URI redirects as fast; the opener also reads the window's address at the
/// deadline, so a redirect to a page of this origin counts even before the app has loaded.
pub const REDIRECT_MIN_TIMEOUT_MS: u32 = 4_000;

/// Where the probes go: read from the settings and the provider's metadata by the driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeTarget {
    /// The issuer probed.
    pub issuer: String,
    /// The public client id.
    pub client_id: String,
    /// The registered redirect URI (this app), where the popup comes back.
    pub redirect_uri: String,
    /// Scopes sent with each probe.
    pub scope: String,
    /// The provider's `authorization_endpoint`.
    pub authorization_endpoint: String,
    /// Where a returned code would be redeemed by the attacker.
    pub token_endpoint: String,
    /// Whether the metadata promises `iss` on authorization responses (RFC 9207).
    pub iss_advertised: bool,
}

/// Fresh randomness for one probe (its `state`, and the `plain` challenge if it needs one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeEntropy {
    /// Bytes of the probe's `state`.
    pub state: [u8; 32],
    /// Bytes of the verifier-shaped value a `plain` probe sends as its challenge.
    pub plain: [u8; 32],
}

/// What happened, as the driver reports it.
#[derive(Debug)]
pub enum ProbeEvent {
    /// The user pressed Run (checkup, downgrade, implicit, or Run interactively): the popup
    /// window was opened from the click (user activation) before this event.
    Started {
        /// Where to probe.
        target: ProbeTarget,
        /// The probes, in order.
        kinds: Vec<ProbeKind>,
        /// Whether the checkup's scorecard records the answers.
        checkup: bool,
        /// Without `prompt=none`: the user signs in or consents in the popup.
        interactive: bool,
        /// One entry per probe, in order.
        entropy: Vec<ProbeEntropy>,
        /// Epoch ms.
        now: u64,
    },
    /// The popup came back to the redirect URI and handed its full URL over.
    PopupReturned {
        /// The popup id of the `OpenPopup` command.
        id: u32,
        /// The URL the popup landed on (same origin, checked by the driver).
        url: String,
        /// Epoch ms.
        now: u64,
    },
    /// The timer of `OpenPopup { id }` fired before the popup came back.
    PopupTimedOut {
        /// The popup id.
        id: u32,
        /// Epoch ms.
        now: u64,
    },
    /// The user closed the probe window before it came back or timed out.
    PopupClosed {
        /// The popup id.
        id: u32,
        /// Epoch ms.
        now: u64,
    },
    /// The browser refused to open (or navigate) the popup window.
    PopupBlocked {
        /// The popup id.
        id: u32,
    },
    /// The user pressed Retry after a blocked popup (the window was opened from that click).
    RetryPressed {
        /// Epoch ms.
        now: u64,
    },
    /// The attacker's token request came back.
    HttpAnswered {
        /// The id of the `Fetch` command.
        id: RequestId,
        /// What the network gave.
        outcome: Outcome,
        /// Epoch ms.
        now: u64,
    },
}

/// What the driver must do.
#[derive(Debug, PartialEq, Eq)]
pub enum ProbeCommand {
    /// Load `url` in the probe window (open it if needed) and start a timer of `timeout_ms`
    /// that reports `PopupTimedOut { id }`.
    OpenPopup {
        /// Names this trip of the popup (answers and timers of older trips are ignored).
        id: u32,
        /// The authorization request.
        url: String,
        /// When to give up.
        timeout_ms: u32,
    },
    /// Close the probe window (all probes are done, or it is stuck on the provider's page).
    ClosePopup,
    /// POST the attacker's token request; its answer comes back as `HttpAnswered { id }`.
    Fetch {
        /// Names the answer.
        id: RequestId,
        /// The form POST.
        request: HttpRequest,
    },
}

/// The probe in flight.
#[derive(Clone)]
struct InFlight {
    kind: ProbeKind,
    state: String,
    plain: Option<String>,
    url: String,
    /// When it was sent (epoch ms): the control's round trip sets the altered URIs' wait.
    sent_at: u64,
    /// The popup trip (or, while redeeming, the fetch) this probe waits for.
    waiting: Waiting,
}

#[derive(Clone)]
enum Waiting {
    Popup(u32),
    /// The popup was blocked: the same URL is sent again on Retry.
    Blocked,
    /// A downgrade probe got a code: the attacker redeems it.
    Redemption {
        id: RequestId,
        step: StepId,
        sentence: String,
    },
}

/// One batch of probes. Each variant of `Waiting` carries exactly what its moment needs.
pub struct ProbeRun {
    target: ProbeTarget,
    checkup: bool,
    interactive: bool,
    queue: Vec<(ProbeKind, ProbeEntropy)>,
    current: Option<InFlight>,
    next_id: u32,
    /// Probes that timed out: the lab offers to run them interactively.
    timed_out: Vec<ProbeKind>,
    /// The redirect-URI control's round trip (ms), once it came back.
    control_rtt: Option<u64>,
    /// The altered redirect URIs' results, graded as one line when the last is in.
    redirect: Vec<RedirectResult>,
}

impl ProbeRun {
    /// A run started by `ProbeEvent::Started`, with its first commands (or `None` for any other
    /// event: a run begins only there).
    pub fn start(
        event: ProbeEvent,
        timeline: &mut Timeline,
        record: &mut LabRecord,
    ) -> Option<(Self, Vec<ProbeCommand>)> {
        let ProbeEvent::Started {
            target,
            kinds,
            checkup,
            interactive,
            entropy,
            now,
        } = event
        else {
            return None;
        };
        if kinds.iter().any(|k| is_downgrade(*k)) {
            record.downgrade.clear();
        }
        record.unanswered.clear();
        let mut run = ProbeRun {
            target,
            checkup,
            interactive,
            queue: kinds.into_iter().zip(entropy).collect(),
            current: None,
            next_id: 1,
            timed_out: Vec::new(),
            control_rtt: None,
            redirect: Vec::new(),
        };
        let commands = run.next_probe(timeline, record, now);
        Some((run, commands))
    }

    /// Whether a probe is still waiting for its popup, its fetch or a retry.
    pub fn busy(&self) -> bool {
        self.current.is_some()
    }

    /// Whether the popup was blocked and the lab waits for Retry.
    pub fn blocked(&self) -> bool {
        matches!(
            self.current,
            Some(InFlight {
                waiting: Waiting::Blocked,
                ..
            })
        )
    }

    /// The probes whose window did not come back (run silently): offered interactively.
    pub fn timed_out(&self) -> &[ProbeKind] {
        if self.interactive {
            &[]
        } else {
            &self.timed_out
        }
    }

    /// Whether this run records on the checkup's scorecard.
    pub fn checkup(&self) -> bool {
        self.checkup
    }

    /// Where this run probes.
    pub fn target(&self) -> &ProbeTarget {
        &self.target
    }

    /// Takes one event; appends steps, grades, and says what the driver must do. Answers for a
    /// popup trip or fetch this run no longer waits for are ignored.
    pub fn handle(
        &mut self,
        event: ProbeEvent,
        timeline: &mut Timeline,
        record: &mut LabRecord,
    ) -> Vec<ProbeCommand> {
        let Some(current) = self.current.clone() else {
            return Vec::new();
        };
        match (event, &current.waiting) {
            (ProbeEvent::PopupReturned { id, url, now }, Waiting::Popup(w)) if id == *w => {
                self.returned(&url, timeline, record, now)
            }
            (ProbeEvent::PopupClosed { id, now }, Waiting::Popup(w))
                if id == *w && current.kind.alters_redirect() =>
            {
                // Closed before the wait was over: silence was not observed, so not graded.
                let what = "the probe window was closed before the wait was over";
                attack::probe_timed_out(timeline, current.kind, what, now);
                self.redirect_result(current.kind, RedirectAnswer::Unclear(what.to_owned()));
                self.next_probe(timeline, record, now)
            }
            (ProbeEvent::PopupClosed { id, now }, Waiting::Popup(w)) if id == *w => {
                // Like a timeout for every other probe (the sentence says "closed, or").
                self.handle(ProbeEvent::PopupTimedOut { id, now }, timeline, record)
            }
            (ProbeEvent::PopupTimedOut { id, now }, Waiting::Popup(w))
                if id == *w && current.kind.alters_redirect() =>
            {
                // No redirect to the altered URI: the provider kept its own page. The good
                // outcome (the control proved it redirects when the URI is right).
                attack::redirect_probe_held(timeline, current.kind, now);
                self.redirect_result(current.kind, RedirectAnswer::Held);
                self.next_probe(timeline, record, now)
            }
            (ProbeEvent::PopupTimedOut { id, now }, Waiting::Popup(w)) if id == *w => {
                let what = if self.interactive {
                    INTERACTIVE_TIMEOUT
                } else {
                    SILENT_TIMEOUT
                };
                let kind = current.kind;
                self.timed_out.push(kind);
                if kind == ProbeKind::RedirectRegistered {
                    // The altered URIs that follow are skipped by `next_probe`.
                    attack::probe_timed_out(timeline, kind, what, now);
                    return self.next_probe(timeline, record, now);
                }
                let answer = ProbeAnswer::Unclear {
                    what: what.to_owned(),
                };
                attack::probe_timed_out(timeline, kind, what, now);
                // The window is on the provider's page: the next probe navigates it away, the
                // last one closes it.
                self.graded(kind, &answer, None, None, timeline, record, now)
            }
            (ProbeEvent::PopupBlocked { id }, Waiting::Popup(w)) if id == *w => {
                if let Some(c) = self.current.as_mut() {
                    c.waiting = Waiting::Blocked;
                }
                Vec::new()
            }
            (ProbeEvent::RetryPressed { .. }, Waiting::Blocked) => {
                let id = self.take_id();
                let url = current.url.clone();
                if let Some(c) = self.current.as_mut() {
                    c.waiting = Waiting::Popup(id);
                }
                vec![self.open(id, url)]
            }
            (
                ProbeEvent::HttpAnswered { id, outcome, now },
                Waiting::Redemption {
                    id: w,
                    step,
                    sentence,
                },
            ) if id == *w => {
                let (kind, step) = (current.kind, *step);
                let defence = "PKCE (missing on this server)";
                let redeemed = attack::attack_answer(timeline, step, outcome, defence, now);
                let sentence = format!(
                    "{sentence}; the attacker then redeemed it: {}",
                    redeemed.sentence()
                );
                self.after_probe(kind, Some(true), sentence, timeline, record, now)
            }
            _ => Vec::new(),
        }
    }

    fn take_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn open(&self, id: u32, url: String) -> ProbeCommand {
        let alters = self
            .current
            .as_ref()
            .is_some_and(|c| c.kind.alters_redirect());
        let timeout_ms = match self.control_rtt {
            // Twice the control's round trip, within bounds: a human sign-in in an interactive
            // control is capped by the silent limit (the session exists by then).
            Some(rtt) if alters => (rtt.saturating_mul(2).min(u64::from(SILENT_TIMEOUT_MS)) as u32)
                .max(REDIRECT_MIN_TIMEOUT_MS),
            _ if self.interactive => INTERACTIVE_TIMEOUT_MS,
            _ => SILENT_TIMEOUT_MS,
        };
        ProbeCommand::OpenPopup {
            id,
            url,
            timeout_ms,
        }
    }

    /// Records one altered URI's result.
    fn redirect_result(&mut self, kind: ProbeKind, answer: RedirectAnswer) {
        let (uri, equivalent) =
            altered_redirect_uri(kind, &self.target.redirect_uri).unwrap_or_default();
        self.redirect.push(RedirectResult {
            kind,
            uri,
            equivalent,
            answer,
        });
    }

    /// Grades the redirect-URI line once no redirect probe is left in the queue.
    fn grade_redirect_when_done(&mut self, record: &mut LabRecord) {
        if self.redirect.is_empty() || self.queue.iter().any(|(k, _)| k.is_redirect()) {
            return;
        }
        let results = std::mem::take(&mut self.redirect);
        if !self.checkup {
            return;
        }
        let (v, d) = checkup::judge_redirect_uri(self.control_rtt.is_some(), &results);
        if let Some(card) = record.scorecard.as_mut() {
            card.record(Check::RedirectUriExact, v, d, Vec::new());
        }
    }

    /// Sends the next probe of the queue, or closes the popup when none is left.
    fn next_probe(
        &mut self,
        timeline: &mut Timeline,
        record: &mut LabRecord,
        now: u64,
    ) -> Vec<ProbeCommand> {
        self.current = None;
        // Without the control back, silence on an altered URI proves nothing: not sent, and
        // offered interactively with the control.
        while self.control_rtt.is_none()
            && self.queue.first().is_some_and(|(k, _)| k.alters_redirect())
        {
            let (kind, _) = self.queue.remove(0);
            self.timed_out.push(kind);
            self.redirect_result(kind, RedirectAnswer::Skipped);
        }
        self.grade_redirect_when_done(record);
        if self.queue.is_empty() {
            // Kept in the lab's record: the offer outlives the checkup login's page load.
            record.unanswered = self.timed_out().to_vec();
            return vec![ProbeCommand::ClosePopup];
        }
        let (kind, entropy) = self.queue.remove(0);
        let state = State::from_random(entropy.state);
        let plain = (kind == ProbeKind::PlainChallenge || kind.is_redirect())
            .then(|| CodeVerifier::from_random(entropy.plain).into_secret());
        let request = ProbeRequest {
            authorization_endpoint: &self.target.authorization_endpoint,
            client_id: &self.target.client_id,
            redirect_uri: &self.target.redirect_uri,
            scope: &self.target.scope,
            state: &state,
            kind,
            plain_challenge: plain.as_deref(),
        };
        let url = if self.interactive {
            request.to_interactive_url()
        } else {
            request.to_url()
        };
        let url = match url {
            Ok(url) => url,
            Err(error) => {
                // The endpoint is unusable: every probe would fail the same way.
                let what = format!(
                    "the authorization endpoint cannot be used: {}",
                    crate::protocol::error::Explain::what_happened(&error)
                );
                let answer = ProbeAnswer::Unclear { what };
                self.queue.clear();
                return self.graded(kind, &answer, None, None, timeline, record, now);
            }
        };
        attack::probe_request(timeline, kind, &url, now);
        // Remembered (the last few): a provider may send this answer to the lab's tab later.
        record.probe_states.push(state.secret().to_owned());
        let excess = record
            .probe_states
            .len()
            .saturating_sub(MAX_REMEMBERED_STATES);
        record.probe_states.drain(..excess);
        let id = self.take_id();
        self.current = Some(InFlight {
            kind,
            state: state.secret().to_owned(),
            plain,
            url: url.clone(),
            sent_at: now,
            waiting: Waiting::Popup(id),
        });
        vec![self.open(id, url)]
    }

    /// The popup came back: read, draw and grade the answer.
    fn returned(
        &mut self,
        url: &str,
        timeline: &mut Timeline,
        record: &mut LabRecord,
        now: u64,
    ) -> Vec<ProbeCommand> {
        let Some(current) = self.current.clone() else {
            return Vec::new();
        };
        let (rest, fragment) = url.split_once('#').unwrap_or((url, ""));
        let query = rest.split_once('?').map(|(_, q)| q).unwrap_or("");
        let mut answer = read_probe_return(current.kind, query, fragment);
        if answer.state.as_ref().map(State::secret) != Some(current.state.as_str())
            && !matches!(answer.answer, ProbeAnswer::Unclear { .. })
        {
            // An answer to another request (or a forged one) grades nothing.
            answer.answer = ProbeAnswer::Unclear {
                what: "the state that came back is not the probe's".to_owned(),
            };
        }
        attack::probe_answer(
            timeline,
            current.kind,
            &answer,
            &shown_answer_url(query, fragment),
            now,
        );
        if current.kind.is_redirect() {
            // Whatever came back, it was a redirect: never redeemed, graded as one line.
            if current.kind == ProbeKind::RedirectRegistered {
                self.control_rtt = Some(now.saturating_sub(current.sent_at));
            } else {
                let result = match &answer.answer {
                    ProbeAnswer::AcceptedCode { .. } | ProbeAnswer::AcceptedToken { .. } => {
                        RedirectAnswer::Code
                    }
                    ProbeAnswer::AcceptedNeedsLogin { error } => {
                        RedirectAnswer::NeedsLogin(error.clone())
                    }
                    ProbeAnswer::Refused { error, .. } => {
                        RedirectAnswer::ErrorRedirect(error.clone())
                    }
                    ProbeAnswer::Unclear { what } => RedirectAnswer::Unclear(what.clone()),
                };
                self.redirect_result(current.kind, result);
            }
            return self.next_probe(timeline, record, now);
        }
        let iss = Some(answer.iss.is_some());
        let code = match &answer.answer {
            ProbeAnswer::AcceptedCode { code } if current.kind != ProbeKind::Implicit => {
                Some(code.clone())
            }
            _ => None,
        };
        // The window stays open for the next probe (opening another one later, without the
        // click's user activation, would be blocked); the last probe closes it.
        self.graded(
            current.kind,
            &answer.answer,
            iss,
            code,
            timeline,
            record,
            now,
        )
    }

    /// Records one answer on the scorecard and the reports; a code from a downgrade probe is
    /// redeemed by the attacker first.
    #[allow(clippy::too_many_arguments)]
    fn graded(
        &mut self,
        kind: ProbeKind,
        answer: &ProbeAnswer,
        iss_returned: Option<bool>,
        code: Option<AuthorizationCode>,
        timeline: &mut Timeline,
        record: &mut LabRecord,
        now: u64,
    ) -> Vec<ProbeCommand> {
        if self.checkup {
            self.record_probe(kind, answer, iss_returned, timeline, record);
        }
        let sentence = attack::probe_sentence(answer);
        if let Some(code) = code {
            let plain = self.current.as_ref().and_then(|c| c.plain.clone());
            let target = &self.target;
            match attacker_code_request(
                &target.token_endpoint,
                &code,
                &target.redirect_uri,
                &target.client_id,
                plain.as_deref(),
            ) {
                Ok(request) => {
                    let label = if plain.is_some() {
                        "Redeem it with the challenge read from the URL as the verifier"
                    } else {
                        "Redeem it with no verifier at all"
                    };
                    let chip =
                        crate::flow::timeline::Param::secret("code", code.masked(), code.secret());
                    let step = attack::attack_request(timeline, label, &request, vec![chip], now);
                    let id = RequestId::from(self.take_id());
                    if let Some(c) = self.current.as_mut() {
                        c.waiting = Waiting::Redemption { id, step, sentence };
                    }
                    let request = HttpRequest::form(&request);
                    return vec![ProbeCommand::Fetch { id, request }];
                }
                Err(error) => {
                    let why = crate::protocol::error::Explain::what_happened(&error);
                    let sentence = format!(
                        "{sentence}; the attacker then redeemed it: {}",
                        TokenAnswer::Unreadable { why }.sentence()
                    );
                    return self.after_probe(kind, Some(true), sentence, timeline, record, now);
                }
            }
        }
        let accepted = attack::probe_accepted(answer);
        if kind == ProbeKind::Implicit {
            record.set_report(attack::implicit_report(answer));
        }
        self.after_probe(kind, accepted, sentence, timeline, record, now)
    }

    /// After a probe's answer: the downgrade report, then the next probe.
    fn after_probe(
        &mut self,
        kind: ProbeKind,
        accepted: Option<bool>,
        sentence: String,
        timeline: &mut Timeline,
        record: &mut LabRecord,
        now: u64,
    ) -> Vec<ProbeCommand> {
        if is_downgrade(kind) {
            record.downgrade.retain(|a| a.kind != kind);
            record.downgrade.push(DowngradeAnswer {
                kind,
                sentence,
                accepted,
            });
            // Reported once this run has no downgrade probe left (the page stays in one
            // phase until then, so the report is never half-written).
            if !self.queue.iter().any(|(k, _)| is_downgrade(*k)) {
                record.set_report(attack::downgrade_report(&record.downgrade));
            }
        }
        self.next_probe(timeline, record, now)
    }

    /// Grades the probe's scorecard line (and `iss` from the no-challenge probe).
    fn record_probe(
        &self,
        kind: ProbeKind,
        answer: &ProbeAnswer,
        iss_returned: Option<bool>,
        timeline: &Timeline,
        record: &mut LabRecord,
    ) {
        let steps = timeline.steps();
        let evidence: Vec<Step> = steps[steps.len().saturating_sub(2)..].to_vec();
        let check = match kind {
            ProbeKind::NoChallenge => Check::PkceEnforced,
            ProbeKind::PlainChallenge => Check::PlainRefused,
            ProbeKind::Implicit => Check::ImplicitRefused,
            // Graded together by `grade_redirect_when_done`.
            _ => return,
        };
        let Some(card) = record.scorecard.as_mut() else {
            return;
        };
        let (v, d) = checkup::judge_probe(check, answer);
        card.record(check, v, d, evidence.clone());
        if kind == ProbeKind::NoChallenge {
            match iss_returned {
                Some(returned) => {
                    let (v, d) = checkup::judge_iss(self.target.iss_advertised, Some(returned));
                    card.record(Check::IssInResponse, v, d, evidence);
                }
                // Nothing came back to look at: the login will tell.
                None => card.record(
                    Check::IssInResponse,
                    Verdict::Unknown,
                    "No authorization response came back from the probe; the login grades this \
                     line."
                        .to_owned(),
                    Vec::new(),
                ),
            }
        }
    }
}

/// The PKCE downgrade probes (their answers make the downgrade experiment's report).
fn is_downgrade(kind: ProbeKind) -> bool {
    matches!(kind, ProbeKind::NoChallenge | ProbeKind::PlainChallenge)
}

/// The query or fragment as shown in the inspector: every value but the harmless ones masked,
/// as for the lab's own callback (C-17, S-2).
pub fn shown_answer_url(query: &str, fragment: &str) -> String {
    let mut shown = String::from("/");
    if !query.is_empty() {
        shown.push_str(&mask_callback_query(&format!("?{query}")));
    }
    if !fragment.is_empty() {
        let masked = mask_callback_query(&format!("?{fragment}"));
        shown.push('#');
        shown.push_str(masked.trim_start_matches('?'));
    }
    shown
}

#[cfg(test)]
mod tests;
