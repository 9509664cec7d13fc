//! End to end, the teaching text as a fetched data file (issue 14, "Size, restated"): the notes,
//! pitfalls and hints live in `teaching.txt`, which the page fetches after its first paint. The
//! login's callback, the token request and the tokens' display never wait for it: with the file
//! blocked in the browser (CDP `Network.setBlockedURLs`) the login completes, the tokens show,
//! and one line says the notes could not be loaded and what to do; once the file can be fetched
//! the notes read in full. All of it under the page's strict CSP, without a violation.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::Lab;
use serde_json::json;

/// The catalog's state on the page (`data-notes` on `#lab`).
async fn notes_state(lab: &Lab) -> String {
    lab.js(
        "return document.querySelector('#lab').dataset.notes || '';",
        vec![],
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// Waits until the catalog is ready or failed, and returns which.
async fn notes_settled(lab: &Lab) -> String {
    for _ in 0..100 {
        let state = notes_state(lab).await;
        if state == "ready" || state == "failed" {
            return state;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "the notes neither loaded nor failed: {}",
        notes_state(lab).await
    );
}

/// The notes of every step in the timeline list, as shown.
async fn shown_notes(lab: &Lab) -> Vec<String> {
    let notes = lab
        .js(
            "return [...document.querySelectorAll('#timeline .note')]\
               .map(n => n.textContent);",
            vec![],
        )
        .await;
    notes
        .as_array()
        .map(|a| {
            a.iter()
                .map(|n| n.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn notes_blocked_login_still_completes_tokens_show_and_the_notes_arrive_when_served() {
    let lab = Lab::start().await;
    lab.watch_csp_violations().await;
    lab.cdp("Network.enable", json!({})).await;
    lab.cdp(
        "Network.setBlockedURLs",
        json!({ "urls": ["*teaching.txt*"] }),
    )
    .await;
    lab.client.goto(&lab.app).await.expect("app");
    let landed = lab.login_through_provider("alice", "wonderland").await;
    assert!(landed.contains("code="), "{landed}");
    assert_eq!(lab.wait_phase(&["logged-in", "failed"]).await, "logged-in");
    let token = lab.text("#access-token").await;
    assert!(
        token.contains('…'),
        "the masked access token shows: {token:?}"
    );
    assert_eq!(notes_settled(&lab).await, "failed");
    let status = lab.text("#notes-status").await;
    assert!(
        status.contains("could not be loaded")
            && status.contains("reload")
            && status.contains("teaching.txt"),
        "{status}"
    );
    let notes = shown_notes(&lab).await;
    assert!(!notes.is_empty(), "the timeline lists its steps");
    assert!(
        notes.iter().any(|n| n.contains("[note not loaded]")),
        "{notes:?}"
    );
    // An export made now says, beside its button, that the notes are missing from it.
    lab.export("#export-mermaid").await;
    let said = lab.text(".exports .hint").await;
    assert!(
        said.contains("could not be loaded") && said.contains("export again"),
        "the export says its notes are missing and what to do: {said:?}"
    );

    // The file served again: the same run (restored from this tab) reads in full.
    lab.cdp("Network.setBlockedURLs", json!({ "urls": [] }))
        .await;
    lab.client.goto(&lab.app).await.expect("app again");
    lab.wait_css("#login").await;
    assert_eq!(notes_settled(&lab).await, "ready");
    assert_eq!(lab.count("#notes-status").await, 0, "no failure line");
    let notes = shown_notes(&lab).await;
    assert!(
        notes
            .iter()
            .all(|n| !n.contains('\u{E000}') && !n.contains("[note not loaded]")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("A direct fetch from the page to the token endpoint")),
        "the token request's note, from teaching.txt: {notes:?}"
    );
    let exported = lab.export("#export-mermaid").await;
    assert!(
        exported.contains("Pitfall: an access token is not identity")
            && !exported.contains("[note not loaded]")
            && !exported.contains('\u{E000}'),
        "the export carries the token answer's callout from teaching.txt: {exported}"
    );
    assert_eq!(
        lab.text(".exports .hint").await,
        "",
        "no missing-notes line"
    );
    assert_eq!(
        lab.csp_violations().await,
        Vec::<String>::new(),
        "fetching teaching.txt is same-origin, allowed by connect-src 'self'"
    );
}

#[tokio::test]
async fn notes_file_is_fetched_once_after_the_page_with_a_version_query() {
    let lab = Lab::start().await;
    lab.watch_csp_violations().await;
    lab.client.goto(&lab.app).await.expect("app");
    lab.wait_css("#login").await;
    assert_eq!(notes_settled(&lab).await, "ready");
    let fetched = lab
        .js(
            "return performance.getEntriesByType('resource')\
               .map(e => e.name).filter(n => n.includes('teaching.txt'));",
            vec![],
        )
        .await;
    let fetched: Vec<String> = serde_json::from_value(fetched).unwrap();
    assert_eq!(fetched.len(), 1, "{fetched:?}");
    assert!(
        fetched[0].starts_with(&lab.app) || fetched[0].contains("/teaching.txt?v="),
        "same origin, versioned: {fetched:?}"
    );
    assert!(fetched[0].contains("teaching.txt?v="), "{fetched:?}");
    // The preset's setup steps come from the file too.
    let setup = lab
        .js(
            "return document.querySelector('#preset-hints').textContent;",
            vec![],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        !setup.contains('\u{E000}') && setup.contains("Sign in as alice / wonderland"),
        "{setup}"
    );
    assert_eq!(lab.csp_violations().await, Vec::<String>::new());
}

/// Issue 12: on the callback page the notes file is fetched once the callback's work is done, so
/// its arrival (which redraws every note) never lands between the token answer and the tokens
/// shown. Fails when the fetch starts right after the first render, as it did.
#[tokio::test]
async fn p12_the_callback_page_fetches_the_notes_after_the_tokens_are_shown() {
    let lab = Lab::start().await;
    lab.client.goto(&lab.app).await.expect("app");
    let landed = lab.login_through_provider("alice", "wonderland").await;
    assert!(landed.contains("code="), "{landed}");
    assert_eq!(lab.wait_phase(&["logged-in", "failed"]).await, "logged-in");
    assert_eq!(notes_settled(&lab).await, "ready");
    let times = lab
        .js(
            "const tokens = performance.getEntriesByName('oauth-flow-lab:tokens')[0];\
             const notes = performance.getEntriesByType('resource')\
               .filter(e => e.name.includes('teaching.txt'));\
             return [tokens ? tokens.startTime : null, notes.map(e => e.startTime)];",
            vec![],
        )
        .await;
    let tokens = times[0]
        .as_f64()
        .expect("the tokens mark is set on the callback page");
    let fetched: Vec<f64> = serde_json::from_value(times[1].clone()).unwrap();
    assert_eq!(
        fetched.len(),
        1,
        "fetched once on the callback page: {times}"
    );
    assert!(
        fetched[0] >= tokens,
        "the notes were fetched at {} ms, before the tokens were shown at {tokens} ms",
        fetched[0]
    );
}
