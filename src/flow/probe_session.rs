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
mod tests {
    use super::*;
    use crate::flow::attack::{Experiment, Outcome};
    use crate::flow::checkup::Scorecard;
    use crate::flow::timeline::StepKind;
    use crate::protocol::http::HttpResponse;

    const APP: &str = "http://127.0.0.1:8080/";

    fn target() -> ProbeTarget {
        ProbeTarget {
            issuer: "http://127.0.0.1:9000".into(),
            client_id: "flow-lab".into(),
            redirect_uri: APP.into(),
            scope: "openid read:profile".into(),
            authorization_endpoint: "http://127.0.0.1:9000/auth".into(),
            token_endpoint: "http://127.0.0.1:9000/token".into(),
            iss_advertised: true,
        }
    }

    fn entropy(n: u8) -> ProbeEntropy {
        ProbeEntropy {
            state: [n; 32],
            plain: [n + 100; 32],
        }
    }

    fn state_of(n: u8) -> String {
        State::from_random([n; 32]).secret().to_owned()
    }

    struct Lab {
        run: ProbeRun,
        timeline: Timeline,
        record: LabRecord,
    }

    impl Lab {
        fn start(
            kinds: &[ProbeKind],
            checkup: bool,
            interactive: bool,
        ) -> (Self, Vec<ProbeCommand>) {
            let mut timeline = Timeline::new();
            let mut record = LabRecord::default();
            if checkup {
                record.scorecard = Some(Scorecard::new(
                    "http://127.0.0.1:9000",
                    "flow-lab",
                    "http://127.0.0.1:8080",
                    "bundled",
                ));
            }
            let event = ProbeEvent::Started {
                target: target(),
                kinds: kinds.to_vec(),
                checkup,
                interactive,
                entropy: (1..=kinds.len() as u8).map(entropy).collect(),
                now: 1_000,
            };
            let (run, commands) = ProbeRun::start(event, &mut timeline, &mut record).unwrap();
            (
                Lab {
                    run,
                    timeline,
                    record,
                },
                commands,
            )
        }

        fn handle(&mut self, event: ProbeEvent) -> Vec<ProbeCommand> {
            self.run.handle(event, &mut self.timeline, &mut self.record)
        }

        fn back(&mut self, id: u32, query: &str) -> Vec<ProbeCommand> {
            self.handle(ProbeEvent::PopupReturned {
                id,
                url: format!("{APP}{query}"),
                now: 2_000,
            })
        }

        fn verdict(&self, check: Check) -> (Verdict, String) {
            let f = self.record.scorecard.as_ref().unwrap().finding(check);
            (f.verdict, f.detail.clone())
        }
    }

    fn opened(commands: &[ProbeCommand]) -> (u32, String, u32) {
        match commands {
            [ProbeCommand::OpenPopup {
                id,
                url,
                timeout_ms,
            }] => (*id, url.clone(), *timeout_ms),
            other => panic!("expected one OpenPopup, got {other:?}"),
        }
    }

    #[test]
    fn rfc9700_2_1_checkup_probes_run_one_after_another_in_the_popup_and_refusals_pass() {
        let (mut lab, first) = Lab::start(&ProbeKind::ALL, true, false);
        let (id, url, timeout) = opened(&first);
        assert_eq!(timeout, SILENT_TIMEOUT_MS);
        assert!(url.starts_with("http://127.0.0.1:9000/auth?response_type=code&"));
        assert!(
            url.ends_with("&prompt=none") && !url.contains("code_challenge"),
            "{url}"
        );
        let iss = "&iss=http%3A%2F%2F127.0.0.1%3A9000";
        let second = lab.back(
            id,
            &format!("?error=invalid_request&state={}{iss}", state_of(1)),
        );
        let (id2, url2, _) = opened(&second);
        assert!(
            id2 > id && url2.contains("code_challenge_method=plain"),
            "{url2}"
        );
        let third = lab.back(
            id2,
            &format!("?error=invalid_request&state={}{iss}", state_of(2)),
        );
        let (id3, url3, _) = opened(&third);
        assert!(url3.contains("response_type=token"), "{url3}");
        let last = lab.back(
            id3,
            &format!("#error=unsupported_response_type&state={}", state_of(3)),
        );
        assert_eq!(last, [ProbeCommand::ClosePopup]);
        assert!(!lab.run.busy() && lab.run.timed_out().is_empty());
        for check in [
            Check::PkceEnforced,
            Check::PlainRefused,
            Check::ImplicitRefused,
            Check::IssInResponse,
        ] {
            assert_eq!(lab.verdict(check).0, Verdict::Pass, "{check:?}");
        }
        let kinds: Vec<StepKind> = lab.timeline.steps().iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                StepKind::ProbeRequest,
                StepKind::ProbeAnswer,
                StepKind::ProbeRequest,
                StepKind::ProbeAnswer,
                StepKind::ProbeRequest,
                StepKind::ProbeAnswer
            ]
        );
        // The checkup reports the downgrade once both answers are in.
        let report = lab.record.report(Experiment::PkceDowngrade).unwrap();
        assert_eq!(report.outcome, Outcome::Stopped);
    }

    #[test]
    fn i15_a_probe_stuck_on_the_providers_page_is_graded_unknown_never_pass_or_fail() {
        let (mut lab, first) = Lab::start(&ProbeKind::ALL, true, false);
        // Each probe's state is remembered, for an answer that lands in the lab's own tab.
        assert_eq!(lab.record.probe_states, [state_of(1)]);
        let mut commands = first;
        for _ in 0..3 {
            let (id, _, _) = opened(&commands);
            commands = lab.handle(ProbeEvent::PopupTimedOut { id, now: 12_000 });
        }
        // Closed at the end; no fetch, nothing graded pass or fail.
        assert_eq!(commands, [ProbeCommand::ClosePopup]);
        for check in [
            Check::PkceEnforced,
            Check::PlainRefused,
            Check::ImplicitRefused,
            Check::IssInResponse,
        ] {
            let (verdict, detail) = lab.verdict(check);
            assert_eq!(verdict, Verdict::Unknown, "{check:?}: {detail}");
        }
        let (_, detail) = lab.verdict(Check::PkceEnforced);
        assert!(
            detail.contains("answered with its own page")
                && detail.contains("prompt=none may be unsupported"),
            "{detail}"
        );
        // The lab offers the same three probes interactively (kept in the saved record).
        assert_eq!(lab.run.timed_out(), ProbeKind::ALL);
        assert_eq!(lab.record.unanswered, ProbeKind::ALL);
        let saved = LabRecord::from_json(&lab.record.to_json());
        assert_eq!(saved.unanswered, ProbeKind::ALL);
        let answers = lab
            .timeline
            .steps()
            .iter()
            .filter(|s| s.kind == StepKind::ProbeAnswer)
            .count();
        assert_eq!(answers, 3);
        let downgrade = lab.record.report(Experiment::PkceDowngrade).unwrap();
        assert_eq!(downgrade.outcome, Outcome::Unknown);
        let implicit = lab.record.report(Experiment::Implicit).unwrap();
        assert_eq!(implicit.outcome, Outcome::Unknown);
    }

    #[test]
    fn i15_a_late_popup_answer_after_its_timeout_is_ignored() {
        let (mut lab, first) =
            Lab::start(&[ProbeKind::NoChallenge, ProbeKind::Implicit], false, false);
        let (id, _, _) = opened(&first);
        let next = lab.handle(ProbeEvent::PopupTimedOut { id, now: 12_000 });
        let (id2, _, _) = opened(&next);
        let steps = lab.timeline.steps().len();
        // The first trip's answer arrives now: it grades nothing and sends nothing.
        let late = lab.back(id, &format!("?error=invalid_request&state={}", state_of(1)));
        assert!(late.is_empty());
        assert_eq!(lab.timeline.steps().len(), steps);
        // Its stale timer neither.
        assert!(lab
            .handle(ProbeEvent::PopupTimedOut { id, now: 13_000 })
            .is_empty());
        assert!(lab.run.busy());
        let done = lab.back(
            id2,
            &format!("#error=unsupported_response_type&state={}", state_of(2)),
        );
        assert_eq!(done, [ProbeCommand::ClosePopup]);
    }

    #[test]
    fn i15_a_blocked_popup_waits_for_retry_and_sends_the_same_probe_again() {
        let (mut lab, first) = Lab::start(&[ProbeKind::Implicit], false, false);
        let (id, url, _) = opened(&first);
        assert!(lab.handle(ProbeEvent::PopupBlocked { id }).is_empty());
        assert!(lab.run.blocked());
        // Its timer may still fire: the probe is not graded meanwhile.
        assert!(lab
            .handle(ProbeEvent::PopupTimedOut { id, now: 9 })
            .is_empty());
        let again = lab.handle(ProbeEvent::RetryPressed { now: 20_000 });
        let (id2, url2, _) = opened(&again);
        assert_eq!(url2, url);
        assert_ne!(id2, id);
        assert!(!lab.run.blocked());
    }

    #[test]
    fn c_state_a_probe_answer_with_another_state_grades_nothing() {
        let (mut lab, first) = Lab::start(&[ProbeKind::NoChallenge], true, false);
        let (id, _, _) = opened(&first);
        lab.back(id, &format!("?code=stolen&state={}", state_of(9)));
        assert_eq!(lab.verdict(Check::PkceEnforced).0, Verdict::Unknown);
        // A code under another state is never redeemed by the lab.
        assert!(!lab.run.busy());
    }

    #[test]
    fn rfc9700_2_1_1_a_downgrade_code_is_redeemed_by_the_attackers_fetch_and_reported() {
        let (mut lab, first) = Lab::start(
            &[ProbeKind::NoChallenge, ProbeKind::PlainChallenge],
            false,
            false,
        );
        let (id, _, _) = opened(&first);
        let fetch = lab.back(id, &format!("?code=abc123&state={}", state_of(1)));
        let [ProbeCommand::Fetch { id: fid, request }] = &fetch[..] else {
            panic!("{fetch:?}");
        };
        assert_eq!(request.url, "http://127.0.0.1:9000/token");
        let body = request.body.clone().unwrap_or_default();
        assert!(body.contains("code=abc123") && !body.contains("code_verifier"));
        let tokens = HttpResponse {
            status: 200,
            content_type: Some("application/json".into()),
            body: r#"{"access_token":"at","token_type":"Bearer"}"#.into(),
            www_authenticate: None,
            cache_control: Some("no-store".into()),
            unread: None,
            dpop_nonce: None,
        };
        let next = lab.handle(ProbeEvent::HttpAnswered {
            id: *fid,
            outcome: Ok(tokens.clone()),
            now: 3_000,
        });
        let (id2, url2, _) = opened(&next);
        // The plain probe's challenge is the verifier the attacker reads from the URL.
        let plain = CodeVerifier::from_random([102; 32]).into_secret();
        assert!(url2.contains(&format!("code_challenge={plain}")), "{url2}");
        let fetch = lab.back(id2, &format!("?code=def456&state={}", state_of(2)));
        let [ProbeCommand::Fetch { id: fid2, request }] = &fetch[..] else {
            panic!("{fetch:?}");
        };
        let body = request.body.clone().unwrap_or_default();
        assert!(body.contains(&format!("code_verifier={plain}")));
        // No report until both answers are in.
        assert!(lab.record.report(Experiment::PkceDowngrade).is_none());
        let done = lab.handle(ProbeEvent::HttpAnswered {
            id: *fid2,
            outcome: Ok(tokens),
            now: 4_000,
        });
        assert_eq!(done, [ProbeCommand::ClosePopup]);
        let report = lab.record.report(Experiment::PkceDowngrade).unwrap();
        assert_eq!(report.outcome, Outcome::Succeeded);
        assert!(report.findings[0]
            .contains("the attacker then redeemed it: the provider handed out tokens"));
    }

    #[test]
    fn i15_interactive_probes_leave_out_prompt_none_and_wait_longer() {
        let (_, first) = Lab::start(&[ProbeKind::NoChallenge], true, true);
        let (_, url, timeout) = opened(&first);
        assert!(!url.contains("prompt="), "{url}");
        assert_eq!(timeout, INTERACTIVE_TIMEOUT_MS);
    }

    /// The checkup's eight probes: the two downgrade ones answered as refused, then the
    /// redirect control answered `login_required` after `rtt` ms.
    fn to_the_redirect_probes(rtt: u64) -> (Lab, u32, u32) {
        let (mut lab, first) = Lab::start(&ProbeKind::CHECKUP, true, false);
        let (id, _, _) = opened(&first);
        let next = lab.back(id, &format!("?error=invalid_request&state={}", state_of(1)));
        let (id, _, _) = opened(&next);
        let next = lab.back(id, &format!("?error=invalid_request&state={}", state_of(2)));
        let (control, url, timeout) = opened(&next);
        assert_eq!(timeout, SILENT_TIMEOUT_MS);
        assert!(url.contains("code_challenge_method=S256") && url.contains("nonce="));
        let sent = lab.timeline.steps().last().unwrap().started_at_ms;
        let next = lab.handle(ProbeEvent::PopupReturned {
            id: control,
            url: format!("{APP}?error=login_required&state={}", state_of(3)),
            now: sent + rtt,
        });
        let (first_altered, url, timeout) = opened(&next);
        assert!(
            url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fflow-lab-probe"),
            "{url}"
        );
        // Twice the control's round trip, at least REDIRECT_MIN_TIMEOUT_MS.
        assert_eq!(
            timeout,
            (2 * rtt as u32).clamp(REDIRECT_MIN_TIMEOUT_MS, SILENT_TIMEOUT_MS)
        );
        (lab, control, first_altered)
    }

    #[test]
    fn rfc9700_4_1_3_altered_redirect_uris_that_never_come_back_pass_once_the_control_did() {
        let (mut lab, _, mut id) = to_the_redirect_probes(3_000);
        let mut sent = Vec::new();
        for n in 0..4 {
            sent.push(lab.run.current.as_ref().unwrap().url.clone());
            let next = lab.handle(ProbeEvent::PopupTimedOut { id, now: 20_000 });
            let (next_id, url, _) = opened(&next);
            id = next_id;
            if n == 3 {
                // The line is graded before the implicit probe, which comes last.
                assert!(url.contains("response_type=token"), "{url}");
            }
        }
        let done = lab.back(
            id,
            &format!("#error=unsupported_response_type&state={}", state_of(8)),
        );
        assert_eq!(done, [ProbeCommand::ClosePopup]);
        for (url, alteration) in sent.iter().zip([
            "%2Fflow-lab-probe",
            "%2F%3Fflow_lab_probe%3D1",
            "8080&",
            "HTTP%3A%2F%2F",
        ]) {
            assert!(url.contains(alteration), "{url} lacks {alteration}");
        }
        let (verdict, detail) = lab.verdict(Check::RedirectUriExact);
        assert_eq!(verdict, Verdict::Pass, "{detail}");
        assert!(detail.contains("its own page, no redirect"), "{detail}");
        // Silence is the good outcome here: nothing is offered again interactively.
        assert!(lab.run.timed_out().is_empty() && lab.record.unanswered.is_empty());
        let steps = lab.timeline.steps();
        // The last altered URI's step, before the implicit probe's request and answer.
        let held = &steps[steps.len() - 3];
        assert_eq!(
            held.label,
            "No redirect back: the provider showed its own page"
        );
        assert!(!held.is_failed() && held.defence.is_some());
        // The control's login_required never graded a downgrade line or got redeemed.
        assert_eq!(lab.verdict(Check::PkceEnforced).0, Verdict::Pass);
    }

    #[test]
    fn rfc9700_4_1_3_a_code_sent_to_an_altered_redirect_uri_fails_the_line_and_is_never_redeemed() {
        let (mut lab, _, id) = to_the_redirect_probes(500);
        // The path suffix gets a code (a prefix matcher).
        let next = lab.handle(ProbeEvent::PopupReturned {
            id,
            url: format!("{APP}flow-lab-probe?code=leaked&state={}", state_of(4)),
            now: 30_000,
        });
        let (id, _, _) = opened(&next);
        // The extra query parameter: an error redirected to it (a warning of its own).
        let next = lab.back(id, &format!("?error=invalid_request&state={}", state_of(5)));
        let (id, _, _) = opened(&next);
        let next = lab.handle(ProbeEvent::PopupTimedOut { id, now: 40_000 });
        let (id, _, _) = opened(&next);
        let implicit = lab.handle(ProbeEvent::PopupTimedOut { id, now: 50_000 });
        // No attacker's fetch: a redirect probe's code is never redeemed.
        let (_, url, _) = opened(&implicit);
        assert!(url.contains("response_type=token"), "{url}");
        let (verdict, detail) = lab.verdict(Check::RedirectUriExact);
        assert_eq!(verdict, Verdict::Fail, "{detail}");
        assert!(
            detail.contains("redirect_uri + path suffix (http://127.0.0.1:8080/flow-lab-probe): a code was sent there"),
            "{detail}"
        );
        assert!(detail.contains("RFC 6749 §4.1.2.1"), "{detail}");
        let hint = lab
            .record
            .scorecard
            .as_ref()
            .unwrap()
            .finding(Check::RedirectUriExact)
            .hint
            .clone();
        assert!(hint.is_some());
    }

    #[test]
    fn rfc9700_4_1_3_without_the_control_back_the_altered_uris_are_not_sent_and_unknown() {
        let (mut lab, first) = Lab::start(&ProbeKind::REDIRECT, true, false);
        let (id, url, _) = opened(&first);
        assert!(
            url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2F&"),
            "{url}"
        );
        let done = lab.handle(ProbeEvent::PopupTimedOut { id, now: 12_000 });
        assert_eq!(done, [ProbeCommand::ClosePopup]);
        let (verdict, detail) = lab.verdict(Check::RedirectUriExact);
        assert_eq!(verdict, Verdict::Unknown, "{detail}");
        assert!(detail.contains("proves nothing"), "{detail}");
        // All five are offered interactively, control first.
        assert_eq!(lab.record.unanswered, ProbeKind::REDIRECT);
    }

    #[test]
    fn i15_a_probe_that_never_came_back_is_drawn_without_a_redirect_leg() {
        let (mut lab, first) = Lab::start(&[ProbeKind::Implicit], false, false);
        let (id, _, _) = opened(&first);
        lab.handle(ProbeEvent::PopupTimedOut { id, now: 12_000 });
        let steps = lab.timeline.steps();
        let unanswered = steps.last().unwrap();
        assert_eq!(
            unanswered.label,
            "No redirect back: the provider showed its own page"
        );
        let drawn = crate::diagram::layout::layout(steps, 1280.0);
        let row = drawn.rows.last().unwrap();
        // One arrow from the provider to the browser: no "302 Location: URL" leg, no GET back.
        assert!(
            row.legs.is_empty(),
            "{:?}",
            row.legs.iter().map(|l| l.tag).collect::<Vec<_>>()
        );
        assert!(row.label_lines.join(" ").contains("showed its own page"));
        // The request before it still goes out through the browser (two legs).
        assert_eq!(drawn.rows[0].legs.len(), 2);
    }

    #[test]
    fn rfc9700_4_1_3_an_altered_uri_whose_window_the_user_closed_is_not_graded_as_refused() {
        let (mut lab, _, id) = to_the_redirect_probes(1_000);
        let next = lab.handle(ProbeEvent::PopupClosed { id, now: 9_000 });
        let mut id = opened(&next).0;
        for _ in 0..3 {
            let next = lab.handle(ProbeEvent::PopupTimedOut { id, now: 20_000 });
            id = opened(&next).0;
        }
        let (verdict, detail) = lab.verdict(Check::RedirectUriExact);
        assert_eq!(verdict, Verdict::Unknown, "{detail}");
        assert!(
            detail.contains("was closed before the wait was over"),
            "{detail}"
        );
    }
}
