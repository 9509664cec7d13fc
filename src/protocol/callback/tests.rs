//! Tests of `protocol::callback`, named after the checklist row or RFC rule they prove.

use super::*;
use crate::protocol::pending::{PendingSet, PENDING_TTL_MS};
use crate::protocol::pkce::CodeVerifier;

const STATE: &str = "Zk3-_9aBcD";
const NOW: u64 = 1_700_000_000_000;

fn pending(iss_supported: bool) -> PendingAuthorization {
    PendingAuthorization {
        state: State::parse(STATE).unwrap(),
        verifier: Some(CodeVerifier::from_random([3; 32])),
        issuer: "https://as.example".into(),
        client_id: "flow-lab".into(),
        redirect_uri: "https://app.example/".into(),
        token_endpoint: "https://as.example/token".into(),
        scope: "read:profile".into(),
        created_at_ms: NOW - 1_000,
        iss_parameter_supported: iss_supported,
        nonce: None,
    }
}

fn parse(query: &str) -> Result<Option<CallbackParams>, CallbackError> {
    parse_callback(query, "")
}

fn check(query: &str, iss_supported: bool) -> Result<AuthorizedCallback, CallbackError> {
    let params = parse(query)?.expect("a callback");
    validate_callback(params, Some(pending(iss_supported)), NOW)
}

#[test]
fn c01_no_oauth_params_is_an_ordinary_load() {
    assert_eq!(parse_callback("", ""), Ok(None));
    assert_eq!(parse_callback("?", "#"), Ok(None));
    assert_eq!(parse_callback("?foo=1", ""), Ok(None));
    assert_eq!(parse_callback("foo=1&foo=2", "#section-2"), Ok(None));
}

#[test]
fn pa_happy_path_with_matching_iss() {
    let ok = check(
        &format!("code=abc&state={STATE}&iss=https%3A%2F%2Fas.example"),
        true,
    )
    .unwrap();
    assert_eq!(ok.code.secret(), "abc");
    assert_eq!(ok.iss.as_deref(), Some("https://as.example"));
    assert_eq!(ok.pending.client_id, "flow-lab");
}

#[test]
fn c02_code_without_state_is_rejected() {
    assert_eq!(parse("?code=abc"), Err(CallbackError::MissingState));
}

#[test]
fn c03_wrong_state_is_rejected() {
    let mut set = PendingSet::new();
    set.insert(pending(false));
    let params = parse("?code=abc&state=WRONG").unwrap().unwrap();
    let found = set.take(&params.state);
    assert_eq!(
        validate_callback(params, found, NOW).unwrap_err(),
        CallbackError::NoPendingAuthorization
    );
    // The real pending login is left alone.
    assert_eq!(set.len(), 1);
}

#[test]
fn c03_pending_for_another_state_is_a_mismatch() {
    let params = parse("?code=abc&state=OTHER").unwrap().unwrap();
    assert_eq!(
        validate_callback(params, Some(pending(false)), NOW).unwrap_err(),
        CallbackError::StateMismatch
    );
}

#[test]
fn c04_empty_state_is_missing() {
    assert_eq!(parse("?code=abc&state="), Err(CallbackError::MissingState));
    assert_eq!(parse("?code=abc&state"), Err(CallbackError::MissingState));
}

#[test]
fn c03_state_with_control_characters_is_malformed() {
    assert_eq!(
        parse("?code=abc&state=a%0Ab"),
        Err(CallbackError::MalformedState)
    );
}

#[test]
fn c05_duplicate_parameters_are_rejected() {
    for (query, name) in [
        ("state=a&state=a&code=x", "state"),
        ("state=a&code=x&code=y", "code"),
        ("state=a&code=x&iss=a&iss=b", "iss"),
        ("state=a&code=x&foo=1&foo=2", "foo"),
        ("state=a&code=x&error=e&error=", "error"),
    ] {
        assert_eq!(
            parse(query),
            Err(CallbackError::DuplicateParameter(name.into())),
            "{query}"
        );
    }
    assert_eq!(
        parse("state=a&%E2%80%AE=1&%E2%80%AE=2"),
        Err(CallbackError::DuplicateParameter("\\u{202E}".into()))
    );
}

#[test]
fn c06_access_denied_is_reported_with_its_description() {
    let err = check(
        &format!("?error=access_denied&error_description=User+denied+access&state={STATE}"),
        false,
    )
    .unwrap_err();
    assert_eq!(
        err,
        CallbackError::AuthorizationError {
            code: AuthorizationErrorCode::AccessDenied,
            description: Some("User denied access".into()),
            uri: None,
        }
    );
    assert_eq!(err.whose_side(), Side::User);
    assert!(err.what_happened().contains("User denied access"));
}

#[test]
fn c07_error_without_state_is_a_state_failure() {
    assert_eq!(
        parse("?error=access_denied&error_description=nope"),
        Err(CallbackError::MissingState)
    );
}

#[test]
fn c07_error_with_wrong_state_is_not_shown_as_access_denied() {
    let params = parse("?error=access_denied&state=WRONG").unwrap().unwrap();
    assert_eq!(
        validate_callback(params, None, NOW).unwrap_err(),
        CallbackError::NoPendingAuthorization
    );
}

#[test]
fn c07_error_with_wrong_state_while_a_login_is_pending_is_refused_and_spares_it() {
    // A real login is pending in this tab; an attacker's error link carries another state.
    let mut set = PendingSet::new();
    set.insert(pending(true));
    let forged = parse("?error=access_denied&error_description=Denied&state=WRONG-state")
        .unwrap()
        .unwrap();
    let found = set.take(&forged.state);
    assert!(found.is_none(), "another state finds no pending login");
    let err = validate_callback(forged, found, NOW).unwrap_err();
    assert_eq!(err, CallbackError::NoPendingAuthorization);
    assert!(
        !err.what_happened().contains("Denied"),
        "the error is not believed"
    );
    // The real login is untouched: its own callback still completes.
    let real = parse(&format!(
        "?code=abc&state={STATE}&iss=https%3A%2F%2Fas.example"
    ))
    .unwrap()
    .unwrap();
    let found = set.take(&real.state);
    assert!(validate_callback(real, found, NOW).is_ok());
}

#[test]
fn c07_error_with_wrong_iss_is_an_issuer_mismatch() {
    let err = check(
        &format!("?error=access_denied&state={STATE}&iss=https%3A%2F%2Fevil.example"),
        false,
    )
    .unwrap_err();
    assert!(matches!(err, CallbackError::IssuerMismatch { .. }));
}

#[test]
fn c08_every_rfc_error_code_maps_to_its_variant() {
    use AuthorizationErrorCode as E;
    for (raw, code) in [
        ("invalid_request", E::InvalidRequest),
        ("unauthorized_client", E::UnauthorizedClient),
        ("access_denied", E::AccessDenied),
        ("unsupported_response_type", E::UnsupportedResponseType),
        ("invalid_scope", E::InvalidScope),
        ("server_error", E::ServerError),
        ("temporarily_unavailable", E::TemporarilyUnavailable),
        ("login_required", E::Other("login_required".into())),
        ("foo", E::Other("foo".into())),
    ] {
        let err = check(&format!("error={raw}&state={STATE}"), false).unwrap_err();
        let CallbackError::AuthorizationError { code: got, .. } = &err else {
            panic!("{raw}: {err:?}");
        };
        assert_eq!(got, &code);
        assert_eq!(got.as_str(), raw);
        assert!(!err.what_happened().is_empty());
        assert!(!err.what_to_do().is_empty());
    }
}

#[test]
fn x03_markup_error_code_is_other_text() {
    let err = check(&format!("error=%3Cb%3Ex%3C%2Fb%3E&state={STATE}"), false).unwrap_err();
    assert_eq!(
        err,
        CallbackError::AuthorizationError {
            code: AuthorizationErrorCode::Other("<b>x</b>".into()),
            description: None,
            uri: None,
        }
    );
}

#[test]
fn c09_error_wins_over_code() {
    let err = check(&format!("code=abc&error=server_error&state={STATE}"), false).unwrap_err();
    assert!(matches!(
        err,
        CallbackError::AuthorizationError {
            code: AuthorizationErrorCode::ServerError,
            ..
        }
    ));
}

#[test]
fn c10_no_code_no_error_is_missing_code() {
    assert_eq!(
        check(&format!("state={STATE}"), false).unwrap_err(),
        CallbackError::MissingCode
    );
}

#[test]
fn c11_empty_code_is_missing_code() {
    assert_eq!(
        check(&format!("code=&state={STATE}"), false).unwrap_err(),
        CallbackError::MissingCode
    );
}

#[test]
fn c12_code_outside_vschar_is_malformed() {
    for code in ["a%0Ab", "a%00b", "%C3%A9", "%FF", "a%7Fb"] {
        assert_eq!(
            check(&format!("code={code}&state={STATE}"), false).unwrap_err(),
            CallbackError::MalformedCode,
            "{code}"
        );
    }
}

#[test]
fn c13_issuer_mismatch_names_both_issuers() {
    for iss in ["https%3A%2F%2Fevil.example", "https%3A%2F%2Fas.example%2F"] {
        let err = check(&format!("code=abc&state={STATE}&iss={iss}"), true).unwrap_err();
        let CallbackError::IssuerMismatch { expected, received } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(expected, "https://as.example");
        assert!(received.starts_with("https://"));
        assert!(err.what_happened().contains(expected.as_str()));
        assert!(err.what_happened().contains(received.as_str()));
        assert_eq!(err.whose_side(), Side::Attacker);
    }
}

#[test]
fn c14_missing_iss_when_advertised_is_rejected() {
    assert_eq!(
        check(&format!("code=abc&state={STATE}"), true).unwrap_err(),
        CallbackError::IssuerMissing
    );
    assert_eq!(
        check(&format!("code=abc&state={STATE}&iss="), true).unwrap_err(),
        CallbackError::IssuerMissing
    );
}

#[test]
fn c15_missing_iss_when_not_advertised_is_accepted() {
    let ok = check(&format!("code=abc&state={STATE}"), false).unwrap();
    assert_eq!(ok.iss, None);
}

#[test]
fn c16_form_encoded_iss_is_decoded_then_compared_exactly() {
    assert!(check(
        &format!("code=abc&state={STATE}&iss=https%3A%2F%2Fas.example"),
        true
    )
    .is_ok());
    // Case differences are not "the same issuer" under simple string comparison.
    assert!(matches!(
        check(
            &format!("code=abc&state={STATE}&iss=https%3A%2F%2FAS.example"),
            true
        ),
        Err(CallbackError::IssuerMismatch { .. })
    ));
}

#[test]
fn pe_iss_absent_when_not_advertised_and_encoded_when_present() {
    assert!(check(&format!("code=abc&state={STATE}"), false).is_ok());
    assert!(check(
        &format!("code=abc&state={STATE}&iss=https%3A%2F%2Fas.example"),
        false
    )
    .is_ok());
}

#[test]
fn c17_implicit_and_hybrid_responses_are_refused() {
    for query in [
        "access_token=tok&state=s",
        "token=tok&state=s",
        "id_token=eyJ&code=abc&state=s",
        "access_token=tok",
    ] {
        assert_eq!(
            parse(query),
            Err(CallbackError::ImplicitOrHybridResponse),
            "{query}"
        );
    }
    // The token value never appears in the error.
    let err = parse("access_token=SECRETTOKEN&state=s").unwrap_err();
    assert!(!format!("{err:?} {err} {}", err.what_happened()).contains("SECRETTOKEN"));
}

#[test]
fn c18_jarm_response_is_unsupported() {
    assert_eq!(
        parse("response=eyJhbGciOi.x.y"),
        Err(CallbackError::UnsupportedResponseMode)
    );
}

#[test]
fn c19_fragment_response_is_not_processed() {
    for fragment in [
        "#code=abc&state=s",
        "code=abc&state=s",
        "#access_token=t&token_type=bearer",
        "#error=access_denied&state=s",
        "#id_token=x",
    ] {
        assert_eq!(
            parse_callback("", fragment),
            Err(CallbackError::FragmentResponse),
            "{fragment}"
        );
    }
    assert_eq!(
        parse_callback("?code=abc&state=s", "#state=s"),
        Err(CallbackError::FragmentResponse)
    );
}

#[test]
fn c20_replayed_callback_finds_no_pending_login() {
    let mut set = PendingSet::new();
    set.insert(pending(false));
    let query = format!("code=abc&state={STATE}");
    let first = parse(&query).unwrap().unwrap();
    let found = set.take(&first.state);
    assert!(validate_callback(first, found, NOW).is_ok());
    let again = parse(&query).unwrap().unwrap();
    let found = set.take(&again.state);
    let err = validate_callback(again, found, NOW).unwrap_err();
    assert_eq!(err, CallbackError::NoPendingAuthorization);
    assert!(err.what_happened().contains("already used or has expired"));
    assert!(err.what_to_do().contains("Start a new login from this tab"));
}

#[test]
fn c22a_callback_in_a_tab_that_never_started_a_login() {
    let mut empty = PendingSet::new();
    let params = parse(&format!("code=abc&state={STATE}")).unwrap().unwrap();
    let found = empty.take(&params.state);
    assert_eq!(
        validate_callback(params, found, NOW).unwrap_err(),
        CallbackError::NoPendingAuthorization
    );
}

#[test]
fn c23_expired_pending_login_is_refused() {
    let params = parse(&format!("code=abc&state={STATE}")).unwrap().unwrap();
    let mut p = pending(false);
    p.created_at_ms = NOW - PENDING_TTL_MS - 1;
    assert_eq!(
        validate_callback(params.clone(), Some(p), NOW).unwrap_err(),
        CallbackError::Expired
    );
    let mut p = pending(false);
    p.created_at_ms = NOW - PENDING_TTL_MS;
    assert!(validate_callback(params, Some(p), NOW).is_ok());
}

#[test]
fn c24_oversized_parameters_are_rejected() {
    let big_query = format!("code=abc&state=s&pad={}", "x".repeat(MAX_QUERY_LEN));
    assert_eq!(
        parse(&big_query),
        Err(CallbackError::ParameterTooLarge("query".into()))
    );
    let big_code = format!("code={}&state=s", "c".repeat(MAX_CODE_LEN + 1));
    assert_eq!(
        parse(&big_code),
        Err(CallbackError::ParameterTooLarge("code".into()))
    );
    let ok_code = format!("code={}&state={STATE}", "c".repeat(MAX_CODE_LEN));
    assert!(check(&ok_code, false).is_ok());
    let big_state = format!("code=a&state={}", "s".repeat(513));
    assert_eq!(
        parse(&big_state),
        Err(CallbackError::ParameterTooLarge("state".into()))
    );
    let big_iss = format!("code=a&state=s&iss={}", "i".repeat(MAX_ISS_LEN + 1));
    assert_eq!(
        parse(&big_iss),
        Err(CallbackError::ParameterTooLarge("iss".into()))
    );
}

#[test]
fn c24_long_error_description_is_truncated_not_rejected() {
    let query = format!(
        "error=access_denied&error_description={}&state={STATE}",
        "d".repeat(5_000)
    );
    let err = check(&query, false).unwrap_err();
    let CallbackError::AuthorizationError {
        description: Some(d),
        ..
    } = err
    else {
        panic!("{err:?}");
    };
    assert_eq!(d.chars().count(), MAX_DESCRIPTION_CHARS + 1);
    assert!(d.ends_with('…'));
}

#[test]
fn x06_error_description_controls_and_bidi_are_escaped() {
    let query = format!(
        "error=access_denied&error_description=a%E2%80%AEb%0Ac&error_uri=javascript%3Aalert(1)&state={STATE}"
    );
    let err = check(&query, false).unwrap_err();
    assert_eq!(
        err,
        CallbackError::AuthorizationError {
            code: AuthorizationErrorCode::AccessDenied,
            description: Some("a\\u{202E}b\\u{A}c".into()),
            uri: Some("javascript:alert(1)".into()),
        }
    );
    // the uri is kept as text, and is not link-safe.
    assert_eq!(
        crate::protocol::uri::safe_error_uri("javascript:alert(1)"),
        None
    );
}

#[test]
fn pg_state_is_matched_byte_identical_with_dash_and_underscore() {
    let mut set = PendingSet::new();
    set.insert(pending(false));
    let params = parse(&format!("code=abc&state={STATE}")).unwrap().unwrap();
    assert_eq!(params.state.secret(), STATE);
    assert!(set.take(&params.state).is_some());
}

#[test]
fn ph_code_with_plus_slash_equals_is_decoded() {
    let ok = check(&format!("code=a%2Bb%2Fc%3D&state={STATE}"), false).unwrap();
    assert_eq!(ok.code.secret(), "a+b/c=");
}

#[test]
fn x08_callback_params_debug_hides_code_and_state() {
    let params = parse(&format!("code=THECODE&state={STATE}"))
        .unwrap()
        .unwrap();
    let shown = format!("{params:?}");
    assert!(!shown.contains("THECODE"));
    assert!(!shown.contains(STATE));
}

#[test]
fn unknown_extra_parameters_are_ignored() {
    let ok = check(
        &format!("code=abc&state={STATE}&session_state=xyz&foo=bar"),
        false,
    );
    assert!(ok.is_ok());
}

// proptest is a host-only dev-dependency (Cargo.toml).
#[cfg(not(target_arch = "wasm32"))]
proptest::proptest! {
    /// P-h end to end: a code with `+ / = %` that the provider percent-encodes into the
    /// callback URL is decoded to the original, then sent unchanged in the token request.
    #[test]
    fn ph_callback_code_with_plus_slash_equals_percent_round_trips(
        code in "[A-Za-z0-9+/=%._~-]{1,64}"
    ) {
        let encoded: String = form_urlencoded::byte_serialize(code.as_bytes()).collect();
        let ok = check(&format!("code={encoded}&state={STATE}"), false)
            .expect("a well-formed callback");
        proptest::prop_assert_eq!(ok.code.secret(), code.as_str());
        let req = crate::protocol::token::authorization_code_request(
            &ok.pending.token_endpoint,
            &ok.code,
            &ok.pending.redirect_uri,
            &ok.pending.client_id,
            CodeVerifier::from_random([3; 32]),
        )
        .unwrap();
        let sent: Vec<String> = crate::protocol::uri::parse_query(&req.body)
            .into_iter()
            .filter(|(k, _)| k == "code")
            .map(|(_, v)| v)
            .collect();
        proptest::prop_assert_eq!(sent, vec![code]);
    }
}
