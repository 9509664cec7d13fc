//! End to end: live login against the bundled provider in headless Chromium (issue: live login).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::Lab;

#[tokio::test(flavor = "multi_thread")]
async fn happy_path_alice_gets_tokens_and_her_profile() {
    let lab = Lab::start().await;
    let callback = lab.log_in_as_alice().await;
    assert!(callback.contains("code="), "landed on {callback}");
    assert_eq!(lab.wait_phase(&["logged-in"]).await, "logged-in");
    // C-25 / BBA §7.2.1: code and state are gone from the address bar.
    let url = lab.url().await;
    assert!(!url.contains("code=") && !url.contains("state="), "{url}");
    // S-2: no verifier or state left in sessionStorage.
    let session = lab.session_storage().await;
    assert!(!session.contains("oauth-flow-lab.pending"), "{session}");
    assert!(!session.contains("verifier\":\""), "{session}");
    // T-1: exactly one token request.
    assert_eq!(lab.token_requests().await, 1);
    assert!(lab.text("#access-token").await.contains('…'), "masked");
    // RFC 6749 §3.3: the bundled provider grants each scope asked for, nothing more.
    let granted = lab.count("#scope-trace li[data-mark=granted]").await;
    assert!(granted >= 2, "{granted} scopes marked granted");
    assert_eq!(
        lab.count("#scope-trace li:not([data-mark=granted])").await,
        0
    );
    assert_eq!(lab.count("#scope-note").await, 0);
    // RFC 9068: its access tokens are opaque by default, so nothing is decoded.
    assert_eq!(lab.count("#access-jwt").await, 0);
    lab.click("#call-profile").await;
    let profile = lab.text("#api-result").await;
    assert!(profile.contains("Alice Liddell"), "{profile}");
    // The timeline reads like the flow, in order.
    let kinds = lab
        .js(
            "return [...document.querySelectorAll('#timeline > li')].map(li => li.dataset.kind);",
            vec![],
        )
        .await;
    let kinds: Vec<String> = serde_json::from_value(kinds).unwrap_or_default();
    let expected = [
        "Discover",
        "GenerateVerifier",
        "DeriveChallenge",
        "GenerateState",
        "SavePending",
        "RedirectToAuthorize",
        "UserAtProvider",
        "RedirectBack",
        "CheckCallback",
        "TokenRequest",
        "ServerCheck",
        "FetchJwks",
        "TokenResponse",
        "VerifyIdToken",
        "CheckIdTokenClaims",
        "ResourceRequest",
        "ServerCheck",
        "ResourceResponse",
    ];
    assert_eq!(kinds, expected);
    assert_eq!(lab.count("#timeline > li[data-status=failed]").await, 0);
    lab.screenshot("01-happy-path").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn x08_token_panel_reveal_holds_while_the_panel_is_drawn_again() {
    let lab = Lab::start().await;
    lab.log_in_as_alice().await;
    assert_eq!(lab.wait_phase(&["logged-in"]).await, "logged-in");
    // One press of Reveal, no retry: the value shows in clear.
    lab.click("#access-token + button.reveal").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let access = loop {
        let text = lab.text("#access-token").await;
        if !text.contains('…') {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "Reveal did not show it: {text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    // Every change of the session draws the token panel again (here: the API call's phase
    // and answer); the Reveal holds through those redraws.
    lab.click("#call-profile").await;
    let profile = lab.text("#api-result").await;
    assert!(profile.contains("Alice Liddell"), "{profile}");
    assert_eq!(
        lab.text("#access-token").await,
        access,
        "the Reveal was reset"
    );
    assert_eq!(lab.text("#access-token + button.reveal").await, "Hide");
    // Hide masks it again.
    lab.click("#access-token + button.reveal").await;
    assert!(
        lab.text("#access-token").await.contains('…'),
        "masked again"
    );
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn c06_deny_at_consent_shows_access_denied_and_requests_no_token() {
    let lab = Lab::start().await;
    lab.sign_in("alice", "wonderland").await;
    lab.click("#deny").await;
    assert_eq!(lab.wait_phase(&["failed", "logged-in"]).await, "failed");
    let what = lab.text("#problem-what").await;
    assert!(
        what.contains("access_denied") || what.contains("denied"),
        "{what}"
    );
    assert_eq!(lab.token_requests().await, 0);
    assert_eq!(lab.count("#timeline > li[data-kind=TokenRequest]").await, 0);
    assert_eq!(
        lab.count("#timeline > li[data-kind=CheckCallback][data-status=failed]")
            .await,
        1
    );
    lab.screenshot("02-deny").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_keeps_the_user_at_the_provider() {
    let lab = Lab::start().await;
    lab.sign_in("alice", "not-her-password").await;
    let error = lab.text("#login-error").await;
    assert!(error.contains("Wrong"), "{error}");
    let url = lab.url().await;
    assert!(url.starts_with(&lab.issuer), "left the provider: {url}");
    lab.screenshot("03-wrong-password").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn c20_reopened_callback_url_is_already_used_and_not_redeemed_again() {
    let lab = Lab::start().await;
    let callback = lab.log_in_as_alice().await;
    assert_eq!(lab.wait_phase(&["logged-in"]).await, "logged-in");
    lab.client
        .goto(&callback)
        .await
        .expect("reopen the callback");
    assert_eq!(lab.wait_phase(&["failed"]).await, "failed");
    let what = lab.text("#problem-what").await;
    assert!(what.contains("already used or has expired"), "{what}");
    assert_eq!(lab.token_requests().await, 0, "no second token request");
    lab.screenshot("04-replayed-callback").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn c03_forged_state_is_rejected_before_any_token_request() {
    let lab = Lab::start().await;
    let forged = format!(
        "{}?code=attacker-code&state=forged-state-value&iss={}",
        lab.app,
        lab.issuer.replace(':', "%3A").replace('/', "%2F")
    );
    lab.client
        .goto(&forged)
        .await
        .expect("open forged callback");
    assert_eq!(lab.wait_phase(&["failed"]).await, "failed");
    let what = lab.text("#problem-what").await;
    assert!(what.contains("already used or has expired"), "{what}");
    assert_eq!(lab.token_requests().await, 0);
    let url = lab.url().await;
    assert!(!url.contains("code="), "forged code left in the URL: {url}");
    lab.screenshot("05-forged-state").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rfc6750_call_needing_an_ungranted_scope_shows_403_plainly() {
    let lab = Lab::start().await;
    lab.configure("openid read:profile").await;
    lab.log_in_as_alice().await;
    assert_eq!(lab.wait_phase(&["logged-in"]).await, "logged-in");
    lab.click("#call-files").await;
    let what = lab.text("#problem-what").await;
    assert!(what.contains("read:files"), "{what}");
    // RFC 6750 §3.1: the token panel names the scope the 403 asked for that the grant lacks.
    let missing = lab.text("#scope-missing").await;
    assert!(missing.contains("read:files"), "{missing}");
    assert_eq!(
        lab.count("#timeline > li[data-kind=ResourceResponse][data-status=failed]")
            .await,
        1
    );
    lab.screenshot("06-insufficient-scope").await;
    lab.finish().await;
}

/// Issue 12: after a real login the callback page's first screen is the run, not the form. The
/// settings are folded to one line naming the provider and the client, none of the form's
/// fields is built until the user opens it, the token panel starts inside the window (the
/// bench's 1280 × 900), and opening shows the saved values; folding again keeps the fields.
#[tokio::test(flavor = "multi_thread")]
async fn p12_the_callback_page_folds_the_settings_and_shows_the_tokens_in_the_first_screen() {
    let lab = Lab::start().await;
    lab.log_in_as_alice().await;
    assert_eq!(lab.wait_phase(&["logged-in"]).await, "logged-in");
    lab.wait_css("#access-token").await;
    // Measured from the top of the page (the diagram's replay may have scrolled the window to
    // its current step since).
    let (top, height) = {
        let v = lab
            .js(
                "return [document.querySelector('#tokens').getBoundingClientRect().top + scrollY, \
                 innerHeight];",
                vec![],
            )
            .await;
        (v[0].as_f64().unwrap(), v[1].as_f64().unwrap())
    };
    assert!(
        top < height,
        "the token panel starts at {top} px, below the first screen ({height} px)"
    );
    lab.js("scrollTo(0, 0);", vec![]).await;
    lab.screenshot("p12-01-callback-page-settings-folded").await;
    assert_eq!(lab.settings_open().await, Some(false), "folded on landing");
    let summary = lab.text("#settings-summary").await;
    assert!(
        summary.contains(&lab.issuer) && summary.contains("client flow-lab"),
        "the folded line names the provider and the client: {summary}"
    );
    // Not built at all until opened: no field, no select, no checkbox of the form.
    assert_eq!(lab.count("#issuer").await, 0);
    assert_eq!(
        lab.count("#settings-panel input, #settings-panel select")
            .await,
        0
    );
    lab.open_settings().await;
    assert_eq!(lab.settings_open().await, Some(true));
    let value = |id: &'static str| {
        let lab = &lab;
        async move {
            lab.js(
                "return document.querySelector(arguments[0]).value;",
                vec![serde_json::json!(id)],
            )
            .await
        }
    };
    assert_eq!(value("#issuer").await, serde_json::json!(lab.issuer));
    assert_eq!(value("#client-id").await, serde_json::json!("flow-lab"));
    lab.js("scrollTo(0, 0);", vec![]).await;
    lab.screenshot("p12-02-callback-page-settings-opened").await;
    // Folding again hides the same fields, never drops them: the element a user typed in is
    // the one shown on reopening, its text intact.
    lab.js(
        "const s = document.querySelector('#scope'); s.dataset.kept = 'yes'; \
         s.value = 'openid profile email';",
        vec![],
    )
    .await;
    lab.click("#settings-panel > summary").await;
    assert_eq!(lab.settings_open().await, Some(false));
    assert_eq!(lab.count("#issuer").await, 1, "kept while folded");
    lab.open_settings().await;
    assert_eq!(
        lab.js(
            "const s = document.querySelector('#scope'); return [s.dataset.kept, s.value];",
            vec![]
        )
        .await,
        serde_json::json!(["yes", "openid profile email"])
    );
    lab.finish().await;
}

/// Issue 12: a first visit (no run, no answer from a provider) shows the settings open, with
/// their fields: filling them in is the first thing a new user does.
#[tokio::test(flavor = "multi_thread")]
async fn p12_a_fresh_visit_shows_the_settings_open_to_fill_in() {
    let lab = Lab::start().await;
    assert_eq!(lab.settings_open().await, Some(true));
    let issuer = lab
        .js("return document.querySelector('#issuer').value;", vec![])
        .await;
    assert_eq!(issuer, serde_json::json!(lab.issuer));
    lab.screenshot("p12-03-fresh-visit-settings-open").await;
    lab.finish().await;
}

/// Issue 12: the callback page builds the diagram and the step list once the tokens are drawn,
/// not before: the diagram's rows and their SVG text, built and laid out again as each step
/// arrived, were most of its own time, and the list (about 270 elements) sits below the first
/// screen. Both then hold every step of the run, and the diagram's newest step arrives. A
/// script installed before the page's first byte notes when the first row and item appear.
/// Fails when either is drawn with the page.
#[tokio::test(flavor = "multi_thread")]
async fn p12_the_callback_page_draws_the_diagram_and_the_list_once_the_tokens_are_drawn() {
    let lab = Lab::start().await;
    lab.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        serde_json::json!({ "source": "new MutationObserver((_, seen) => {\
            if (!window.__listedAt && document.querySelector('#timeline > li')) {\
                window.__listedAt = performance.now(); }\
            if (!window.__drawnAt && document.querySelector('#diagram g.row')) {\
                window.__drawnAt = performance.now(); }\
            if (window.__listedAt && window.__drawnAt) seen.disconnect();\
        }).observe(document, { childList: true, subtree: true });" }),
    )
    .await;
    lab.client.goto(&lab.app).await.expect("app");
    let landed = lab.login_through_provider("alice", "wonderland").await;
    assert!(landed.contains("code="), "{landed}");
    assert_eq!(lab.wait_phase(&["logged-in"]).await, "logged-in");
    let seen = lab
        .js(
            "const tokens = performance.getEntriesByName('oauth-flow-lab:tokens')[0];\
             return [tokens ? tokens.startTime : null, window.__listedAt ?? null,\
                     window.__drawnAt ?? null,\
                     document.querySelectorAll('#timeline > li').length,\
                     document.querySelectorAll('#diagram g.row').length,\
                     document.querySelectorAll('#diagram g.row.newest').length];",
            vec![],
        )
        .await;
    let tokens = seen[0]
        .as_f64()
        .expect("the tokens mark is set on the callback page");
    let listed = seen[1].as_f64().expect("the step list was drawn");
    let drawn = seen[2].as_f64().expect("the diagram was drawn");
    assert!(
        drawn >= tokens,
        "the diagram was drawn at {drawn} ms, before the tokens at {tokens} ms"
    );
    assert!(
        listed >= tokens,
        "the list was drawn at {listed} ms, before the tokens at {tokens} ms"
    );
    assert!(seen[3].as_u64() > Some(10), "every step is listed: {seen}");
    assert_eq!(
        seen[3], seen[4],
        "the list and the diagram hold the same steps: {seen}"
    );
    assert_eq!(seen[5], 1, "the diagram's newest step arrives: {seen}");
    lab.finish().await;
}
