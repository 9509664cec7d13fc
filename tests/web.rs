//! In-browser tests of `src/browser`: sessionStorage and address-bar handling in real Chromium.
#![cfg(target_arch = "wasm32")]

use oauth_flow_lab::browser::{location, storage};
use oauth_flow_lab::flow::engine::random_32;
use oauth_flow_lab::protocol::pending::PendingAuthorization;
use oauth_flow_lab::protocol::pkce::CodeVerifier;
use oauth_flow_lab::protocol::state::State;
use wasm_bindgen_test::*;

mod web_support;

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
        verifier: Some(CodeVerifier::from_random(random_32().unwrap())),
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
    State::from_random(random_32().unwrap())
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

/// A-4: getrandom's browser backend (crypto.getRandomValues) gives fresh bytes each time.
#[wasm_bindgen_test]
fn a04_browser_randomness_differs_between_logins() {
    assert_ne!(random_32().unwrap(), random_32().unwrap());
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

// ---- Issue 4: hostile input and transport in the browser (checklist rows marked "web") -------

use oauth_flow_lab::browser::http::{self, FetchRequest};
use oauth_flow_lab::flow::problem::TransportError;
use oauth_flow_lab::protocol::discovery::{parse_metadata, DiscoveryError};
use oauth_flow_lab::protocol::http::{Unread, READ_CAP};
use oauth_flow_lab::protocol::token::{parse_token_response, TokenError, TokenRequest};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

fn window() -> web_sys::Window {
    web_sys::window().unwrap()
}

fn get(target: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(target, &JsValue::from_str(name)).unwrap()
}

/// What the fake `fetch` saw: its two arguments (the `Request`, and no init) of every call.
type Calls = Rc<RefCell<Vec<(JsValue, JsValue)>>>;

/// Replaces `window.fetch` while alive; `answer` makes each call's promise.
struct FakeFetch {
    original: JsValue,
    calls: Calls,
    _closure: Closure<dyn FnMut(JsValue, JsValue) -> js_sys::Promise>,
}

impl FakeFetch {
    fn install(mut answer: impl FnMut() -> js_sys::Promise + 'static) -> FakeFetch {
        let calls: Calls = Rc::default();
        let seen = calls.clone();
        let closure = Closure::<dyn FnMut(JsValue, JsValue) -> js_sys::Promise>::new(
            move |input: JsValue, init: JsValue| {
                seen.borrow_mut().push((input, init));
                answer()
            },
        );
        let original = get(&window(), "fetch");
        js_sys::Reflect::set(&window(), &"fetch".into(), closure.as_ref()).unwrap();
        FakeFetch {
            original,
            calls,
            _closure: closure,
        }
    }

    /// A fetch that answers `status` with `body` as `content_type`.
    fn answering(status: u16, content_type: &'static str, body: String) -> FakeFetch {
        FakeFetch::answering_with(status, content_type, move |init| {
            web_sys::Response::new_with_opt_str_and_init(Some(&body), init).unwrap()
        })
    }

    /// A fetch that answers `status` as `content_type` with the response `make` builds.
    fn answering_with(
        status: u16,
        content_type: &'static str,
        make: impl Fn(&web_sys::ResponseInit) -> web_sys::Response + 'static,
    ) -> FakeFetch {
        FakeFetch::install(move || {
            let init = web_sys::ResponseInit::new();
            init.set_status(status);
            let headers = web_sys::Headers::new().unwrap();
            headers.set("Content-Type", content_type).unwrap();
            init.set_headers(&headers);
            js_sys::Promise::resolve(&JsValue::from(make(&init)))
        })
    }
}

impl Drop for FakeFetch {
    fn drop(&mut self) {
        js_sys::Reflect::set(&window(), &"fetch".into(), &self.original).unwrap();
    }
}

fn token_post() -> FetchRequest<'static> {
    FetchRequest {
        method: "POST",
        url: "https://as.example/token",
        headers: &[
            ("Content-Type", TokenRequest::CONTENT_TYPE),
            ("Accept", TokenRequest::ACCEPT),
        ],
        body: Some("grant_type=authorization_code&code=abc"),
    }
}

/// T-1 (fetch options), T-22, T-26, T-27: the back channel never follows a redirect, never
/// sends cookies, sends only CORS-safelisted headers (no preflight) and can be aborted.
#[wasm_bindgen_test]
async fn t01_back_channel_fetch_options_no_redirect_no_cookies_safelisted_headers() {
    let fake = FakeFetch::answering(
        200,
        "application/json",
        r#"{"access_token":"at-1","token_type":"Bearer"}"#.into(),
    );
    let answer = http::fetch(token_post()).await.expect("an answer");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type.as_deref(), Some("application/json"));
    let calls = fake.calls.borrow();
    assert_eq!(calls.len(), 1);
    // fetch gets one Request carrying every option (the second argument is unused).
    let (init, second) = &calls[0];
    assert!(second.is_undefined());
    assert_eq!(
        get(init, "url").as_string().as_deref(),
        Some("https://as.example/token")
    );
    assert_eq!(get(init, "method").as_string().as_deref(), Some("POST"));
    assert_eq!(get(init, "redirect").as_string().as_deref(), Some("manual"));
    assert_eq!(
        get(init, "credentials").as_string().as_deref(),
        Some("omit")
    );
    assert_eq!(get(init, "mode").as_string().as_deref(), Some("cors"));
    let headers: web_sys::Headers = get(init, "headers").unchecked_into();
    let mut names = Vec::new();
    for entry in js_sys::try_iter(&headers).unwrap().unwrap() {
        let pair: js_sys::Array = entry.unwrap().unchecked_into();
        names.push(pair.get(0).as_string().unwrap());
    }
    names.sort();
    assert_eq!(names, ["accept", "content-type"], "only safelisted headers");
    let signal: web_sys::AbortSignal = get(init, "signal").unchecked_into();
    assert!(!signal.aborted(), "T-27: abortable, not aborted");
}

/// T-1 for DPoP runs only: the one header beyond the safelisted ones is `DPoP` (which is why
/// a DPoP token request has a CORS preflight), and the answer's `DPoP-Nonce` is read back
/// (RFC 9449 §8).
#[wasm_bindgen_test]
async fn t01_dpop_token_post_adds_only_the_dpop_header_and_reads_the_nonce() {
    let _fake = FakeFetch::answering_with(400, "application/json", |init| {
        let headers: web_sys::Headers = get(init, "headers").unchecked_into();
        headers
            .set("DPoP-Nonce", "eyJ7S_zG.eyJH0-Z.HX4w-7v")
            .unwrap();
        web_sys::Response::new_with_opt_str_and_init(Some(r#"{"error":"use_dpop_nonce"}"#), init)
            .unwrap()
    });
    let fake_calls = _fake.calls.clone();
    let answer = http::fetch(FetchRequest {
        method: "POST",
        url: "https://as.example/token",
        headers: &[
            ("Content-Type", TokenRequest::CONTENT_TYPE),
            ("Accept", TokenRequest::ACCEPT),
            ("DPoP", "eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.sig"),
        ],
        body: Some("grant_type=authorization_code&code=abc"),
    })
    .await
    .expect("an answer");
    assert_eq!(
        answer.dpop_nonce.as_deref(),
        Some("eyJ7S_zG.eyJH0-Z.HX4w-7v")
    );
    let calls = fake_calls.borrow();
    let headers: web_sys::Headers = get(&calls[0].0, "headers").unchecked_into();
    let mut names = Vec::new();
    for entry in js_sys::try_iter(&headers).unwrap().unwrap() {
        let pair: js_sys::Array = entry.unwrap().unchecked_into();
        names.push(pair.get(0).as_string().unwrap());
    }
    names.sort();
    assert_eq!(
        names,
        ["accept", "content-type", "dpop"],
        "safelisted + DPoP only"
    );
}

/// T-25: a network failure (offline, DNS, reset, or CORS, T-26) is a transport error naming the
/// origin, tried once.
#[wasm_bindgen_test]
async fn t25_network_failure_is_a_transport_error_and_is_not_retried() {
    let fake = FakeFetch::install(|| {
        js_sys::Promise::reject(&js_sys::TypeError::new("Failed to fetch").into())
    });
    let outcome = http::fetch(token_post()).await;
    assert_eq!(
        outcome,
        Err(TransportError::Network {
            origin: "https://as.example".into()
        })
    );
    assert_eq!(fake.calls.borrow().len(), 1, "no retry");
}

/// T-24, D-13: an oversized answer is not read past the cap (issue 13 defect 5): the step says
/// "not read", and both parsers refuse it by its size.
#[wasm_bindgen_test]
async fn t24_d13_oversized_answers_are_refused() {
    let _fake = FakeFetch::answering(200, "application/json", "x".repeat(5 * 1024 * 1024));
    let answer = http::fetch(token_post()).await.expect("an answer");
    // A string body arrives as one chunk, so the whole of it is counted; the endless stream
    // below shows that reading stops early when the chunks are smaller.
    assert!(
        matches!(answer.unread, Some(Unread::TooLarge(len)) if len > READ_CAP),
        "{:?}",
        answer.unread
    );
    assert!(answer.body.is_empty());
    assert!(matches!(
        parse_metadata("https://as.example", &answer),
        Err(DiscoveryError::BodyTooLarge { .. })
    ));
    assert!(matches!(
        parse_token_response(&answer, "read:profile", false),
        Err(TokenError::BodyTooLarge { .. })
    ));
}

/// T-24, D-13 (issue 13 defect 5): an answer that never ends is read only up to the cap, then
/// its stream is cancelled; the request does not hang until the timeout.
#[wasm_bindgen_test]
async fn t24_d13_endless_answer_stops_at_the_cap_and_is_cancelled() {
    let make_stream = js_sys::Function::new_no_args(
        "globalThis.__pulled = 0; globalThis.__cancelled = false; \
         return new ReadableStream({ \
           pull(c) { globalThis.__pulled++; c.enqueue(new Uint8Array(64 * 1024).fill(120)); }, \
           cancel() { globalThis.__cancelled = true; } });",
    );
    let _fake = FakeFetch::answering_with(200, "application/json", move |init| {
        let stream: web_sys::ReadableStream =
            make_stream.call0(&JsValue::NULL).unwrap().unchecked_into();
        web_sys::Response::new_with_opt_readable_stream_and_init(Some(&stream), init).unwrap()
    });
    let answer = http::fetch(token_post()).await.expect("an answer");
    assert!(matches!(answer.unread, Some(Unread::TooLarge(len)) if len > READ_CAP));
    let global = js_sys::global();
    assert_eq!(
        get(&global, "__cancelled").as_bool(),
        Some(true),
        "stream cancelled"
    );
    let pulled = get(&global, "__pulled").as_f64().unwrap();
    assert!(
        pulled <= 8.0,
        "read {pulled} chunks of 64 KiB for a 256 KiB cap"
    );
}

/// T-29 through the app's own read path (issue 13 defect 5): a `\xff` inside a JSON string is
/// not turned into U+FFFD by the fetch glue; the body is not kept and the token parser says
/// it is not UTF-8.
#[wasm_bindgen_test]
async fn t29_invalid_utf8_answer_is_refused_not_replaced() {
    let bytes = b"{\"access_token\":\"at-\xff\",\"token_type\":\"Bearer\"}".to_vec();
    let _fake = FakeFetch::answering_with(200, "application/json", move |init| {
        let mut copy = bytes.clone();
        web_sys::Response::new_with_opt_u8_array_and_init(Some(&mut copy), init).unwrap()
    });
    let answer = http::fetch(token_post()).await.expect("an answer");
    assert!(!answer.body.contains('\u{FFFD}'), "{:?}", answer.body);
    assert_eq!(
        parse_token_response(&answer, "read:profile", false),
        Err(TokenError::NotUtf8)
    );
}

/// T-7: a 4xx HTML login page from the token endpoint is not an OAuth error and is not parsed.
#[wasm_bindgen_test]
async fn t07_html_error_page_is_an_unexpected_response() {
    let _fake = FakeFetch::answering(
        400,
        "text/html; charset=utf-8",
        "<html><form>Please log in</form></html>".into(),
    );
    let answer = http::fetch(token_post()).await.expect("an answer");
    assert!(matches!(
        parse_token_response(&answer, "read:profile", false),
        Err(TokenError::UnexpectedResponse { status: 400, .. })
    ));
}

/// Temporarily replaces `Storage.prototype.setItem` (both storages share it).
struct StoragePatch(JsValue);

impl StoragePatch {
    fn set_item(replacement: &JsValue) -> StoragePatch {
        let prototype = get(&get(&js_sys::global(), "Storage"), "prototype");
        let original = get(&prototype, "setItem");
        js_sys::Reflect::set(&prototype, &"setItem".into(), replacement).unwrap();
        StoragePatch(original)
    }
}

impl Drop for StoragePatch {
    fn drop(&mut self) {
        let prototype = get(&get(&js_sys::global(), "Storage"), "prototype");
        js_sys::Reflect::set(&prototype, &"setItem".into(), &self.0).unwrap();
    }
}

/// A-7: when sessionStorage refuses the write (quota, disabled) or silently drops it, the login
/// does not start: without a stored state the callback could be forged.
#[wasm_bindgen_test]
fn a07_storage_that_refuses_or_drops_writes_stops_the_login() {
    session().clear().unwrap();
    let throwing = Closure::<dyn FnMut(JsValue, JsValue) -> Result<(), JsValue>>::new(
        |_: JsValue, _: JsValue| Err(JsValue::from_str("QuotaExceededError")),
    );
    {
        let _patch = StoragePatch::set_item(throwing.as_ref());
        let refused = storage::save_pending(pending(&fresh_state(), 1_000), 1_000)
            .expect_err("a refused write stops the login");
        assert!(refused
            .what_happened
            .contains("refused to store the login state"));
    }
    let dropping = Closure::<dyn FnMut(JsValue, JsValue)>::new(|_: JsValue, _: JsValue| {});
    {
        let _patch = StoragePatch::set_item(dropping.as_ref());
        assert!(
            storage::save_pending(pending(&fresh_state(), 1_000), 1_000).is_err(),
            "a silently dropped write stops the login"
        );
    }
    assert!(session().get_item(storage::PENDING_KEY).unwrap().is_none());
    // And with storage working again, it starts.
    storage::save_pending(pending(&fresh_state(), 1_000), 1_000).unwrap();
    session().clear().unwrap();
}

/// X-1..X-7 through the real components: an error callback answering this tab's pending login,
/// with markup, a `javascript:` error_uri and bidi controls. Rendered as text nodes only: no
/// element is created from it, nothing runs, and the bidi controls are escaped and isolated.
#[wasm_bindgen_test]
async fn x01_to_x07_hostile_callback_text_renders_as_inert_text_in_the_app() {
    session().clear().unwrap();
    let state = fresh_state();
    storage::save_pending(pending(&state, oauth_flow_lab::browser::clock::now_ms()), 0).unwrap();
    let encode = |s: &str| -> String { form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    let description = "<img src=x onerror=alert(1)>\"><script>alert(2)</script>\
                       <svg onload=alert(3)> \u{202E}gnp.exe\u{202C} \u{200B}";
    let path = window().location().pathname().unwrap();
    let callback = format!(
        "{path}?error={}&error_description={}&error_uri={}&state={}&iss={}",
        encode("<b>x</b>"),
        encode(description),
        encode("javascript:alert(4)"),
        encode(state.secret()),
        encode("http://127.0.0.1:9000")
    );
    window()
        .history()
        .unwrap()
        .push_state_with_url(&JsValue::NULL, "", Some(&callback))
        .unwrap();
    let document = window().document().unwrap();
    let host = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone().unchecked_into(), oauth_flow_lab::App);
    leptos::task::tick().await;
    let what = host
        .query_selector("#problem-what")
        .unwrap()
        .expect("the problem banner")
        .text_content()
        .unwrap_or_default();
    assert!(what.contains("(\"<b>x</b>\")"), "X-3: {what}");
    assert!(
        what.contains(
            "<img src=x onerror=alert(1)>\"><script>alert(2)</script><svg onload=alert(3)>"
        ),
        "X-1, X-2: {what}"
    );
    assert!(what.contains("\\u{202E}gnp.exe\\u{202C}"), "X-6: {what}");
    assert!(
        host.query_selector("#problem-what bdi").unwrap().is_some(),
        "X-6: isolated"
    );
    for css in [
        "img",
        "script",
        "b",
        "[onerror]",
        "[onload]",
        "a[href^=javascript]",
    ] {
        assert!(
            host.query_selector(css).unwrap().is_none(),
            "X-1..X-4: a {css} element was created"
        );
    }
    // X-7: the diagram's failed row carries the same text, as SVG text. Back from the provider
    // the diagram is drawn once the page has settled (a frame after the refusal), so wait.
    let failed_row = "#diagram g.row[data-kind=CheckCallback][data-status=failed]";
    for _ in 0..40 {
        if host.query_selector(failed_row).unwrap().is_some() {
            break;
        }
        sleep_ms(50).await;
    }
    let diagram = host
        .query_selector(failed_row)
        .unwrap()
        .expect("X-7: the failed check in the diagram");
    assert!(diagram
        .query_selector("image, foreignObject, script")
        .unwrap()
        .is_none());
    // C-25: the callback left the address bar before anything else.
    assert!(!window().location().href().unwrap().contains("state="));
    drop(handle);
    host.remove();
    session().clear().unwrap();
}

/// A DOM change as the element it landed on (`tag#id`) and its kind.
fn element_and_change(record: &web_sys::MutationRecord) -> String {
    let target = record
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .map(|e| format!("{}#{}", e.tag_name(), e.id()))
        .unwrap_or_default();
    format!(
        "{target} {} {}",
        record.type_(),
        record.attribute_name().unwrap_or_default()
    )
}

/// Waits `ms` milliseconds (a browser timer).
async fn sleep_ms(ms: i32) {
    let wait = js_sys::Promise::new(&mut |resolve, _| {
        window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(wait).await.unwrap();
}

/// Issue 12: the settings form reads through its own memo, so events that change nothing it
/// shows (a login whose discovery fails: two phase changes and a problem) write nothing in it.
/// Each event used to re-run every one of its closures and rewrite some attributes.
#[wasm_bindgen_test]
async fn p12_events_that_leave_the_settings_alone_write_nothing_in_the_settings_form() {
    session().clear().unwrap();
    let local = window().local_storage().unwrap().unwrap();
    // Nothing listens on port 9 here: discovery fails at once.
    let settings = r#"{"issuer":"http://127.0.0.1:9","client_id":"flow-lab","scope":"openid"}"#;
    local.set_item(storage::SETTINGS_KEY, settings).unwrap();
    let path = window().location().pathname().unwrap();
    window()
        .history()
        .unwrap()
        .replace_state_with_url(&JsValue::NULL, "", Some(&path))
        .unwrap();
    let document = window().document().unwrap();
    let host = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone().unchecked_into(), oauth_flow_lab::App);
    // The teaching text (fetched after the first paint) redraws the preset's hints once when
    // it arrives or fails: a change the form does show, so it must be over first.
    let lab = host.query_selector("#lab").unwrap().expect("the page");
    for _ in 0..100 {
        leptos::task::tick().await;
        if lab.get_attribute("data-notes").as_deref() != Some("loading") {
            break;
        }
        sleep_ms(50).await;
    }
    leptos::task::tick().await;
    let form = host.query_selector(".settings").unwrap().expect("the form");
    let watch = web_support::Watch::start(&form, element_and_change);
    let login: web_sys::HtmlElement = host
        .query_selector("#login")
        .unwrap()
        .expect("Log in")
        .unchecked_into();
    login.click();
    let mut failed = false;
    for _ in 0..100 {
        leptos::task::tick().await;
        sleep_ms(50).await;
        if host.query_selector("#problem-what").unwrap().is_some() {
            failed = true;
            break;
        }
    }
    assert!(failed, "the login stopped with a problem shown");
    sleep_ms(50).await;
    let written = watch.stop();
    assert!(
        written.is_empty(),
        "the settings form was written to: {written:?}"
    );
    drop(handle);
    host.remove();
    local.remove_item(storage::SETTINGS_KEY).unwrap();
    session().clear().unwrap();
}

// ----------------------------------------------------------------- DPoP key (RFC 9449)

mod dpop {
    use oauth_flow_lab::browser::webcrypto;
    use oauth_flow_lab::flow::oidc::SignatureCheck;
    use oauth_flow_lab::protocol::dpop::{unsigned_proof, DpopAlg, ProofRequest, PublicJwk};
    use oauth_flow_lab::protocol::secret::AccessToken;
    use wasm_bindgen_futures::JsFuture;
    use wasm_bindgen_test::*;

    fn subtle() -> web_sys::SubtleCrypto {
        web_sys::window().unwrap().crypto().unwrap().subtle()
    }

    /// `importKey` parameters for the public JWK of `alg`'s key, as a server would use them.
    fn import_params(alg: DpopAlg) -> String {
        match alg {
            DpopAlg::Es256 => r#"{"name":"ECDSA","namedCurve":"P-256"}"#,
            DpopAlg::EdDsa | DpopAlg::Ed25519 => r#"{"name":"Ed25519"}"#,
            DpopAlg::Ps256 => r#"{"name":"RSA-PSS","hash":"SHA-256"}"#,
            DpopAlg::Rs256 => r#"{"name":"RSASSA-PKCS1-v1_5","hash":"SHA-256"}"#,
        }
        .to_owned()
    }

    /// The `kty` and RFC 7638 members of `alg`'s key.
    fn members(alg: DpopAlg) -> (&'static str, &'static [&'static str]) {
        match alg {
            DpopAlg::Es256 => ("EC", &["crv", "kty", "x", "y"]),
            DpopAlg::EdDsa | DpopAlg::Ed25519 => ("OKP", &["crv", "kty", "x"]),
            DpopAlg::Ps256 | DpopAlg::Rs256 => ("RSA", &["e", "kty", "n"]),
        }
    }

    #[wasm_bindgen_test]
    async fn r9449_2_private_key_is_not_extractable_for_every_alg() {
        // Chromium 156 makes all of them (Ed25519 included).
        assert_eq!(webcrypto::probe_dpop_algs().await, DpopAlg::ALL.to_vec());
        for alg in DpopAlg::ALL {
            let pair = webcrypto::generate_dpop_key(alg).await.unwrap();
            assert_eq!(pair.alg(), alg);
            assert!(!pair.private_key().extractable(), "{alg:?}");
            for format in ["jwk", "pkcs8"] {
                let refused =
                    JsFuture::from(subtle().export_key(format, pair.private_key()).unwrap())
                        .await
                        .unwrap_err();
                let name = js_sys::Reflect::get(&refused, &"name".into())
                    .unwrap()
                    .as_string()
                    .unwrap_or_default();
                assert_eq!(
                    name, "InvalidAccessError",
                    "{alg:?}: exportKey({format}) must fail"
                );
            }
            // The public half is all that left WebCrypto: no private member.
            let jwk: serde_json::Value = serde_json::from_str(pair.public_jwk_json()).unwrap();
            assert_eq!(jwk["kty"], members(alg).0, "{alg:?}");
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(jwk.get(private).is_none(), "{alg:?}: {jwk}");
            }
            if alg == DpopAlg::Rs256 {
                // 2048-bit modulus: 256 bytes, 342 base64url characters.
                assert_eq!(jwk["n"].as_str().unwrap().len(), 342);
            }
        }
    }

    #[wasm_bindgen_test]
    async fn r9449_4_2_proof_signed_in_the_browser_verifies_with_the_public_jwk_for_every_alg() {
        for alg in DpopAlg::ALL {
            let pair = webcrypto::generate_dpop_key(alg).await.unwrap();
            let key = PublicJwk::from_json(pair.public_jwk_json()).unwrap();
            let token = AccessToken::new("an-access-token".into());
            let request = ProofRequest {
                method: "GET",
                url: "http://127.0.0.1:9001/api/profile?x=1",
                access_token: Some(&token),
                nonce: None,
            };
            let unsigned = unsigned_proof(&key, alg, &request, 1_700_000_000, &[9u8; 16]).unwrap();
            let input = unsigned.signing_input().to_owned();
            let signature = webcrypto::sign_dpop(&pair, &input).await.unwrap();
            // ES256: raw r || s (the JWS form, no DER); Ed25519: 64; RSA 2048: 256 bytes.
            let expected = match alg {
                DpopAlg::Ps256 | DpopAlg::Rs256 => 256,
                _ => 64,
            };
            assert_eq!(signature.len(), expected, "{alg:?}");
            let proof = unsigned.finish(&signature).unwrap();
            assert!(proof.header_value().starts_with(&input));

            // Verified the way a server does: import the header's public JWK, check the
            // signature with the algorithm's parameters.
            let check = |signing_input: String, signature: Vec<u8>| SignatureCheck {
                jwk_json: key.canonical_json(),
                import_params_json: import_params(alg),
                verify_params_json: alg.sign_params_json(),
                signing_input,
                signature,
                kid: None,
            };
            assert_eq!(
                webcrypto::verify(&check(input.clone(), signature.clone())).await,
                Ok(true),
                "{alg:?}"
            );
            // A changed claim does not verify: the signature covers header and claims.
            let tampered = input.replacen('.', ".e", 1);
            assert_eq!(
                webcrypto::verify(&check(tampered, signature)).await,
                Ok(false),
                "{alg:?}"
            );
        }
    }

    #[wasm_bindgen_test]
    async fn r7638_thumbprint_of_the_exported_key_matches_the_core_computation_for_every_kty() {
        for alg in [DpopAlg::Es256, DpopAlg::Rs256, DpopAlg::EdDsa] {
            let pair = webcrypto::generate_dpop_key(alg).await.unwrap();
            let key = PublicJwk::from_json(pair.public_jwk_json()).unwrap();
            // RFC 7638 §3 done on the JavaScript side, independently of the Rust code: the
            // required members of the exported key in lexicographic order, JSON.stringify'd,
            // then SHA-256 by WebCrypto instead of the sha2 crate.
            let exported = js_sys::JSON::parse(pair.public_jwk_json()).unwrap();
            let canonical = js_sys::Object::new();
            for name in members(alg).1 {
                let value = js_sys::Reflect::get(&exported, &(*name).into()).unwrap();
                js_sys::Reflect::set(&canonical, &(*name).into(), &value).unwrap();
            }
            let canonical = js_sys::JSON::stringify(&canonical)
                .unwrap()
                .as_string()
                .unwrap();
            let digest = webcrypto::digest("SHA-256", canonical.as_bytes())
                .await
                .unwrap();
            use base64::Engine as _;
            let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
            assert_eq!(key.thumbprint(), expected, "{alg:?}");
            // Two pairs, two thumbprints: each tab's key is its own.
            let other = webcrypto::generate_dpop_key(alg).await.unwrap();
            let other = PublicJwk::from_json(other.public_jwk_json()).unwrap();
            assert_ne!(other.thumbprint(), key.thumbprint());
        }
    }
}
