//! Host tests of the key set asked for while the code is redeemed (OpenID Connect Core §10.1:
//! the keys come from the provider's `jwks_uri`; they do not depend on the token answer).

use super::*;

/// Lands on the callback by hand: the token request's id and the key set's.
fn redeeming(d: &mut ScriptedDriver, state: &str) -> (RequestId, RequestId) {
    let commands = land(d, &good_callback(state));
    let ids: Vec<(RequestId, String)> = commands
        .iter()
        .filter_map(|c| match c {
            Command::Fetch { id, request } => Some((*id, request.url.clone())),
            _ => None,
        })
        .collect();
    let token = ids.iter().find(|(_, url)| url.ends_with("/token"));
    let keys = ids.iter().find(|(_, url)| url.ends_with("/jwks"));
    match (token, keys) {
        (Some((token, _)), Some((keys, _))) => (*token, *keys),
        _ => panic!("the callback sent {:?}", names(&commands)),
    }
}

/// The token endpoint's good answer (with the ID token for the nonce the login sent), handed
/// to the session: the commands it returns.
fn answer_token(d: &mut ScriptedDriver, token: RequestId, now: u64) -> Vec<Command> {
    let nonce = sent_param(d, "nonce");
    d.session.handle(Event::HttpAnswered {
        id: token,
        outcome: Ok(HttpResponse::json(
            200,
            scripted::token_json("demo-app", nonce.as_deref(), now),
        )),
        now,
    })
}

fn kinds(d: &ScriptedDriver) -> Vec<StepKind> {
    d.session.timeline.steps().iter().map(|s| s.kind).collect()
}

#[test]
fn oidc_the_key_set_is_asked_for_with_the_token_request_before_any_id_token_arrived() {
    let (mut d, state) = left_for_provider();
    redeeming(&mut d, &state);
    let kinds = kinds(&d);
    let keys = kinds.iter().position(|k| *k == StepKind::FetchJwks);
    let answer = kinds.iter().position(|k| *k == StepKind::TokenResponse);
    assert!(keys.is_some() && answer.is_none(), "{kinds:?}");
    let step = d
        .session
        .timeline
        .steps()
        .iter()
        .find(|s| s.kind == StepKind::FetchJwks);
    assert!(
        step.unwrap().note.contains("oidc.the_public_keys_early"),
        "the step says why it is asked for early: {:?}",
        step.unwrap().note
    );
}

#[test]
fn oidc_keys_that_arrived_first_check_the_id_token_without_a_second_fetch() {
    let (mut d, state) = left_for_provider();
    let (token, keys) = redeeming(&mut d, &state);
    let after_keys = d.session.handle(Event::HttpAnswered {
        id: keys,
        outcome: Ok(HttpResponse::json(200, scripted::jwks_json())),
        now: START_MS + 1_010,
    });
    assert!(after_keys.is_empty(), "{:?}", names(&after_keys));
    let after_token = answer_token(&mut d, token, START_MS + 1_020);
    assert_eq!(names(&after_token), ["CheckIdToken SHA-256"]);
}

#[test]
fn oidc_keys_still_out_when_the_id_token_arrives_are_waited_for_not_asked_again() {
    let (mut d, state) = left_for_provider();
    let (token, keys) = redeeming(&mut d, &state);
    let after_token = answer_token(&mut d, token, START_MS + 1_010);
    assert!(
        fetches(&after_token).is_empty(),
        "{:?}",
        names(&after_token)
    );
    let after_keys = d.session.handle(Event::HttpAnswered {
        id: keys,
        outcome: Ok(HttpResponse::json(200, scripted::jwks_json())),
        now: START_MS + 1_020,
    });
    assert_eq!(names(&after_keys), ["CheckIdToken SHA-256"]);
    let jwks_steps = kinds(&d)
        .iter()
        .filter(|k| **k == StepKind::FetchJwks)
        .count();
    assert_eq!(jwks_steps, 1);
}

#[test]
fn oidc_keys_that_failed_early_fail_the_login_with_their_diagnosis_and_keep_no_token() {
    let (mut d, state) = left_for_provider();
    let (token, keys) = redeeming(&mut d, &state);
    d.session.handle(Event::HttpAnswered {
        id: keys,
        outcome: Err(TransportError::Network {
            origin: ISSUER.to_owned(),
        }),
        now: START_MS + 1_010,
    });
    assert_eq!(d.session.phase(), Phase::Exchanging, "the login goes on");
    let after_token = answer_token(&mut d, token, START_MS + 1_020);
    assert!(
        fetches(&after_token).is_empty(),
        "{:?}",
        names(&after_token)
    );
    assert_eq!(d.session.phase(), Phase::Failed);
    assert!(d.session.tokens().is_none());
    let problem = d.session.problem.as_ref().expect("a problem");
    assert!(
        problem.what_happened.contains("key set"),
        "{}",
        problem.what_happened
    );
}

#[test]
fn oidc_no_key_set_is_asked_for_a_login_without_openid() {
    let (mut d, state) = left_for_provider_with(ScriptedDriver::new(ProviderSettings {
        scope: "read:profile".into(),
        ..scripted::settings(ClientType::Public)
    }));
    let commands = land(&mut d, &good_callback(&state));
    let urls: Vec<&str> = fetches(&commands).iter().map(|r| r.url.as_str()).collect();
    assert_eq!(urls, [format!("{ISSUER}/token")]);
}

#[test]
fn oidc_a_refused_token_answer_still_completes_the_key_set_s_step() {
    let (mut d, state) = left_for_provider();
    let (token, keys) = redeeming(&mut d, &state);
    d.session.handle(Event::HttpAnswered {
        id: token,
        outcome: Ok(HttpResponse::json(400, r#"{"error":"invalid_grant"}"#)),
        now: START_MS + 1_010,
    });
    assert_eq!(d.session.phase(), Phase::Failed);
    let late = d.session.handle(Event::HttpAnswered {
        id: keys,
        outcome: Ok(HttpResponse::json(200, scripted::jwks_json())),
        now: START_MS + 1_020,
    });
    assert!(late.is_empty(), "{:?}", names(&late));
    let step = d
        .session
        .timeline
        .steps()
        .iter()
        .find(|s| s.kind == StepKind::FetchJwks)
        .unwrap();
    assert_eq!(step.status.css(), "ok", "no step left drawn in flight");
}
