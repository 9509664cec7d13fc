//! End to end: the sequence diagram of a live run, its failures, explain mode, the PKCE-off
//! live run and the exports (issue: the animated sequence diagram).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{root, Lab};
use serde_json::{json, Value};

/// (kind, channel, status) of every drawn row, in order.
async fn rows(lab: &Lab) -> Vec<(String, String, String)> {
    let value = lab
        .js(
            "return [...document.querySelectorAll('#diagram g.row')]\
               .map(g => [g.dataset.kind, g.dataset.channel, g.dataset.status]);",
            vec![],
        )
        .await;
    serde_json::from_value(value).unwrap_or_default()
}

fn row(kind: &str, channel: &str, status: &str) -> (String, String, String) {
    (kind.into(), channel.into(), status.into())
}

#[tokio::test(flavor = "multi_thread")]
async fn live_login_draws_every_step_in_order_with_its_channel() {
    let lab = Lab::start().await;
    lab.log_in_as_alice().await;
    assert_eq!(lab.wait_phase(&["logged-in"]).await, "logged-in");
    let expected = vec![
        row("Discover", "back", "ok"),
        row("GenerateVerifier", "local", "ok"),
        row("DeriveChallenge", "local", "ok"),
        row("GenerateState", "local", "ok"),
        row("SavePending", "local", "ok"),
        row("RedirectToAuthorize", "front", "ok"),
        row("UserAtProvider", "user", "ok"),
        row("RedirectBack", "front", "ok"),
        row("CheckCallback", "local", "ok"),
        row("TokenRequest", "back", "ok"),
        row("TokenResponse", "back", "ok"),
        row("FetchJwks", "back", "ok"),
        row("VerifyIdToken", "local", "ok"),
        row("CheckIdTokenClaims", "local", "ok"),
    ];
    assert_eq!(rows(&lab).await, expected);
    // The diagram resumed after the redirect: the steps before it are still drawn, and the
    // front-channel arrows pass through the address bar (a URL chip each).
    assert_eq!(lab.count("#diagram g.row.ch-front .url-chip").await, 2);
    // Selecting the token request opens the inspector with the masked verifier.
    lab.click("#diagram g.row[data-kind=TokenRequest]").await;
    let inspector = lab.text("#inspector").await;
    assert!(inspector.contains("code_verifier"), "{inspector}");
    assert!(inspector.contains("Back channel"), "{inspector}");
    assert!(inspector.contains("HTTP 200"), "{inspector}");
    lab.screenshot("10-diagram-live").await;
    // Replay: step back with the keyboard, then the position shows one step fewer.
    lab.click("#replay-back").await;
    assert_eq!(lab.text("#replay-position").await, "13 / 14");
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn c06_denied_login_is_a_red_check_step_with_the_reason() {
    let lab = Lab::start().await;
    lab.sign_in("alice", "wonderland").await;
    lab.click("#deny").await;
    lab.wait_phase(&["failed"]).await;
    let failed = lab
        .text("#diagram g.row[data-kind=CheckCallback][data-status=failed]")
        .await;
    assert!(
        failed.contains('✕') && failed.contains("denied"),
        "{failed}"
    );
    lab.screenshot("11-diagram-denied").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn c03_forged_and_c20_replayed_callbacks_are_red_runs_of_their_own() {
    let lab = Lab::start().await;
    let callback = lab.log_in_as_alice().await;
    lab.wait_phase(&["logged-in"]).await;
    lab.client
        .goto(&callback)
        .await
        .expect("replay the callback");
    lab.wait_phase(&["failed"]).await;
    assert_eq!(
        rows(&lab).await,
        vec![
            row("RedirectBack", "front", "ok"),
            row("CheckCallback", "local", "failed")
        ]
    );
    let reason = lab.text("#diagram g.row[data-status=failed]").await;
    assert!(reason.contains("already used"), "{reason}");
    lab.screenshot("12-diagram-replayed").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn explain_mode_pkce_switch_swaps_verifier_for_secret_on_the_token_request() {
    let lab = Lab::start().await;
    lab.click("#tab-explain").await;
    lab.click("#diagram g.row[data-kind=TokenRequest]").await;
    let with_pkce = lab.text("#inspector .params-table").await;
    assert!(with_pkce.contains("code_verifier") && !with_pkce.contains("client_secret"));
    lab.click("#explain-pkce").await;
    lab.click("#diagram g.row[data-kind=TokenRequest]").await;
    let without = lab.text("#inspector .params-table").await;
    assert!(without.contains("client_secret") && !without.contains("code_verifier"));
    assert!(
        lab.count("#diagram g.row.differs").await >= 2,
        "differences highlighted"
    );
    assert_eq!(
        lab.count("#diagram g.row[data-kind=GenerateVerifier]")
            .await,
        0
    );
    lab.screenshot("13-explain-confidential").await;
    lab.click("#explain-implicit").await;
    let back = lab.text("#diagram g.row[data-kind=RedirectBack]").await;
    assert!(back.contains("access_token"), "{back}");
    assert_eq!(lab.count("#diagram g.row[data-kind=TokenRequest]").await, 0);
    lab.screenshot("14-explain-implicit").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pkce_off_live_run_redeems_with_the_demo_secret_and_says_it_is_exposed() {
    let lab = Lab::start().await;
    lab.click("#client-confidential").await;
    assert_eq!(
        lab.js("return document.querySelector('#client-id').value;", vec![])
            .await,
        json!("flow-lab-confidential")
    );
    lab.sign_in("alice", "wonderland").await;
    lab.click("#allow").await;
    assert_eq!(
        lab.wait_phase(&["awaiting-secret", "failed"]).await,
        "awaiting-secret"
    );
    let prompt = lab.text("#secret-prompt").await;
    assert!(prompt.contains("not a secret"), "{prompt}");
    lab.click("#secret-ack").await;
    lab.click("#redeem").await;
    assert_eq!(lab.wait_phase(&["logged-in", "failed"]).await, "logged-in");
    assert_eq!(
        lab.count("#diagram g.row[data-kind=GenerateVerifier]")
            .await,
        0
    );
    lab.click("#diagram g.row[data-kind=TokenRequest]").await;
    let inspector = lab.text("#inspector").await;
    assert!(inspector.contains("client_secret"), "{inspector}");
    assert!(
        !inspector.contains("demo-secret-not-secret"),
        "secret shown unmasked"
    );
    // The secret was used once and stored nowhere.
    let storage = lab
        .js(
            "return JSON.stringify(Object.assign({}, sessionStorage, localStorage));",
            vec![],
        )
        .await;
    assert!(!storage.to_string().contains("demo-secret"), "{storage}");
    lab.screenshot("15-pkce-off-live").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_produce_an_svg_that_opens_as_an_image_mermaid_and_a_har() {
    let lab = Lab::start().await;
    lab.log_in_as_alice().await;
    lab.wait_phase(&["logged-in"]).await;
    let export = |button: &'static str| {
        let lab = &lab;
        async move {
            lab.click(button).await;
            lab.js(
                "return document.querySelector('#export-output').value;",
                vec![],
            )
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
        }
    };
    let svg = export("#export-svg").await;
    assert!(
        svg.starts_with("<?xml") && svg.contains("<svg"),
        "{}",
        &svg[..svg.len().min(200)]
    );
    let mermaid = export("#export-mermaid").await;
    assert!(mermaid.starts_with("sequenceDiagram"), "{mermaid}");
    assert!(mermaid.contains("C->>AS: Exchange the code"), "{mermaid}");
    let har: Value = serde_json::from_str(&export("#export-har").await).expect("HAR is JSON");
    let entries = har["log"]["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        entries.iter().any(|e| e["request"]["method"] == "POST"),
        "{har}"
    );
    lab.click("#tokens button.reveal").await;
    let token = lab.text("#access-token").await;
    assert!(
        token.len() >= 20 && !token.contains('…'),
        "revealed token: {token}"
    );
    assert!(
        !har.to_string().contains(&token),
        "the access token leaked into the HAR"
    );
    assert!(!svg.contains(&token) && !mermaid.contains(&token));
    let dir = root().join("target/e2e-screenshots");
    let _ = std::fs::create_dir_all(&dir);
    std::fs::write(dir.join("diagram-export.svg"), &svg).expect("write the SVG");
    // Open the exported file as an image, outside the app's CSP (which allows no blob: images).
    lab.client.goto("about:blank").await.expect("a blank page");
    let width = lab
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             const img = new Image();\
             img.onload = () => done(img.naturalWidth);\
             img.onerror = () => done(-1);\
             img.src = URL.createObjectURL(new Blob([arguments[0]], {type: 'image/svg+xml'}));",
            vec![json!(svg)],
        )
        .await
        .expect("image decodes");
    assert!(
        width.as_f64().unwrap_or(-1.0) > 0.0,
        "the SVG does not open as an image"
    );
    lab.finish().await;
}
