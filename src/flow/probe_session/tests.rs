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
    fn start(kinds: &[ProbeKind], checkup: bool, interactive: bool) -> (Self, Vec<ProbeCommand>) {
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
    let (mut lab, first) = Lab::start(&[ProbeKind::NoChallenge, ProbeKind::Implicit], false, false);
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
    assert!(
        crate::text::plain(&detail).contains("proves nothing"),
        "{detail}"
    );
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
