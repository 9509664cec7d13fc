//! Host tests of the session engine: one per transition, named after the checklist row or the
//! RFC rule they prove. Runs are played by the pure scripted driver (`flow::scripted`).

use super::*;
use crate::flow::scripted::{self, describe, ScriptedDriver, CODE, ISSUER, REDIRECT, START_MS};

mod answers;
mod early_keys;

const CHALLENGE: &str = "code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn public() -> ScriptedDriver {
    ScriptedDriver::new(scripted::settings(ClientType::Public))
}

/// A driver whose login has left for the provider: its `state` is returned.
fn left_for_provider() -> (ScriptedDriver, String) {
    left_for_provider_with(public())
}

/// `d` presses Log in and leaves for the provider: its `state` is returned.
fn left_for_provider_with(mut d: ScriptedDriver) -> (ScriptedDriver, String) {
    d.login();
    let state = sent_param(&d, "state").expect("a state");
    (d, state)
}

/// The value of `name` in the authorization request the driver navigated to last.
fn sent_param(d: &ScriptedDriver, name: &str) -> Option<String> {
    let url = d.navigations.last()?;
    crate::protocol::uri::parse_query(url.split_once('?')?.1)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// Loads the callback page by hand (no automatic answers): returns the commands.
fn land(d: &mut ScriptedDriver, query: &str) -> Vec<Command> {
    let settings = d.session.settings.clone();
    d.session = Session::new(settings, scripted::ORIGIN);
    let saved = d.saved();
    d.session.handle(Event::PageLoaded {
        query: query.to_owned(),
        fragment: String::new(),
        entropy: scripted::lab_entropy(1),
        saved,
        now: START_MS + 1_000,
    })
}

fn fetches(commands: &[Command]) -> Vec<&HttpRequest> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Fetch { request, .. } => Some(request),
            _ => None,
        })
        .collect()
}

/// The token requests among `commands` (a login with `openid` asks for the key set beside).
fn token_fetches(commands: &[Command]) -> usize {
    fetches(commands)
        .iter()
        .filter(|r| r.url.ends_with("/token"))
        .count()
}

fn names(commands: &[Command]) -> Vec<String> {
    commands.iter().map(describe).collect()
}

fn fetch_id(commands: &[Command]) -> RequestId {
    commands
        .iter()
        .find_map(|c| match c {
            Command::Fetch { id, .. } => Some(*id),
            _ => None,
        })
        .expect("a fetch")
}

fn good_callback(state: &str) -> String {
    format!("code={CODE}&state={state}&iss=https%3A%2F%2Fas.example")
}

#[test]
fn p09_happy_path_login_navigates_with_the_appendix_b_challenge_then_redeems_and_verifies() {
    let mut d = public();
    let login = d.login();
    assert_eq!(
        login,
        [
            format!("Fetch GET {ISSUER}/.well-known/openid-configuration"),
            "Persist Metadata".into(),
            "Persist PendingLogin".into(),
            "Persist Run".into(),
            format!("Navigate {ISSUER}/authorize"),
        ]
    );
    assert!(d.navigations[0].contains(CHALLENGE), "{}", d.navigations[0]);
    assert!(d.navigations[0].contains("code_challenge_method=S256"));
    assert_eq!(d.session.phase(), Phase::Redirecting);
    let back = d.come_back();
    assert_eq!(
        back,
        [
            "CleanAddressBar".to_owned(),
            "Persist PendingLogins".into(),
            "Persist Runs".into(),
            format!("Fetch POST {ISSUER}/token"),
            format!("Fetch GET {ISSUER}/jwks"),
            "CheckIdToken SHA-256".into(),
            "MarkDrawn oauth-flow-lab:tokens".into(),
        ]
    );
    let token_request = d.sent.iter().find(|r| r.url.ends_with("/token")).unwrap();
    let body = token_request.body.as_deref().unwrap();
    assert!(body.contains("code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
    assert_eq!(d.session.phase(), Phase::LoggedIn);
    assert_eq!(d.session.identity().unwrap().claims.sub, "alice");
    assert_eq!(
        d.session.tokens().unwrap().access_token.secret(),
        scripted::ACCESS_TOKEN
    );
    // The run continued: the steps before the trip are still there, then the callback's.
    let kinds: Vec<StepKind> = d.session.timeline.steps().iter().map(|s| s.kind).collect();
    assert_eq!(kinds.first(), Some(&StepKind::Discover));
    assert!(kinds.contains(&StepKind::TokenResponse));
    assert!(kinds.contains(&StepKind::CheckIdTokenClaims));
    // The pending login was consumed.
    assert!(d.pending.is_empty());
}

#[test]
fn c01_an_ordinary_load_is_idle_with_no_command_and_no_problem() {
    let mut d = public();
    let commands = land(&mut d, "");
    assert!(commands.is_empty(), "{:?}", names(&commands));
    assert_eq!(d.session.phase(), Phase::Idle);
    assert!(d.session.problem.is_none());
}

/// Every refused callback of rows C: the problem is shown, the address bar cleaned, and NO
/// request is ever sent.
#[test]
fn c02_to_c24_a_refused_callback_sends_no_request_and_cleans_the_address_bar() {
    type Case = (&'static str, fn(&str) -> String);
    let cases: Vec<Case> = vec![
        ("C-2 missing state", |_| format!("code={CODE}")),
        ("C-3 wrong state", |_| {
            format!("code={CODE}&state=WRONG-state-value-that-no-login-made")
        }),
        ("C-4 empty state", |_| format!("code={CODE}&state=")),
        ("C-5 duplicated code", |s| {
            format!("code=a&code=b&state={s}")
        }),
        ("C-6 access denied", |s| {
            format!("error=access_denied&error_description=User+denied&state={s}&iss=https%3A%2F%2Fas.example")
        }),
        ("C-9 error and code", |s| {
            format!("error=access_denied&code={CODE}&state={s}&iss=https%3A%2F%2Fas.example")
        }),
        ("C-10 no code", |s| {
            format!("state={s}&iss=https%3A%2F%2Fas.example")
        }),
        ("C-11 empty code", |s| {
            format!("code=&state={s}&iss=https%3A%2F%2Fas.example")
        }),
        ("C-12 malformed code", |s| {
            format!("code=a%0Ab&state={s}&iss=https%3A%2F%2Fas.example")
        }),
        ("C-13 wrong iss", |s| {
            format!("code={CODE}&state={s}&iss=https%3A%2F%2Fevil.example")
        }),
        ("C-14 missing iss", |s| format!("code={CODE}&state={s}")),
        ("C-17 implicit token", |s| {
            format!("access_token=x&state={s}")
        }),
        ("C-18 JARM", |s| format!("response=eyJ.x.y&state={s}")),
        ("C-24 oversized state", |_| {
            format!("code={CODE}&state={}", "s".repeat(600))
        }),
    ];
    for (row, query) in cases {
        let (mut d, state) = left_for_provider();
        let commands = land(&mut d, &query(&state));
        assert!(
            fetches(&commands).is_empty(),
            "{row}: {:?}",
            names(&commands)
        );
        assert!(
            matches!(commands.first(), Some(Command::CleanAddressBar)),
            "{row}: C-25 the address bar is cleaned first: {:?}",
            names(&commands)
        );
        assert_eq!(d.session.phase(), Phase::Failed, "{row}");
        assert!(d.session.problem.is_some(), "{row}");
        assert!(d.session.tokens().is_none(), "{row}");
        let last = d.session.timeline.steps().last().unwrap();
        assert!(last.is_failed(), "{row}: the refusing step is drawn failed");
    }
}

#[test]
fn c19_a_fragment_response_is_refused_without_a_request() {
    let (mut d, state) = left_for_provider();
    let settings = d.session.settings.clone();
    d.session = Session::new(settings, scripted::ORIGIN);
    let saved = d.saved();
    let commands = d.session.handle(Event::PageLoaded {
        query: String::new(),
        fragment: good_callback(&state),
        entropy: scripted::lab_entropy(1),
        saved,
        now: START_MS + 1_000,
    });
    assert!(fetches(&commands).is_empty(), "{:?}", names(&commands));
    assert_eq!(d.session.phase(), Phase::Failed);
}

#[test]
fn c20_the_same_callback_opened_again_is_refused_the_pending_login_was_consumed() {
    let (mut d, state) = left_for_provider();
    let first = land(&mut d, &good_callback(&state));
    assert_eq!(token_fetches(&first), 1, "the first one redeems");
    // The storage after the first load: the consumed set was persisted.
    for c in first {
        if let Command::Persist(Persist::PendingLogins(set)) = c {
            d.pending = set;
        }
    }
    let again = land(&mut d, &good_callback(&state));
    assert!(fetches(&again).is_empty(), "{:?}", names(&again));
    assert_eq!(d.session.phase(), Phase::Failed);
}

#[test]
fn c22b_a_duplicated_tab_consumes_its_own_copy_once() {
    // sessionStorage is copied into the duplicate: each tab holds the pending login once.
    let (mut a, state) = left_for_provider();
    let copy_json = a.pending.to_json();
    let commands = land(&mut a, &good_callback(&state));
    assert_eq!(token_fetches(&commands), 1);
    let mut b = public();
    b.pending = PendingSet::from_json(&copy_json).unwrap();
    let commands = land(&mut b, &good_callback(&state));
    assert_eq!(
        token_fetches(&commands),
        1,
        "the copy redeems once (the AS then says invalid_grant, T-3)"
    );
    let mut replay = b.pending.to_json();
    for c in commands {
        if let Command::Persist(Persist::PendingLogins(set)) = c {
            replay = set.to_json();
        }
    }
    b.pending = PendingSet::from_json(&replay).unwrap();
    let commands = land(&mut b, &good_callback(&state));
    assert!(fetches(&commands).is_empty(), "never twice from one tab");
}

#[test]
fn c22c_two_logins_in_one_tab_each_callback_continues_its_own_run() {
    let mut d = public();
    d.login();
    let first = d.navigations[0].clone();
    d.session.handle(Event::CommandFailed {
        problem: Problem::local("the user came back", "log in again"),
    });
    let now = d.now + 10;
    let mut entropy = scripted::appendix_b_entropy();
    entropy.state = [0x33; 32];
    d.play(Event::LoginPressed {
        redirect_uri: REDIRECT.into(),
        entropy: Entropy(Ok(entropy)),
        intent: None,
        now,
    });
    assert_eq!(d.pending.len(), 2);
    d.navigations.push(first);
    let commands = d.come_back();
    assert!(commands.iter().any(|c| c.starts_with("Fetch POST")));
    assert_eq!(d.session.phase(), Phase::LoggedIn);
    assert_eq!(d.pending.len(), 1, "the other login stays pending");
}

#[test]
fn c23_s03_a_login_older_than_ten_minutes_is_dropped_on_an_ordinary_load_with_a_notice() {
    let (mut d, _) = left_for_provider();
    let settings = d.session.settings.clone();
    d.session = Session::new(settings, scripted::ORIGIN);
    let saved = d.saved();
    let commands = d.session.handle(Event::PageLoaded {
        query: String::new(),
        fragment: String::new(),
        entropy: scripted::lab_entropy(1),
        saved,
        now: START_MS + crate::protocol::pending::PENDING_TTL_MS + 60_000,
    });
    assert!(names(&commands).contains(&"Persist PendingLogins".to_owned()));
    assert!(d.session.notice.as_deref().unwrap().contains("10 minutes"));
    assert_eq!(d.session.phase(), Phase::Idle);
}

#[test]
fn c23_an_expired_login_s_callback_is_refused_without_a_request() {
    let (mut d, state) = left_for_provider();
    let settings = d.session.settings.clone();
    d.session = Session::new(settings, scripted::ORIGIN);
    let saved = d.saved();
    let commands = d.session.handle(Event::PageLoaded {
        query: good_callback(&state),
        fragment: String::new(),
        entropy: scripted::lab_entropy(1),
        saved,
        now: START_MS + crate::protocol::pending::PENDING_TTL_MS + 60_000,
    });
    assert!(fetches(&commands).is_empty(), "{:?}", names(&commands));
    assert_eq!(d.session.phase(), Phase::Failed);
}

#[test]
fn c27_a_tampered_pending_set_is_discarded_whole_and_reported() {
    let mut d = public();
    d.session = Session::new(scripted::settings(ClientType::Public), scripted::ORIGIN);
    let commands = d.session.handle(Event::PageLoaded {
        query: good_callback("some-state-value-of-forty-three-characters-x"),
        fragment: String::new(),
        entropy: scripted::lab_entropy(1),
        saved: Saved {
            pending: Err(Problem::local("tampered", "log in again")),
            ..Saved::default()
        },
        now: START_MS,
    });
    assert!(fetches(&commands).is_empty());
    assert!(names(&commands).contains(&"Persist PendingLogins".to_owned()));
    assert_eq!(d.session.phase(), Phase::Failed);
}

#[test]
fn reload_fails_unfinished_steps_and_notes_that_the_tokens_are_gone() {
    let mut d = public();
    d.login();
    d.come_back();
    assert_eq!(d.session.phase(), Phase::LoggedIn);
    d.saved_timeline = Some(d.session.timeline.clone());
    let before = d.session.timeline.len();
    let commands = d.reload_with("");
    assert!(commands.is_empty(), "{commands:?}");
    assert_eq!(
        d.session.phase(),
        Phase::Idle,
        "S-1: tokens were in memory only"
    );
    assert!(d.session.tokens().is_none());
    assert_eq!(d.session.timeline.len(), before + 1);
    let last = d.session.timeline.steps().last().unwrap();
    assert_eq!(last.kind, StepKind::Logout);
    assert!(last.label.contains("reloaded"), "{}", last.label);
}

#[test]
fn back_from_the_provider_s_logout_draws_the_return_and_forgets_the_mark() {
    let mut d = public();
    d.login();
    d.come_back();
    let now = d.now + 5;
    // The scripted provider's metadata has no end_session_endpoint: give it one.
    let commands = d.session.handle(Event::Action {
        action: Action::LogoutAtProvider([7; 32]),
        redirect_uri: REDIRECT.into(),
        now,
    });
    assert!(
        commands.is_empty(),
        "no end-session endpoint: nothing happens"
    );
    // Simulate the mark as a real logout would leave it.
    d.end_session_mark = true;
    d.saved_timeline = Some(d.session.timeline.clone());
    let commands = d.reload_with("");
    assert_eq!(commands, ["Forget EndSessionMark"]);
    let last = d.session.timeline.steps().last().unwrap();
    assert_eq!(last.kind, StepKind::Logout);
    assert!(!last.label.contains("reloaded"), "{}", last.label);
}

/// A tab that left for the provider's logout with this `state` (as the real logout leaves it).
fn left_for_logout(state: &str) -> ScriptedDriver {
    let mut d = public();
    d.login();
    d.come_back();
    d.end_session_mark = true;
    d.end_session_state = Some(state.to_owned());
    d.saved_timeline = Some(d.session.timeline.clone());
    d
}

#[test]
fn rp_logout_2_the_state_handed_back_is_checked_and_never_read_as_a_callback() {
    let mut d = left_for_logout("st-logout-1");
    let commands = d.reload_with("?state=st-logout-1");
    assert_eq!(
        commands,
        ["CleanAddressBar", "Forget EndSessionMark"],
        "the state leaves the address bar; no token request, no callback check"
    );
    let last = d.session.timeline.steps().last().unwrap();
    assert_eq!(last.kind, StepKind::Logout);
    assert!(
        last.label.contains("its session has ended"),
        "{}",
        last.label
    );
    let state = last.params.iter().find(|p| p.name == "state").unwrap();
    assert_eq!(state.shown, "matches the one sent ✓");
    assert!(d.session.notice.is_none());
}

#[test]
fn rp_logout_2_another_state_is_a_failed_check_and_no_session_end_is_claimed() {
    let mut d = left_for_logout("st-logout-1");
    let commands = d.reload_with("?state=st-forged");
    assert_eq!(commands, ["CleanAddressBar", "Forget EndSessionMark"]);
    let steps = d.session.timeline.steps();
    assert!(
        !steps
            .iter()
            .any(|s| s.label.contains("its session has ended")),
        "a forged return says nothing about the provider's session"
    );
    let last = steps.last().unwrap();
    assert!(
        last.is_failed() && last.label.contains("another state"),
        "{}",
        last.label
    );
    assert!(d
        .session
        .notice
        .as_deref()
        .unwrap()
        .contains("not the one of this tab's logout"));
    // A provider that hands no state back: the return is drawn, and says so.
    let mut d = left_for_logout("st-logout-1");
    assert_eq!(d.reload_with(""), ["Forget EndSessionMark"]);
    let last = d.session.timeline.steps().last().unwrap();
    let state = last.params.iter().find(|p| p.name == "state").unwrap();
    assert_eq!(state.shown, "not handed back by the provider");
    // A login answer is never taken for the logout's return.
    let mut d = left_for_logout("st-logout-1");
    let commands = d.reload_with("?code=abc&state=st-logout-1");
    assert!(!commands.is_empty());
    assert!(!d
        .session
        .timeline
        .steps()
        .iter()
        .any(|s| s.params.iter().any(|p| p.shown == "matches the one sent ✓")));
}

#[test]
fn share_link_prefills_the_settings_persists_them_and_cleans_the_address_bar() {
    let mut d = public();
    let commands = land(
        &mut d,
        "issuer=https%3A%2F%2Fother.example&client_id=shared-app&scope=openid",
    );
    assert_eq!(
        names(&commands),
        ["Persist Settings", "CleanAddressBar"],
        "{:?}",
        names(&commands)
    );
    assert_eq!(d.session.settings.client_id, "shared-app");
    assert!(d.session.notice.as_deref().unwrap().contains("pre-filled"));
}

#[test]
fn pkce_off_holds_the_checked_code_until_the_secret_is_typed() {
    let mut d = ScriptedDriver::new(scripted::settings(ClientType::Confidential));
    d.session.settings.client_id = crate::flow::settings::BUNDLED_CONFIDENTIAL_CLIENT.into();
    d.login();
    assert!(!d.navigations[0].contains("code_challenge"));
    let commands = d.come_back();
    assert!(
        !commands.iter().any(|c| c.starts_with("Fetch")),
        "no request before the secret: {commands:?}"
    );
    assert_eq!(d.session.phase(), Phase::AwaitingSecret);
    assert!(
        d.session.demo_secret().is_some(),
        "the bundled demo secret is offered"
    );
    let now = d.now;
    d.play(Event::SecretTyped {
        secret: scripted::CLIENT_SECRET.into(),
        now,
    });
    let body = d
        .sent
        .iter()
        .find(|r| r.url.ends_with("/token"))
        .unwrap()
        .body
        .clone()
        .unwrap();
    assert!(body.contains("client_secret=") && !body.contains("code_verifier"));
    assert_eq!(d.session.phase(), Phase::LoggedIn);
}

#[test]
fn manual_endpoints_skip_discovery() {
    let mut settings = scripted::settings(ClientType::Public);
    settings.scope = "read:profile".into();
    settings.manual = true;
    settings.endpoints.authorization_endpoint = format!("{ISSUER}/authorize");
    settings.endpoints.token_endpoint = format!("{ISSUER}/token");
    let mut d = ScriptedDriver::new(settings);
    let commands = d.login();
    assert!(
        !commands.iter().any(|c| c.starts_with("Fetch")),
        "{commands:?}"
    );
    assert_eq!(
        commands.last().unwrap(),
        &format!("Navigate {ISSUER}/authorize")
    );
}

#[test]
fn settings_problems_stop_the_login_before_any_request() {
    let mut settings = scripted::settings(ClientType::Public);
    settings.client_id = String::new();
    let mut d = ScriptedDriver::new(settings);
    let commands = d.login();
    assert!(commands.is_empty(), "{commands:?}");
    assert_eq!(d.session.phase(), Phase::Failed);
}

#[test]
fn a7_refused_storage_stops_the_login_before_navigating() {
    let mut d = public();
    let now = d.now;
    let commands = d.session.handle(Event::LoginPressed {
        redirect_uri: REDIRECT.into(),
        entropy: Entropy(Ok(scripted::appendix_b_entropy())),
        intent: None,
        now,
    });
    let id = fetch_id(&commands);
    let commands = d.session.handle(Event::HttpAnswered {
        id,
        outcome: Ok(HttpResponse::json(200, scripted::metadata_json())),
        now,
    });
    assert!(matches!(commands.last(), Some(Command::Navigate { .. })));
    // The driver could not store the pending login: it stops the batch and says so.
    d.session.handle(Event::CommandFailed {
        problem: Problem::local("storage refused", "allow site data"),
    });
    assert_eq!(d.session.phase(), Phase::Failed);
}

#[test]
fn discovery_falls_back_to_rfc8414_then_diagnoses_cors_with_the_app_origin() {
    let mut d = public();
    let now = d.now;
    let commands = d.session.handle(Event::LoginPressed {
        redirect_uri: REDIRECT.into(),
        entropy: Entropy(Ok(scripted::appendix_b_entropy())),
        intent: None,
        now,
    });
    let network = || {
        Err(TransportError::Network {
            origin: ISSUER.into(),
        })
    };
    let commands = d.session.handle(Event::HttpAnswered {
        id: fetch_id(&commands),
        outcome: network(),
        now,
    });
    let second = fetches(&commands);
    assert_eq!(second.len(), 1);
    assert!(second[0]
        .url
        .contains("/.well-known/oauth-authorization-server"));
    let commands = d.session.handle(Event::HttpAnswered {
        id: fetch_id(&commands),
        outcome: network(),
        now,
    });
    assert!(commands.is_empty());
    assert_eq!(d.session.phase(), Phase::Failed);
    let problem = d.session.problem.clone().unwrap();
    assert!(problem.what_to_do.contains(scripted::ORIGIN), "{problem:?}");
}

#[test]
fn discovery_runs_once_per_issuer_per_page() {
    let mut d = public();
    d.login();
    d.session.handle(Event::CommandFailed {
        problem: Problem::local("came back", "again"),
    });
    let commands = d.login();
    assert!(
        !commands.iter().any(|c| c.starts_with("Fetch")),
        "{commands:?}"
    );
}

/// Explain mode is the same engine: its timeline equals a live run fed by hand, event by
/// event, step for step (kind, actors, channel, label, notes, callouts, differences).
#[test]
fn explain_pkce_timeline_equals_a_live_run_fed_by_hand_step_for_step() {
    use sha2::{Digest as _, Sha256};
    let mut s = Session::new(scripted::settings(ClientType::Public), scripted::ORIGIN);
    let mut now = START_MS;
    let mut tick = || {
        now += 5;
        now
    };
    let c = s.handle(Event::LoginPressed {
        redirect_uri: REDIRECT.into(),
        entropy: Entropy(Ok(scripted::appendix_b_entropy())),
        intent: None,
        now: tick(),
    });
    let c = s.handle(Event::HttpAnswered {
        id: fetch_id(&c),
        outcome: Ok(HttpResponse::json(200, scripted::metadata_json())),
        now: tick(),
    });
    let mut pending = PendingSet::new();
    let mut runs = Vec::new();
    let mut metadata = Vec::new();
    let mut url = String::new();
    for command in c {
        match command {
            Command::Persist(Persist::PendingLogin(p)) => pending.insert(p),
            Command::Persist(Persist::Run { state, timeline }) => {
                runs.push((run_id(&state), timeline))
            }
            Command::Persist(Persist::Metadata(m)) => metadata.push(m),
            Command::Navigate { url: u } => url = u,
            _ => {}
        }
    }
    let state = url
        .split('&')
        .find_map(|p| p.strip_prefix("state="))
        .unwrap()
        .to_owned();
    let nonce = url
        .split('&')
        .find_map(|p| p.strip_prefix("nonce="))
        .map(str::to_owned);
    let saved_timeline = s.timeline.clone();
    let mut s = Session::new(scripted::settings(ClientType::Public), scripted::ORIGIN);
    let c = s.handle(Event::PageLoaded {
        query: good_callback(&state),
        fragment: String::new(),
        entropy: scripted::lab_entropy(1),
        saved: Saved {
            pending: Ok(pending),
            timeline: Some(saved_timeline),
            runs,
            metadata,
            ..Saved::default()
        },
        now: tick(),
    });
    // The token request and, with it, the key set (asked for while the code is redeemed).
    let fetch_to = |path: &str| {
        c.iter()
            .find_map(|command| match command {
                Command::Fetch { id, request } if request.url.ends_with(path) => Some(*id),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no fetch of {path} in {:?}", names(&c)))
    };
    let (token_id, keys_id) = (fetch_to("/token"), fetch_to("/jwks"));
    let token_now = tick();
    let c = s.handle(Event::HttpAnswered {
        id: token_id,
        outcome: Ok(HttpResponse::json(
            200,
            scripted::token_json("demo-app", nonce.as_deref(), token_now),
        )),
        now: token_now,
    });
    assert!(
        fetches(&c).is_empty(),
        "the keys are already out: {:?}",
        names(&c)
    );
    let c = s.handle(Event::HttpAnswered {
        id: keys_id,
        outcome: Ok(HttpResponse::json(200, scripted::jwks_json())),
        now: tick(),
    });
    let Some(Command::CheckIdToken {
        id, access_token, ..
    }) = c.first()
    else {
        panic!("{:?}", names(&c))
    };
    let digest = Sha256::digest(access_token.secret().as_bytes()).to_vec();
    s.handle(Event::IdTokenChecked {
        id: *id,
        verdict: Ok(true),
        digest,
        now: tick(),
    });
    assert_eq!(s.phase(), Phase::LoggedIn);
    let c = s.handle(Event::Action {
        action: Action::CallApi("/api/profile"),
        redirect_uri: REDIRECT.into(),
        now: tick(),
    });
    s.handle(Event::HttpAnswered {
        id: fetch_id(&c),
        outcome: Ok(HttpResponse::json(
            200,
            r#"{"sub":"alice","name":"Alice Example"}"#,
        )),
        now: tick(),
    });
    let shape = |t: &Timeline| -> Vec<String> {
        t.steps()
            .iter()
            .map(|s| {
                format!(
                    "{:?} {:?}->{:?} {:?} {} | {:?} | {:?} | {:?} | {:?}",
                    s.kind,
                    s.from,
                    s.to,
                    s.channel,
                    s.label,
                    s.note,
                    s.callout,
                    s.difference,
                    s.status
                )
            })
            .collect()
    };
    let explain = crate::flow::explain::script(crate::flow::explain::Variant::PkcePublic);
    assert_eq!(shape(&explain), shape(&s.timeline));
    assert!(explain.len() > 12, "a whole run: {}", explain.len());
}

#[test]
fn i15_back_from_a_provider_error_page_says_no_answer_came_back() {
    let (mut d, _) = left_for_provider();
    // The provider showed an error page of its own; the user pressed Back: an ordinary load.
    let commands = land(&mut d, "");
    assert!(fetches(&commands).is_empty());
    let notice = d.session.notice.clone().unwrap_or_default();
    assert!(
        notice.contains("came back from the provider without an answer")
            && notice.contains("error page"),
        "{notice}"
    );
    assert_eq!(d.session.phase(), Phase::Idle);
}

#[test]
fn s02_a_request_command_never_prints_its_secrets() {
    let (mut d, state) = left_for_provider();
    let commands = land(&mut d, &good_callback(&state));
    let printed = format!("{commands:?}");
    assert!(
        !printed.contains("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "{printed}"
    );
    assert!(!printed.contains(CODE), "{printed}");
    assert!(printed.contains("[redacted]"));
}

/// Issue 12: the page folds the settings form when it lands back from a provider trip (the
/// user came for the run), and keeps it open on any other load (a new user must fill it).
#[test]
fn p12_only_a_page_loaded_with_a_provider_s_answer_is_back_from_the_provider() {
    // An ordinary first visit, and a share link: the form is what the user came for.
    let mut d = public();
    land(&mut d, "");
    assert!(!d.session.back_from_provider());
    let mut d = public();
    land(
        &mut d,
        "issuer=https%3A%2F%2Fother.example&client_id=shared-app",
    );
    assert!(!d.session.back_from_provider());
    // Back without an answer (a provider's own error page, then Back): no answer came.
    let (mut d, _) = left_for_provider();
    land(&mut d, "");
    assert!(!d.session.back_from_provider());
    // A callback with a code, and one with an error: the provider answered.
    let (mut d, state) = left_for_provider();
    land(&mut d, &good_callback(&state));
    assert!(d.session.back_from_provider());
    let (mut d, state) = left_for_provider();
    land(&mut d, &format!("error=access_denied&state={state}"));
    assert!(d.session.back_from_provider());
    // A callback nobody here started is still an answer (refused, and drawn).
    let mut d = public();
    land(&mut d, &good_callback("st-unknown"));
    assert!(d.session.back_from_provider());
    // The return from the provider's logout.
    let mut d = left_for_logout("st-logout-1");
    d.reload_with("?state=st-logout-1");
    assert!(d.session.back_from_provider());
    // A reload of a logged-in page: the run is shown again, but nothing came back.
    let mut d = public();
    d.login();
    d.come_back();
    d.saved_timeline = Some(d.session.timeline.clone());
    d.reload_with("");
    assert!(!d.session.back_from_provider());
}
