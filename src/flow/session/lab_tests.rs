//! Host tests of the attack lab inside the session: each experiment and the checkup as an
//! event script with the commands it must give and the report it must write; the lab's
//! page-load landings; the lab window's timers, closes and blocks as events.

use super::*;
use crate::flow::attack::{Experiment, Outcome as LabOutcome};
use crate::flow::checkup::{Check, Verdict};
use crate::flow::probe_session::{INTERACTIVE_TIMEOUT_MS, SILENT_TIMEOUT_MS};
use crate::flow::scripted::{self, describe, ScriptedDriver, CODE, REDIRECT, START_MS};
use crate::protocol::probe::ProbeKind;

fn public() -> ScriptedDriver {
    ScriptedDriver::new(scripted::settings(ClientType::Public))
}

/// Presses a Run button of the lab; the scripted provider answers the fetches.
fn start(d: &mut ScriptedDriver, run: LabStart) -> Vec<String> {
    let now = d.now + 5;
    d.play(Event::LabStarted {
        run,
        redirect_uri: REDIRECT.into(),
        entropy: scripted::lab_entropy(16),
        now,
    })
}

fn names(commands: &[Command]) -> Vec<String> {
    commands.iter().map(describe).collect()
}

fn query_value(url: &str, name: &str) -> String {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    crate::protocol::uri::parse_query(query)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .unwrap_or_default()
}

/// Answers the one fetch among `commands` by hand; returns the session's next commands.
fn answer(d: &mut ScriptedDriver, commands: &[Command], status: u16, body: &str) -> Vec<Command> {
    let (id, request) = commands
        .iter()
        .find_map(|c| match c {
            Command::Fetch { id, request } => Some((*id, request.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("a fetch in {:?}", names(commands)));
    d.sent.push(request);
    d.session.handle(Event::HttpAnswered {
        id,
        outcome: Ok(HttpResponse::json(status, body)),
        now: START_MS + 2_000,
    })
}

const INVALID_GRANT: &str = r#"{"error":"invalid_grant"}"#;

#[test]
fn rfc7636_rfc6749_experiments_1_and_2_run_as_fetch_commands_from_the_lab_login_s_callback() {
    let mut d = public();
    let log = start(&mut d, LabStart::CodeExperiments { checkup: false });
    // The victim's login is an ordinary trip in the tab: its intent is saved before leaving.
    assert_eq!(
        log.last().map(String::as_str),
        Some("Navigate https://as.example/authorize")
    );
    assert!(!log.contains(&"OpenPopup".to_owned()), "{log:?}");
    assert_eq!(d.saved_lab.logins.len(), 1);
    let state = query_value(d.navigations.last().unwrap(), "state");
    // The callback lands: the page-load routing hands the code to the lab, never to the
    // client's own redemption first.
    d.session = Session::new(d.session.settings.clone(), scripted::ORIGIN);
    let saved = d.saved();
    let commands = d.session.handle(Event::PageLoaded {
        query: format!("code={CODE}&state={state}&iss=https%3A%2F%2Fas.example"),
        fragment: String::new(),
        saved,
        entropy: scripted::lab_entropy(1),
        now: START_MS + 1_000,
    });
    assert_eq!(
        names(&commands),
        [
            "CleanAddressBar",
            "Persist PendingLogins",
            "Persist Runs",
            "Fetch POST https://as.example/token"
        ]
    );
    assert_eq!(d.session.phase(), Phase::Exchanging);
    assert!(
        d.session.attack.logins.is_empty(),
        "the lab login is consumed"
    );
    let first = commands.iter().find_map(|c| match c {
        Command::Fetch { id, request } => Some((*id, request.body.clone().unwrap())),
        _ => None,
    });
    let (first_id, body) = first.unwrap();
    assert!(
        !body.contains("code_verifier"),
        "the attacker has no verifier"
    );
    // Without a verifier, then with a guessed one: refused twice.
    let commands = answer(&mut d, &commands, 400, INVALID_GRANT);
    let guessed = d.session.handle(Event::HttpAnswered {
        id: first_id,
        outcome: Ok(HttpResponse::json(200, "{}")),
        now: START_MS + 2_000,
    });
    assert!(
        guessed.is_empty(),
        "a late answer to an earlier request is ignored"
    );
    let commands = answer(&mut d, &commands, 400, INVALID_GRANT);
    // The real client redeems the same code; its tokens are tried at the API.
    let token = scripted::token_json("demo-app", None, START_MS);
    let commands = answer(&mut d, &commands, 200, &token);
    assert_eq!(
        names(&commands),
        ["Fetch GET https://api.example/api/profile"]
    );
    let commands = answer(&mut d, &commands, 200, r#"{"sub":"alice"}"#);
    // The attacker replays the exact request: refused, and the first tokens are revoked.
    assert_eq!(names(&commands), ["Fetch POST https://as.example/token"]);
    let commands = answer(&mut d, &commands, 400, INVALID_GRANT);
    let commands = answer(&mut d, &commands, 401, r#"{"error":"invalid_token"}"#);
    assert_eq!(names(&commands), ["MarkDrawn oauth-flow-lab:tokens"]);
    assert_eq!(d.session.phase(), Phase::Idle);
    assert!(d.session.problem.is_none());
    assert!(
        d.session.tokens().is_none(),
        "the lab's tokens are evidence only"
    );
    for experiment in [Experiment::StolenCode, Experiment::CodeReplay] {
        let report = d.session.attack.report(experiment).expect("a report");
        assert_eq!(report.outcome, LabOutcome::Stopped, "{report:?}");
    }
}

#[test]
fn c_state_experiment_3_the_attacker_signs_in_in_the_lab_window_and_the_forged_link_is_refused() {
    let mut d = public();
    let log = start(&mut d, LabStart::ForgedCallback);
    assert_eq!(
        log,
        [
            "OpenPopup",
            "Fetch GET https://as.example/.well-known/openid-configuration",
            "Persist Metadata",
            "PopupTo https://as.example/authorize",
            &format!("SetTimer {INTERACTIVE_TIMEOUT_MS}"),
        ]
    );
    // The lab's tab stays: no navigation, and the attacker's login is kept in memory only.
    assert!(d.navigations.is_empty());
    assert!(d.pending.is_empty());
    assert_eq!(d.session.phase(), Phase::Redirecting);
    let popup = d.popups.last().cloned().unwrap();
    assert_eq!(
        query_value(&popup, "prompt"),
        "login",
        "the attacker signs in afresh"
    );
    let state = query_value(&popup, "state");
    // The window comes back with the attacker's code: the lab forges the link with it.
    let now = d.now + 5;
    let log = d.play(Event::PopupReturned {
        url: format!("{REDIRECT}?code={CODE}&state={state}&iss=https%3A%2F%2Fas.example"),
        now,
    });
    assert_eq!(log, ["ClosePopup", "Navigate https://app.example/"]);
    assert!(d.sent.iter().all(|r| !r.url.ends_with("/token")));
    let link = d.navigations.last().cloned().unwrap();
    assert_eq!(query_value(&link, "code"), CODE);
    assert_ne!(query_value(&link, "state"), state);
    // The victim's tab opens the link: refused before any token request.
    let query = link.split_once('?').unwrap().1.to_owned();
    let log = d.reload_with(&query);
    assert_eq!(log, ["CleanAddressBar"]);
    assert_eq!(d.session.phase(), Phase::Idle);
    let report = d.session.attack.report(Experiment::ForgedCallback).unwrap();
    assert_eq!(report.outcome, LabOutcome::Stopped, "{report:?}");
    assert!(d.session.notice.as_deref().unwrap().contains("refused"));
}

#[test]
fn i15_the_attacker_s_window_timing_out_or_closed_is_unknown_and_closes_the_window() {
    for closed in [false, true] {
        let mut d = public();
        start(&mut d, LabStart::ForgedCallback);
        let timer = d.session.popup_trip().expect("a trip");
        let stale = d.session.handle(Event::TimerFired {
            id: timer + 100,
            now: START_MS + 1_000,
        });
        assert!(stale.is_empty(), "another timer changes nothing");
        assert_eq!(d.session.phase(), Phase::Redirecting);
        let now = START_MS + 180_000;
        let commands = d.session.handle(if closed {
            Event::PopupClosed { now }
        } else {
            Event::TimerFired { id: timer, now }
        });
        assert_eq!(names(&commands), ["ClosePopup"]);
        assert_eq!(d.session.phase(), Phase::Idle);
        let report = d.session.attack.report(Experiment::ForgedCallback).unwrap();
        assert_eq!(report.outcome, LabOutcome::Unknown, "never pass or fail");
        assert!(d.session.popup_trip().is_none());
    }
}

#[test]
fn i15_a_blocked_lab_window_waits_for_retry_which_opens_it_from_the_click() {
    let mut d = public();
    start(&mut d, LabStart::ForgedCallback);
    let first = d.session.popup_trip().unwrap();
    assert!(d.session.handle(Event::PopupBlocked).is_empty());
    assert!(d.session.lab_blocked());
    assert_eq!(
        d.session.phase(),
        Phase::Idle,
        "Retry is offered, nothing runs"
    );
    let fired = d.session.handle(Event::TimerFired {
        id: first,
        now: START_MS + 180_000,
    });
    assert!(fired.is_empty(), "the blocked trip's timer is stale");
    let commands = d.session.handle(Event::RetryPressed {
        now: START_MS + 1_000,
    });
    assert_eq!(
        names(&commands),
        [
            "OpenPopup",
            "PopupTo https://as.example/authorize",
            &format!("SetTimer {INTERACTIVE_TIMEOUT_MS}"),
        ]
    );
    assert!(!d.session.lab_blocked());
    assert_eq!(d.session.phase(), Phase::Redirecting);
    assert_ne!(d.session.popup_trip(), Some(first));
}

#[test]
fn i15_a_probe_s_timeout_is_a_timer_event_graded_unknown_and_the_last_closes_the_window() {
    let mut d = public();
    let log = start(&mut d, LabStart::Downgrade);
    assert_eq!(
        log,
        [
            "OpenPopup",
            "Fetch GET https://as.example/.well-known/openid-configuration",
            "Persist Metadata",
            "PopupTo https://as.example/authorize",
            &format!("SetTimer {SILENT_TIMEOUT_MS}"),
        ]
    );
    let first = d.session.popup_trip().unwrap();
    let stale = d.session.handle(Event::TimerFired {
        id: first + 50,
        now: START_MS + 1_000,
    });
    assert!(stale.is_empty());
    let commands = d.session.handle(Event::TimerFired {
        id: first,
        now: START_MS + 10_000,
    });
    assert_eq!(
        names(&commands),
        [
            "PopupTo https://as.example/authorize",
            &format!("SetTimer {SILENT_TIMEOUT_MS}"),
        ],
        "the next probe navigates the same window"
    );
    let again = d.session.handle(Event::TimerFired {
        id: first,
        now: START_MS + 10_001,
    });
    assert!(again.is_empty(), "a timer fires once");
    let second = d.session.popup_trip().unwrap();
    let commands = d.session.handle(Event::TimerFired {
        id: second,
        now: START_MS + 20_000,
    });
    assert_eq!(names(&commands), ["ClosePopup"]);
    assert_eq!(d.session.phase(), Phase::Idle);
    assert_eq!(
        d.session.attack.unanswered,
        [ProbeKind::NoChallenge, ProbeKind::PlainChallenge],
        "offered interactively"
    );
    let report = d.session.attack.report(Experiment::PkceDowngrade).unwrap();
    assert_eq!(report.outcome, LabOutcome::Unknown);
}

#[test]
fn checkup_runs_discovery_cors_and_the_probes_as_commands_and_grades_each_answer() {
    let mut d = public();
    let log = start(&mut d, LabStart::Checkup);
    assert_eq!(
        log,
        [
            "OpenPopup",
            "Fetch GET https://as.example/.well-known/openid-configuration",
            "Persist Metadata",
            "Fetch POST https://as.example/token",
            "PopupTo https://as.example/authorize",
            &format!("SetTimer {SILENT_TIMEOUT_MS}"),
        ]
    );
    assert!(d.session.attack.checkup_active);
    let card = d.session.attack.scorecard.clone().unwrap();
    for check in [Check::IssuerExact, Check::S256Advertised, Check::TokenCors] {
        assert_eq!(card.finding(check).verdict, Verdict::Pass, "{check:?}");
    }
    // The first probe (no challenge) is refused with a redirect: graded pass, the next goes.
    let popup = d.popups.last().cloned().unwrap();
    let state = query_value(&popup, "state");
    let commands = d.session.handle(Event::PopupReturned {
        url: format!("{REDIRECT}?error=invalid_request&state={state}&iss=https%3A%2F%2Fas.example"),
        now: START_MS + 3_000,
    });
    assert_eq!(
        names(&commands),
        [
            "PopupTo https://as.example/authorize",
            &format!("SetTimer {SILENT_TIMEOUT_MS}"),
        ]
    );
    let card = d.session.attack.scorecard.clone().unwrap();
    assert_eq!(card.finding(Check::PkceEnforced).verdict, Verdict::Pass);
    assert!(!d.session.checkup_probes_done());
}

#[test]
fn checkup_discovery_failure_grades_the_issuer_line_failed_and_closes_the_window() {
    let mut d = public();
    d.session.settings.issuer = "https://as.example/missing".into();
    let now = d.now;
    let commands = d.session.handle(Event::LabStarted {
        run: LabStart::Checkup,
        redirect_uri: REDIRECT.into(),
        entropy: scripted::lab_entropy(16),
        now,
    });
    let commands = answer(&mut d, &commands, 404, r#"{"error":"not_found"}"#);
    let commands = answer(&mut d, &commands, 404, r#"{"error":"not_found"}"#);
    assert_eq!(names(&commands), ["ClosePopup"]);
    assert_eq!(d.session.phase(), Phase::Failed);
    let card = d.session.attack.scorecard.clone().unwrap();
    assert_eq!(card.finding(Check::IssuerExact).verdict, Verdict::Fail);
}

#[test]
fn i15_a_probe_answer_landing_in_the_lab_s_tab_is_dropped_never_read_as_a_callback() {
    let mut d = public();
    let probe_state = "a-probe-state-value-of-forty-three-characters".to_owned();
    d.saved_lab.probe_states = vec![probe_state.clone()];
    let log = d.reload_with(&format!("code={CODE}&state={probe_state}"));
    assert_eq!(
        log,
        ["CleanAddressBar"],
        "no token request, no callback check"
    );
    assert!(d.session.problem.is_none());
    // A provider's answer all the same: the page folds its settings (issue 12).
    assert!(d.session.back_from_provider());
    assert!(d
        .session
        .notice
        .as_deref()
        .unwrap()
        .contains("earlier probes"));
    assert!(
        d.session.attack.probe_states.is_empty(),
        "forgotten once used"
    );
    assert!(d.session.timeline.is_empty());
}

#[test]
fn the_lab_refuses_a_confidential_client_before_any_window_or_request() {
    for run in [
        LabStart::ForgedCallback,
        LabStart::CodeExperiments { checkup: false },
    ] {
        let mut d = ScriptedDriver::new(scripted::settings(ClientType::Confidential));
        let log = start(&mut d, run);
        assert!(log.is_empty(), "{log:?}");
        assert_eq!(d.session.phase(), Phase::Failed);
        let problem = d.session.problem.clone().unwrap();
        assert!(problem.what_to_do.contains("Public client with PKCE"));
    }
}

#[test]
fn a_lab_run_is_not_started_while_another_action_is_in_flight() {
    let mut d = public();
    start(&mut d, LabStart::ForgedCallback);
    assert_eq!(d.session.phase(), Phase::Redirecting);
    let log = start(&mut d, LabStart::Checkup);
    assert!(log.is_empty(), "{log:?}");
    assert!(d.session.attack.scorecard.is_none());
}
