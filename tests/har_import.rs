//! End to end, issue 16: real logins against the bundled provider are recorded as HAR files
//! from Chromium's own network events (CDP `Network.*` through chromedriver's performance log,
//! response bodies with `Network.getResponseBody`), then imported through the page's file input;
//! the diagram's rows and the findings are asserted. The recorded files are kept in
//! target/har-fixtures/ (and screenshots in target/e2e-screenshots/); a copy of one recording of
//! each is committed in tests/fixtures/har/chromium-*.har for the host tests.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{raw_http, root, Lab, WAIT};
use serde_json::{json, Map, Value};
use std::time::Instant;

fn name_values(headers: &Value) -> Value {
    Value::Array(
        headers
            .as_object()
            .map(|h| {
                h.iter()
                    .map(|(k, v)| json!({"name": k, "value": v.as_str().unwrap_or_default()}))
                    .collect()
            })
            .unwrap_or_default(),
    )
}

fn iso(wall_secs: f64) -> String {
    // Seconds since the epoch to ISO 8601, via the app's own exporter's formula is not reachable
    // from an integration test; chrono-free: days from civil.
    let ms = (wall_secs * 1000.0) as u64;
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        ms % 1000
    )
}

/// A HAR 1.2 log from CDP network events, the way DevTools builds its export: one entry per
/// request and per redirect hop, wall-clock start, headers, post data, bodies where Chromium
/// still holds them.
async fn har_from_events(lab: &Lab, events: &[Value]) -> Value {
    let mut entries: Vec<Value> = Vec::new();
    // requestId -> (index in entries, monotonic start)
    let mut open: Map<String, Value> = Map::new();
    for event in events {
        let method = event["method"].as_str().unwrap_or_default();
        let p = &event["params"];
        let id = p["requestId"].as_str().unwrap_or_default().to_owned();
        match method {
            "Network.requestWillBeSent" => {
                if let (Some(hop), false) = (open.get(&id), p["redirectResponse"].is_null()) {
                    let index = hop["index"].as_u64().unwrap() as usize;
                    let r = &p["redirectResponse"];
                    let e = &mut entries[index];
                    e["response"]["status"] = r["status"].clone();
                    e["response"]["headers"] = name_values(&r["headers"]);
                    let location = r["headers"]
                        .as_object()
                        .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case("location")))
                        .map(|(_, v)| v.clone())
                        .unwrap_or(json!(""));
                    e["response"]["redirectURL"] = location;
                    let start = hop["start"].as_f64().unwrap_or(0.0);
                    e["time"] = json!((p["timestamp"].as_f64().unwrap_or(start) - start) * 1000.0);
                }
                let request = &p["request"];
                let mut entry = json!({
                    "startedDateTime": iso(p["wallTime"].as_f64().unwrap_or(0.0)),
                    "time": 0,
                    "_resourceType": p["type"].as_str().unwrap_or("other").to_lowercase(),
                    "request": {"method": request["method"], "url": request["url"],
                        "httpVersion": "http/1.1", "headers": name_values(&request["headers"]),
                        "queryString": [], "cookies": [], "headersSize": -1, "bodySize": -1},
                    "response": {"status": 0, "statusText": "", "httpVersion": "http/1.1",
                        "headers": [], "cookies": [], "content": {"size": 0, "mimeType": ""},
                        "redirectURL": "", "headersSize": -1, "bodySize": -1},
                    "cache": {}, "timings": {"send": 0, "wait": 0, "receive": 0}
                });
                if let Some(body) = request["postData"].as_str() {
                    let mime = request["headers"]["Content-Type"].clone();
                    entry["request"]["postData"] = json!({"mimeType": mime, "text": body});
                }
                open.insert(
                    id.clone(),
                    json!({"index": entries.len(), "start": p["timestamp"], "id": id}),
                );
                entries.push(entry);
            }
            "Network.responseReceived" => {
                if let Some(hop) = open.get(&id) {
                    let e = &mut entries[hop["index"].as_u64().unwrap() as usize];
                    let r = &p["response"];
                    e["response"]["status"] = r["status"].clone();
                    e["response"]["headers"] = name_values(&r["headers"]);
                    e["response"]["content"]["mimeType"] = r["mimeType"].clone();
                }
            }
            "Network.loadingFinished" | "Network.loadingFailed" => {
                if let Some(hop) = open.get(&id) {
                    let index = hop["index"].as_u64().unwrap() as usize;
                    let start = hop["start"].as_f64().unwrap_or(0.0);
                    entries[index]["time"] =
                        json!((p["timestamp"].as_f64().unwrap_or(start) - start) * 1000.0);
                    entries[index]["_requestId"] = json!(id);
                }
            }
            _ => {}
        }
    }
    // Bodies of the answers a HAR export would carry (JSON documents), asked from Chromium.
    for e in entries.iter_mut() {
        let Some(id) = e["_requestId"].as_str().map(str::to_owned) else {
            continue;
        };
        if !e["response"]["content"]["mimeType"]
            .as_str()
            .unwrap_or_default()
            .contains("json")
        {
            continue;
        }
        let path = format!(
            "/session/{}/goog/cdp/execute",
            lab.client
                .session_id()
                .await
                .ok()
                .flatten()
                .unwrap_or_default()
        );
        let request = json!({"cmd": "Network.getResponseBody", "params": {"requestId": id}});
        let (status, body) = raw_http(&lab.driver, "POST", &path, Some(&request)).await;
        if status == 200 {
            let value: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            e["response"]["content"]["text"] = value["value"]["body"].clone();
            if value["value"]["base64Encoded"] == json!(true) {
                e["response"]["content"]["encoding"] = json!("base64");
            }
        }
    }
    json!({"log": {"version": "1.2",
        "creator": {"name": "OAuth Flow Lab e2e (CDP Network events)", "version": "1"},
        "pages": [], "entries": entries}})
}

/// The app's back-channel answers stay visible to DevTools (its Network tab, a saved HAR): a
/// body the page reads from its stream alone is often not kept (browser/http.rs reads through a
/// clone for this).
fn assert_devtools_kept(har: &Value, answers: &[&str]) {
    for answer in answers {
        let kept = har["log"]["entries"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| {
                e["request"]["url"]
                    .as_str()
                    .is_some_and(|u| u.ends_with(answer))
            })
            .any(|e| {
                e["response"]["content"]["text"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty())
            });
        assert!(kept, "DevTools kept no body for the answer of {answer}");
    }
}

/// Saves a recorded HAR under target/har-fixtures/ and returns its path.
fn save(name: &str, har: &Value) -> String {
    let dir = root().join("target/har-fixtures");
    std::fs::create_dir_all(&dir).expect("fixture folder");
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(har).unwrap()).expect("fixture written");
    path.to_string_lossy().into_owned()
}

/// Opens the Import HAR tab, picks the file and waits for the summary.
async fn import(lab: &Lab, path: &str) -> String {
    lab.click("#tab-import").await;
    let input = lab.wait_css("#har-file").await;
    input.send_keys(path).await.expect("file picked");
    let deadline = Instant::now() + WAIT;
    loop {
        if lab.count("#har-summary").await > 0 {
            return lab.text("#har-summary").await;
        }
        let error = lab.text("#har-error").await;
        assert!(error.is_empty(), "import refused: {error}");
        assert!(Instant::now() < deadline, "no import summary");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The kinds of the diagram's rows, once their number has stopped changing (the summary can
/// show a frame before the diagram has drawn every row).
async fn drawn_kinds(lab: &Lab) -> Vec<String> {
    let deadline = Instant::now() + WAIT;
    let mut last: Vec<String> = Vec::new();
    loop {
        let now = strings(
            lab,
            "return [...document.querySelectorAll('#diagram g.row[data-kind]')].map(g => g.dataset.kind);",
        )
        .await;
        if (!now.is_empty() && now == last) || Instant::now() > deadline {
            return now;
        }
        last = now;
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

async fn finding_rows(lab: &Lab) -> Vec<String> {
    strings(
        lab,
        "return [...document.querySelectorAll('#har-findings tbody tr')].map(r => r.dataset.row);",
    )
    .await
}

/// The strings of the array a page script returns (anything else in it left out).
async fn strings(lab: &Lab, script: &str) -> Vec<String> {
    lab.js(script, vec![])
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

async fn tall_screenshot(lab: &Lab, name: &str) {
    lab.js("document.body.style.zoom = '0.6';", vec![]).await;
    lab.screenshot(name).await;
    lab.js("document.body.style.zoom = '';", vec![]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn har_recorded_pkce_login_imports_to_the_diagram_with_no_failed_check() {
    let lab = Lab::start_with_network_log(true).await;
    lab.performance_log().await; // the setup's page loads
    lab.log_in_as_alice().await;
    lab.click("#call-profile").await;
    lab.wait_css("#diagram g.row[data-kind=ResourceResponse]")
        .await;
    let events = lab.performance_log().await;
    let har = har_from_events(&lab, &events).await;
    assert_devtools_kept(&har, &["/token", "/jwks", "/api/profile"]);
    let path = save("chromium-pkce-login.har", &har);
    let verifier = har["log"]["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["request"]["postData"]["text"].as_str())
        .find_map(|body| body.split("code_verifier=").nth(1))
        .map(|rest| rest.split('&').next().unwrap_or_default().to_owned())
        .expect("the recorded token request carries the verifier");
    let fetched = "return performance.getEntriesByType('resource').map(e => e.name)\
                   .filter(n => n.includes('har-worker'));";
    assert_eq!(
        lab.js(fetched, vec![]).await,
        json!([]),
        "the import worker is not part of the first load"
    );

    let summary = import(&lab, &path).await;
    // Imported through the worker, fetched only now (its script and wasm are fetched by the
    // worker itself, in its own resource timeline).
    let worker = lab.js(fetched, vec![]).await.to_string();
    assert!(worker.contains("har-worker-loader.js"), "{worker}");
    let rows = finding_rows(&lab).await;
    assert_eq!(
        lab.count("#har-findings tr[data-severity=fail]").await,
        0,
        "{summary} {rows:?}"
    );
    let kinds = drawn_kinds(&lab).await;
    for wanted in [
        "Discover",
        "RedirectToAuthorize",
        "UserAtProvider",
        "RedirectBack",
        "CheckCallback",
        "TokenRequest",
        "TokenResponse",
        "FetchJwks",
        "CheckIdTokenClaims",
        "VerifyIdToken",
        "ResourceRequest",
        "ResourceResponse",
    ] {
        assert!(
            kinds.iter().any(|k| k == wanted),
            "{wanted} not drawn: {kinds:?}"
        );
    }
    // Real WebCrypto verification of the provider's real signature, with the JWKS in the HAR.
    assert_eq!(
        lab.count("#diagram g.row[data-kind=VerifyIdToken][data-status=ok]")
            .await,
        1
    );
    // Secrets stay masked on the page; the page never fetched anything the HAR named.
    let page = lab.text("body").await;
    assert!(!page.contains("wonderland"));
    assert!(!page.contains(&verifier), "the verifier is shown unmasked");
    // The values crossed from the worker into the page's memory: the inspector reveals them.
    lab.click("#diagram g.row[data-kind=TokenRequest]").await;
    lab.js(
        "document.querySelectorAll('#inspector button.reveal').forEach(b => b.click());",
        vec![],
    )
    .await;
    let revealed = lab.text("#inspector").await;
    assert!(
        revealed.contains(&verifier),
        "Reveal shows the verifier: {revealed}"
    );
    lab.js(
        "document.querySelectorAll('#inspector button.reveal').forEach(b => b.click());",
        vec![],
    )
    .await;
    tall_screenshot(&lab, "90-har-import-pkce").await;
    lab.js(
        "document.querySelector('#diagram g.row[data-kind=TokenResponse]').scrollIntoView();",
        vec![],
    )
    .await;
    lab.screenshot("92-har-import-pkce-diagram").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn har_recorded_pkce_off_login_is_graded_no_pkce_and_client_secret_from_the_browser() {
    let lab = Lab::start_with_network_log(true).await;
    lab.click("#client-confidential").await;
    lab.performance_log().await;
    lab.sign_in("alice", "wonderland").await;
    lab.click("#allow").await;
    assert_eq!(
        lab.wait_phase(&["awaiting-secret", "failed"]).await,
        "awaiting-secret"
    );
    lab.click("#secret-ack").await;
    lab.click("#redeem").await;
    assert_eq!(lab.wait_phase(&["logged-in", "failed"]).await, "logged-in");
    let events = lab.performance_log().await;
    let har = har_from_events(&lab, &events).await;
    let path = save("chromium-pkce-off-login.har", &har);

    let summary = import(&lab, &path).await;
    let rows = finding_rows(&lab).await;
    assert!(rows.iter().any(|r| r == "R9700-5"), "{summary} {rows:?}");
    assert!(rows.iter().any(|r| r == "BBA-3"), "{summary} {rows:?}");
    assert_eq!(
        lab.count("#har-findings tr[data-row='R9700-5'][data-severity=fail]")
            .await,
        1
    );
    let kinds = drawn_kinds(&lab).await;
    assert!(kinds.iter().any(|k| k == "TokenRequest"), "{kinds:?}");
    // The demo secret is masked in the findings, the diagram and the Markdown export.
    lab.click("#export-har-findings").await;
    lab.wait_css("#har-markdown").await;
    let markdown = lab
        .js(
            "return document.querySelector('#har-markdown').value;",
            vec![],
        )
        .await;
    assert!(markdown.as_str().unwrap_or_default().contains("BBA-3"));
    let page = lab.text("body").await + markdown.as_str().unwrap_or_default();
    assert!(!page.contains("demo-secret-not-secret"), "secret shown");
    tall_screenshot(&lab, "91-har-import-pkce-off").await;
    lab.finish().await;
}

// ---- The weak variants (issue 16, recorded fixtures): the lab's own attack experiments against
// ---- a deliberately weak provider (`LAB_WEAK`), and a CDP-injected custom header.

/// Weak on PKCE and implicit (as tests/attacks.rs), with a session and a grant at the provider
/// so its probes come back with a code; the network log is emptied afterwards.
async fn weak_lab() -> (Lab, common::Provider) {
    let lab = Lab::start_with_network_log(true).await;
    let weak = lab
        .start_provider("", &[("LAB_WEAK", "pkce_optional,plain,implicit,no_iss")])
        .await;
    lab.configure_provider(&weak.issuer, &weak.api, "openid profile read:profile")
        .await;
    lab.login_through_provider("alice", "wonderland").await;
    assert_eq!(lab.wait_phase(&["logged-in"]).await, "logged-in");
    lab.performance_log().await;
    (lab, weak)
}

/// Sends, from the lab's own tab, the weak authorization request the attack lab's probe sends
/// (`extra`: its `response_type` and challenge; `prompt=none`, as the probe), through the weak
/// provider back to the app. The probes run in a popup whose network events chromedriver's
/// performance log does not hold, and the app itself only ever sends `code` with S256, so the
/// test sends the probe's request where the log sees it; the provider's answers are real.
async fn authorize_like_the_probe(lab: &Lab, issuer: &str, extra: &str) {
    let redirect: String = form_urlencoded::byte_serialize(lab.app.as_bytes()).collect();
    let url = format!(
        "{issuer}/auth?client_id=flow-lab&redirect_uri={redirect}&scope=openid%20profile\
         &state=e2eProbeState0123456789abcdefABCDEF&prompt=none&{extra}"
    );
    lab.client.goto(&url).await.expect("authorization request");
    lab.continue_until("alice", "wonderland", "true").await;
}

/// The HAR entries' methods and URLs (what the recording holds), for messages.
fn requests(har: &Value) -> Vec<String> {
    har["log"]["entries"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| {
                    let url = e["request"]["url"].as_str().unwrap_or_default();
                    let short: String = url.chars().take(120).collect();
                    format!("{} {short}", e["request"]["method"].as_str().unwrap_or("?"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The response `Location` headers of the recording.
fn locations(har: &Value) -> Vec<String> {
    har["log"]["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["response"]["redirectURL"].as_str())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The query of the document the app landed on (the callback URL, before the app cleans it).
async fn landed_query(lab: &Lab) -> String {
    let url = lab
        .js(
            "return performance.getEntriesByType('navigation')[0].name;",
            vec![],
        )
        .await;
    url.as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn r9700_7_har_recorded_plain_challenge_login_is_graded_fail() {
    let (lab, weak) = weak_lab().await;
    let verifier = format!(
        "e2ePlainVerifier{:0>32}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    authorize_like_the_probe(
        &lab,
        &weak.issuer,
        &format!("response_type=code&code_challenge={verifier}&code_challenge_method=plain"),
    )
    .await;
    let landed = landed_query(&lab).await;
    let code = landed
        .split("code=")
        .nth(1)
        .and_then(|rest| rest.split('&').next())
        .unwrap_or_default()
        .to_owned();
    assert!(!code.is_empty(), "no code came back: {landed}");
    // Redeemed as the probe does, with the plain verifier, from the app's origin.
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", &code)
        .append_pair("redirect_uri", &lab.app)
        .append_pair("client_id", "flow-lab")
        .append_pair("code_verifier", &verifier)
        .finish();
    let status = lab
        .js(
            "return fetch(arguments[0], { method: 'POST', body: arguments[1], \
               headers: { 'content-type': 'application/x-www-form-urlencoded' } }) \
             .then(r => r.text().then(() => r.status));",
            vec![json!(format!("{}/token", weak.issuer)), json!(body)],
        )
        .await;
    assert_eq!(
        status,
        json!(200),
        "the weak provider took the plain verifier"
    );
    let events = lab.performance_log().await;
    let har = har_from_events(&lab, &events).await;
    let all = requests(&har);
    assert!(
        har.to_string().contains("code_challenge_method=plain"),
        "{all:#?}"
    );
    let path = save("chromium-weak-plain.har", &har);

    let summary = import(&lab, &path).await;
    let rows = finding_rows(&lab).await;
    assert_eq!(
        lab.count("#har-findings tr[data-row='R9700-7'][data-severity=fail]")
            .await,
        1,
        "{summary} {rows:?}"
    );
    let kinds = drawn_kinds(&lab).await;
    for wanted in [
        "RedirectToAuthorize",
        "RedirectBack",
        "TokenRequest",
        "TokenResponse",
    ] {
        assert!(kinds.iter().any(|k| k == wanted), "{wanted}: {kinds:?}");
    }
    assert!(
        !lab.text("body").await.contains(&verifier),
        "verifier shown"
    );
    tall_screenshot(&lab, "93-har-import-weak-plain").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn r9700_9_c19_har_recorded_implicit_login_is_graded_and_its_token_never_shown() {
    let (lab, weak) = weak_lab().await;
    authorize_like_the_probe(&lab, &weak.issuer, "response_type=token").await;
    let events = lab.performance_log().await;
    let har = har_from_events(&lab, &events).await;
    let all = requests(&har);
    let token = locations(&har)
        .iter()
        .find_map(|l| l.split("access_token=").nth(1).map(str::to_owned))
        .map(|rest| rest.split('&').next().unwrap_or_default().to_owned())
        .unwrap_or_default();
    assert!(
        token.len() > 8,
        "an access token landed in the URL: {all:#?}"
    );
    let path = save("chromium-weak-implicit.har", &har);

    let summary = import(&lab, &path).await;
    let rows = finding_rows(&lab).await;
    assert!(rows.iter().any(|r| r == "R9700-9"), "{summary} {rows:?}");
    assert!(
        rows.iter().any(|r| r == "C-17" || r == "C-19"),
        "{summary} {rows:?}"
    );
    assert_eq!(
        lab.count("#har-findings tr[data-row='R9700-9'][data-severity=fail]")
            .await,
        1
    );
    let kinds = drawn_kinds(&lab).await;
    for wanted in ["RedirectToAuthorize", "RedirectBack"] {
        assert!(kinds.iter().any(|k| k == wanted), "{wanted}: {kinds:?}");
    }
    let page = lab.text("body").await;
    assert!(!page.contains(&token), "the implicit token is shown");
    tall_screenshot(&lab, "94-har-import-weak-implicit").await;
    lab.finish().await;
}

/// The app never adds a header of its own; this script, installed with CDP
/// `Page.addScriptToEvaluateOnNewDocument`, makes every document's `fetch` add
/// `X-Requested-With` to requests to a token endpoint, as many SPA HTTP clients do.
const ADD_CUSTOM_HEADER: &str = r#"
(() => {
  const original = window.fetch;
  window.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : (input && input.url) || String(input);
    if (/\/token(\?|$)/.test(url)) {
      if (input instanceof Request) {
        const headers = new Headers(input.headers);
        headers.set('X-Requested-With', 'XMLHttpRequest');
        input = new Request(input, { headers });
      } else {
        init = Object.assign({}, init);
        const headers = new Headers(init.headers || {});
        headers.set('X-Requested-With', 'XMLHttpRequest');
        init.headers = headers;
      }
    }
    return original.call(this, input, init);
  };
})();
"#;

#[tokio::test(flavor = "multi_thread")]
async fn t26_har_recorded_token_request_with_a_custom_header_is_a_preflight_finding() {
    let lab = Lab::start_with_network_log(true).await;
    lab.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({"source": ADD_CUSTOM_HEADER}),
    )
    .await;
    // The token request is made by the callback's document, where the script is in place.
    lab.performance_log().await;
    lab.log_in_as_alice().await;
    let events = lab.performance_log().await;
    let har = har_from_events(&lab, &events).await;
    let all = requests(&har);
    let token_post = har["log"]["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| {
            e["request"]["method"] == "POST"
                && e["request"]["url"]
                    .as_str()
                    .is_some_and(|u| u.ends_with("/token"))
        })
        .cloned()
        .unwrap_or(Value::Null);
    assert!(
        token_post["request"]["headers"]
            .to_string()
            .to_ascii_lowercase()
            .contains("x-requested-with"),
        "the recorded token request carries the custom header: {all:#?}"
    );
    assert_eq!(token_post["response"]["status"], 200, "{all:#?}");
    assert_devtools_kept(&har, &["/token"]);
    let path = save("chromium-preflight-login.har", &har);

    let summary = import(&lab, &path).await;
    let rows = finding_rows(&lab).await;
    assert_eq!(
        lab.count("#har-findings tr[data-row='T-26'][data-severity=warn]")
            .await,
        1,
        "{summary} {rows:?}"
    );
    assert!(lab.text("#har-findings").await.contains("x-requested-with"));
    let kinds = drawn_kinds(&lab).await;
    for wanted in ["TokenRequest", "TokenResponse", "CheckIdTokenClaims"] {
        assert!(kinds.iter().any(|k| k == wanted), "{wanted}: {kinds:?}");
    }
    lab.finish().await;
}

// ---- Drag-and-drop (issue 16): the same file dropped on the import area gives the same
// ---- diagram and findings as the picker.

/// Drops a file with `name` and `text` on `#har-drop`: a synthetic DragEvent whose DataTransfer
/// carries a File built in the page.
async fn drop_file(lab: &Lab, name: &str, text: &str) {
    lab.click("#tab-import").await;
    lab.wait_css("#har-drop").await;
    lab.js(
        "const [name, text] = arguments;
         const data = new DataTransfer();
         data.items.add(new File([text], name, { type: 'application/json' }));
         const area = document.querySelector('#har-drop');
         for (const type of ['dragenter', 'dragover', 'drop']) {
           area.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
         }",
        vec![json!(name), json!(text)],
    )
    .await;
}

/// Waits for the summary (or fails with the error shown).
async fn wait_summary(lab: &Lab) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        if lab.count("#har-summary").await > 0 {
            return lab.text("#har-summary").await;
        }
        let error = lab.text("#har-error").await;
        assert!(error.is_empty(), "import refused: {error}");
        assert!(Instant::now() < deadline, "no import summary");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Waits for the error line and returns it.
async fn wait_error(lab: &Lab) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let error = lab.text("#har-error").await;
        if !error.is_empty() {
            return error;
        }
        assert!(Instant::now() < deadline, "no error shown");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

fn fixture(name: &str) -> (String, String) {
    let path = root().join("tests/fixtures/har").join(name);
    let text = std::fs::read_to_string(&path).expect("fixture");
    (path.to_string_lossy().into_owned(), text)
}

#[tokio::test(flavor = "multi_thread")]
async fn har_dropped_file_gives_the_same_diagram_and_findings_as_the_picker() {
    let lab = Lab::start().await;
    let (path, text) = fixture("chromium-weak-plain.har");
    // X-10: the worker is started under the page's strict policy (no blob:, no 'unsafe-eval').
    lab.watch_csp_violations().await;
    lab.client.goto(&lab.app).await.expect("app reloads");
    lab.wait_css("#login").await;
    let picked_summary = import(&lab, &path).await;
    let picked = (drawn_kinds(&lab).await, finding_rows(&lab).await);
    assert!(picked.1.iter().any(|r| r == "R9700-7"), "{picked:?}");
    // A fresh page, then the same file dropped.
    lab.client.goto(&lab.app).await.expect("app reloads");
    lab.wait_css("#login").await;
    drop_file(&lab, "chromium-weak-plain.har", &text).await;
    let dropped_summary = wait_summary(&lab).await;
    let dropped = (drawn_kinds(&lab).await, finding_rows(&lab).await);
    assert_eq!(dropped, picked);
    assert_eq!(dropped_summary, picked_summary);
    let violations = lab.csp_violations().await;
    assert!(violations.is_empty(), "CSP violations: {violations:?}");
    // Screenshots for the closing note: the import and its findings, the diagram, and the
    // authorization request in the inspector (the plain challenge masked like the verifier).
    lab.screenshot("95-har-dropped-weak-plain-findings").await;
    lab.js(
        "document.querySelector('#diagram g.row[data-kind=RedirectBack]').scrollIntoView();",
        vec![],
    )
    .await;
    lab.screenshot("96-har-dropped-weak-plain-diagram").await;
    lab.click("#diagram g.row[data-kind=RedirectToAuthorize]")
        .await;
    lab.js(
        "document.querySelector('#inspector').scrollIntoView();",
        vec![],
    )
    .await;
    lab.screenshot("97-har-dropped-weak-plain-inspector").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn har_hostile_files_are_refused_with_a_message_and_markup_stays_text() {
    let lab = Lab::start().await;
    // Over 50 MB: refused from its size, before reading.
    lab.click("#tab-import").await;
    lab.js(
        "const data = new DataTransfer();
         data.items.add(new File([new Uint8Array(50 * 1024 * 1024 + 1)], 'big.har'));
         const area = document.querySelector('#har-drop');
         area.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));",
        vec![],
    )
    .await;
    let error = wait_error(&lab).await;
    assert!(error.contains("over 50 MB are not read"), "{error}");

    // More entries than the cap.
    let entry = r#"{"request":{"method":"GET","url":"http://a/x.png"},"response":{"status":200}}"#;
    let many = format!(
        r#"{{"log":{{"entries":[{}]}}}}"#,
        vec![entry; 20_001].join(",")
    );
    drop_file(&lab, "many.har", &many).await;
    let deadline = Instant::now() + WAIT;
    while !lab
        .text("#har-error")
        .await
        .contains("more than 20000 entries")
    {
        assert!(
            Instant::now() < deadline,
            "{}",
            lab.text("#har-error").await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // Truncated JSON.
    let (_, text) = fixture("chromium-pkce-login.har");
    drop_file(&lab, "cut.har", &text[..text.len() / 2]).await;
    let deadline = Instant::now() + WAIT;
    while !lab
        .text("#har-error")
        .await
        .contains("This is not a HAR file")
    {
        assert!(
            Instant::now() < deadline,
            "{}",
            lab.text("#har-error").await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // Markup in every text field: shown as text, never as elements.
    let evil = "<img src=x id=injected onerror=window.__pwned=1>";
    let mut value: Value = serde_json::from_str(&text).unwrap();
    value["log"]["creator"]["name"] = json!(evil);
    for e in value["log"]["entries"].as_array_mut().unwrap() {
        for side in ["request", "response"] {
            if let Some(headers) = e[side]["headers"].as_array_mut() {
                headers.push(json!({"name": evil, "value": evil}));
            }
        }
        if let Some(text) = e["response"]["content"]["text"].as_str() {
            e["response"]["content"]["text"] = json!(text.replace("alice", evil));
        }
    }
    drop_file(&lab, evil, &value.to_string()).await;
    let summary = wait_summary(&lab).await;
    assert!(
        summary.contains(evil),
        "the file name is shown as text: {summary}"
    );
    assert_eq!(lab.count("#injected").await, 0);
    let pwned = lab.js("return window.__pwned === 1;", vec![]).await;
    assert_eq!(pwned, json!(false));
    lab.finish().await;
}
