//! Host tests of the stolen-token experiment: each attempt as commands and answers.

use super::*;
use crate::flow::attack::Outcome as LabOutcome;
use crate::flow::scripted::{self, ScriptedDriver, REDIRECT};
use crate::protocol::dpop::{PLACEHOLDER_SIGNATURE, RFC9449_EXAMPLE_JWK};

const PROFILE: &str = "https://api.example/api/profile";
const FILES: &str = "https://api.example/api/files";

/// A logged-in session, with DPoP on or off.
fn logged_in(dpop: bool) -> ScriptedDriver {
    let mut settings = scripted::settings(ClientType::Public);
    settings.dpop = Some(dpop);
    let mut d = ScriptedDriver::new(settings);
    d.login();
    d.come_back();
    assert_eq!(
        d.session.phase(),
        Phase::LoggedIn,
        "{:?}",
        d.session.problem
    );
    assert_eq!(d.session.tokens_are_dpop(), dpop);
    d
}

fn run(d: &mut ScriptedDriver) -> Vec<Command> {
    d.session.handle(Event::LabStarted {
        run: LabStart::StolenToken,
        redirect_uri: REDIRECT.into(),
        entropy: scripted::lab_entropy(16),
        now: d.now,
    })
}

/// The one fetch of `commands`.
fn fetch(commands: &[Command]) -> (RequestId, HttpRequest) {
    match commands {
        [Command::Fetch { id, request }] => (*id, request.clone()),
        other => panic!("one fetch expected, got {other:?}"),
    }
}

fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn answer(d: &mut ScriptedDriver, id: RequestId, status: u16, www: Option<&str>) -> Vec<Command> {
    d.session.handle(Event::HttpAnswered {
        id,
        outcome: Ok(HttpResponse {
            www_authenticate: www.map(str::to_owned),
            ..HttpResponse::json(status, r#"{"sub":"alice","name":"Alice Liddell"}"#)
        }),
        now: d.now,
    })
}

/// The one `Sign` of `commands`: its id, key and the proof's claims.
fn sign(commands: &[Command]) -> (RequestId, DpopKeyRole, serde_json::Value) {
    match commands {
        [Command::Sign { id, key, input }] => {
            let claims = input.split('.').nth(1).unwrap();
            let bytes = URL_SAFE_NO_PAD.decode(claims).unwrap();
            (*id, *key, serde_json::from_slice(&bytes).unwrap())
        }
        other => panic!("one Sign expected, got {other:?}"),
    }
}

fn signed(d: &mut ScriptedDriver, id: RequestId) -> Vec<Command> {
    d.session.handle(Event::Signed {
        id,
        signature: PLACEHOLDER_SIGNATURE.to_vec(),
        now: d.now,
    })
}

/// A DPoP run up to the attacker's first request: the two keys' proofs signed, the app's
/// own request answered 200. Returns the Bearer attempt's fetch.
fn dpop_run_to_the_attempts(d: &mut ScriptedDriver) -> (RequestId, HttpRequest) {
    let first = run(d);
    assert!(
        matches!(
            first[..],
            [Command::MakeDpopKey {
                key: DpopKeyRole::Attacker,
                alg: DpopAlg::Es256
            }]
        ),
        "{first:?}"
    );
    assert!(d.session.phase().is_busy());
    assert!(
        d.session.tokens().is_some(),
        "the login is kept while it runs"
    );
    let own = d.session.handle(scripted::key_ready(
        DpopKeyRole::Attacker,
        RFC9449_EXAMPLE_JWK,
        d.now,
    ));
    let (own_id, key, claims) = sign(&own);
    assert_eq!(key, DpopKeyRole::Attacker);
    assert_eq!(
        (claims["htm"].as_str(), claims["htu"].as_str()),
        (Some("GET"), Some(PROFILE))
    );
    let tab = signed(d, own_id);
    let (tab_id, key, claims) = sign(&tab);
    assert_eq!(key, DpopKeyRole::Tab);
    assert_eq!(claims["htu"], PROFILE);
    let (app_id, app) = fetch(&signed(d, tab_id));
    assert_eq!(app.url, PROFILE);
    assert_eq!(
        header(&app, "Authorization"),
        Some(format!("DPoP {}", scripted::ACCESS_TOKEN).as_str())
    );
    assert!(header(&app, "DPoP").is_some());
    fetch(&answer(d, app_id, 200, None))
}

#[test]
fn r6750_r9449_a_copied_bearer_token_reads_the_profile_as_fetch_commands_attack_worked() {
    let mut d = logged_in(false);
    let (id, request) = fetch(&run(&mut d));
    assert_eq!(d.session.phase(), Phase::CallingApi, "busy while it runs");
    assert!(d.session.tokens().is_some());
    assert_eq!(request.url, PROFILE);
    assert_eq!(
        header(&request, "Authorization"),
        Some(format!("Bearer {}", scripted::ACCESS_TOKEN).as_str())
    );
    assert!(header(&request, "DPoP").is_none());
    let after = answer(&mut d, id, 200, None);
    assert!(after.is_empty(), "{after:?}");
    assert_eq!(d.session.phase(), Phase::LoggedIn);
    let (outcome, findings) = d.session.attack.stolen_token.clone().unwrap();
    assert_eq!(outcome, LabOutcome::Succeeded);
    assert_eq!(
        findings[0],
        "The copy sent as Bearer: 200, the attacker read the profile."
    );
    assert!(findings[1].starts_with("✘ A Bearer token works for whoever holds it."));
    assert_eq!(
        findings.len(),
        2,
        "no honest-limit line without DPoP: {findings:?}"
    );
    let json = d.session.timeline.to_json();
    assert!(
        !json.contains(scripted::ACCESS_TOKEN),
        "the token is masked"
    );
    assert!(d
        .session
        .timeline
        .last_of(StepKind::AttackResponse)
        .is_some());
}

#[test]
fn r9449_7_11_1_a_bound_copy_is_refused_as_bearer_with_another_key_replayed_jti_and_elsewhere_htu()
{
    let mut d = logged_in(true);
    let (id, bearer) = dpop_run_to_the_attempts(&mut d);
    // §7.2: the bound token sent as Bearer.
    assert_eq!(
        header(&bearer, "Authorization"),
        Some(format!("Bearer {}", scripted::ACCESS_TOKEN).as_str())
    );
    let (id, own) = fetch(&answer(
        &mut d,
        id,
        401,
        Some(r#"DPoP error="invalid_token", error_description="token is bound to a DPoP key""#),
    ));
    // §4.3/§6.1: a valid proof, of a key that is not the one in cnf.jkt.
    assert_eq!(own.url, PROFILE);
    let own_proof = header(&own, "DPoP").unwrap().to_owned();
    let (id, replay) = fetch(&answer(
        &mut d,
        id,
        401,
        Some(r#"DPoP error="invalid_token", error_description="cnf.jkt does not match""#),
    ));
    // §11.1: the captured proof replayed (jti), then sent to another URL (htu).
    assert_eq!(replay.url, PROFILE);
    let captured = header(&replay, "DPoP").unwrap().to_owned();
    assert_ne!(captured, own_proof);
    let (id, elsewhere) = fetch(&answer(
        &mut d,
        id,
        401,
        Some(
            r#"DPoP error="invalid_dpop_proof", error_description="DPoP proof already used (jti)""#,
        ),
    ));
    assert_eq!(elsewhere.url, FILES);
    assert_eq!(header(&elsewhere, "DPoP"), Some(captured.as_str()));
    let after = answer(
        &mut d,
        id,
        401,
        Some(r#"DPoP error="invalid_dpop_proof", error_description="htu does not match""#),
    );
    assert!(after.is_empty(), "{after:?}");
    assert_eq!(d.session.phase(), Phase::LoggedIn);
    assert!(d.session.tokens_are_dpop());
    let (outcome, findings) = d.session.attack.stolen_token.clone().unwrap();
    assert_eq!(outcome, LabOutcome::Stopped, "{findings:?}");
    assert!(findings[0].starts_with("The copy sent as Bearer: 401 invalid_token"));
    assert!(findings[1]
        .starts_with("The copy with a proof of the attacker's own key: 401 invalid_token"));
    assert!(findings[1].contains("cnf.jkt"));
    assert!(findings[2].starts_with("The captured request replayed: 401 invalid_dpop_proof"));
    assert!(findings[2].contains("jti"));
    assert!(findings[3].starts_with("The captured proof at another URL: 401 invalid_dpop_proof"));
    assert!(findings[3].contains("htu"));
    assert!(findings[4].starts_with("✔ Stopped by DPoP"));
    assert!(findings[5].starts_with("Honest limit"));
    let json = d.session.timeline.to_json();
    assert!(
        !json.contains(scripted::ACCESS_TOKEN),
        "the token is masked"
    );
}

#[test]
fn r9449_a_refused_signature_of_the_attacker_s_proof_is_unknown_with_a_clear_sentence() {
    let mut d = logged_in(true);
    run(&mut d);
    let own = d.session.handle(scripted::key_ready(
        DpopKeyRole::Attacker,
        RFC9449_EXAMPLE_JWK,
        d.now,
    ));
    let (own_id, _, _) = sign(&own);
    let tab = d.session.handle(Event::SignFailed {
        id: own_id,
        message: "OperationError: key unusable".into(),
        now: d.now,
    });
    let (tab_id, key, _) = sign(&tab);
    assert_eq!(key, DpopKeyRole::Tab);
    let (app_id, _) = fetch(&signed(&mut d, tab_id));
    let (mut id, _) = fetch(&answer(&mut d, app_id, 200, None));
    // Bearer, replay, elsewhere: the attempt without a proof of its own is not sent.
    for _ in 0..2 {
        (id, _) = fetch(&answer(
            &mut d,
            id,
            401,
            Some(r#"DPoP error="invalid_token""#),
        ));
    }
    assert!(answer(&mut d, id, 401, Some(r#"DPoP error="invalid_dpop_proof""#)).is_empty());
    let (outcome, findings) = d.session.attack.stolen_token.clone().unwrap();
    assert_eq!(outcome, LabOutcome::Unknown, "{findings:?}");
    assert_eq!(
        findings[1],
        "The copy with a proof of the attacker's own key: no answer (the browser refused to \
         sign the attacker's proof: OperationError: key unusable)"
    );
    assert!(!findings.iter().any(|f| f.starts_with('✔')), "{findings:?}");
    assert!(findings.last().unwrap().starts_with("Honest limit"));
    assert_eq!(d.session.phase(), Phase::LoggedIn);
}

#[test]
fn r9449_an_attempt_without_an_answer_is_unknown_with_a_clear_sentence() {
    let mut d = logged_in(false);
    let (id, _) = fetch(&run(&mut d));
    let after = d.session.handle(Event::HttpAnswered {
        id,
        outcome: Err(TransportError::Network {
            origin: "https://api.example".into(),
        }),
        now: d.now,
    });
    assert!(after.is_empty());
    let (outcome, findings) = d.session.attack.stolen_token.clone().unwrap();
    assert_eq!(outcome, LabOutcome::Unknown, "{findings:?}");
    assert!(
        findings[0].starts_with("The copy sent as Bearer: no answer ("),
        "{findings:?}"
    );
    assert!(findings[0].contains("api.example"), "{findings:?}");
    assert_eq!(d.session.phase(), Phase::LoggedIn);
}

fn stale(d: &mut ScriptedDriver, window_s: u32) -> Vec<Command> {
    d.session.handle(Event::LabStarted {
        run: LabStart::StaleProof { window_s },
        redirect_uri: REDIRECT.into(),
        entropy: scripted::lab_entropy(16),
        now: d.now,
    })
}

#[test]
fn r9449_11_1_late_replay_counts_the_window_down_with_timers_then_iat_refuses_it() {
    let mut d = logged_in(true);
    // The tab's key is there: no attacker key, straight to this tab's proof.
    let (tab_id, key, claims) = sign(&stale(&mut d, 3));
    assert_eq!(key, DpopKeyRole::Tab);
    assert_eq!(claims["htu"], PROFILE);
    let (app_id, app) = fetch(&signed(&mut d, tab_id));
    let captured = header(&app, "DPoP").unwrap().to_owned();
    // At once: the same request again, refused by jti.
    let (quick_id, quick) = fetch(&answer(&mut d, app_id, 200, None));
    assert_eq!(header(&quick, "DPoP"), Some(captured.as_str()));
    let wait = answer(
        &mut d,
        quick_id,
        401,
        Some(
            r#"DPoP error="invalid_dpop_proof", error_description="This DPoP proof was already used (its jti was seen before)""#,
        ),
    );
    // Then the window (3 s) and the margin (2 s), a second at a time.
    let timer = match wait[..] {
        [Command::SetTimer { id, after_ms: 1000 }] => id,
        _ => panic!("{wait:?}"),
    };
    assert_eq!(d.session.stolen_waiting(), Some(5));
    // The status line says what the run waits for, not "Calling the API…".
    assert_eq!(d.session.phase(), Phase::WaitingIatWindow { left_s: 5 });
    assert!(d.session.phase().is_busy());
    assert!(d
        .session
        .handle(Event::TimerFired {
            id: timer + 99,
            now: d.now
        })
        .is_empty());
    for left in (1..5).rev() {
        let tick = d.session.handle(Event::TimerFired {
            id: timer,
            now: d.now,
        });
        assert!(
            matches!(tick[..], [Command::SetTimer { id, after_ms: 1000 }] if id == timer),
            "{tick:?}"
        );
        assert_eq!(d.session.stolen_waiting(), Some(left));
        assert_eq!(d.session.phase(), Phase::WaitingIatWindow { left_s: left });
    }
    let (late_id, late) = fetch(&d.session.handle(Event::TimerFired {
        id: timer,
        now: d.now,
    }));
    assert_eq!(d.session.stolen_waiting(), None);
    assert_eq!(d.session.phase(), Phase::CallingApi);
    assert_eq!(header(&late, "DPoP"), Some(captured.as_str()));
    assert!(answer(
        &mut d,
        late_id,
        401,
        Some(r#"DPoP error="invalid_dpop_proof", error_description="The proof's iat is not within 3 s of the server's time""#),
    )
    .is_empty());
    let (outcome, findings) = d.session.attack.stolen_token.clone().unwrap();
    assert_eq!(outcome, LabOutcome::Stopped, "{findings:?}");
    assert!(findings[0].starts_with("The captured request replayed: 401 invalid_dpop_proof"));
    assert!(findings[1].contains("after the iat window: 401 invalid_dpop_proof"));
    assert!(
        findings.contains(&stolen_token::IAT_LINE.to_owned()),
        "{findings:?}"
    );
    assert_eq!(d.session.phase(), Phase::LoggedIn);
    let late_step = d
        .session
        .timeline
        .steps()
        .iter()
        .rev()
        .find(|s| s.kind == StepKind::AttackRequest)
        .unwrap();
    assert!(late_step.label.contains("after the API's iat window"));
}

#[test]
fn r9449_11_1_late_replay_needs_a_dpop_token() {
    let mut d = logged_in(false);
    assert!(stale(&mut d, 3).is_empty());
    let problem = d.session.problem.clone().unwrap();
    assert!(
        problem.what_happened.contains("Bearer token"),
        "{problem:?}"
    );
    assert_eq!(d.session.phase(), Phase::LoggedIn);
}

#[test]
fn r9449_the_experiment_needs_the_live_session_s_token() {
    let mut d = ScriptedDriver::new(scripted::settings(ClientType::Public));
    assert!(run(&mut d).is_empty());
    let problem = d.session.problem.clone().unwrap();
    assert!(problem.what_happened.contains("has none"), "{problem:?}");
    assert!(d.session.attack.stolen_token.is_none());
}
