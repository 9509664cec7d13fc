//! Tests of `protocol::token`, named after the checklist row or RFC rule they prove.

use super::*;
use crate::protocol::http::BodyReader;
use crate::protocol::pkce::CodeVerifier;
use crate::protocol::secret::{AuthorizationCode, ClientSecret};
use crate::protocol::uri::UriError;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn ok(body: &str) -> Result<TokenSet, TokenError> {
    parse_token_response(&HttpResponse::json(200, body), "read:profile", false)
}

fn with(fields: &str) -> Result<TokenSet, TokenError> {
    ok(&format!(
        r#"{{"access_token":"at-1","token_type":"Bearer"{fields}}}"#
    ))
}

fn request(code: &str) -> TokenRequest {
    authorization_code_request(
        "https://as.example/token",
        &AuthorizationCode::new(code.into()),
        "https://app.example/cb?x=1",
        "flow-lab",
        CodeVerifier::parse(VERIFIER).unwrap(),
    )
    .unwrap()
}

#[test]
fn t01_request_body_is_exactly_the_pkce_exchange() {
    let req = request("abc");
    assert_eq!(req.url, "https://as.example/token");
    assert_eq!(
        req.body,
        format!(
            "grant_type=authorization_code&code=abc\
             &redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1&client_id=flow-lab\
             &code_verifier={VERIFIER}"
        )
    );
    assert!(!req.body.contains("client_secret"));
    assert_eq!(
        TokenRequest::headers(),
        [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "application/json")
        ]
    );
    assert!(!TokenRequest::headers()
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("authorization")));
    assert_eq!(TokenRequest::CONTENT_TYPE, CONTENT_TYPE);
}

#[test]
fn ph_code_with_plus_slash_equals_is_reencoded() {
    let req = request("a+b/c=");
    assert!(req.body.contains("&code=a%2Bb%2Fc%3D&"), "{}", req.body);
}

#[test]
fn t02_verifier_is_moved_into_the_request() {
    // `CodeVerifier` is not Clone and `authorization_code_request` takes it by value, so a
    // second use does not compile; here the body carries it exactly once.
    let req = request("abc");
    assert_eq!(req.body.matches(VERIFIER).count(), 1);
}

#[test]
fn x08_token_request_debug_and_masked_body_hide_secrets() {
    let req = request("THE-AUTHORIZATION-CODE");
    let shown = format!("{req:?}");
    assert!(!shown.contains("THE-AUTHORIZATION-CODE"));
    assert!(!shown.contains(VERIFIER));
    let masked = req.masked_body();
    assert!(!masked.contains("THE-AUTHORIZATION-CODE"));
    assert!(!masked.contains(VERIFIER));
    assert!(masked.starts_with("grant_type=authorization_code&code=THE-…ODE (22)&"));
    assert!(masked.contains("client_id=flow-lab"));
    assert!(masked.ends_with("code_verifier=dBjf…jXk (43)"));
}

#[test]
fn t01_endpoint_must_be_secure() {
    let code = AuthorizationCode::new("c".into());
    let err = authorization_code_request(
        "http://as.example/token",
        &code,
        "https://app.example/",
        "c",
        CodeVerifier::from_random([0; 32]),
    )
    .unwrap_err();
    assert_eq!(err, UriError::InsecureEndpoint("http://as.example".into()));
    assert!(authorization_code_request(
        "http://127.0.0.1:9000/token",
        &code,
        "http://127.0.0.1:8080/",
        "c",
        CodeVerifier::from_random([0; 32]),
    )
    .is_ok());
    assert_eq!(
        authorization_code_request(
            "https://as.example/token#f",
            &code,
            "https://app.example/",
            "c",
            CodeVerifier::from_random([0; 32]),
        )
        .unwrap_err(),
        UriError::FragmentNotAllowed
    );
}

#[test]
fn pkce_off_confidential_request_puts_secret_in_body() {
    let req = confidential_code_request(
        "https://as.example/token",
        &AuthorizationCode::new("abc".into()),
        "https://app.example/",
        "demo",
        &ClientSecret::new("demo-secret-value".into()),
    )
    .unwrap();
    assert!(req
        .body
        .ends_with("&client_id=demo&client_secret=demo-secret-value"));
    assert!(!req.body.contains("code_verifier"));
    assert!(!req.masked_body().contains("demo-secret-value"));
}

#[test]
fn refresh_request_shape() {
    let req = refresh_token_request(
        "https://as.example/token",
        &RefreshToken::new("rt-123456789".into()),
        "flow-lab",
    )
    .unwrap();
    assert_eq!(
        req.body,
        "grant_type=refresh_token&refresh_token=rt-123456789&client_id=flow-lab"
    );
    assert!(!req.masked_body().contains("rt-123456789"));
}

#[test]
fn x09_bearer_header() {
    assert_eq!(
        bearer_authorization(&AccessToken::new("tok".into())),
        "Bearer tok"
    );
}

#[test]
fn pa_happy_path() {
    let set = with(r#","expires_in":3600,"refresh_token":"rt-1","scope":"read:profile""#).unwrap();
    assert_eq!(set.access_token.secret(), "at-1");
    assert_eq!(set.token_type, "Bearer");
    assert_eq!(set.expires_in, Some(3600));
    assert_eq!(set.refresh_token.unwrap().secret(), "rt-1");
    assert_eq!(set.granted_scope, "read:profile");
    assert!(set.scope_was_returned);
    assert!(set.deviations.is_empty());
}

#[test]
fn t03_invalid_grant_is_typed_with_its_meaning() {
    let err = parse_token_response(
        &HttpResponse::json(
            400,
            r#"{"error":"invalid_grant","error_description":"Code expired"}"#,
        ),
        "s",
        false,
    )
    .unwrap_err();
    assert_eq!(
        err,
        TokenError::ErrorResponse {
            code: TokenErrorCode::InvalidGrant,
            description: Some("Code expired".into()),
            uri: None,
            status: 400,
        }
    );
    assert!(err
        .what_happened()
        .contains("authorization code invalid, expired, already used, or PKCE verifier mismatch"));
    assert!(err.what_happened().contains("Code expired"));
}

#[test]
fn t04_other_rfc_error_codes_are_typed() {
    for (raw, code) in [
        ("invalid_request", TokenErrorCode::InvalidRequest),
        (
            "unsupported_grant_type",
            TokenErrorCode::UnsupportedGrantType,
        ),
        ("invalid_scope", TokenErrorCode::InvalidScope),
        ("unauthorized_client", TokenErrorCode::UnauthorizedClient),
    ] {
        let err = parse_token_response(
            &HttpResponse::json(400, format!(r#"{{"error":"{raw}"}}"#)),
            "s",
            false,
        )
        .unwrap_err();
        let TokenError::ErrorResponse { code: got, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(got, &code);
        assert_eq!(got.as_str(), raw);
        assert!(!got.meaning().is_empty());
    }
}

#[test]
fn t05_invalid_client_hints_at_confidential_registration() {
    let mut response = HttpResponse::json(401, r#"{"error":"invalid_client"}"#);
    response.www_authenticate = Some("Basic realm=\"as\"".into());
    let err = parse_token_response(&response, "s", false).unwrap_err();
    assert!(matches!(
        err,
        TokenError::ErrorResponse {
            code: TokenErrorCode::InvalidClient,
            status: 401,
            ..
        }
    ));
    assert!(err
        .what_to_do()
        .contains("probably registered as confidential; browser clients must be public"));
}

#[test]
fn t06_unknown_error_code_is_other() {
    for raw in ["slow_down", "foo", "<b>x</b>"] {
        let err = parse_token_response(
            &HttpResponse::json(400, format!(r#"{{"error":"{raw}"}}"#)),
            "s",
            false,
        )
        .unwrap_err();
        assert!(
            matches!(&err, TokenError::ErrorResponse { code: TokenErrorCode::Other(c), .. } if c == raw),
            "{err:?}"
        );
    }
}

#[test]
fn t07_4xx_html_is_an_unexpected_response() {
    let response = HttpResponse {
        unread: None,
        dpop_nonce: None,
        status: 400,
        content_type: Some("text/html".into()),
        body: "<html><form>login</form></html>".into(),
        www_authenticate: None,
        cache_control: None,
    };
    assert_eq!(
        parse_token_response(&response, "s", false).unwrap_err(),
        TokenError::UnexpectedResponse {
            status: 400,
            content_type: Some("text/html".into())
        }
    );
    // JSON error under a non-JSON type is not believed either (oauth4webapi).
    let mut response = HttpResponse::json(400, r#"{"error":"invalid_grant"}"#);
    response.content_type = Some("text/plain".into());
    assert!(matches!(
        parse_token_response(&response, "s", false),
        Err(TokenError::UnexpectedResponse { status: 400, .. })
    ));
}

#[test]
fn t08_4xx_json_without_string_error_is_unexpected() {
    for body in [
        "{}",
        r#"{"error":42}"#,
        r#"{"error":""}"#,
        "[]",
        "{",
        r#"{"error":"a","error":"b"}"#,
    ] {
        assert_eq!(
            parse_token_response(&HttpResponse::json(400, body), "s", false).unwrap_err(),
            TokenError::UnexpectedResponse {
                status: 400,
                content_type: Some("application/json".into())
            },
            "{body}"
        );
    }
}

#[test]
fn t09_500_is_unexpected_status_even_with_an_oauth_body() {
    let response = HttpResponse {
        unread: None,
        dpop_nonce: None,
        status: 500,
        content_type: Some("text/html".into()),
        body: "<h1>Internal Server Error</h1>".into(),
        www_authenticate: None,
        cache_control: None,
    };
    assert_eq!(
        parse_token_response(&response, "s", false).unwrap_err(),
        TokenError::UnexpectedStatus(500)
    );
    assert_eq!(
        parse_token_response(
            &HttpResponse::json(503, r#"{"error":"invalid_grant"}"#),
            "s",
            false
        )
        .unwrap_err(),
        TokenError::UnexpectedStatus(503)
    );
}

#[test]
fn t10_200_non_json_is_not_json() {
    let mut response = HttpResponse::json(200, "<html>ok</html>");
    assert_eq!(
        parse_token_response(&response, "s", false).unwrap_err(),
        TokenError::NotJson
    );
    response.content_type = Some("text/html".into());
    assert_eq!(
        parse_token_response(&response, "s", false).unwrap_err(),
        TokenError::NotJson
    );
    response.body = String::new();
    assert_eq!(
        parse_token_response(&response, "s", false).unwrap_err(),
        TokenError::NotJson
    );
}

#[test]
fn t11_json_as_text_plain_is_accepted_and_flagged() {
    let response = HttpResponse {
        unread: None,
        dpop_nonce: None,
        status: 200,
        content_type: Some("text/plain".into()),
        body: r#"{"access_token":"at","token_type":"bearer"}"#.into(),
        www_authenticate: None,
        cache_control: None,
    };
    let set = parse_token_response(&response, "s", false).unwrap();
    assert_eq!(set.access_token.secret(), "at");
    assert_eq!(
        set.deviations,
        vec![Deviation::JsonAsWrongContentType("text/plain".into())]
    );
    assert!(set.deviations[0]
        .explain()
        .contains("text/plain; RFC 6749 §5.1 requires application/json"));
    let mut none = response.clone();
    none.content_type = None;
    let set = parse_token_response(&none, "s", false).unwrap();
    assert_eq!(
        set.deviations,
        vec![Deviation::JsonAsWrongContentType(String::new())]
    );
}

#[test]
fn t12_json_media_type_with_charset_or_case_is_clean() {
    for ct in ["application/json; charset=utf-8", "Application/JSON"] {
        let mut response =
            HttpResponse::json(200, r#"{"access_token":"at","token_type":"Bearer"}"#);
        response.content_type = Some(ct.into());
        let set = parse_token_response(&response, "s", false).unwrap();
        assert!(set.deviations.is_empty(), "{ct}");
    }
}

#[test]
fn pd_charset_utf8_uppercase_is_accepted() {
    let mut response = HttpResponse::json(200, r#"{"access_token":"at","token_type":"Bearer"}"#);
    response.content_type = Some("application/json;charset=UTF-8".into());
    assert!(parse_token_response(&response, "s", false)
        .unwrap()
        .deviations
        .is_empty());
}

#[test]
fn t13_non_object_bodies_are_refused() {
    for body in ["null", "[]", "\"x\"", "42"] {
        assert_eq!(ok(body).unwrap_err(), TokenError::NotAnObject, "{body}");
    }
}

#[test]
fn t14_access_token_missing_or_invalid() {
    assert_eq!(
        ok(r#"{"token_type":"Bearer"}"#).unwrap_err(),
        TokenError::MissingAccessToken
    );
    assert_eq!(
        ok(r#"{"access_token":null,"token_type":"Bearer"}"#).unwrap_err(),
        TokenError::MissingAccessToken
    );
    for value in [r#""""#, "42", "true", "[]", r#""a\nb""#] {
        assert_eq!(
            ok(&format!(
                r#"{{"access_token":{value},"token_type":"Bearer"}}"#
            ))
            .unwrap_err(),
            TokenError::InvalidField("access_token"),
            "{value}"
        );
    }
}

#[test]
fn t15_token_type_missing_or_not_a_string() {
    assert_eq!(
        ok(r#"{"access_token":"a"}"#).unwrap_err(),
        TokenError::MissingTokenType
    );
    for value in ["null", "1", "[\"Bearer\"]"] {
        assert_eq!(
            ok(&format!(r#"{{"access_token":"a","token_type":{value}}}"#)).unwrap_err(),
            TokenError::MissingTokenType
        );
    }
}

#[test]
fn t16_token_type_is_case_insensitive() {
    for t in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let set = ok(&format!(r#"{{"access_token":"a","token_type":"{t}"}}"#)).unwrap();
        assert_eq!(set.token_type, "Bearer");
    }
}

#[test]
fn pb_lowercase_and_uppercase_bearer() {
    assert!(ok(r#"{"access_token":"a","token_type":"bearer"}"#).is_ok());
    assert!(ok(r#"{"access_token":"a","token_type":"BEARER"}"#).is_ok());
}

#[test]
fn t16b_dpop_token_accepted_only_when_a_proof_was_sent() {
    let body = r#"{"access_token":"SECRET-AT","token_type":"DPoP"}"#;
    let response = HttpResponse::json(200, body);
    let set = parse_token_response_with(&response, "s", false, true).unwrap();
    assert_eq!(set.token_type, "DPoP");
    let lower = HttpResponse::json(200, r#"{"access_token":"a","token_type":"dpop"}"#);
    assert_eq!(
        parse_token_response_with(&lower, "s", false, true)
            .unwrap()
            .token_type,
        "DPoP"
    );
    // A DPoP token the app did not ask for (no proof sent) cannot be used: refused.
    let err = parse_token_response_with(&response, "s", false, false).unwrap_err();
    assert_eq!(err, TokenError::UnsupportedTokenType("DPoP".into()));
    // Bearer stays accepted with a proof sent (the server ignored it).
    let bearer = HttpResponse::json(200, r#"{"access_token":"a","token_type":"Bearer"}"#);
    assert_eq!(
        parse_token_response_with(&bearer, "s", false, true)
            .unwrap()
            .token_type,
        "Bearer"
    );
}

#[test]
fn t16b_other_token_types_are_refused() {
    for t in ["DPoP", "mac", "N_A", ""] {
        let err = ok(&format!(
            r#"{{"access_token":"SECRET-AT","token_type":"{t}"}}"#
        ))
        .unwrap_err();
        assert_eq!(err, TokenError::UnsupportedTokenType(t.into()));
        assert!(!format!("{err:?}{err}").contains("SECRET-AT"));
    }
}

#[test]
fn t17_expires_in_variants() {
    assert_eq!(
        with(r#","expires_in":3600"#).unwrap().expires_in,
        Some(3600)
    );
    assert_eq!(with(r#","expires_in":0"#).unwrap().expires_in, Some(0));
    assert_eq!(with("").unwrap().expires_in, None);
    let s = with(r#","expires_in":"3600""#).unwrap();
    assert_eq!(s.expires_in, Some(3600));
    assert_eq!(s.deviations, vec![Deviation::ExpiresInAsString]);
    for bad in [
        "-1",
        r#""abc""#,
        "null",
        "true",
        r#""""#,
        r#""-1""#,
        r#"" 3600""#,
        "-0.5",
        "[]",
    ] {
        assert_eq!(
            with(&format!(r#","expires_in":{bad}"#)).unwrap_err(),
            TokenError::InvalidField("expires_in"),
            "{bad}"
        );
    }
    let big = with(r#","expires_in":1e20"#).unwrap();
    assert_eq!(big.expires_in, Some(MAX_EXPIRES_IN_SECS));
    assert_eq!(big.deviations, vec![Deviation::ExpiresInClamped]);
    let big = with(r#","expires_in":18446744073709551615"#).unwrap();
    assert_eq!(big.expires_in, Some(MAX_EXPIRES_IN_SECS));
    let big = with(r#","expires_in":"99999999999999999999999""#).unwrap();
    assert_eq!(big.expires_in, Some(MAX_EXPIRES_IN_SECS));
    let frac = with(r#","expires_in":3600.7"#).unwrap();
    assert_eq!(frac.expires_in, Some(3600));
    assert_eq!(frac.deviations, vec![Deviation::ExpiresInNotInteger]);
}

#[test]
fn t18_missing_scope_means_requested_scope() {
    let set = with("").unwrap();
    assert_eq!(set.granted_scope, "read:profile");
    assert!(!set.scope_was_returned);
}

#[test]
fn pc_no_expires_no_scope_extra_fields() {
    let set = with(r#","foo":1,"bar":{"x":[1,2]}"#).unwrap();
    assert_eq!(set.expires_in, None);
    assert_eq!(set.granted_scope, "read:profile");
    assert!(set.deviations.is_empty());
}

#[test]
fn t18b_scope_null_or_array_is_invalid() {
    for value in ["null", r#"["a"]"#, "1"] {
        assert_eq!(
            with(&format!(r#","scope":{value}"#)).unwrap_err(),
            TokenError::InvalidField("scope")
        );
    }
}

#[test]
fn t18c_different_scope_is_accepted_as_granted() {
    let set = with(r#","scope":"read:files""#).unwrap();
    assert_eq!(set.granted_scope, "read:files");
    assert!(set.scope_was_returned);
    let set = with(r#","scope":"""#).unwrap();
    assert_eq!(set.granted_scope, "");
}

#[test]
fn t19_refresh_token_wrong_types_are_invalid() {
    for value in ["null", r#""""#, "1"] {
        assert_eq!(
            with(&format!(r#","refresh_token":{value}"#)).unwrap_err(),
            TokenError::InvalidField("refresh_token")
        );
    }
}

#[test]
fn t19b_refresh_token_is_kept_masked() {
    let set = with(r#","refresh_token":"refresh-secret-123""#).unwrap();
    let rt = set.refresh_token.clone().unwrap();
    assert_eq!(rt.secret(), "refresh-secret-123");
    assert_eq!(rt.masked(), "refr…123 (18)");
    assert!(!format!("{set:?}").contains("refresh-secret-123"));
    assert!(!format!("{set:?}").contains("at-1"));
}

#[test]
fn t20_unknown_fields_are_ignored() {
    assert!(with(r#","foo":1,"token_type_hint":"x""#).is_ok());
}

#[test]
fn t21_id_token_is_ignored_unless_openid_requested() {
    let body = r#"{"access_token":"a","token_type":"Bearer","id_token":"eyJ.x.y"}"#;
    let set = parse_token_response(&HttpResponse::json(200, body), "read:profile", false).unwrap();
    assert_eq!(set.id_token, None);
    assert_eq!(set.deviations, vec![Deviation::UnrequestedIdTokenIgnored]);
    let set = parse_token_response(&HttpResponse::json(200, body), "openid", true).unwrap();
    assert_eq!(set.id_token.unwrap().secret(), "eyJ.x.y");
    let set = parse_token_response(
        &HttpResponse::json(200, r#"{"access_token":"a","token_type":"Bearer"}"#),
        "openid",
        true,
    )
    .unwrap();
    assert_eq!(set.deviations, vec![Deviation::IdTokenMissing]);
    assert_eq!(
        parse_token_response(
            &HttpResponse::json(
                200,
                r#"{"access_token":"a","token_type":"Bearer","id_token":5}"#
            ),
            "openid",
            true
        )
        .unwrap_err(),
        TokenError::InvalidField("id_token")
    );
}

#[test]
fn t22_redirects_are_unexpected_status() {
    for status in [0, 302, 307] {
        let response = HttpResponse {
            status,
            ..HttpResponse::default()
        };
        let err = parse_token_response(&response, "s", false).unwrap_err();
        assert_eq!(err, TokenError::UnexpectedStatus(status));
        assert!(err.what_happened().contains("not followed"));
    }
}

#[test]
fn t23_success_must_be_200() {
    for status in [201, 204] {
        let err = parse_token_response(
            &HttpResponse::json(status, r#"{"access_token":"a","token_type":"Bearer"}"#),
            "s",
            false,
        )
        .unwrap_err();
        assert_eq!(err, TokenError::UnexpectedStatus(status));
    }
}

#[test]
fn t24_body_over_64_kib_is_refused() {
    let body = format!(
        r#"{{"access_token":"a","token_type":"Bearer","pad":"{}"}}"#,
        "x".repeat(MAX_TOKEN_BODY)
    );
    assert!(matches!(ok(&body), Err(TokenError::BodyTooLarge { .. })));
    let err = parse_token_response(&HttpResponse::json(400, &body), "s", false).unwrap_err();
    assert!(matches!(err, TokenError::BodyTooLarge { .. }));
}

#[test]
fn t28_duplicate_keys_are_refused() {
    assert_eq!(
        ok(r#"{"access_token":"a","access_token":"b","token_type":"Bearer"}"#).unwrap_err(),
        TokenError::DuplicateField("access_token".into())
    );
    assert_eq!(
        ok(r#"{"access_token":"a","token_type":"Bearer","token_type":"DPoP"}"#).unwrap_err(),
        TokenError::DuplicateField("token_type".into())
    );
}

/// Issue 13 defect 9: a repeated member inside a nested object of a token response is
/// refused like a top-level one, not silently last-wins.
#[test]
fn t28_nested_duplicate_keys_are_refused() {
    let body = r#"{"access_token":"a","token_type":"Bearer",
        "authorization_details":[{"type":"payment","type":"account"}]}"#;
    assert_eq!(
        ok(body).unwrap_err(),
        TokenError::DuplicateField("type".into())
    );
}

#[test]
fn t29_invalid_utf8_is_a_parse_error() {
    let read = |bytes: &[u8]| {
        let mut reader = BodyReader::default();
        reader.push(bytes).unwrap();
        let (body, unread) = reader.finish();
        HttpResponse {
            body,
            unread,
            ..HttpResponse::json(200, "")
        }
    };
    let bad = read(b"{\"access_token\":\"a\xff\",\"token_type\":\"Bearer\"}");
    assert_eq!((bad.body.as_str(), bad.unread), ("", Some(Unread::NotUtf8)));
    assert_eq!(
        parse_token_response(&bad, "s", false).unwrap_err(),
        TokenError::NotUtf8
    );
    assert_eq!(read(b"{}").body, "{}");
    // What fetch's text() makes of invalid UTF-8 (U+FFFD) is not a valid token either.
    assert_eq!(
        ok("{\"access_token\":\"a\u{FFFD}\",\"token_type\":\"Bearer\"}").unwrap_err(),
        TokenError::InvalidField("access_token")
    );
}

#[test]
fn x05_long_error_description_is_truncated() {
    let body = format!(
        r#"{{"error":"invalid_grant","error_description":"{}"}}"#,
        "d".repeat(5000)
    );
    let err = parse_token_response(&HttpResponse::json(400, &body), "s", false).unwrap_err();
    let TokenError::ErrorResponse {
        description: Some(d),
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!(d.chars().count(), MAX_DESCRIPTION_CHARS + 1);
}

#[test]
fn every_error_explains_itself() {
    let errors = [
        TokenError::BodyTooLarge { len: 1 },
        TokenError::UnexpectedResponse {
            status: 400,
            content_type: None,
        },
        TokenError::UnexpectedStatus(500),
        TokenError::UnexpectedStatus(201),
        TokenError::NotJson,
        TokenError::NotAnObject,
        TokenError::DuplicateField("a".into()),
        TokenError::MissingAccessToken,
        TokenError::MissingTokenType,
        TokenError::UnsupportedTokenType("mac".into()),
        TokenError::InvalidField("scope"),
        TokenError::NotUtf8,
    ];
    for e in errors {
        assert!(!e.what_happened().is_empty() && !e.what_to_do().is_empty());
        assert!(!e.to_string().is_empty());
    }
}

// proptest is a host-only dev-dependency (Cargo.toml).
#[cfg(not(target_arch = "wasm32"))]
proptest::proptest! {
    /// P-h, RFC 6749 Appendix B: a code containing `+ / = %` (or anything else) goes into
    /// the token request form-encoded and decodes back to exactly the same code, once;
    /// `+` is never sent raw (it would decode as a space).
    #[test]
    fn ph_form_encoding_round_trips_codes_with_plus_slash_equals_percent(
        code in "[A-Za-z0-9+/=%._~ -]{1,64}"
    ) {
        let req = request(&code);
        let sent: Vec<String> = crate::protocol::uri::parse_query(&req.body)
            .into_iter()
            .filter(|(k, _)| k == "code")
            .map(|(_, v)| v)
            .collect();
        proptest::prop_assert_eq!(sent, vec![code.clone()]);
        // On the wire: `/` and `=` always escaped, `+` only ever a space.
        let wire = req
            .body
            .split('&')
            .find_map(|p| p.strip_prefix("code="))
            .unwrap_or_default();
        proptest::prop_assert!(!wire.contains(['/', '=']), "{}", wire);
        proptest::prop_assert_eq!(wire.contains('+'), code.contains(' '));
    }

    /// The same for any Unicode text: form encoding is lossless.
    #[test]
    fn ph_form_encoding_round_trips_any_text(name in "\\PC{1,16}", value in "\\PC{0,64}") {
        let encoded = crate::protocol::uri::form_encode(&[(&name, &value)]);
        proptest::prop_assert_eq!(crate::protocol::uri::parse_query(&encoded), vec![(name, value)]);
    }
}
