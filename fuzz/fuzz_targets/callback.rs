//! Callback parsing and validation (checklist §8.3). Input: what follows `?` in the address bar,
//! `query[#fragment]`. Every parse is validated against no pending login, a fresh one with and
//! without an advertised `iss`, and an expired one; the same text is also read as a stored
//! pending set (C-27, tampered sessionStorage).
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth_flow_lab_fuzz::protocol::callback::{parse_callback, validate_callback};
use oauth_flow_lab_fuzz::protocol::pending::{PendingAuthorization, PendingSet, PENDING_TTL_MS};
use oauth_flow_lab_fuzz::protocol::pkce::CodeVerifier;
use oauth_flow_lab_fuzz::protocol::state::State;
use oauth_flow_lab_fuzz::protocol::token::authorization_code_request;
use oauth_flow_lab_fuzz::protocol::uri::parse_query;
use oauth_flow_lab_fuzz::{assert_displayable, assert_explained};

const ISSUER: &str = "https://as.example";
const NOW: u64 = 1_700_000_000_000;

fn pending(state: &State, iss_supported: bool, age_ms: u64) -> PendingAuthorization {
    PendingAuthorization {
        state: state.clone(),
        verifier: Some(CodeVerifier::from_random([7; 32])),
        issuer: ISSUER.into(),
        client_id: "flow-lab".into(),
        redirect_uri: "https://app.example/".into(),
        token_endpoint: "https://as.example/token".into(),
        scope: "openid read:profile".into(),
        created_at_ms: NOW - age_ms,
        iss_parameter_supported: iss_supported,
        nonce: None,
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (query, fragment) = text.split_once('#').unwrap_or((&text, ""));

    // C-27: the same bytes as a stored pending set; what is accepted must round-trip.
    match PendingSet::from_json(&text) {
        Ok(set) => {
            let again = PendingSet::from_json(&set.to_json()).expect("a stored set reads back");
            assert_eq!(again.len(), set.len());
        }
        Err(error) => assert_explained(&error),
    }

    let params = match parse_callback(query, fragment) {
        Ok(None) => return,
        Ok(Some(params)) => params,
        Err(error) => return assert_explained(&error),
    };
    // C-3, C-20, C-22a: no pending login for this state.
    match validate_callback(params.clone(), None, NOW) {
        Ok(_) => panic!("a callback without a pending login was accepted"),
        Err(error) => assert_explained(&error),
    }
    // Another tab's login handed in by mistake: never accepted.
    let other = State::parse("another-state").unwrap();
    if other != params.state {
        assert!(validate_callback(params.clone(), Some(pending(&other, false, 0)), NOW).is_err());
    }
    for (iss_supported, age_ms) in [(true, 0), (false, 0), (false, PENDING_TTL_MS + 1)] {
        let login = pending(&params.state, iss_supported, age_ms);
        match validate_callback(params.clone(), Some(login), NOW) {
            Ok(authorized) => {
                // Only a fresh login, with iss equal to its issuer (or absent and not
                // promised), without an error, with a visible-ASCII code gets here.
                assert!(
                    age_ms <= PENDING_TTL_MS,
                    "C-23: an expired login was accepted"
                );
                assert!(
                    params.error.is_none(),
                    "C-9: an error callback was accepted"
                );
                match &params.iss {
                    Some(iss) => assert_eq!(iss, ISSUER, "C-13"),
                    None => assert!(!iss_supported, "C-14"),
                }
                let code = authorized.code.secret();
                assert!(!code.is_empty(), "C-11");
                assert!(code.bytes().all(|b| (0x20..=0x7E).contains(&b)), "C-12");
                // P-h: the code travels to the token endpoint form-encoded and unchanged.
                let request = authorization_code_request(
                    &authorized.pending.token_endpoint,
                    &authorized.code,
                    &authorized.pending.redirect_uri,
                    &authorized.pending.client_id,
                    CodeVerifier::from_random([7; 32]),
                )
                .expect("a stored, valid token endpoint");
                let body = parse_query(&request.body);
                let sent: Vec<&str> = body
                    .iter()
                    .filter(|(k, _)| k == "code")
                    .map(|(_, v)| v.as_str())
                    .collect();
                assert_eq!(sent, [code], "P-h: the code changed on the way");
                assert_displayable("masked body", &request.masked_body());
            }
            Err(error) => assert_explained(&error),
        }
    }
});
