//! PURE attack lab: the steps an attacker takes against the configured provider, the
//! provider's real answers, the defence that acted, and the ghost path of what would have
//! happened without it. The glue sends the requests and hands the answers in.

use crate::flow::checkup::Scorecard;
use crate::flow::engine::{form_post_exchange, mask_token_json, record_response};
use crate::flow::problem::{Problem, TransportError};
use crate::flow::server_check::{self, Proof};
use crate::flow::timeline::{
    Actor, Channel, HttpExchange, Param, Step, StepId, StepKind, StepStatus, Timeline,
};
use crate::protocol::error::sanitize_for_display;
use crate::protocol::http::HttpResponse;
use crate::protocol::probe::{ProbeAnswer, ProbeKind, ProbeReturn};
use crate::protocol::secret::{mask, AuthorizationCode};
use crate::protocol::token::{
    attacker_code_request, parse_token_response, TokenError, TokenRequest,
};
use crate::protocol::uri::parse_query;
use serde::{Deserialize, Serialize};

/// One guided experiment of the attack lab.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Experiment {
    /// An intercepted code redeemed without (or with a wrong) verifier.
    StolenCode,
    /// The same code redeemed twice; are the first tokens revoked?
    CodeReplay,
    /// A callback with the attacker's own code and a state this tab never issued.
    ForgedCallback,
    /// Authorization requests with `plain` or without a challenge.
    PkceDowngrade,
    /// `response_type=token`: tokens in the URL.
    Implicit,
}

impl Experiment {
    /// Every experiment, in the order the lab lists them.
    pub const ALL: [Experiment; 5] = [
        Experiment::StolenCode,
        Experiment::CodeReplay,
        Experiment::ForgedCallback,
        Experiment::PkceDowngrade,
        Experiment::Implicit,
    ];

    /// Stable id for the page and the tests.
    pub fn id(self) -> &'static str {
        match self {
            Experiment::StolenCode => "stolen-code",
            Experiment::CodeReplay => "code-replay",
            Experiment::ForgedCallback => "forged-callback",
            Experiment::PkceDowngrade => "pkce-downgrade",
            Experiment::Implicit => "implicit",
        }
    }

    /// Title of the experiment.
    pub fn title(self) -> &'static str {
        match self {
            Experiment::StolenCode => "Stolen code",
            Experiment::CodeReplay => "Code replay",
            Experiment::ForgedCallback => "Forged callback (login CSRF)",
            Experiment::PkceDowngrade => "PKCE downgrade",
            Experiment::Implicit => "Implicit grant",
        }
    }

    /// What the attacker wants.
    pub fn wanted(self) -> &'static str {
        match self {
            Experiment::StolenCode => {
                t!("attack.the_attacker_read")
            }
            Experiment::CodeReplay => {
                t!("attack.the_attacker_copied")
            }
            Experiment::ForgedCallback => {
                t!("attack.the_attacker_sends")
            }
            Experiment::PkceDowngrade => {
                t!("attack.the_attacker_wants")
            }
            Experiment::Implicit => {
                t!("attack.the_attacker_wants_2")
            }
        }
    }

    /// The defence that should stop it.
    pub fn defence(self) -> &'static str {
        match self {
            Experiment::StolenCode => {
                t!("attack.pkce_the_provider")
            }
            Experiment::CodeReplay => {
                t!("attack.single_use_codes")
            }
            Experiment::ForgedCallback => {
                t!("attack.state_this_tab")
            }
            Experiment::PkceDowngrade => {
                t!("attack.the_provider_requires")
            }
            Experiment::Implicit => {
                t!("attack.the_provider_refuses")
            }
        }
    }

    /// What would happen without the defence.
    pub fn without(self) -> &'static str {
        match self {
            Experiment::StolenCode => {
                t!("attack.without_pkce_a")
            }
            Experiment::CodeReplay => {
                t!("attack.without_single_use")
            }
            Experiment::ForgedCallback => {
                t!("attack.without_the_check")
            }
            Experiment::PkceDowngrade => {
                t!("attack.a_downgraded_code")
            }
            Experiment::Implicit => {
                t!("attack.the_access_token")
            }
        }
    }
}

/// How an experiment ended, judged from the provider's real answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// The defence held.
    Stopped,
    /// The attack worked: the server (or setting) is weak.
    Succeeded,
    /// The answers do not allow a verdict.
    Unknown,
}

impl Outcome {
    /// Short word for the badge.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Stopped => "stopped",
            Outcome::Succeeded => "attack worked",
            Outcome::Unknown => "unclear",
        }
    }
}

/// The result of one experiment, as shown in the lab.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Which experiment.
    pub experiment: Experiment,
    /// The verdict.
    pub outcome: Outcome,
    /// What the provider (or this app) did, one sentence each, in order.
    pub findings: Vec<String>,
}

/// The provider's answer to a token request the attack lab sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenAnswer {
    /// An OAuth error: the request was refused.
    Refused {
        /// The `error` code.
        error: String,
        /// The HTTP status.
        status: u16,
    },
    /// Tokens were handed out (values are never kept beyond the masked chips).
    Tokens {
        /// Whether a refresh token came too.
        refresh: bool,
    },
    /// No usable answer (network, CORS, not an OAuth answer).
    Unreadable {
        /// Why, in one sentence.
        why: String,
    },
}

impl TokenAnswer {
    /// One sentence for the report.
    pub fn sentence(&self) -> String {
        match self {
            TokenAnswer::Refused { error, status } => {
                format!("the provider refused it ({status} {error})")
            }
            TokenAnswer::Tokens { .. } => "the provider handed out tokens".to_owned(),
            TokenAnswer::Unreadable { why } => format!("no readable answer: {why}"),
        }
    }

    fn refused(&self) -> bool {
        matches!(self, TokenAnswer::Refused { .. })
    }
}

/// A login this tab started for the lab: its callback runs an experiment, not a plain login.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LabLogin {
    /// The victim's login: its code feeds the stolen-code and replay experiments (and the
    /// checkup's login-only checks when `checkup` is on).
    CodeExperiments {
        /// Whether the provider checkup is waiting for these results.
        checkup: bool,
    },
}

/// One downgrade probe's answer, kept until both are in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DowngradeAnswer {
    /// Which probe.
    pub kind: ProbeKind,
    /// What the provider did, one sentence.
    pub sentence: String,
    /// Whether it accepted the weak request; `None` when its answer was unclear.
    pub accepted: Option<bool>,
}

/// Everything the lab keeps in this tab's sessionStorage across the trips to the provider.
/// Nothing secret: probe and login states only (the probes themselves run in a popup and are
/// kept in memory).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LabRecord {
    /// The latest report of each experiment.
    pub reports: Vec<Report>,
    /// Lab logins by their `state`.
    pub logins: Vec<(String, LabLogin)>,
    /// The probes of the last silent run whose window did not come back: offered to run
    /// interactively (kept across the checkup's login).
    #[serde(default)]
    pub unanswered: Vec<ProbeKind>,
    /// The `state` of the last probes sent from this tab: an answer that lands in the tab
    /// itself instead of the probe window is recognised and dropped.
    #[serde(default)]
    pub probe_states: Vec<String>,
    /// Answers of the downgrade probes, to report both together.
    pub downgrade: Vec<DowngradeAnswer>,
    /// The provider checkup's scorecard, when one was run in this tab.
    pub scorecard: Option<Scorecard>,
    /// Whether the checkup (rather than an experiment) was the last thing started.
    #[serde(default)]
    pub checkup_active: bool,
    /// The stolen-token experiment's verdict and findings (issue 17), once run.
    #[serde(default)]
    pub stolen_token: Option<(Outcome, Vec<String>)>,
}

impl LabRecord {
    /// Keeps `report` as the latest of its experiment.
    pub fn set_report(&mut self, report: Report) {
        self.reports.retain(|r| r.experiment != report.experiment);
        self.reports.push(report);
    }

    /// The latest report of `experiment`.
    pub fn report(&self, experiment: Experiment) -> Option<&Report> {
        self.reports.iter().find(|r| r.experiment == experiment)
    }

    /// The record as JSON for sessionStorage.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Restores a saved record; anything unreadable gives an empty one.
    pub fn from_json(json: &str) -> Self {
        crate::protocol::document::load_stored(json).unwrap_or_default()
    }

    /// Takes the lab login started with `state`, if it was one.
    pub fn take_login(&mut self, state: &str) -> Option<LabLogin> {
        let index = self.logins.iter().position(|(s, _)| s == state)?;
        Some(self.logins.remove(index).1)
    }
}

/// The attacker gets hold of something that leaked on the front channel.
pub fn leaked(timeline: &mut Timeline, what: &str, params: Vec<Param>, now_ms: u64) -> StepId {
    timeline.push_done(
        Step::new(
            StepKind::Intercept,
            Actor::Browser,
            Actor::Attacker,
            Channel::Front,
            &format!("The attacker gets {what}"),
            now_ms,
        )
        .with_params(params)
        .with_note(t!("attack.front_channel_values")),
        0.0,
    )
}

/// The attacker's own request to the token endpoint.
pub fn attack_request(
    timeline: &mut Timeline,
    label: &str,
    request: &TokenRequest,
    params: Vec<Param>,
    now_ms: u64,
) -> StepId {
    let step = timeline.push(
        Step::new(
            StepKind::AttackRequest,
            Actor::Attacker,
            Actor::AuthorizationServer,
            Channel::Back,
            label,
            now_ms,
        )
        .with_params(params)
        .with_exchange(form_post_exchange(&request.url, request.masked_body()))
        .with_note(t!("attack.a_real_request")),
    );
    let form = parse_query(&request.body);
    let field = |name: &str| {
        form.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let proof = match (field("code_verifier"), field("client_secret")) {
        (Some(verifier), _) => Proof::Verifier(verifier),
        (None, Some(_)) => Proof::Secret,
        (None, None) => Proof::NoVerifier,
    };
    server_check::code_checks(timeline, proof, now_ms);
    step
}

/// Records the provider's answer to the attacker. A refusal is drawn as the attacker's
/// failure with `defence` highlighted; tokens are drawn as the attack succeeding.
pub fn attack_answer(
    timeline: &mut Timeline,
    step: StepId,
    outcome: Result<HttpResponse, TransportError>,
    defence: &str,
    now_ms: u64,
) -> TokenAnswer {
    // The server's checks were drawn pending right after the request.
    let outcome = record_response(timeline, step, outcome, mask_token_json, now_ms);
    server_check::settle_code_checks(timeline, step + 1, outcome.as_ref().ok(), now_ms);
    let response = match outcome {
        Ok(response) => response,
        Err(problem) => {
            return TokenAnswer::Unreadable {
                why: problem.what_happened,
            }
        }
    };
    timeline.complete(step, now_ms);
    let answer = read_token_answer(&response);
    let base = Step::new(
        StepKind::AttackResponse,
        Actor::AuthorizationServer,
        Actor::Attacker,
        Channel::Back,
        "",
        now_ms,
    );
    match &answer {
        TokenAnswer::Refused { error, status } => {
            let mut step = base.with_defence(defence);
            step.label = format!("Refused: {status} {error}");
            timeline.push_failed(step, "the attacker gets no tokens");
        }
        TokenAnswer::Tokens { .. } => {
            let mut step = base.with_note(t!("attack.the_provider_handed"));
            step.label = "Tokens handed to the attacker".to_owned();
            step.deviations
                .push(t!("attack.the_attack_worked").to_owned());
            timeline.push_done(step, 0.0);
        }
        TokenAnswer::Unreadable { why } => {
            let mut step = base;
            step.label = format!("Answer {}", response.status);
            timeline.push_failed(step, why);
        }
    }
    answer
}

/// Classifies a token endpoint answer without keeping any token.
pub fn read_token_answer(response: &HttpResponse) -> TokenAnswer {
    match parse_token_response(response, "", false) {
        Ok(tokens) => TokenAnswer::Tokens {
            refresh: tokens.refresh_token.is_some(),
        },
        Err(TokenError::ErrorResponse { code, status, .. }) => TokenAnswer::Refused {
            error: code.as_str().to_owned(),
            status,
        },
        Err(error) => TokenAnswer::Unreadable {
            why: crate::protocol::error::Explain::what_happened(&error),
        },
    }
}

/// The checkup's CORS probe: a token request with a made-up code, sent by this page. `None`
/// when the endpoint is not one a request may be built for.
pub fn cors_probe_started(
    timeline: &mut Timeline,
    token_endpoint: &str,
    redirect_uri: &str,
    client_id: &str,
    now_ms: u64,
) -> Option<(StepId, TokenRequest)> {
    let code = AuthorizationCode::new("lab-made-up-code".to_owned());
    let request =
        attacker_code_request(token_endpoint, &code, redirect_uri, client_id, None).ok()?;
    let step = timeline.push(
        Step::new(
            StepKind::TokenRequest,
            Actor::ClientApp,
            Actor::AuthorizationServer,
            Channel::Back,
            "Can this page read the token endpoint? (a made-up code)",
            now_ms,
        )
        .with_exchange(form_post_exchange(&request.url, request.masked_body()))
        .with_note(t!("attack.a_browser_app")),
    );
    Some((step, request))
}

/// Records the CORS probe's answer: whether this page could read it.
pub fn cors_probe_answered(
    timeline: &mut Timeline,
    step: StepId,
    outcome: Result<HttpResponse, TransportError>,
    now_ms: u64,
) -> bool {
    let readable = record_response(timeline, step, outcome, |b| b.to_owned(), now_ms).is_ok();
    if readable {
        timeline.complete(step, now_ms);
    }
    readable
}

/// After a replay, the API's 401 for the first tokens is the defence working: marks it so.
pub fn replay_revoked_the_tokens(timeline: &mut Timeline) {
    if let Some((id, _)) = timeline.last_of(StepKind::ResourceResponse) {
        if let Some(step) = timeline.step_mut(id) {
            step.defence = Some("the replay made the provider revoke them".to_owned());
        }
    }
}

/// The attacker's link, opened by the victim's browser.
pub fn forged_link(timeline: &mut Timeline, link: &str, now_ms: u64) -> StepId {
    timeline.push_done(
        Step::new(
            StepKind::ForgedLink,
            Actor::Attacker,
            Actor::Browser,
            Channel::Front,
            "The victim opens the attacker's link",
            now_ms,
        )
        .with_params(vec![
            Param::public("code", "the attacker's own code"),
            Param::public("state", "made up by the attacker"),
        ])
        .with_exchange(HttpExchange {
            method: "NAVIGATE".into(),
            url: crate::flow::engine::mask_query(link, &["code", "state"]),
            ..HttpExchange::default()
        })
        .with_note(t!("attack.a_link_in")),
        0.0,
    )
}

/// Marks the callback check that stopped the forged link and draws the ghost path: what an
/// app without the check would have done.
pub fn forged_link_stopped(timeline: &mut Timeline, now_ms: u64) -> Report {
    // The callback came from the attacker's link, not from a redirect of the provider.
    if let Some((id, _)) = timeline.last_of(StepKind::RedirectBack) {
        if let Some(s) = timeline.step_mut(id) {
            s.from = Actor::Browser;
            s.label = "The browser loads the redirect URI with the attacker's code".to_owned();
        }
    }
    let stopped_before_token = match timeline.last_of(StepKind::CheckCallback) {
        Some((id, step)) if step.is_failed() => {
            let later_request = timeline.steps()[id..]
                .iter()
                .any(|s| s.kind == StepKind::TokenRequest && !s.ghost);
            if let Some(s) = timeline.step_mut(id) {
                s.defence = Some("state: no login of this tab matches".to_owned());
            }
            !later_request
        }
        _ => false,
    };
    let ghosts = [
        (
            StepKind::TokenRequest,
            Actor::ClientApp,
            Actor::AuthorizationServer,
            Channel::Back,
            "Redeem the attacker's code",
        ),
        (
            StepKind::TokenResponse,
            Actor::AuthorizationServer,
            Actor::ClientApp,
            Channel::Back,
            "Tokens for the ATTACKER's account",
        ),
        (
            StepKind::Logout,
            Actor::ClientApp,
            Actor::User,
            Channel::Local,
            "You work in the attacker's account: your uploads land with them",
        ),
    ];
    for (kind, from, to, channel, label) in ghosts {
        let mut ghost = Step::new(kind, from, to, channel, label, now_ms).as_ghost();
        ghost.status = StepStatus::Pending;
        ghost.note = Experiment::ForgedCallback.without().to_owned();
        timeline.push(ghost);
    }
    let mut findings = vec![if stopped_before_token {
        t!("attack.this_app_refused").to_owned()
    } else {
        "The forged callback was not stopped by the state check.".to_owned()
    }];
    findings.push(t!("attack.second_line_of").to_owned());
    Report {
        experiment: Experiment::ForgedCallback,
        outcome: if stopped_before_token {
            Outcome::Stopped
        } else {
            Outcome::Succeeded
        },
        findings,
    }
}

/// The deliberately weak authorization request, sent through the address bar.
pub fn probe_request(timeline: &mut Timeline, kind: ProbeKind, url: &str, now_ms: u64) -> StepId {
    let (label, params) = match kind {
        ProbeKind::NoChallenge => (
            "Ask for a code with no PKCE challenge".to_owned(),
            vec![
                Param::public("response_type", "code"),
                Param::public("code_challenge", "(none)"),
            ],
        ),
        ProbeKind::PlainChallenge => (
            "Ask for a code with code_challenge_method=plain".to_owned(),
            vec![
                Param::public("response_type", "code"),
                Param::public("code_challenge_method", "plain"),
            ],
        ),
        ProbeKind::Implicit => (
            "Ask for a token in the URL: response_type=token".to_owned(),
            vec![Param::public("response_type", "token")],
        ),
        _ => {
            // The redirect probes: the URI sent is the point, so it is shown as a chip.
            let sent = url
                .split_once('?')
                .map(|(_, q)| crate::protocol::uri::parse_query(q))
                .unwrap_or_default()
                .into_iter()
                .find(|(name, _)| name == "redirect_uri")
                .map(|(_, value)| value)
                .unwrap_or_default();
            (
                format!("Ask for a code for the {}", kind.label()),
                vec![
                    Param::public("response_type", "code"),
                    Param::public("redirect_uri", &sanitize_for_display(&sent, 200)),
                ],
            )
        }
    };
    let mut params = params;
    params.push(Param::public("prompt", "none"));
    timeline.push_done(
        Step::new(
            StepKind::ProbeRequest,
            Actor::Attacker,
            Actor::AuthorizationServer,
            Channel::Front,
            &label,
            now_ms,
        )
        .with_params(params)
        .with_exchange(HttpExchange {
            method: "NAVIGATE".into(),
            url: crate::flow::engine::mask_query(url, &["state", "code_challenge"]),
            ..HttpExchange::default()
        })
        .with_note(t!("attack.prompt_none_makes")),
        0.0,
    )
}

/// Records the provider's answer to a probe, read from the redirect back.
pub fn probe_answer(
    timeline: &mut Timeline,
    kind: ProbeKind,
    answer: &ProbeReturn,
    shown_url: &str,
    now_ms: u64,
) {
    let mut step = Step::new(
        StepKind::ProbeAnswer,
        Actor::AuthorizationServer,
        Actor::Attacker,
        Channel::Front,
        "",
        now_ms,
    )
    .with_exchange(HttpExchange {
        method: "NAVIGATE".into(),
        url: shown_url.to_owned(),
        ..HttpExchange::default()
    });
    if let Some(iss) = &answer.iss {
        step.params
            .push(Param::public("iss", &sanitize_for_display(iss, 200)));
    }
    let defence = match kind {
        ProbeKind::NoChallenge => "PKCE required",
        ProbeKind::PlainChallenge => "S256 only",
        ProbeKind::Implicit => "no implicit grant",
        _ => "exact redirect URI matching",
    };
    if kind == ProbeKind::RedirectRegistered {
        // The control: only that it came back matters (a code here is never redeemed).
        step.label = "Came back to the registered redirect URI".to_owned();
        step = step.with_note(t!("attack.the_provider_redirects"));
        timeline.push_done(step, 0.0);
        return;
    }
    match &answer.answer {
        ProbeAnswer::Refused { error, description } => {
            step.label = format!("Refused: {error}");
            if let Some(d) = description {
                step.params.push(Param::public("error_description", d));
            }
            timeline.push_failed(step.with_defence(defence), "the request is refused");
        }
        ProbeAnswer::AcceptedNeedsLogin { error } => {
            step.label = format!("Accepted: only a login is missing ({error})");
            step.deviations
                .push(t!("attack.the_provider_accepted").to_owned());
            timeline.push_done(step, 0.0);
        }
        ProbeAnswer::AcceptedCode { code } => {
            step.label = "Accepted: a code came back".to_owned();
            step.params
                .push(Param::secret("code", code.masked(), code.secret()));
            step.deviations
                .push(t!("attack.the_provider_issued").to_owned());
            timeline.push_done(step, 0.0);
        }
        ProbeAnswer::AcceptedToken {
            access_token,
            in_fragment,
        } => {
            step.label = if *in_fragment {
                "An access token landed in the URL fragment".to_owned()
            } else {
                "An access token landed in the URL".to_owned()
            };
            step.params
                .push(Param::public("access_token", &mask(access_token.secret())));
            step.deviations
                .push(t!("attack.the_provider_still").to_owned());
            timeline.push_done(step, 0.0);
        }
        ProbeAnswer::Unclear { what } => {
            step.label = "No clear answer".to_owned();
            timeline.push_failed(step, what);
        }
    }
}

/// The probe window never came back to the app: the provider kept it on a page of its own.
/// Drawn as what happened: the provider answered the browser (the popup) with a page, and no
/// redirect (no `302 Location`) came back to the app.
pub fn probe_timed_out(timeline: &mut Timeline, kind: ProbeKind, what: &str, now_ms: u64) {
    let step = Step::new(
        StepKind::ProbeAnswer,
        Actor::AuthorizationServer,
        Actor::Browser,
        Channel::Front,
        "No redirect back: the provider showed its own page",
        now_ms,
    )
    .with_note(&format!(
        "The {} probe ran in a popup so this tab never left the lab; the popup did not come \
         back to the redirect URI in time, so the line is graded unknown, not pass or fail.",
        kind.label()
    ));
    timeline.push_failed(step, what);
}

/// A redirect probe with an altered redirect URI that never came back: the provider kept the
/// window on a page of its own (its error page), which is what exact matching does.
pub fn redirect_probe_held(timeline: &mut Timeline, kind: ProbeKind, now_ms: u64) {
    let step = Step::new(
        StepKind::ProbeAnswer,
        Actor::AuthorizationServer,
        Actor::Browser,
        Channel::Front,
        "No redirect back: the provider showed its own page",
        now_ms,
    )
    .with_note(&format!(
        "The {} was not redirected to: the provider kept the popup on a page of its own (its \
         error page), as exact redirect URI matching requires (RFC 9700 §4.1.3, RFC 6749 \
         §4.1.2.1).",
        kind.label()
    ));
    timeline.push_done(step.with_defence("exact redirect URI matching"), 0.0);
}

/// Whether the provider accepted the probe (the attack's first half worked).
pub fn probe_accepted(answer: &ProbeAnswer) -> Option<bool> {
    match answer {
        ProbeAnswer::Refused { .. } => Some(false),
        ProbeAnswer::Unclear { .. } => None,
        _ => Some(true),
    }
}

/// The stolen-code experiment's report from the three answers.
pub fn stolen_code_report(
    no_verifier: &TokenAnswer,
    wrong_verifier: &TokenAnswer,
    real_client: &TokenAnswer,
) -> Report {
    let mut findings = vec![
        format!("Without a verifier: {}.", no_verifier.sentence()),
        format!("With a wrong verifier: {}.", wrong_verifier.sentence()),
    ];
    findings.push(
        match (
            real_client,
            no_verifier.refused() || wrong_verifier.refused(),
        ) {
            (TokenAnswer::Tokens { .. }, true) => t!("attack.then_the_real").to_owned(),
            (TokenAnswer::Refused { .. }, true) => t!("attack.then_the_real_2").to_owned(),
            (answer, _) => format!("Then the real client tried: {}.", answer.sentence()),
        },
    );
    let outcome = if matches!(no_verifier, TokenAnswer::Tokens { .. })
        || matches!(wrong_verifier, TokenAnswer::Tokens { .. })
    {
        Outcome::Succeeded
    } else if no_verifier.refused() && wrong_verifier.refused() {
        Outcome::Stopped
    } else {
        Outcome::Unknown
    };
    Report {
        experiment: Experiment::StolenCode,
        outcome,
        findings,
    }
}

/// The replay experiment's report: the second redemption and the first tokens afterwards.
pub fn replay_report(
    second: &TokenAnswer,
    before_status: Option<u16>,
    after_status: Option<u16>,
) -> Report {
    let mut findings = vec![format!(
        "Second redemption of the same code: {}.",
        second.sentence()
    )];
    let revoked = match (before_status, after_status) {
        (Some(before), Some(after)) => {
            findings.push(format!(
                "The tokens from the first redemption: {before} before the replay, {after} \
                 after it — {}.",
                if after == 401 {
                    "the provider revoked them, as RFC 6749 §4.1.2 recommends"
                } else {
                    "still valid: this provider does not revoke them (RFC 6749 §4.1.2 says it \
                     SHOULD)"
                }
            ));
            Some(after == 401)
        }
        _ => {
            findings.push(t!("attack.could_not_check").to_owned());
            None
        }
    };
    let outcome = match (second, revoked) {
        (TokenAnswer::Tokens { .. }, _) => Outcome::Succeeded,
        (TokenAnswer::Refused { .. }, _) => Outcome::Stopped,
        _ => Outcome::Unknown,
    };
    Report {
        experiment: Experiment::CodeReplay,
        outcome,
        findings,
    }
}

/// The downgrade experiment's report from the two probes (and any redemption it enabled).
/// Stopped only when both probes were clearly refused; an unclear answer is no verdict.
pub fn downgrade_report(answers: &[DowngradeAnswer]) -> Report {
    let findings = answers
        .iter()
        .map(|a| format!("{}: {}.", a.kind.label(), a.sentence))
        .collect();
    let refused = answers.iter().filter(|a| a.accepted == Some(false)).count();
    Report {
        experiment: Experiment::PkceDowngrade,
        outcome: if answers.iter().any(|a| a.accepted == Some(true)) {
            Outcome::Succeeded
        } else if refused == 2 {
            Outcome::Stopped
        } else {
            Outcome::Unknown
        },
        findings,
    }
}

/// One sentence for a probe answer.
pub fn probe_sentence(answer: &ProbeAnswer) -> String {
    match answer {
        ProbeAnswer::Refused { error, .. } => format!("refused ({error})"),
        ProbeAnswer::AcceptedNeedsLogin { error } => {
            format!("accepted; the provider only wants a login first ({error})")
        }
        ProbeAnswer::AcceptedCode { .. } => "accepted: a code came back".to_owned(),
        ProbeAnswer::AcceptedToken { .. } => t!("attack.accepted_an_access").to_owned(),
        ProbeAnswer::Unclear { what } => format!("unclear: {what}"),
    }
}

/// The implicit experiment's report.
pub fn implicit_report(answer: &ProbeAnswer) -> Report {
    Report {
        experiment: Experiment::Implicit,
        outcome: match probe_accepted(answer) {
            Some(true) => Outcome::Succeeded,
            Some(false) => Outcome::Stopped,
            None => Outcome::Unknown,
        },
        findings: vec![format!("response_type=token: {}.", probe_sentence(answer))],
    }
}

/// A problem for a lab step that could not even start.
pub fn cannot_start(what: &str) -> Problem {
    Problem::local(
        what,
        "Check the settings (issuer, client id) and that the provider is reachable, then run \
         the experiment again.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::checkup::{Check, Verdict};
    use crate::flow::timeline::tests::forget_secrets;

    fn refused() -> TokenAnswer {
        TokenAnswer::Refused {
            error: "invalid_grant".into(),
            status: 400,
        }
    }

    fn tokens() -> TokenAnswer {
        TokenAnswer::Tokens { refresh: false }
    }

    #[test]
    fn rfc7636_stolen_code_refused_without_and_with_wrong_verifier_is_stopped() {
        let report = stolen_code_report(&refused(), &refused(), &tokens());
        assert_eq!(report.outcome, Outcome::Stopped);
        assert!(crate::text::plain(&report.findings[2]).contains("did not burn"));
    }

    #[test]
    fn stolen_code_redeemed_by_the_attacker_is_reported_as_success() {
        let report = stolen_code_report(&tokens(), &refused(), &refused());
        assert_eq!(report.outcome, Outcome::Succeeded);
    }

    #[test]
    fn a_provider_that_burns_the_code_after_a_failed_attempt_is_said_so() {
        let report = stolen_code_report(&refused(), &refused(), &refused());
        assert_eq!(report.outcome, Outcome::Stopped);
        assert!(crate::text::plain(&report.findings[2]).contains("burns a code"));
    }

    #[test]
    fn rfc6749_4_1_2_replay_refused_and_tokens_revoked() {
        let report = replay_report(&refused(), Some(200), Some(401));
        assert_eq!(report.outcome, Outcome::Stopped);
        assert!(report.findings[1].contains("revoked them"));
        let kept = replay_report(&refused(), Some(200), Some(200));
        assert!(kept.findings[1].contains("SHOULD"));
        assert_eq!(
            replay_report(&tokens(), None, None).outcome,
            Outcome::Succeeded
        );
    }

    #[test]
    fn rfc9700_2_1_1_downgrade_is_stopped_only_when_both_probes_were_clearly_refused() {
        let answer = |kind, accepted| DowngradeAnswer {
            kind,
            sentence: "x".into(),
            accepted,
        };
        let refused = [
            answer(ProbeKind::NoChallenge, Some(false)),
            answer(ProbeKind::PlainChallenge, Some(false)),
        ];
        assert_eq!(downgrade_report(&refused).outcome, Outcome::Stopped);
        let unclear = [
            answer(ProbeKind::NoChallenge, Some(false)),
            answer(ProbeKind::PlainChallenge, None),
        ];
        assert_eq!(downgrade_report(&unclear).outcome, Outcome::Unknown);
        let accepted = [answer(ProbeKind::NoChallenge, Some(true))];
        assert_eq!(downgrade_report(&accepted).outcome, Outcome::Succeeded);
    }

    #[test]
    fn t26_cors_probe_is_readable_only_when_an_answer_came_back() {
        let mut t = Timeline::new();
        let (step, request) = cors_probe_started(
            &mut t,
            "http://127.0.0.1:9000/token",
            "http://127.0.0.1:8080/",
            "flow-lab",
            0,
        )
        .expect("a request");
        assert!(!request.body.contains("code_verifier"));
        let refused = HttpResponse::json(400, r#"{"error":"invalid_grant"}"#);
        assert!(cors_probe_answered(&mut t, step, Ok(refused), 3));
        assert_eq!(t.steps()[step].status, StepStatus::Ok);
        let (step, _) = cors_probe_started(&mut t, "http://127.0.0.1:9000/token", "r", "c", 4)
            .expect("a request");
        let blocked = Err(TransportError::Network {
            origin: "http://127.0.0.1:9000".into(),
        });
        assert!(!cors_probe_answered(&mut t, step, blocked, 5));
        assert!(t.steps()[step].is_failed());
    }

    #[test]
    fn forged_callback_stopped_by_state_draws_a_ghost_path_and_no_real_token_request() {
        let mut t = Timeline::new();
        let check = Step::local(StepKind::CheckCallback, "check", 0);
        t.push_failed(check, "unknown state");
        let report = forged_link_stopped(&mut t, 1);
        assert_eq!(report.outcome, Outcome::Stopped);
        let check = t.last_of(StepKind::CheckCallback).unwrap().1;
        assert!(check.defence.is_some());
        let ghosts: Vec<_> = t.steps().iter().filter(|s| s.ghost).collect();
        assert_eq!(ghosts.len(), 3);
        assert!(ghosts.iter().all(|s| s.status == StepStatus::Pending));
    }

    #[test]
    fn forged_callback_that_passed_the_check_is_not_reported_as_stopped() {
        let mut t = Timeline::new();
        let check = Step::local(StepKind::CheckCallback, "check", 0);
        t.push_done(check, 0.0);
        assert_eq!(forged_link_stopped(&mut t, 1).outcome, Outcome::Succeeded);
    }

    #[test]
    fn attack_answer_refusal_is_the_attackers_failure_with_the_defence_highlighted() {
        let mut t = Timeline::new();
        let request = TokenRequest {
            url: "http://127.0.0.1:9000/token".into(),
            body: "grant_type=authorization_code&code=abc".into(),
        };
        let step = attack_request(&mut t, "steal", &request, vec![], 0);
        let response = HttpResponse::json(
            400,
            r#"{"error":"invalid_grant","error_description":"PKCE verification failed"}"#,
        );
        let answer = attack_answer(&mut t, step, Ok(response), "PKCE", 5);
        assert_eq!(answer, refused());
        let last = t.steps().last().unwrap();
        assert_eq!(last.from, Actor::AuthorizationServer);
        assert_eq!(last.to, Actor::Attacker);
        assert!(last.is_failed());
        assert_eq!(last.defence.as_deref(), Some("PKCE"));
        assert!(t.has_attacker());
        // The code never appears unmasked in what is drawn or stored.
        assert!(!t.steps()[step]
            .exchange
            .as_ref()
            .unwrap()
            .request_body
            .as_ref()
            .unwrap()
            .contains("code=abc"));
    }

    #[test]
    fn attack_answer_with_tokens_is_drawn_as_the_attack_working() {
        let mut t = Timeline::new();
        let request = TokenRequest {
            url: "http://127.0.0.1:9000/token".into(),
            body: "grant_type=authorization_code".into(),
        };
        let step = attack_request(&mut t, "steal", &request, vec![], 0);
        let response = HttpResponse::json(
            200,
            r#"{"access_token":"AT-secret","token_type":"Bearer","expires_in":60}"#,
        );
        let answer = attack_answer(&mut t, step, Ok(response), "PKCE", 5);
        assert_eq!(answer, TokenAnswer::Tokens { refresh: false });
        let last = t.steps().last().unwrap();
        assert!(!last.is_failed() && !last.deviations.is_empty());
        let stored = t.to_json();
        assert!(!stored.contains("AT-secret"));
    }

    #[test]
    fn lab_record_takes_a_login_or_probe_only_once() {
        let mut record = LabRecord::default();
        record
            .logins
            .push(("s1".into(), LabLogin::CodeExperiments { checkup: true }));
        assert_eq!(
            record.take_login("s1"),
            Some(LabLogin::CodeExperiments { checkup: true })
        );
        assert_eq!(record.take_login("s1"), None);
    }

    /// A record with every field set, a scorecard with evidence among them.
    fn full_record() -> LabRecord {
        let mut card = Scorecard::new("https://as.example", "app", "https://app.example", "auth0");
        let run = crate::flow::timeline::tests::full_timeline();
        card.record(
            Check::CodeSingleUse,
            Verdict::Fail,
            "redeemed twice".into(),
            run.steps()[..2].to_vec(),
        );
        card.record(Check::NoStore, Verdict::Pass, "no-store".into(), vec![]);
        LabRecord {
            reports: vec![Report {
                experiment: Experiment::PkceDowngrade,
                outcome: Outcome::Succeeded,
                findings: vec!["plain accepted".into(), "é😀\u{1}".into()],
            }],
            logins: vec![
                ("s1".into(), LabLogin::CodeExperiments { checkup: true }),
                ("s2".into(), LabLogin::CodeExperiments { checkup: false }),
            ],
            downgrade: vec![DowngradeAnswer {
                kind: ProbeKind::NoChallenge,
                sentence: "accepted".into(),
                accepted: None,
            }],
            scorecard: Some(card),
            unanswered: vec![ProbeKind::Implicit],
            probe_states: vec!["s1".into()],
            checkup_active: true,
            stolen_token: Some((Outcome::Stopped, vec!["✔ Stopped by DPoP".into()])),
        }
    }

    #[test]
    fn lab_record_round_trips_with_its_scorecard() {
        let mut record = full_record();
        let json = record.to_json();
        assert!(!json.contains("THE-REAL-CODE"), "{json}");
        let back = LabRecord::from_json(&json);
        if let Some(card) = &mut record.scorecard {
            card.findings
                .iter_mut()
                .flat_map(|f| &mut f.evidence)
                .for_each(forget_secrets);
        }
        assert_eq!(back, record);
        assert_eq!(back.to_json(), json);
        assert_eq!(
            LabRecord::default(),
            LabRecord::from_json(&LabRecord::default().to_json())
        );
    }

    #[test]
    fn unreadable_lab_record_is_the_empty_default() {
        let good = full_record().to_json();
        for bad in [
            "",
            "garbage",
            "null",
            "[]",
            "{}",
            "{\"reports\":[]}",
            &good.replace("\"PkceDowngrade\"", "\"Downgrade\""),
            // The attacker's login runs in the lab's window now: never a lab login of the tab.
            &good.replace(
                "{\"CodeExperiments\":{\"checkup\":false}}",
                "\"AttackerCode\"",
            ),
            &good.replace(
                "{\"CodeExperiments\":{\"checkup\":true}}",
                "\"CodeExperiments\"",
            ),
            &good.replace("\"NoChallenge\"", "2"),
            &good.replace(",\"sentence\":\"accepted\"", ""),
            &good.replace("\"Fail\"", "\"fail\""),
            &good.replace("1764000000000", "-1"),
            &good.replace("{\"check\":", "{\"check\":1,\"check\":"),
        ] {
            assert_ne!(bad, good);
            assert_eq!(LabRecord::from_json(bad), LabRecord::default(), "{bad}");
        }
        // Saved by an older build without `checkup_active`: it reads as false.
        let mut value = serde_json::from_str::<serde_json::Value>(&good).unwrap();
        value.as_object_mut().unwrap().remove("checkup_active");
        let back = LabRecord::from_json(&value.to_string());
        assert!(!back.checkup_active && back.logins.len() == 2);
    }

    #[test]
    fn saved_scorecard_missing_lines_is_repaired() {
        let good = full_record().to_json();
        let mut value = serde_json::from_str::<serde_json::Value>(&good).unwrap();
        let findings = value["scorecard"]["findings"].as_array().unwrap().clone();
        // Keep two lines, in reverse order, one of them twice.
        let kept: Vec<_> = findings
            .into_iter()
            .filter(|f| f["check"] == "CodeSingleUse" || f["check"] == "NoStore")
            .rev()
            .collect();
        let mut twice = kept.clone();
        twice.push(kept[0].clone());
        value["scorecard"]["findings"] = twice.into();
        let back = LabRecord::from_json(&value.to_string());
        let card = back.scorecard.expect("the record is still readable");
        let order: Vec<Check> = card.findings.iter().map(|f| f.check).collect();
        assert_eq!(order, Check::ALL);
        assert_eq!(card.finding(Check::CodeSingleUse).verdict, Verdict::Fail);
        assert_eq!(card.finding(Check::CodeSingleUse).evidence.len(), 2);
        assert_eq!(card.finding(Check::NoStore).verdict, Verdict::Pass);
        assert_eq!(card.finding(Check::IssuerExact).verdict, Verdict::Unknown);
        assert_eq!(card.counts(), (1, 0, 1, 12));
    }
}
