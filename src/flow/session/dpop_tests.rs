//! Host tests of DPoP in the session: every DPoP transition of the engine, played on the
//! scripted example provider.

use super::dpop::*;
use super::*;
use crate::flow::scripted::{self, describe, ScriptedDriver, CODE, ISSUER, REDIRECT};
use crate::protocol::dpop::{self, DpopAlg, DpopError, PublicJwk};

fn dpop_driver(dpop: Option<bool>) -> ScriptedDriver {
    let mut settings = scripted::settings(ClientType::Public);
    settings.dpop = dpop;
    ScriptedDriver::new(settings)
}

/// Logs in and lands on the callback by hand: the commands of the callback page.
fn land(d: &mut ScriptedDriver) -> Vec<Command> {
    d.login();
    let state = d
        .navigations
        .last()
        .and_then(|url| {
            crate::protocol::uri::parse_query(url.split_once('?')?.1)
                .into_iter()
                .find(|(n, _)| n == "state")
        })
        .unwrap()
        .1;
    let settings = d.session.settings.clone();
    d.session = Session::new(settings, scripted::ORIGIN);
    let saved = d.saved();
    d.session.handle(Event::PageLoaded {
        query: format!("code={CODE}&state={state}&iss=https%3A%2F%2Fas.example"),
        fragment: String::new(),
        entropy: scripted::lab_entropy(1),
        saved,
        now: d.now,
    })
}

fn key_ready(d: &mut ScriptedDriver) -> Vec<Command> {
    let event = scripted::key_ready(DpopKeyRole::Tab, dpop::RFC9449_EXAMPLE_JWK, d.now);
    d.session.handle(event)
}

fn sign_of(commands: &[Command]) -> (RequestId, serde_json::Value) {
    commands
        .iter()
        .find_map(|c| match c {
            Command::Sign { id, input, .. } => {
                let claims = input.split('.').nth(1)?;
                let bytes = URL_SAFE_NO_PAD.decode(claims).ok()?;
                Some((*id, serde_json::from_slice(&bytes).ok()?))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("a Sign command in {:?}", names(commands)))
}

fn signed(d: &mut ScriptedDriver, id: RequestId) -> Vec<Command> {
    d.session.handle(Event::Signed {
        id,
        signature: vec![0xAB; 64],
        now: d.now,
    })
}

fn fetch_of(commands: &[Command]) -> (RequestId, HttpRequest) {
    commands
        .iter()
        .find_map(|c| match c {
            Command::Fetch { id, request } => Some((*id, request.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("a Fetch in {:?}", names(commands)))
}

fn names(commands: &[Command]) -> Vec<String> {
    commands.iter().map(describe).collect()
}

fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

/// The example provider's token answer for the login `d` made, of `token_type`.
fn token_body(d: &ScriptedDriver, token_type: &str) -> String {
    let nonce = d.navigations.last().and_then(|url| {
        crate::protocol::uri::parse_query(url.split_once('?')?.1)
            .into_iter()
            .find(|(n, _)| n == "nonce")
            .map(|(_, v)| v)
    });
    scripted::token_json("demo-app", nonce.as_deref(), d.now).replace(
        r#""token_type":"Bearer""#,
        &format!(r#""token_type":"{token_type}""#),
    )
}

fn use_dpop_nonce(nonce: &str) -> Outcome {
    Ok(HttpResponse {
        dpop_nonce: Some(nonce.to_owned()),
        ..HttpResponse::json(
            400,
            r#"{"error":"use_dpop_nonce","error_description":"nonce is required"}"#,
        )
    })
}

/// Up to the token request's first signature: (driver, request id).
fn at_first_sign() -> (ScriptedDriver, RequestId) {
    let mut d = dpop_driver(Some(true));
    let commands = land(&mut d);
    assert!(names(&commands).contains(&"MakeDpopKey".to_owned()));
    assert!(
        !commands.iter().any(
            |c| matches!(c, Command::Fetch { request, .. } if request.url.ends_with("/token"))
        ),
        "no token request before its proof"
    );
    // The key set, asked for while the code is redeemed, arrives first here.
    let keys = commands.iter().find_map(|c| match c {
        Command::Fetch { id, request } if request.url.ends_with("/jwks") => Some(*id),
        _ => None,
    });
    d.play(Event::HttpAnswered {
        id: keys.expect("the key set asked for early"),
        outcome: Ok(HttpResponse::json(200, scripted::jwks_json())),
        now: d.now,
    });
    let (id, claims) = sign_of(&key_ready(&mut d));
    assert_eq!(claims["htm"], "POST");
    assert_eq!(claims["htu"], format!("{ISSUER}/token"));
    assert!(claims.get("ath").is_none(), "no access token yet");
    (d, id)
}

#[test]
fn p12_the_callback_page_knows_its_token_request_waits_for_key_then_proof_then_left() {
    let mut d = dpop_driver(Some(true));
    land(&mut d);
    assert!(d.session.proof_pending(), "waiting for the key");
    let (id, _) = sign_of(&key_ready(&mut d));
    assert!(d.session.proof_pending(), "waiting for the signature");
    fetch_of(&signed(&mut d, id));
    assert!(!d.session.proof_pending(), "the token request has left");
    // Without DPoP the token request leaves with the page load itself.
    let mut plain = dpop_driver(Some(false));
    fetch_of(&land(&mut plain));
    assert!(!plain.session.proof_pending());
}

#[test]
fn r9449_4_a_dpop_login_makes_the_key_signs_then_posts_with_the_proof() {
    let (mut d, id) = at_first_sign();
    let (fetch_id, request) = fetch_of(&signed(&mut d, id));
    assert_eq!(fetch_id, id, "sent under the id the flow waits on");
    let proof = header(&request, "DPoP").expect("DPoP header");
    assert_eq!(proof.split('.').count(), 3);
    // The proof is drawn on the token request, decoded, its signature masked.
    let steps = d.session.timeline.steps();
    let (at, token_step) = d.session.timeline.last_of(StepKind::TokenRequest).unwrap();
    let shown = token_step.exchange.as_ref().unwrap();
    let masked = &shown
        .request_headers
        .iter()
        .find(|(n, _)| n == "DPoP")
        .unwrap()
        .1;
    assert!(masked.ends_with(".[signature hidden]"), "{masked}");
    assert!(!masked.contains(proof.rsplit('.').next().unwrap()));
    // The CORS preflight is drawn right before the POST.
    assert_eq!(steps[at - 2].kind, StepKind::Preflight);
    assert_eq!(steps[at - 1].kind, StepKind::PreflightResponse);
    // The scripted provider binds the token: the login completes with a DPoP token.
    let rest = d.play(Event::HttpAnswered {
        id,
        outcome: Ok(HttpResponse::json(200, token_body(&d, "DPoP"))),
        now: d.now,
    });
    assert!(
        rest.first().is_some_and(|c| c.starts_with("CheckIdToken")),
        "the ID token is checked with the keys already here: {rest:?}"
    );
    assert_eq!(d.session.tokens().unwrap().token_type, "DPoP");
}

#[test]
fn r9449_7_api_and_userinfo_calls_send_dpop_authorization_with_ath() {
    let mut d = dpop_driver(Some(true));
    d.login();
    let log = d.come_back();
    assert!(log.contains(&"MakeDpopKey".to_owned()), "{log:?}");
    assert_eq!(
        d.session.phase(),
        Phase::LoggedIn,
        "{:?}",
        d.session.problem
    );
    assert!(d.session.tokens_are_dpop());
    let commands = d.session.handle(Event::Action {
        action: Action::CallApi("/api/profile"),
        redirect_uri: REDIRECT.into(),
        now: d.now,
    });
    let (id, claims) = sign_of(&commands);
    assert_eq!(claims["htm"], "GET");
    assert_eq!(claims["htu"], "https://api.example/api/profile");
    let token = AccessToken::new(scripted::ACCESS_TOKEN.into());
    assert_eq!(claims["ath"], dpop::ath(&token));
    let (_, request) = fetch_of(&signed(&mut d, id));
    assert_eq!(
        header(&request, "Authorization"),
        Some(format!("DPoP {}", scripted::ACCESS_TOKEN).as_str())
    );
    assert!(header(&request, "DPoP").is_some());
    let (_, step) = d
        .session
        .timeline
        .last_of(StepKind::ResourceRequest)
        .unwrap();
    assert!(step.params.iter().any(|p| p.shown.starts_with("DPoP ")));
}

#[test]
fn r9449_8_token_nonce_demand_is_retried_once_as_its_own_pair_of_arrows() {
    let (mut d, id) = at_first_sign();
    let (_, _) = fetch_of(&signed(&mut d, id));
    let retry = d.session.handle(Event::HttpAnswered {
        id,
        outcome: use_dpop_nonce("n-1"),
        now: d.now,
    });
    let (again, claims) = sign_of(&retry);
    assert_eq!(again, id);
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(d.session.phase(), Phase::Exchanging);
    let labels: Vec<&str> = d
        .session
        .timeline
        .steps()
        .iter()
        .map(|s| s.label.as_str())
        .collect();
    let demand = labels
        .iter()
        .position(|l| l.contains("use_dpop_nonce"))
        .expect("the demand arrow");
    assert!(labels[demand + 1].contains("again, with the server's nonce"));
    let (_, again) = d.session.timeline.last_of(StepKind::TokenRequest).unwrap();
    assert!(!again
        .params
        .iter()
        .any(|p| p.name == "key thumbprint (jkt)"));
    assert_eq!(d.session.timeline.steps()[demand].note, NONCE_NOTE);
    let (_, request) = fetch_of(&signed(&mut d, id));
    assert!(header(&request, "DPoP").is_some());
    let (_, again) = d.session.timeline.last_of(StepKind::TokenRequest).unwrap();
    let chips: Vec<&str> = again.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        chips
            .iter()
            .filter(|n| **n == "key thumbprint (jkt)")
            .count(),
        1,
        "{chips:?}"
    );
    // The retry's answer completes the login.
    d.play(Event::HttpAnswered {
        id,
        outcome: Ok(HttpResponse::json(200, token_body(&d, "DPoP"))),
        now: d.now,
    });
    assert_eq!(
        d.session.phase(),
        Phase::LoggedIn,
        "{:?}",
        d.session.problem
    );
}

#[test]
fn r9449_8_a_second_nonce_demand_fails_the_login() {
    let (mut d, id) = at_first_sign();
    signed(&mut d, id);
    let retry = d.session.handle(Event::HttpAnswered {
        id,
        outcome: use_dpop_nonce("n-1"),
        now: d.now,
    });
    let (id, _) = sign_of(&retry);
    signed(&mut d, id);
    let after = d.session.handle(Event::HttpAnswered {
        id,
        outcome: use_dpop_nonce("n-2"),
        now: d.now,
    });
    assert!(!after.iter().any(|c| matches!(c, Command::Sign { .. })));
    assert_eq!(d.session.phase(), Phase::Failed);
    let problem = d.session.problem.clone().unwrap();
    assert_eq!(
        problem.what_happened,
        crate::protocol::error::Explain::what_happened(&DpopError::NonceRefusedTwice)
    );
    assert!(d.session.tokens().is_none());
}

#[test]
fn r9449_8_2_a_fresh_nonce_is_remembered_for_the_next_proof_to_that_server() {
    let (mut d, id) = at_first_sign();
    signed(&mut d, id);
    d.play(Event::HttpAnswered {
        id,
        outcome: Ok(HttpResponse {
            dpop_nonce: Some("fresh-1".into()),
            ..HttpResponse::json(200, token_body(&d, "DPoP"))
        }),
        now: d.now,
    });
    assert_eq!(
        d.session.phase(),
        Phase::LoggedIn,
        "{:?}",
        d.session.problem
    );
    let refresh = d.session.handle(Event::Action {
        action: Action::Refresh,
        redirect_uri: REDIRECT.into(),
        now: d.now,
    });
    let (_, claims) = sign_of(&refresh);
    assert_eq!(claims["nonce"], "fresh-1");
    assert_eq!(claims["htu"], format!("{ISSUER}/token"));
    // The API is another server: it gets no nonce it did not hand out.
    let mut d2 = dpop_driver(Some(true));
    d2.login();
    d2.come_back();
    let api = d2.session.handle(Event::Action {
        action: Action::CallApi("/api/profile"),
        redirect_uri: REDIRECT.into(),
        now: d2.now,
    });
    assert!(sign_of(&api).1.get("nonce").is_none());
}

#[test]
fn r9449_9_resource_nonce_demand_is_retried_with_fresh_api_checks() {
    let mut d = dpop_driver(Some(true));
    d.login();
    d.come_back();
    let commands = d.session.handle(Event::Action {
        action: Action::CallApi("/api/profile"),
        redirect_uri: REDIRECT.into(),
        now: d.now,
    });
    let (id, _) = sign_of(&commands);
    signed(&mut d, id);
    let retry = d.session.handle(Event::HttpAnswered {
        id,
        outcome: Ok(HttpResponse {
            www_authenticate: Some(
                r#"DPoP error="use_dpop_nonce", error_description="nonce required""#.into(),
            ),
            dpop_nonce: Some("api-n".into()),
            ..HttpResponse::json(401, "")
        }),
        now: d.now,
    });
    let (_, claims) = sign_of(&retry);
    assert_eq!(claims["nonce"], "api-n");
    signed(&mut d, id);
    d.session.handle(Event::HttpAnswered {
        id,
        outcome: Ok(HttpResponse::json(200, r#"{"sub":"alice"}"#)),
        now: d.now,
    });
    assert!(d.session.problem.is_none(), "{:?}", d.session.problem);
    assert_eq!(d.session.api_answer().unwrap().path, "/api/profile");
    // Both rounds' API checks are settled: none left pending.
    assert!(!d
        .session
        .timeline
        .steps()
        .iter()
        .any(|s| s.kind == StepKind::ServerCheck
            && s.status == crate::flow::timeline::StepStatus::Pending));
}

#[test]
fn a_refused_signature_sends_nothing_and_fails_the_login() {
    let (mut d, id) = at_first_sign();
    let after = d.session.handle(Event::SignFailed {
        id,
        message: "OperationError: key unusable".into(),
        now: d.now,
    });
    assert!(!after.iter().any(|c| matches!(c, Command::Fetch { .. })));
    assert_eq!(d.session.phase(), Phase::Failed);
    let problem = d.session.problem.clone().unwrap();
    assert!(
        problem.what_happened.contains("refused to sign"),
        "{problem:?}"
    );
    assert!(problem.what_happened.contains("OperationError"));
    let (_, step) = d.session.timeline.last_of(StepKind::TokenRequest).unwrap();
    assert!(step.is_failed());
}

#[test]
fn a_browser_without_the_key_says_to_switch_dpop_off() {
    let mut d = dpop_driver(Some(true));
    land(&mut d);
    let after = d.session.handle(Event::DpopKeyFailed {
        key: DpopKeyRole::Tab,
        message: "NotSupportedError: ECDSA".into(),
        now: d.now,
    });
    assert!(after.iter().all(|c| !matches!(c, Command::Fetch { .. })));
    assert_eq!(d.session.phase(), Phase::Failed);
    let problem = d.session.problem.clone().unwrap();
    assert!(
        problem.what_to_do.contains("switch DPoP off"),
        "{problem:?}"
    );
}

#[test]
fn r9449_5_1_the_login_key_is_made_for_the_picked_alg_and_its_failure_names_it() {
    let mut settings = scripted::settings(ClientType::Public);
    settings.dpop = Some(true);
    settings.dpop_alg = Some("RS256".into());
    let mut d = ScriptedDriver::new(settings);
    let commands = land(&mut d);
    assert!(
        commands.iter().any(|c| matches!(
            c,
            Command::MakeDpopKey {
                key: DpopKeyRole::Tab,
                alg: DpopAlg::Rs256
            }
        )),
        "{commands:?}"
    );
    d.session.handle(Event::DpopKeyFailed {
        key: DpopKeyRole::Tab,
        message: "NotSupportedError: RSASSA-PKCS1-v1_5".into(),
        now: d.now,
    });
    let problem = d.session.problem.clone().unwrap();
    assert!(
        problem
            .what_happened
            .contains("non-extractable RS256 key (RSASSA-PKCS1-v1_5 2048-bit)"),
        "{problem:?}"
    );
}

#[test]
fn r9449_4_2_an_rsa_pss_key_signs_ps256_proofs_with_its_jwk_and_256_byte_signature() {
    const RSA_JWK: &str = r#"{"kty":"RSA","e":"AQAB","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","alg":"PS256","ext":true,"key_ops":["verify"]}"#;
    let mut settings = scripted::settings(ClientType::Public);
    settings.dpop = Some(true);
    settings.dpop_alg = Some("PS256".into());
    let mut d = ScriptedDriver::new(settings);
    land(&mut d);
    let commands = d
        .session
        .handle(scripted::key_ready(DpopKeyRole::Tab, RSA_JWK, d.now));
    let input = commands
        .iter()
        .find_map(|c| match c {
            Command::Sign { input, .. } => Some(input.clone()),
            _ => None,
        })
        .unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(input.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "PS256");
    assert_eq!(header["jwk"]["kty"], "RSA");
    assert!(header["jwk"].get("alg").is_none(), "only RFC 7638 members");
    assert_eq!(d.session.dpop_key_alg(), Some(DpopAlg::Ps256));
    let (id, _) = sign_of(&commands);
    let sent = d.session.handle(Event::Signed {
        id,
        signature: vec![0xCD; 256],
        now: d.now,
    });
    let (_, request) = fetch_of(&sent);
    assert!(request.headers.iter().find(|(n, _)| *n == "DPoP").is_some());
    // The probe narrows what the Provider panel offers; the pick stays when allowed.
    d.session.handle(Event::DpopAlgsProbed {
        algs: vec![DpopAlg::Es256, DpopAlg::Ps256],
    });
    assert_eq!(d.session.dpop_algs_for(ISSUER).1, DpopAlg::Ps256);
}

#[test]
fn t16b_a_dpop_token_without_a_proof_is_refused() {
    let mut d = dpop_driver(Some(false));
    let commands = land(&mut d);
    let (id, request) = fetch_of(&commands);
    assert!(header(&request, "DPoP").is_none(), "switch off: no proof");
    assert!(!d
        .session
        .timeline
        .steps()
        .iter()
        .any(|s| s.kind == StepKind::Preflight));
    d.session.handle(Event::HttpAnswered {
        id,
        outcome: Ok(HttpResponse::json(
            200,
            r#"{"access_token":"SECRET-AT","token_type":"DPoP"}"#,
        )),
        now: d.now,
    });
    assert_eq!(d.session.phase(), Phase::Failed);
    assert!(d.session.tokens().is_none());
    assert!(d
        .session
        .problem
        .as_ref()
        .unwrap()
        .what_happened
        .contains("\"DPoP\""));
}

#[test]
fn a_bearer_token_despite_a_proof_is_kept_with_the_note_that_it_is_not_bound() {
    let (mut d, id) = at_first_sign();
    signed(&mut d, id);
    d.play(Event::HttpAnswered {
        id,
        outcome: Ok(HttpResponse::json(200, token_body(&d, "Bearer"))),
        now: d.now,
    });
    assert_eq!(d.session.phase(), Phase::LoggedIn);
    assert!(!d.session.tokens_are_dpop());
    let (_, answer) = d.session.timeline.last_of(StepKind::TokenResponse).unwrap();
    assert!(
        answer.note.contains("whoever copies this token"),
        "{}",
        answer.note
    );
}

#[test]
fn explain_mode_uses_the_rfc_example_key_and_marks_the_placeholder_signature() {
    let mut d = dpop_driver(Some(true));
    d.login();
    d.come_back();
    assert_eq!(
        d.session.dpop_thumbprint(),
        Some(
            PublicJwk::from_json(dpop::RFC9449_EXAMPLE_JWK)
                .unwrap()
                .thumbprint()
                .as_str()
        )
    );
    let (_, step) = d.session.timeline.last_of(StepKind::TokenRequest).unwrap();
    assert!(step
        .params
        .iter()
        .any(|p| p.shown == "placeholder: not a real signature"));
}

#[test]
fn switch_unset_follows_the_provider_metadata() {
    let mut d = dpop_driver(None);
    let commands = land(&mut d);
    // The example provider does not list dpop_signing_alg_values_supported: no proof.
    assert!(fetch_of(&commands)
        .1
        .headers
        .iter()
        .all(|(n, _)| *n != "DPoP"));
}
