//! Host tests of the session after the callback: the token, JWKS, API, revocation and logout
//! answers, and settings changes that reset what the page learnt.

use super::*;

/// Lands on the callback and returns the token request's id (for hand-made answers).
fn at_token_request() -> (ScriptedDriver, RequestId) {
    let (mut d, state) = left_for_provider();
    let commands = land(&mut d, &good_callback(&state));
    let id = fetch_id(&commands);
    (d, id)
}

/// Rows T: each bad token answer fails the login, keeps no token and sends nothing more.
#[test]
fn t03_to_t29_a_bad_token_answer_fails_the_login_and_keeps_no_token() {
    let html = |status: u16| {
        Ok(HttpResponse {
            status,
            content_type: Some("text/html".into()),
            body: "<html>login</html>".into(),
            ..HttpResponse::default()
        })
    };
    let cases: Vec<(&str, Outcome)> = vec![
        (
            "T-3 invalid_grant",
            Ok(HttpResponse::json(
                400,
                r#"{"error":"invalid_grant","error_description":"Code expired"}"#,
            )),
        ),
        (
            "T-5 invalid_client",
            Ok(HttpResponse::json(401, r#"{"error":"invalid_client"}"#)),
        ),
        (
            "T-6 unknown error",
            Ok(HttpResponse::json(400, r#"{"error":"foo"}"#)),
        ),
        ("T-7 HTML 400", html(400)),
        (
            "T-8 no string error",
            Ok(HttpResponse::json(400, r#"{"error":42}"#)),
        ),
        ("T-9 HTML 500", html(500)),
        ("T-10 not JSON", Ok(HttpResponse::json(200, "not json"))),
        ("T-13 not an object", Ok(HttpResponse::json(200, "[]"))),
        (
            "T-14 no access token",
            Ok(HttpResponse::json(200, r#"{"token_type":"Bearer"}"#)),
        ),
        (
            "T-15 no token type",
            Ok(HttpResponse::json(200, r#"{"access_token":"a"}"#)),
        ),
        (
            "T-16b DPoP",
            Ok(HttpResponse::json(
                200,
                r#"{"access_token":"a","token_type":"DPoP"}"#,
            )),
        ),
        (
            "T-22 redirect",
            Ok(HttpResponse {
                status: 0,
                ..HttpResponse::default()
            }),
        ),
        (
            "T-23 201",
            Ok(HttpResponse::json(
                201,
                r#"{"access_token":"a","token_type":"Bearer"}"#,
            )),
        ),
        (
            "T-25 network",
            Err(TransportError::Network {
                origin: ISSUER.into(),
            }),
        ),
        (
            "T-27 timeout",
            Err(TransportError::Timeout { after_ms: 15_000 }),
        ),
        (
            "T-28 duplicate key",
            Ok(HttpResponse::json(
                200,
                r#"{"access_token":"a","access_token":"b","token_type":"Bearer"}"#,
            )),
        ),
    ];
    for (row, outcome) in cases {
        let (mut d, id) = at_token_request();
        let commands = d.session.handle(Event::HttpAnswered {
            id,
            outcome,
            now: START_MS + 2_000,
        });
        assert_eq!(
            names(&commands),
            ["MarkDrawn oauth-flow-lab:tokens"],
            "{row}"
        );
        assert_eq!(d.session.phase(), Phase::Failed, "{row}");
        assert!(d.session.tokens().is_none(), "{row}");
        assert!(d.session.problem.is_some(), "{row}");
    }
}

#[test]
fn t26_a_network_failure_on_the_token_endpoint_names_cors_and_the_app_origin() {
    let (mut d, id) = at_token_request();
    d.session.handle(Event::HttpAnswered {
        id,
        outcome: Err(TransportError::Network {
            origin: ISSUER.into(),
        }),
        now: START_MS + 2_000,
    });
    let problem = d.session.problem.clone().unwrap();
    assert!(
        problem.what_happened.contains("token endpoint"),
        "{problem:?}"
    );
    assert!(problem.what_to_do.contains(scripted::ORIGIN), "{problem:?}");
}

#[test]
fn t01_the_token_request_is_a_form_post_with_safelisted_headers_only() {
    let (mut d, state) = left_for_provider();
    let commands = land(&mut d, &good_callback(&state));
    let request = fetches(&commands)[0].clone();
    assert_eq!(request.method, "POST");
    let headers: Vec<&str> = request.headers.iter().map(|(n, _)| *n).collect();
    assert_eq!(headers, ["Content-Type", "Accept"]);
    let body = request.body.unwrap();
    assert!(
        body.starts_with("grant_type=authorization_code&code="),
        "{body}"
    );
    assert!(
        body.contains("redirect_uri=https%3A%2F%2Fapp.example%2F"),
        "{body}"
    );
}

#[test]
fn a_late_answer_for_a_request_no_longer_awaited_is_ignored() {
    let (mut d, id) = at_token_request();
    let good = || {
        Ok(HttpResponse::json(
            200,
            r#"{"access_token":"a","token_type":"Bearer","scope":"openid read:profile"}"#,
        ))
    };
    // An answer for an id never issued.
    let before = d.session.timeline.len();
    let commands = d.session.handle(Event::HttpAnswered {
        id: id + 100,
        outcome: good(),
        now: START_MS + 2_000,
    });
    assert!(commands.is_empty());
    assert_eq!(d.session.timeline.len(), before, "nothing applied");
    assert_eq!(d.session.phase(), Phase::Exchanging);
    // The user logs out meanwhile: the real answer then arrives late.
    d.session.handle(Event::Action {
        action: Action::Logout,
        redirect_uri: REDIRECT.into(),
        now: START_MS + 2_001,
    });
    let commands = d.session.handle(Event::HttpAnswered {
        id,
        outcome: good(),
        now: START_MS + 2_002,
    });
    assert!(commands.is_empty());
    assert!(d.session.tokens().is_none(), "a late answer never logs in");
}

#[test]
fn an_invalid_id_token_signature_fails_the_login_and_keeps_no_token() {
    let mut d = public();
    d.signature_valid = false;
    d.login();
    let commands = d.come_back();
    assert_eq!(commands.last().unwrap(), "MarkDrawn oauth-flow-lab:tokens");
    // The claims (at_hash with them) are never looked at in a token whose signature failed.
    let kinds: Vec<StepKind> = d.session.timeline.steps().iter().map(|s| s.kind).collect();
    assert!(!kinds.contains(&StepKind::CheckIdTokenClaims), "{kinds:?}");
    assert_eq!(d.session.phase(), Phase::Failed);
    assert!(d.session.tokens().is_none());
    assert!(d.session.rejected_id_token.is_some());
}

/// OpenID Connect Core §3.1.3.8: `at_hash` must match the access token that came with the ID
/// token. The signature check and the access token's hash are one command (WebCrypto runs them
/// side by side), answered by one event.
#[test]
fn oidc_3_1_3_8_a_wrong_access_token_hash_fails_the_claims_and_keeps_no_token() {
    let (mut d, state) = left_for_provider();
    let landed = land(&mut d, &good_callback(&state));
    let keys = landed
        .iter()
        .find_map(|c| match c {
            Command::Fetch { id, request } if request.url.ends_with("/jwks") => Some(*id),
            _ => None,
        })
        .expect("the key set asked for with the token request");
    d.session.handle(Event::HttpAnswered {
        id: keys,
        outcome: Ok(HttpResponse::json(200, scripted::jwks_json())),
        now: START_MS + 1_010,
    });
    let nonce = sent_param(&d, "nonce");
    let commands = d.session.handle(Event::HttpAnswered {
        id: fetch_id(&landed),
        outcome: Ok(HttpResponse::json(
            200,
            scripted::token_json("demo-app", nonce.as_deref(), START_MS + 1_020),
        )),
        now: START_MS + 1_020,
    });
    let [Command::CheckIdToken {
        id,
        hash,
        access_token,
        ..
    }] = commands.as_slice()
    else {
        panic!("{:?}", names(&commands))
    };
    assert_eq!(*hash, "SHA-256");
    assert_eq!(access_token.secret(), scripted::ACCESS_TOKEN);
    // S-2: the command's Debug never prints the access token.
    assert!(!format!("{commands:?}").contains(scripted::ACCESS_TOKEN));
    let id = *id;
    let after = d.session.handle(Event::IdTokenChecked {
        id,
        verdict: Ok(true),
        digest: vec![0; 32],
        now: START_MS + 1_030,
    });
    assert!(fetches(&after).is_empty());
    assert_eq!(d.session.phase(), Phase::Failed);
    assert!(d.session.tokens().is_none());
    let (_, claims) = d
        .session
        .timeline
        .last_of(StepKind::CheckIdTokenClaims)
        .expect("the claims step");
    assert_eq!(claims.status.css(), "failed");
}

#[test]
fn jwks_is_cached_for_the_page_unless_a_key_is_missing() {
    let mut d = public();
    d.login();
    d.come_back();
    let jwks_fetches =
        |d: &ScriptedDriver| d.sent.iter().filter(|r| r.url.ends_with("/jwks")).count();
    assert_eq!(jwks_fetches(&d), 1);
    // A refresh returns a new ID token: its key is known, so no second fetch.
    let now = d.now;
    let commands = d.play(Event::Action {
        action: Action::Refresh,
        redirect_uri: REDIRECT.into(),
        now,
    });
    assert!(
        commands.iter().any(|c| c.starts_with("Fetch POST")),
        "{commands:?}"
    );
    assert_eq!(jwks_fetches(&d), 1, "{commands:?}");
    assert_eq!(d.session.phase(), Phase::LoggedIn);
    assert!(d.session.problem.is_none(), "{:?}", d.session.problem);
}

#[test]
fn api_403_names_the_scope_it_needed_and_keeps_the_session() {
    let mut d = public();
    d.login();
    d.come_back();
    let commands = d.session.handle(Event::Action {
        action: Action::CallApi("/api/files"),
        redirect_uri: REDIRECT.into(),
        now: d.now,
    });
    assert_eq!(d.session.phase(), Phase::CallingApi);
    let request = fetches(&commands)[0].clone();
    assert!(request
        .headers
        .iter()
        .any(|(n, v)| *n == "Authorization" && v.starts_with("Bearer ")));
    d.session.handle(Event::HttpAnswered {
        id: fetch_id(&commands),
        outcome: Ok(HttpResponse {
            status: 403,
            www_authenticate: Some(
                r#"Bearer error="insufficient_scope", scope="read:files""#.into(),
            ),
            ..HttpResponse::json(403, "")
        }),
        now: d.now,
    });
    assert_eq!(d.session.phase(), Phase::LoggedIn);
    assert_eq!(d.session.api_needed_scope.as_deref(), Some("read:files"));
    assert!(d.session.problem.is_some());
    assert!(d.session.tokens().is_some());
}

#[test]
fn revoke_keeps_the_token_marked_revoked() {
    let mut d = public();
    d.login();
    d.come_back();
    let commands = d.session.handle(Event::Action {
        action: Action::Revoke(TokenKind::Access),
        redirect_uri: REDIRECT.into(),
        now: d.now,
    });
    assert_eq!(d.session.phase(), Phase::Revoking);
    d.session.handle(Event::HttpAnswered {
        id: fetch_id(&commands),
        outcome: Ok(HttpResponse::json(200, "")),
        now: d.now,
    });
    assert_eq!(d.session.phase(), Phase::LoggedIn);
    assert!(d.session.revoked().access);
    assert!(d.session.tokens().is_some());
}

#[test]
fn logout_forgets_the_tokens_and_draws_a_step() {
    let mut d = public();
    d.login();
    d.come_back();
    let before = d.session.timeline.len();
    d.session.handle(Event::Action {
        action: Action::Logout,
        redirect_uri: REDIRECT.into(),
        now: d.now,
    });
    assert_eq!(d.session.phase(), Phase::Idle);
    assert!(d.session.tokens().is_none());
    assert_eq!(d.session.timeline.len(), before + 1);
}

#[test]
fn changing_the_issuer_forgets_discovery() {
    let mut d = public();
    d.login();
    d.session.handle(Event::CommandFailed {
        problem: Problem::local("x", "y"),
    });
    let mut settings = d.session.settings.clone();
    settings.issuer = "https://other.example".into();
    let commands = d.session.handle(Event::SettingsEdited(settings));
    assert_eq!(names(&commands), ["Persist Settings"]);
    assert!(d.session.metadata().is_none());
}
