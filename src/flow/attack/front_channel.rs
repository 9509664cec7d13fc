//! The front-channel steps: the forged link and its ghost path, the deliberately weak
//! authorization requests (probes) and the provider's answers to them.

use super::experiment::Experiment;
use super::report::{Outcome, Report};
use crate::flow::timeline::{
    Actor, Channel, HttpExchange, Param, Step, StepId, StepKind, StepStatus, Timeline,
};
use crate::protocol::error::sanitize_for_display;
use crate::protocol::probe::{ProbeAnswer, ProbeKind, ProbeReturn};
use crate::protocol::secret::mask;

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

/// The answer drawn when a probe's window never came back: the provider showed the browser (the
/// popup) a page of its own.
fn own_page_answer(now_ms: u64) -> Step {
    Step::new(
        StepKind::ProbeAnswer,
        Actor::AuthorizationServer,
        Actor::Browser,
        Channel::Front,
        "No redirect back: the provider showed its own page",
        now_ms,
    )
}

/// The probe window never came back to the app: the provider kept it on a page of its own.
/// Drawn as what happened: the provider answered the browser (the popup) with a page, and no
/// redirect (no `302 Location`) came back to the app.
pub fn probe_timed_out(timeline: &mut Timeline, kind: ProbeKind, what: &str, now_ms: u64) {
    let step = own_page_answer(now_ms).with_note(&format!(
        "The {} probe ran in a popup so this tab never left the lab; the popup did not come \
         back to the redirect URI in time, so the line is graded unknown, not pass or fail.",
        kind.label()
    ));
    timeline.push_failed(step, what);
}

/// A redirect probe with an altered redirect URI that never came back: the provider kept the
/// window on a page of its own (its error page), which is what exact matching does.
pub fn redirect_probe_held(timeline: &mut Timeline, kind: ProbeKind, now_ms: u64) {
    let step = own_page_answer(now_ms).with_note(&format!(
        "The {} was not redirected to: the provider kept the popup on a page of its own (its \
         error page), as exact redirect URI matching requires (RFC 9700 §4.1.3, RFC 6749 \
         §4.1.2.1).",
        kind.label()
    ));
    timeline.push_done(step.with_defence("exact redirect URI matching"), 0.0);
}
