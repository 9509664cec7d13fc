//! Host tests of the HAR import. The HARs are built here in Chromium's shape (document
//! redirects with `redirectURL`, `_resourceType`, lower-case HTTP/2 header names) from the
//! values a real login against the bundled provider carries; the Firefox fixture is
//! hand-written from HAR 1.2 with Firefox's differences. Each test is named after the checklist
//! row it proves.

use super::*;
use crate::diagram::export::{iso8601, to_har};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

mod recorded;

const ISSUER: &str = "http://127.0.0.1:9090";
const APP: &str = "http://127.0.0.1:8080/";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const STATE: &str = "af0ifjsldkjAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const NONCE: &str = "n-0S6_WzA2MjAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const CODE: &str = "SplxlOBeZQQYbYS6WxSbIA-long-enough-code";
const T0: u64 = 1_795_000_000_000;

fn nv(pairs: &[(&str, &str)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect(),
    )
}

/// One Chromium-shaped entry.
fn entry(at: u64, method: &str, url: &str, kind: &str, status: u16) -> Value {
    json!({
        "startedDateTime": iso8601(T0 + at),
        "time": 12.5,
        "_resourceType": kind,
        "request": {"method": method, "url": url, "httpVersion": "http/1.1",
            "headers": nv(&[("accept", "*/*"), ("user-agent", "Chromium"), ("sec-fetch-mode", "cors")]),
            "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
        "response": {"status": status, "statusText": "", "httpVersion": "http/1.1",
            "headers": [], "cookies": [], "content": {"size": 0, "mimeType": "text/html", "text": ""},
            "redirectURL": "", "headersSize": -1, "bodySize": -1},
        "cache": {}, "timings": {"send": 1, "wait": 10, "receive": 1.5}
    })
}

fn json_answer(mut e: Value, body: &Value, extra_headers: &[(&str, &str)]) -> Value {
    let mut headers = vec![("content-type", "application/json; charset=utf-8")];
    headers.extend_from_slice(extra_headers);
    e["response"]["headers"] = nv(&headers);
    e["response"]["content"] =
        json!({"size": 1, "mimeType": "application/json", "text": body.to_string()});
    e
}

fn redirect(mut e: Value, location: &str) -> Value {
    e["response"]["redirectURL"] = json!(location);
    e["response"]["headers"] = nv(&[("location", location)]);
    e
}

fn form_post(mut e: Value, body: &str) -> Value {
    e["request"]["postData"] =
        json!({"mimeType": "application/x-www-form-urlencoded", "text": body});
    let mut headers: Vec<Value> = e["request"]["headers"].as_array().unwrap().clone();
    headers.push(json!({"name": "content-type", "value": "application/x-www-form-urlencoded"}));
    e["request"]["headers"] = Value::Array(headers);
    e
}

fn add_header(e: &mut Value, name: &str, value: &str) {
    e["request"]["headers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": name, "value": value}));
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn id_token(nonce: &str, aud: &str) -> String {
    let exp = (T0 / 1000) + 3600;
    format!(
        "{}.{}.{}",
        b64(&json!({"alg": "RS256", "kid": "k1", "typ": "JWT"})),
        b64(
            &json!({"iss": ISSUER, "aud": aud, "sub": "alice", "exp": exp, "iat": T0 / 1000, "nonce": nonce})
        ),
        URL_SAFE_NO_PAD.encode([7u8; 256])
    )
}

/// What a login varies by.
struct Login {
    response_type: &'static str,
    challenge: Option<(&'static str, &'static str)>,
    verifier: Option<&'static str>,
    callback_state: &'static str,
    no_store: bool,
    rotate: bool,
    token_header: Option<(&'static str, &'static str)>,
    client_secret: bool,
}

const GOOD: Login = Login {
    response_type: "code",
    challenge: Some((CHALLENGE, "S256")),
    verifier: Some(VERIFIER),
    callback_state: STATE,
    no_store: true,
    rotate: true,
    token_header: None,
    client_secret: false,
};

/// A whole login as Chromium's HAR export writes it, with page assets around it.
fn chromium_har(login: &Login) -> String {
    let metadata = json!({
        "issuer": ISSUER,
        "authorization_endpoint": format!("{ISSUER}/auth"),
        "token_endpoint": format!("{ISSUER}/token"),
        "jwks_uri": format!("{ISSUER}/jwks"),
        "userinfo_endpoint": format!("{ISSUER}/me"),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true
    });
    let mut query = format!(
        "response_type={}&client_id=lab&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2F&scope=openid%20profile%20offline_access&state={STATE}&nonce={NONCE}",
        login.response_type
    );
    if let Some((c, m)) = login.challenge {
        query.push_str(&format!("&code_challenge={c}&code_challenge_method={m}"));
    }
    let iss = "http%3A%2F%2F127.0.0.1%3A9090";
    let back = if login.response_type == "code" {
        format!("{APP}?code={CODE}&state={}&iss={iss}", login.callback_state)
    } else {
        format!("{APP}#access_token=SlAV32hkKG-secret-token&token_type=Bearer&state={STATE}")
    };
    let mut entries = vec![
        entry(0, "GET", APP, "document", 200),
        entry(
            5,
            "GET",
            "http://127.0.0.1:8080/oauth-flow-lab_bg.wasm",
            "other",
            200,
        ),
        entry(8, "GET", "http://127.0.0.1:8080/favicon.svg", "image", 200),
        json_answer(
            entry(
                20,
                "GET",
                &format!("{ISSUER}/.well-known/openid-configuration"),
                "fetch",
                200,
            ),
            &metadata,
            &[],
        ),
        redirect(
            entry(
                40,
                "GET",
                &format!("{ISSUER}/auth?{query}"),
                "document",
                303,
            ),
            &format!("{ISSUER}/interaction/abc"),
        ),
        entry(
            60,
            "GET",
            &format!("{ISSUER}/interaction/abc"),
            "document",
            200,
        ),
        entry(
            70,
            "GET",
            "https://analytics.example/collect?x=1",
            "ping",
            204,
        ),
        redirect(
            form_post(
                entry(
                    3000,
                    "POST",
                    &format!("{ISSUER}/interaction/abc/login"),
                    "document",
                    303,
                ),
                "login=alice&password=wonderland",
            ),
            &format!("{ISSUER}/auth/abc"),
        ),
        redirect(
            entry(3100, "GET", &format!("{ISSUER}/auth/abc"), "document", 303),
            &back,
        ),
        entry(3200, "GET", &back, "document", 200),
    ];
    if login.response_type != "code" {
        return har(entries);
    }
    let mut body = format!(
        "grant_type=authorization_code&code={CODE}&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2F&client_id=lab"
    );
    if let Some(v) = login.verifier {
        body.push_str(&format!("&code_verifier={v}"));
    }
    if login.client_secret {
        body.push_str("&client_secret=demo-secret-value");
    }
    let tokens = json!({
        "access_token": "at-1-abcdefghijklmnopqrstuvwxyz",
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "openid profile offline_access",
        "refresh_token": "rt-1-abcdefghijklmnopqrstuvwxyz",
        "id_token": id_token(NONCE, "lab")
    });
    let cache: &[(&str, &str)] = if login.no_store {
        &[("cache-control", "no-store")]
    } else {
        &[]
    };
    let mut token = json_answer(
        form_post(
            entry(3300, "POST", &format!("{ISSUER}/token"), "fetch", 200),
            &body,
        ),
        &tokens,
        cache,
    );
    if let Some((name, value)) = login.token_header {
        let mut preflight = entry(
            3290,
            "OPTIONS",
            &format!("{ISSUER}/token"),
            "preflight",
            204,
        );
        add_header(&mut preflight, "access-control-request-headers", name);
        add_header(&mut preflight, "access-control-request-method", "POST");
        entries.push(preflight);
        add_header(&mut token, name, value);
    }
    entries.push(token);
    entries.push(json_answer(
        entry(3400, "GET", &format!("{ISSUER}/jwks"), "fetch", 200),
        &json!({"keys": [{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode([0xc5u8; 256]), "e": "AQAB"}]}),
        &[],
    ));
    let mut api = json_answer(
        entry(
            4000,
            "GET",
            "http://127.0.0.1:9091/api/profile",
            "fetch",
            200,
        ),
        &json!({"name": "Alice <img src=x onerror=alert(1)>"}),
        &[],
    );
    add_header(
        &mut api,
        "authorization",
        "Bearer at-1-abcdefghijklmnopqrstuvwxyz",
    );
    entries.push(api);
    let new_refresh = if login.rotate {
        "rt-2-abcdefghijklmnopqrstuvwxyz"
    } else {
        "rt-1-abcdefghijklmnopqrstuvwxyz"
    };
    entries.push(json_answer(
        form_post(
            entry(5000, "POST", &format!("{ISSUER}/token"), "fetch", 200),
            "grant_type=refresh_token&refresh_token=rt-1-abcdefghijklmnopqrstuvwxyz&client_id=lab",
        ),
        &json!({"access_token": "at-2-abcdefghijklmnopqrstuvwxyz", "token_type": "Bearer",
            "expires_in": 3600, "scope": "openid profile offline_access", "refresh_token": new_refresh}),
        &[("cache-control", "no-store")],
    ));
    har(entries)
}

fn har(entries: Vec<Value>) -> String {
    json!({"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
        "pages": [], "entries": entries}})
    .to_string()
}

fn kinds(imported: &Imported) -> Vec<StepKind> {
    imported.timeline.steps().iter().map(|s| s.kind).collect()
}

fn rows(imported: &Imported) -> Vec<&'static str> {
    imported.findings.iter().map(|f| f.row).collect()
}

#[test]
fn har_good_pkce_login_draws_every_exchange_with_no_finding() {
    let imported = import_har(&chromium_har(&GOOD)).unwrap();
    use StepKind::*;
    let wanted = [
        Discover,
        RedirectToAuthorize,
        UserAtProvider,
        RedirectBack,
        CheckCallback,
        TokenRequest,
        ServerCheck,
        TokenResponse,
        // In the HAR's order: the claims are checked on the token answer, the keys came after.
        CheckIdTokenClaims,
        FetchJwks,
        ResourceRequest,
        ServerCheck,
        ResourceResponse,
        RefreshRequest,
        RefreshResponse,
    ];
    assert_eq!(kinds(&imported), wanted, "{:#?}", imported.findings);
    assert!(imported.findings.is_empty(), "{:#?}", imported.findings);
    // Page assets, the login form, the analytics ping and the favicon are left out.
    assert_eq!(imported.left_out, 6);
    // Times come from the HAR: the user spent about three seconds at the provider.
    let at_provider = &imported.timeline.steps()[2];
    assert!((3000.0..3100.0).contains(&at_provider.duration_ms.unwrap()));
    assert_eq!(imported.timeline.steps()[0].started_at_ms, T0 + 20);
    // The JWKS was in the HAR: the signature is handed to WebCrypto, not claimed as checked.
    assert!(imported.signature.is_some());
    for step in imported.timeline.steps() {
        assert!(step.status != StepStatus::Active, "{step:?}");
    }
}

#[test]
fn x08_har_secrets_are_masked_in_every_step_and_the_markdown() {
    let imported = import_har(&chromium_har(&GOOD)).unwrap();
    let drawn = format!("{:?}", imported.timeline.to_json());
    let md = findings_markdown(&imported, "login.har");
    for secret in [
        VERIFIER,
        STATE,
        NONCE,
        CODE,
        "at-1-abcdefghijklmnopqrstuvwxyz",
        "rt-1-abcdefghijklmnopqrstuvwxyz",
        "rt-2-abcdefghijklmnopqrstuvwxyz",
        "wonderland",
    ] {
        assert!(!drawn.contains(secret), "{secret} leaked into the timeline");
        assert!(!md.contains(secret), "{secret} leaked into the Markdown");
    }
    // The inspector can still reveal the code from memory.
    let back = imported
        .timeline
        .steps()
        .iter()
        .position(|s| s.kind == StepKind::RedirectBack)
        .unwrap();
    assert_eq!(
        imported
            .timeline
            .revealable(back, "code")
            .map(|v| v.expose()),
        Some(CODE)
    );
}

#[test]
fn r9700_05_har_login_without_pkce_is_a_finding_on_the_authorization_request() {
    let imported = import_har(&chromium_har(&Login {
        challenge: None,
        verifier: None,
        ..GOOD
    }))
    .unwrap();
    let f = &imported.findings[0];
    assert_eq!((f.row, f.severity), ("R9700-5", Severity::Fail));
    assert_eq!(
        imported.timeline.steps()[f.step].kind,
        StepKind::RedirectToAuthorize
    );
    // The code exchange is still drawn, with no verifier.
    assert!(kinds(&imported).contains(&StepKind::TokenResponse));
}

#[test]
fn r9700_07_har_plain_challenge_is_a_finding() {
    let imported = import_har(&chromium_har(&Login {
        challenge: Some((VERIFIER, "plain")),
        ..GOOD
    }))
    .unwrap();
    assert_eq!(rows(&imported), ["R9700-7"]);
    // The plain challenge is the verifier itself: masked on the diagram like the verifier
    // (found by the recorded e2e fixture chromium-weak-plain.har), revealable from memory.
    let json = imported.timeline.to_json();
    assert!(!json.contains(VERIFIER), "{json}");
    assert!(imported.timeline.secrets().exposed().any(|v| v == VERIFIER));
}

#[test]
fn r9700_09_c19_har_implicit_login_is_found_and_the_token_never_shown() {
    let imported = import_har(&chromium_har(&Login {
        response_type: "token",
        challenge: None,
        ..GOOD
    }))
    .unwrap();
    let found = rows(&imported);
    assert!(found.contains(&"R9700-9"), "{found:?}");
    assert!(
        found.iter().any(|r| ["C-17", "C-19"].contains(r)),
        "{found:?}"
    );
    assert!(!imported
        .timeline
        .to_json()
        .contains("SlAV32hkKG-secret-token"));
}

#[test]
fn t26_har_custom_header_on_the_token_request_is_a_preflight_finding() {
    let imported = import_har(&chromium_har(&Login {
        token_header: Some(("x-requested-with", "XMLHttpRequest")),
        ..GOOD
    }))
    .unwrap();
    let f = &imported.findings[0];
    assert_eq!(f.row, "T-26");
    assert!(f.detail.contains("x-requested-with"), "{}", f.detail);
    assert_eq!(
        imported.timeline.steps()[f.step].kind,
        StepKind::TokenRequest
    );
    // The OPTIONS request is part of the exchange, not an unrelated entry.
    assert_eq!(imported.left_out, 6);
}

#[test]
fn c03_har_state_mismatch_fails_the_check_and_notes_the_code_was_redeemed_anyway() {
    let imported = import_har(&chromium_har(&Login {
        callback_state: "someone-elses-state-value",
        ..GOOD
    }))
    .unwrap();
    let f = &imported.findings[0];
    assert_eq!(f.row, "C-3");
    assert!(
        f.detail.contains("redeemed the code anyway"),
        "{}",
        f.detail
    );
    assert_eq!(
        imported.timeline.steps()[f.step].kind,
        StepKind::CheckCallback
    );
}

#[test]
fn a04_har_state_reused_by_a_second_login_is_a_finding() {
    let text = chromium_har(&GOOD);
    let mut value: Value = serde_json::from_str(&text).unwrap();
    let entries = value["log"]["entries"].as_array_mut().unwrap();
    let mut again = entries[4].clone();
    again["startedDateTime"] = json!(iso8601(T0 + 9000));
    entries.push(again);
    let imported = import_har(&value.to_string()).unwrap();
    assert_eq!(rows(&imported), ["A-4"]);
}

#[test]
fn rfc6749_5_1_har_token_response_without_no_store_is_a_finding() {
    let imported = import_har(&chromium_har(&Login {
        no_store: false,
        ..GOOD
    }))
    .unwrap();
    let f = &imported.findings[0];
    assert_eq!(f.row, "RFC 6749 §5.1");
    assert_eq!(
        imported.timeline.steps()[f.step].kind,
        StepKind::TokenResponse
    );
}

#[test]
fn r9700_10_har_refresh_token_not_rotated_is_a_finding() {
    let imported = import_har(&chromium_har(&Login {
        rotate: false,
        ..GOOD
    }))
    .unwrap();
    let f = &imported.findings[0];
    assert_eq!(f.row, "R9700-10");
    assert_eq!(
        imported.timeline.steps()[f.step].kind,
        StepKind::RefreshResponse
    );
}

#[test]
fn bba03_har_client_secret_from_the_browser_is_a_finding_and_masked() {
    let imported = import_har(&chromium_har(&Login {
        client_secret: true,
        ..GOOD
    }))
    .unwrap();
    assert_eq!(rows(&imported), ["BBA-3"]);
    assert!(!imported.timeline.to_json().contains("demo-secret-value"));
}

#[test]
fn oidc_har_id_token_for_another_audience_fails_the_claims_check() {
    let text =
        chromium_har(&GOOD).replace(&id_token(NONCE, "lab"), &id_token(NONCE, "another-app"));
    let imported = import_har(&text).unwrap();
    let f = &imported.findings[0];
    assert_eq!(f.row, "OIDC Core §3.1.3.7");
    assert_eq!(
        imported.timeline.steps()[f.step].kind,
        StepKind::CheckIdTokenClaims
    );
}

#[test]
fn oidc_har_without_jwks_says_the_signature_was_not_checked() {
    let text = chromium_har(&GOOD);
    let mut value: Value = serde_json::from_str(&text).unwrap();
    value["log"]["entries"]
        .as_array_mut()
        .unwrap()
        .retain(|e| !e["request"]["url"].as_str().unwrap().ends_with("/jwks"));
    let imported = import_har(&value.to_string()).unwrap();
    assert!(imported.signature.is_none());
    assert!(imported
        .not_checked
        .iter()
        .any(|n| n.contains("signature was not checked")));
}

#[test]
fn har_sanitized_export_without_bodies_says_what_was_not_checked() {
    let text = chromium_har(&GOOD);
    let mut value: Value = serde_json::from_str(&text).unwrap();
    for e in value["log"]["entries"].as_array_mut().unwrap() {
        e["response"]["content"]
            .as_object_mut()
            .unwrap()
            .remove("text");
    }
    let imported = import_har(&value.to_string()).unwrap();
    assert!(
        imported
            .not_checked
            .iter()
            .any(|n| n.contains("not in the HAR")),
        "{:?}",
        imported.not_checked
    );
    assert!(kinds(&imported).contains(&StepKind::TokenRequest));
}

#[test]
fn har_firefox_export_of_a_login_imports_like_chromiums() {
    let imported = import_har(include_str!(
        "../../../tests/fixtures/har/firefox-login.har"
    ))
    .unwrap();
    use StepKind::*;
    let drawn: Vec<StepKind> = kinds(&imported)
        .into_iter()
        .filter(|k| *k != ServerCheck)
        .collect();
    assert_eq!(
        drawn,
        [
            Discover,
            RedirectToAuthorize,
            UserAtProvider,
            RedirectBack,
            CheckCallback,
            TokenRequest,
            TokenResponse,
            ResourceRequest,
            ResourceResponse
        ],
        "{:#?}",
        imported.findings
    );
    assert!(imported.findings.is_empty(), "{:#?}", imported.findings);
    assert_eq!(imported.creator, "Firefox");
}

#[test]
fn har_the_labs_own_export_reimports_to_the_same_rows() {
    // A live-shaped run: the explain mode's scripted login, which uses the live step functions.
    let original = import_har(&chromium_har(&GOOD)).unwrap().timeline;
    let exported = to_har(&original);
    let again = import_har(&exported).unwrap();
    let rows = |t: &Timeline| -> Vec<(StepKind, Actor, Actor, Channel)> {
        t.steps()
            .iter()
            .filter(|s| s.exchange.is_some() && s.kind != StepKind::RedirectBack)
            .map(|s| (s.kind, s.from, s.to, s.channel))
            .collect()
    };
    assert_eq!(rows(&again.timeline), rows(&original));
    assert!(again
        .not_checked
        .iter()
        .any(|n| n.contains("lab's own export")));
}

#[test]
fn x01_har_markup_in_every_text_field_stays_text_and_escaped_in_markdown() {
    let evil = "<img src=x onerror=alert(1)>|`#[x](javascript:alert(1))";
    let text = chromium_har(&GOOD)
        .replace("WebInspector", evil)
        .replace("Alice", evil);
    let mut value: Value = serde_json::from_str(&text).unwrap();
    for e in value["log"]["entries"].as_array_mut().unwrap() {
        add_header(e, evil, evil);
    }
    let imported = import_har(&value.to_string()).unwrap();
    let md = findings_markdown(&imported, evil);
    // Table cells escape markup; the header lines put it in code spans.
    let table: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| fail") || l.starts_with("| warn"))
        .collect();
    assert!(!table.is_empty(), "{md}");
    for line in table {
        assert!(!line.replace("\\<", "").contains('<'), "{line}");
        assert!(!line.contains("[x]("), "{line}");
    }
    for line in md
        .lines()
        .filter(|l| l.starts_with("- File") || l.starts_with("- Written"))
    {
        assert!(line.contains("``<img"), "{line}");
    }
}

#[test]
fn har_hostile_input_never_panics_and_says_what_is_wrong() {
    let giant = "x".repeat(5_000_000);
    let cases = [
        String::new(),
        "{".into(),
        "null".into(),
        r#"{"log":{"entries":{}}}"#.into(),
        r#"{"log":{"entries":[{"request":{"url":42}}]}}"#.into(),
        format!(r#"{{"log":{{"entries":[{{"request":{{"method":"GET","url":"{giant}"}}}}]}}}}"#),
        format!(
            r#"{{"log":{{"entries":[{{"request":{{"method":"GET","url":"http://a/?response_type=code&client_id={giant}&state={giant}"}}}}]}}}}"#
        ),
        chromium_har(&GOOD)[..4000].to_owned(),
    ];
    for case in cases {
        match import_har(&case) {
            Ok(imported) => assert!(imported.entries <= 1),
            Err(error) => assert!(!error.to_string().is_empty()),
        }
    }
}

#[test]
fn r9700_12_har_code_in_the_referer_of_a_third_party_request_is_a_finding() {
    let text = chromium_har(&GOOD);
    let mut value: Value = serde_json::from_str(&text).unwrap();
    let mut leak = entry(3250, "GET", "https://cdn.example/lib.js", "script", 200);
    add_header(
        &mut leak,
        "referer",
        &format!("{APP}?code={CODE}&state={STATE}"),
    );
    value["log"]["entries"].as_array_mut().unwrap().push(leak);
    let imported = import_har(&value.to_string()).unwrap();
    let f = &imported.findings[0];
    assert_eq!(f.row, "R9700-12");
    assert!(f.detail.contains("https://cdn.example"), "{}", f.detail);
    assert_eq!(
        imported.timeline.steps()[f.step].kind,
        StepKind::RedirectBack
    );
    assert!(!f.detail.contains(CODE));
}
