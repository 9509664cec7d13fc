//! Tests of `protocol::discovery`, named after the checklist row or RFC rule they prove.

use super::*;

const ISSUER: &str = "https://as.example";

fn doc(fields: &str) -> String {
    format!(
        r#"{{"issuer":"https://as.example",
            "authorization_endpoint":"https://as.example/authorize",
            "token_endpoint":"https://as.example/token",
            "response_types_supported":["code"],
            "code_challenge_methods_supported":["S256"]{fields}}}"#
    )
}

fn ok_response(body: &str) -> HttpResponse {
    HttpResponse {
        unread: None,
        dpop_nonce: None,
        status: 200,
        content_type: Some("application/json".into()),
        body: body.into(),
        www_authenticate: None,
        cache_control: None,
    }
}

fn parse(body: &str) -> Result<ProviderMetadata, DiscoveryError> {
    parse_metadata(ISSUER, &ok_response(body))
}

#[test]
fn happy_path_reads_everything() {
    let m = parse(&doc(
        r#","userinfo_endpoint":"https://as.example/me","jwks_uri":"https://as.example/jwks",
           "revocation_endpoint":"https://as.example/revoke","end_session_endpoint":"https://as.example/logout",
           "token_endpoint_auth_methods_supported":["none","client_secret_post"],
           "scopes_supported":["openid","read:files"],
           "authorization_response_iss_parameter_supported":true"#,
    ))
    .unwrap();
    assert_eq!(m.issuer, ISSUER);
    assert_eq!(m.authorization_endpoint, "https://as.example/authorize");
    assert_eq!(m.token_endpoint, "https://as.example/token");
    assert_eq!(
        m.userinfo_endpoint.as_deref(),
        Some("https://as.example/me")
    );
    assert_eq!(m.jwks_uri.as_deref(), Some("https://as.example/jwks"));
    assert_eq!(
        m.revocation_endpoint.as_deref(),
        Some("https://as.example/revoke")
    );
    assert_eq!(
        m.end_session_endpoint.as_deref(),
        Some("https://as.example/logout")
    );
    assert_eq!(m.code_challenge_methods_supported, ["S256"]);
    assert_eq!(
        m.token_endpoint_auth_methods_supported,
        ["none", "client_secret_post"]
    );
    assert_eq!(m.scopes_supported, ["openid", "read:files"]);
    assert!(m.iss_parameter_supported);
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
}

/// Issue 13 defect 9: a repeated member in a nested object of the metadata is refused.
#[test]
fn t28_nested_duplicate_member_in_metadata_is_refused() {
    let body = doc(
        r#","mtls_endpoint_aliases":{"token_endpoint":"https://a.example/t",
        "token_endpoint":"https://evil.example/t"}"#,
    );
    assert_eq!(
        parse(&body).unwrap_err(),
        DiscoveryError::DuplicateField("token_endpoint".into())
    );
}

#[test]
fn d01_issuer_mismatch_is_refused() {
    for actual in ["https://evil.example", "https://as.example/"] {
        let body = doc("").replace(
            "\"issuer\":\"https://as.example\"",
            &format!("\"issuer\":\"{actual}\""),
        );
        let err = parse(&body).unwrap_err();
        assert_eq!(
            err,
            DiscoveryError::IssuerMismatch {
                expected: ISSUER.into(),
                actual: actual.into()
            }
        );
        assert!(err.what_to_do().contains(actual));
    }
    // Trailing slash the other way round.
    let body = doc("");
    assert!(matches!(
        parse_metadata("https://as.example/", &ok_response(&body)),
        Err(DiscoveryError::IssuerMismatch { .. })
    ));
}

#[test]
fn d02_issuer_missing_empty_or_not_a_string() {
    for replacement in ["", "\"issuer\":\"\",", "\"issuer\":42,", "\"issuer\":null,"] {
        let body = doc("").replace("\"issuer\":\"https://as.example\",", replacement);
        assert_eq!(
            parse(&body).unwrap_err(),
            DiscoveryError::MissingIssuer,
            "{replacement}"
        );
    }
}

#[test]
fn d03_non_200_is_unexpected_status() {
    for status in [404, 500, 302, 0] {
        let response = HttpResponse {
            status,
            ..ok_response(&doc(""))
        };
        assert_eq!(
            parse_metadata(ISSUER, &response).unwrap_err(),
            DiscoveryError::UnexpectedStatus(status)
        );
    }
}

#[test]
fn d04_html_null_array_truncated() {
    assert_eq!(parse("<html></html>").unwrap_err(), DiscoveryError::NotJson);
    assert_eq!(parse("null").unwrap_err(), DiscoveryError::NotAnObject);
    assert_eq!(parse("[]").unwrap_err(), DiscoveryError::NotAnObject);
    let full = doc("");
    assert_eq!(
        parse(&full[..full.len() / 2]).unwrap_err(),
        DiscoveryError::NotJson
    );
    assert_eq!(
        parse(&doc(r#","issuer":"https://evil.example""#)).unwrap_err(),
        DiscoveryError::DuplicateField("issuer".into())
    );
}

#[test]
fn d05_required_endpoints_missing_or_not_urls() {
    let body = doc("").replace("\"token_endpoint\":\"https://as.example/token\",", "");
    assert_eq!(
        parse(&body).unwrap_err(),
        DiscoveryError::MissingEndpoint("token_endpoint")
    );
    let body = doc("").replace("\"https://as.example/authorize\"", "42");
    assert_eq!(
        parse(&body).unwrap_err(),
        DiscoveryError::MissingEndpoint("authorization_endpoint")
    );
    let body = doc("").replace("\"https://as.example/token\"", "\"not a url\"");
    assert_eq!(
        parse(&body).unwrap_err(),
        DiscoveryError::InvalidEndpoint {
            name: "token_endpoint",
            error: UriError::NotAbsolute
        }
    );
}

#[test]
fn d06_http_endpoint_on_remote_host_is_insecure() {
    let body = doc("").replace("https://as.example/token", "http://as.example/token");
    assert_eq!(
        parse(&body).unwrap_err(),
        DiscoveryError::InvalidEndpoint {
            name: "token_endpoint",
            error: UriError::InsecureEndpoint("http://as.example".into())
        }
    );
    assert_eq!(
        validate_issuer("http://as.example"),
        Err(DiscoveryError::InvalidIssuer(UriError::InsecureEndpoint(
            "http://as.example".into()
        )))
    );
}

#[test]
fn pi_loopback_http_provider_is_allowed() {
    let issuer = "http://127.0.0.1:8080";
    let body = doc("").replace("https://as.example", issuer);
    let m = parse_metadata(issuer, &ok_response(&body)).unwrap();
    assert_eq!(m.token_endpoint, "http://127.0.0.1:8080/token");
}

#[test]
fn d07_forbidden_schemes_in_endpoints() {
    for bad in [
        "javascript:alert(1)",
        "data:text/html,x",
        "file:///etc/passwd",
        "ftp://as.example/x",
    ] {
        let body = doc("").replace("https://as.example/authorize", bad);
        assert!(
            matches!(
                parse(&body),
                Err(DiscoveryError::InvalidEndpoint {
                    name: "authorization_endpoint",
                    error: UriError::ForbiddenScheme(_)
                })
            ),
            "{bad}"
        );
    }
}

#[test]
fn d08_fragment_or_userinfo_in_endpoints() {
    let body = doc("").replace("https://as.example/token", "https://as.example/token#x");
    assert_eq!(
        parse(&body).unwrap_err(),
        DiscoveryError::InvalidEndpoint {
            name: "token_endpoint",
            error: UriError::FragmentNotAllowed
        }
    );
    let body = doc("").replace("https://as.example/token", "https://u:p@as.example/token");
    assert_eq!(
        parse(&body).unwrap_err(),
        DiscoveryError::InvalidEndpoint {
            name: "token_endpoint",
            error: UriError::UserinfoNotAllowed
        }
    );
}

#[test]
fn d09_authorization_endpoint_query_is_kept_in_metadata() {
    let body = doc("").replace(
        "https://as.example/authorize",
        "https://as.example/authorize?tenant=x",
    );
    assert_eq!(
        parse(&body).unwrap().authorization_endpoint,
        "https://as.example/authorize?tenant=x"
    );
}

#[test]
fn d09_authorization_endpoint_pre_setting_our_parameters_is_refused() {
    for query in [
        "response_type=token",
        "tenant=x&code_challenge_method=plain",
    ] {
        let body = doc("").replace(
            "https://as.example/authorize",
            &format!("https://as.example/authorize?{query}"),
        );
        assert!(
            matches!(
                parse(&body),
                Err(DiscoveryError::InvalidEndpoint {
                    name: "authorization_endpoint",
                    error: UriError::ReservedParameter(_)
                })
            ),
            "{query}"
        );
    }
}

#[test]
fn d10_missing_or_plain_only_pkce_is_a_warning() {
    let body = doc("").replace(
        "\"code_challenge_methods_supported\":[\"S256\"]",
        "\"x\":[]",
    );
    let m = parse(&body).unwrap();
    assert!(m.code_challenge_methods_supported.is_empty());
    assert!(
        m.warnings.iter().any(|w| w.contains("S256")),
        "{:?}",
        m.warnings
    );
    let body = doc("").replace("[\"S256\"]", "[\"plain\"]");
    let m = parse(&body).unwrap();
    assert_eq!(m.code_challenge_methods_supported, ["plain"]);
    assert!(m
        .warnings
        .iter()
        .any(|w| w.contains("never falls back to plain")));
}

#[test]
fn d11_no_code_response_type_is_refused() {
    let body = doc("").replace("[\"code\"]", "[\"token\",\"id_token\",\"code id_token\"]");
    assert_eq!(
        parse(&body).unwrap_err(),
        DiscoveryError::UnsupportedResponseType
    );
    let body = doc("").replace("[\"code\"]", "\"code\"");
    assert_eq!(
        parse(&body).unwrap_err(),
        DiscoveryError::InvalidField("response_types_supported")
    );
    let body = doc("").replace("\"response_types_supported\":[\"code\"],", "");
    let m = parse(&body).unwrap();
    assert!(m
        .warnings
        .iter()
        .any(|w| w.contains("response_types_supported")));
}

#[test]
fn d12_iss_parameter_supported_is_remembered() {
    assert!(!parse(&doc("")).unwrap().iss_parameter_supported);
    assert!(
        parse(&doc(
            r#","authorization_response_iss_parameter_supported":true"#
        ))
        .unwrap()
        .iss_parameter_supported
    );
    assert_eq!(
        parse(&doc(
            r#","authorization_response_iss_parameter_supported":"true""#
        ))
        .unwrap_err(),
        DiscoveryError::InvalidField("authorization_response_iss_parameter_supported")
    );
}

#[test]
fn d13_metadata_over_256_kib_is_refused() {
    let body = doc(&format!(r#","pad":"{}""#, "x".repeat(5 * 1024 * 1024)));
    assert_eq!(
        parse(&body).unwrap_err(),
        DiscoveryError::BodyTooLarge { len: body.len() }
    );
}

#[test]
fn d14_well_known_urls_for_an_issuer_with_a_path() {
    assert_eq!(
        oauth_metadata_url("https://as.example/t1").unwrap(),
        "https://as.example/.well-known/oauth-authorization-server/t1"
    );
    assert_eq!(
        openid_configuration_url("https://as.example/t1").unwrap(),
        "https://as.example/t1/.well-known/openid-configuration"
    );
    assert_eq!(
        oauth_metadata_url("https://as.example/t1/").unwrap(),
        "https://as.example/.well-known/oauth-authorization-server/t1"
    );
    assert_eq!(
        openid_configuration_url("https://as.example/").unwrap(),
        "https://as.example/.well-known/openid-configuration"
    );
    assert_eq!(
        oauth_metadata_url("https://as.example").unwrap(),
        "https://as.example/.well-known/oauth-authorization-server"
    );
    assert_eq!(
        oauth_metadata_url("http://127.0.0.1:9000").unwrap(),
        "http://127.0.0.1:9000/.well-known/oauth-authorization-server"
    );
    // Both still require an exactly equal issuer.
    let body = doc("").replace(
        "\"issuer\":\"https://as.example\"",
        "\"issuer\":\"https://as.example/t1\"",
    );
    assert!(parse_metadata("https://as.example/t1", &ok_response(&body)).is_ok());
    assert!(matches!(
        parse_metadata("https://as.example/t2", &ok_response(&body)),
        Err(DiscoveryError::IssuerMismatch { .. })
    ));
}

#[test]
fn d15_issuer_with_query_or_fragment_or_shared_is_rejected() {
    assert_eq!(
        validate_issuer("https://as.example?x=1"),
        Err(DiscoveryError::IssuerHasQuery)
    );
    assert_eq!(
        validate_issuer("https://as.example/?"),
        Err(DiscoveryError::IssuerHasQuery)
    );
    assert_eq!(
        validate_issuer("https://as.example#f"),
        Err(DiscoveryError::IssuerHasFragment)
    );
    assert_eq!(
        openid_configuration_url("https://as.example?x=1"),
        Err(DiscoveryError::IssuerHasQuery)
    );
    assert_eq!(
        oauth_metadata_url("javascript:alert(1)"),
        Err(DiscoveryError::InvalidIssuer(UriError::ForbiddenScheme(
            "javascript".into()
        )))
    );
    assert_eq!(
        check_distinct_issuers(&[
            "https://a.example",
            "https://b.example",
            "https://a.example"
        ]),
        Err(DiscoveryError::DuplicateIssuer("https://a.example".into()))
    );
    assert!(check_distinct_issuers(&["https://a.example", "https://a.example/"]).is_ok());
    assert_eq!(
        parse_metadata("https://as.example?x=1", &ok_response(&doc(""))).unwrap_err(),
        DiscoveryError::IssuerHasQuery
    );
}

#[test]
fn insecure_optional_endpoint_is_dropped_with_a_warning() {
    let m = parse(&doc(
        r#","revocation_endpoint":"http://as.example/revoke","jwks_uri":5"#,
    ))
    .unwrap();
    assert_eq!(m.revocation_endpoint, None);
    assert_eq!(m.jwks_uri, None);
    assert_eq!(m.warnings.len(), 2, "{:?}", m.warnings);
}

#[test]
fn json_with_wrong_content_type_is_accepted_with_a_warning() {
    let mut response = ok_response(&doc(""));
    response.content_type = Some("text/plain".into());
    let m = parse_metadata(ISSUER, &response).unwrap();
    assert!(m.warnings.iter().any(|w| w.contains("text/plain")));
}

#[test]
fn public_client_auth_method_missing_is_a_warning() {
    let m = parse(&doc(
        r#","token_endpoint_auth_methods_supported":["client_secret_basic"]"#,
    ))
    .unwrap();
    assert!(m.warnings.iter().any(|w| w.contains("\"none\"")));
}
