//! In-browser tests of `src/browser`: sessionStorage and address-bar handling in real Chromium.
#![cfg(target_arch = "wasm32")]

use oauth_flow_lab::browser::{crypto, location, storage};
use oauth_flow_lab::protocol::pending::PendingAuthorization;
use oauth_flow_lab::protocol::pkce::CodeVerifier;
use oauth_flow_lab::protocol::state::State;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn session() -> web_sys::Storage {
    web_sys::window()
        .unwrap()
        .session_storage()
        .unwrap()
        .unwrap()
}

fn pending(state: &State, now: u64) -> PendingAuthorization {
    PendingAuthorization {
        state: state.clone(),
        verifier: Some(CodeVerifier::from_random(crypto::random_32().unwrap())),
        issuer: "http://127.0.0.1:9000".into(),
        client_id: "flow-lab".into(),
        redirect_uri: "http://127.0.0.1:8080/".into(),
        token_endpoint: "http://127.0.0.1:9000/token".into(),
        scope: "read:profile".into(),
        created_at_ms: now,
        iss_parameter_supported: true,
        nonce: None,
    }
}

fn fresh_state() -> State {
    State::from_random(crypto::random_32().unwrap())
}

#[wasm_bindgen_test]
fn a05_pending_login_goes_to_session_storage_only_and_is_taken_once() {
    session().clear().unwrap();
    let state = fresh_state();
    storage::save_pending(pending(&state, 1_000), 1_000).unwrap();
    assert!(session().get_item(storage::PENDING_KEY).unwrap().is_some());
    let local = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    assert!(local.get_item(storage::PENDING_KEY).unwrap().is_none());
    let taken = storage::take_pending(&state).unwrap();
    assert!(taken.is_some());
    // C-20: a second take of the same state finds nothing, and storage holds no verifier.
    assert!(storage::take_pending(&state).unwrap().is_none());
    assert!(session().get_item(storage::PENDING_KEY).unwrap().is_none());
}

#[wasm_bindgen_test]
fn c22c_two_pending_logins_in_one_tab_each_match_their_own_state() {
    session().clear().unwrap();
    let (first, second) = (fresh_state(), fresh_state());
    storage::save_pending(pending(&first, 1_000), 1_000).unwrap();
    storage::save_pending(pending(&second, 2_000), 2_000).unwrap();
    assert_eq!(
        storage::take_pending(&second)
            .unwrap()
            .unwrap()
            .created_at_ms,
        2_000
    );
    assert_eq!(
        storage::take_pending(&first)
            .unwrap()
            .unwrap()
            .created_at_ms,
        1_000
    );
}

#[wasm_bindgen_test]
fn c27_tampered_storage_entry_is_cleared_and_reported() {
    session().clear().unwrap();
    session()
        .set_item(storage::PENDING_KEY, "{\"not\": \"a pending set\"")
        .unwrap();
    let outcome = storage::take_pending(&fresh_state());
    assert!(outcome.is_err(), "a tampered entry must be reported");
    assert!(session().get_item(storage::PENDING_KEY).unwrap().is_none());
}

#[wasm_bindgen_test]
fn s03_expired_pending_login_is_dropped_on_the_next_load() {
    session().clear().unwrap();
    let state = fresh_state();
    storage::save_pending(pending(&state, 1_000), 1_000).unwrap();
    let dropped = storage::drop_expired_pending(1_000 + 600_001);
    assert_eq!(dropped, 1);
    assert!(storage::take_pending(&state).unwrap().is_none());
}

#[wasm_bindgen_test]
fn a04_browser_randomness_differs_between_logins() {
    assert_ne!(crypto::random_32().unwrap(), crypto::random_32().unwrap());
}

#[wasm_bindgen_test]
fn c25_clean_url_removes_code_and_state_from_the_address_bar() {
    let window = web_sys::window().unwrap();
    let history = window.history().unwrap();
    let before = window.location().pathname().unwrap();
    history
        .push_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("{before}?code=abc&state=xyz#code=frag")),
        )
        .unwrap();
    let (query, fragment) = location::query_and_fragment();
    assert_eq!(query, "code=abc&state=xyz");
    assert_eq!(fragment, "code=frag");
    location::clean_url();
    let href = window.location().href().unwrap();
    assert!(!href.contains("code") && !href.contains("state"), "{href}");
    assert_eq!(
        location::query_and_fragment(),
        (String::new(), String::new())
    );
}

#[wasm_bindgen_test]
fn redirect_uri_is_this_origin_with_a_slash() {
    let origin = web_sys::window().unwrap().location().origin().unwrap();
    assert_eq!(location::redirect_uri(), format!("{origin}/"));
}
