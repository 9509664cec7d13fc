//! End to end against a third independent real provider (issue 15): Glewlwyd 2.7.5 from
//! Debian's packages (`provider/glewlwyd/`), written in C, with a path issuer, through its own
//! login and "Continue" pages in headless Chromium. Discovery, PKCE login with RFC 9207 `iss`,
//! the ID token verified, UserInfo, a refresh that rotates, RFC 7009 revocation refused to a
//! public client (said plainly), RP-initiated logout and the next login as the second user.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{Lab, WAIT};
use serde_json::Value;
use std::time::{Duration, Instant};

const SCOPE: &str = "openid profile email offline_access";

/// Signs in on Glewlwyd's login page, then presses its "Continue" button (shown on every
/// authorization), and waits until the app has handled the callback.
async fn sign_in_at_glewlwyd(lab: &Lab, user: &str, password: &str) {
    lab.wait_css("#username")
        .await
        .send_keys(user)
        .await
        .expect("type user");
    lab.wait_css("#password")
        .await
        .send_keys(password)
        .await
        .expect("type password");
    lab.click("#loginbut").await;
    let deadline = Instant::now() + WAIT * 2;
    loop {
        assert!(Instant::now() < deadline, "stuck at {}", lab.url().await);
        // Glewlwyd's own page: press "Continue" once it is there. The app: wait for the phase.
        let here = lab
            .try_js(
                "const lab = document.querySelector('#lab'); \
                 if (lab) return ['logged-in', 'failed'].includes(lab.dataset.phase) ? 'done' : 'app'; \
                 const go = [...document.querySelectorAll('button')] \
                   .find(b => b.textContent.trim() === 'Continue' && !b.disabled); \
                 if (go && !window.__e2eContinued) { window.__e2eContinued = true; go.click(); } \
                 return 'provider';",
            )
            .await;
        if here.as_ref().and_then(Value::as_str) == Some("done") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pa_pe_glewlwyd_login_with_iss_refresh_rotation_revocation_refused_and_logout() {
    let lab = Lab::start().await;
    let glewlwyd = lab.start_glewlwyd().await;
    lab.configure_provider(&glewlwyd.issuer, &lab.api, SCOPE)
        .await;

    // Discovery by a path issuer, then the PKCE login through Glewlwyd's own pages.
    lab.click("#login").await;
    lab.wait_css("#username").await;
    sign_in_at_glewlwyd(&lab, "alice", "alice-pass-123").await;
    assert_eq!(
        lab.wait_phase(&["logged-in", "failed"]).await,
        "logged-in",
        "{:?}",
        lab.failed_steps().await
    );
    assert_eq!(lab.failed_steps().await, Vec::<String>::new());
    // RFC 9207: Glewlwyd sends `iss` on the callback (not advertised in its metadata).
    let landed = lab.landed_url().await;
    assert!(
        landed.contains("code=") && landed.contains("state=") && landed.contains("iss="),
        "{landed}"
    );
    let discover = lab.step_texts("Discover").await;
    assert_eq!(discover.len(), 1, "{discover:?}");
    assert!(
        discover[0].contains(&format!(
            "GET {}/.well-known/openid-configuration",
            glewlwyd.issuer
        )),
        "{}",
        discover[0]
    );
    let token = &lab.step_texts("TokenRequest").await[0];
    assert!(
        token.contains(&format!("POST {}/token", glewlwyd.issuer))
            && token.contains("code_verifier"),
        "{token}"
    );
    let verify = &lab.step_texts("VerifyIdToken").await[0];
    assert!(verify.contains("RS256"), "{verify}");
    let claims = &lab.step_texts("CheckIdTokenClaims").await[0];
    assert!(
        claims.contains(&format!("{} ✓", glewlwyd.issuer)),
        "iss checked: {claims}"
    );
    assert!(
        claims.contains("nonce") && claims.contains("matches ✓"),
        "{claims}"
    );
    assert!(lab.text("#id-aud").await.contains("flow-lab"));
    assert!(lab.text("#token-issuer").await.contains(&glewlwyd.issuer));

    // UserInfo: Glewlwyd's profile claims, same subject.
    lab.click("#call-userinfo").await;
    let userinfo = lab.text("#userinfo-result").await;
    assert!(
        userinfo.contains("Alice Liddell") && userinfo.contains("alice@example.test"),
        "{userinfo}"
    );

    // Refresh rotates (refresh-token-one-use: always): a new refresh token, the old one shown
    // as replaced.
    let first_refresh = lab.revealed("refresh-token").await;
    lab.click("#refresh").await;
    lab.wait_css("#timeline > li[data-kind=RefreshResponse]")
        .await;
    assert_eq!(lab.wait_phase(&["logged-in", "failed"]).await, "logged-in");
    assert_eq!(lab.failed_steps().await, Vec::<String>::new());
    assert_ne!(
        lab.revealed("refresh-token").await,
        first_refresh,
        "rotated"
    );
    assert_eq!(lab.count("#replaced-refresh-token").await, 1);

    // RFC 7009 from a public client: Glewlwyd answers 401 (it wants a Bearer token instead);
    // the app says the revocation failed and the token stays valid.
    lab.click("#revoke-refresh").await;
    lab.wait_css("#timeline > li[data-kind=Revoke]").await;
    let phase = lab.wait_phase(&["logged-in", "failed", "idle"]).await;
    let revoke = &lab.step_texts("Revoke").await[0];
    assert!(revoke.contains("answered HTTP 401"), "{phase}: {revoke}");
    let problem = lab.problem().await;
    assert!(
        problem.what.contains("answered HTTP 401") && problem.todo.contains("may still be valid"),
        "{problem:?}"
    );
    lab.screenshot("g01-glewlwyd-revocation-refused").await;

    // RP-initiated logout: Glewlwyd asks for confirmation on its own page ("End session",
    // button "Logout") and ends the session. It sends the browser back to
    // `post_logout_redirect_uri` only when the request carried a `state` (measured with curl:
    // no `post_redirect_to` in its own redirect otherwise), which the app does not send
    // (optional in RP-Initiated Logout 1.0 §2): the user stays on "Session closed".
    lab.click("#logout-provider").await;
    let deadline = Instant::now() + WAIT * 2;
    let mut seen = Value::Null;
    loop {
        if Instant::now() > deadline {
            lab.screenshot("g99-glewlwyd-stuck").await;
            panic!("stuck at {}: {seen}", lab.url().await);
        }
        seen = lab
            .try_js(
                "if (document.querySelector('#lab')) return 'app'; \
                 if (document.body.innerText.includes('You are disconnected')) return 'closed'; \
                 const buttons = [...document.querySelectorAll('button')]; \
                 const ok = buttons.find(b => b.textContent.trim() === 'Logout' && !b.disabled); \
                 /* Click once the page has shown its question for a second: it loads the \
                    session's clients first, and a click before that can leave it blank. */ \
                 if (ok && document.body.innerText.includes('End session')) { \
                   window.__e2eSeenAt = window.__e2eSeenAt || Date.now(); \
                   if (!window.__e2eLoggedOut && Date.now() - window.__e2eSeenAt > 1000) { \
                     window.__e2eLoggedOut = true; ok.click(); } } \
                 return buttons.map(b => b.textContent.trim()).join('|');",
            )
            .await
            .unwrap_or(Value::Null);
        if seen.as_str() == Some("closed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let closed_at = lab.url().await;
    assert!(
        closed_at.contains("prompt=end_session") && !closed_at.contains("post_redirect_to"),
        "{closed_at}"
    );
    lab.screenshot("g02-glewlwyd-session-closed").await;
    // The user comes back to the lab by hand: it says the provider's session has ended.
    lab.client.goto(&lab.app).await.expect("back to the app");
    lab.wait_css("#login").await;
    let end = &lab.step_texts("EndSession").await[0];
    assert!(
        end.contains(&format!("{}/end_session", glewlwyd.issuer)) && end.contains("id_token_hint"),
        "{end}"
    );
    assert!(lab
        .text("#timeline > li:last-child")
        .await
        .contains("its session has ended"));
    assert_eq!(lab.count("#tokens").await, 0);

    // The next login asks for a password again; the second user signs in.
    lab.click("#login").await;
    lab.wait_css("#username").await;
    sign_in_at_glewlwyd(&lab, "bob", "bob-pass-123").await;
    assert_eq!(lab.wait_phase(&["logged-in", "failed"]).await, "logged-in");
    lab.click("#call-userinfo").await;
    assert!(lab.text("#userinfo-result").await.contains("Bob Builder"));
    lab.finish().await;
}
