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

async fn drawn_kinds(lab: &Lab) -> Vec<String> {
    lab.js(
        "return [...document.querySelectorAll('#diagram g.row[data-kind]')].map(g => g.dataset.kind);",
        vec![],
    )
    .await
    .as_array()
    .cloned()
    .unwrap_or_default()
    .into_iter()
    .filter_map(|v| v.as_str().map(str::to_owned))
    .collect()
}

async fn finding_rows(lab: &Lab) -> Vec<String> {
    lab.js(
        "return [...document.querySelectorAll('#har-findings tbody tr')].map(r => r.dataset.row);",
        vec![],
    )
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
    let path = save("chromium-pkce-login.har", &har);

    let summary = import(&lab, &path).await;
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
