//! Discovery (checklist §8.1) and the authorization URL built from what it accepts (§8.2).
//! Input: a first line with the configured issuer, then the metadata body (served as a 200
//! `application/json` answer).
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth_flow_lab_fuzz::protocol::authorize::AuthorizationRequest;
use oauth_flow_lab_fuzz::protocol::discovery::{
    oauth_metadata_url, openid_configuration_url, parse_metadata,
};
use oauth_flow_lab_fuzz::protocol::http::HttpResponse;
use oauth_flow_lab_fuzz::protocol::pkce::CodeVerifier;
use oauth_flow_lab_fuzz::protocol::state::State;
use oauth_flow_lab_fuzz::protocol::uri::{parse_query, HttpUrl};
use oauth_flow_lab_fuzz::{assert_displayable, assert_explained};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (issuer, body) = text.split_once('\n').unwrap_or((&text, ""));

    // D-14, D-15: well-known URLs exist only for an acceptable issuer, and are secure URLs.
    for url in [openid_configuration_url(issuer), oauth_metadata_url(issuer)] {
        match url {
            Ok(url) => {
                let parsed = HttpUrl::parse(&url).expect("a well-known URL parses");
                parsed.require_secure().expect("a well-known URL is secure");
                assert!(parsed.query().is_none());
            }
            Err(error) => assert_explained(&error),
        }
    }

    let response = HttpResponse {
        status: 200,
        content_type: Some("application/json".into()),
        body: body.to_owned(),
        www_authenticate: None,
        cache_control: None,
        unread: None,
        dpop_nonce: None,
    };
    let metadata = match parse_metadata(issuer, &response) {
        Ok(metadata) => metadata,
        Err(error) => return assert_explained(&error),
    };
    // D-1: byte-for-byte the configured issuer, never a fix-up.
    assert_eq!(metadata.issuer, issuer, "D-1");
    // D-5..D-8: the endpoints are usable, secure, without fragment or userinfo.
    for endpoint in [&metadata.authorization_endpoint, &metadata.token_endpoint] {
        let url = HttpUrl::parse(endpoint).expect("D-5");
        url.require_secure().expect("D-6");
    }
    for warning in &metadata.warnings {
        assert_displayable("metadata warning", warning);
    }
    // A-1, P-4, D-9, D-10: the authorization URL built from accepted metadata.
    let state = State::from_random([1; 32]);
    let challenge = CodeVerifier::from_random([2; 32]).challenge();
    let request = AuthorizationRequest {
        authorization_endpoint: &metadata.authorization_endpoint,
        client_id: "flow-lab",
        redirect_uri: "https://app.example/",
        scope: "openid read:profile",
        state: &state,
        code_challenge: Some(&challenge),
        nonce: Some("n-0S6_WzA2Mj"),
        prompt: None,
        extra: &[],
    };
    let url = request.to_url().expect("an accepted endpoint builds a URL");
    assert!(
        url.starts_with(metadata.authorization_endpoint.as_str()),
        "D-9"
    );
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let params = parse_query(query);
    for (name, value) in [
        ("response_type", "code"),
        ("code_challenge_method", "S256"),
        ("state", state.secret()),
        ("code_challenge", challenge.as_str()),
        ("redirect_uri", "https://app.example/"),
        ("client_id", "flow-lab"),
    ] {
        let sent: Vec<&str> = params
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(
            sent,
            [value],
            "A-1: {name} must be sent once, as ours (RFC 6749 §3.1)"
        );
    }
    assert!(
        !params
            .iter()
            .any(|(k, _)| k == "client_secret" || k == "code_verifier"),
        "A-1: a secret on the front channel"
    );
});
