//! End to end against a second, independent real provider (issue 15): LemonLDAP::NG 2.16 from
//! Debian's packages (`provider/lemonldap-ng/`), through its own login page in headless
//! Chromium. Discovery, PKCE login, the ID token verified, UserInfo, a refresh that does NOT
//! rotate, no revocation endpoint (said plainly), RP-initiated logout back to the app, and the
//! next login as the second user. The provider checkup runs to the end here too: this server
//! answers `prompt=none` with its own login page, so the probes run in a popup that times out,
//! the lines are graded unknown with the lab still on screen, and the interactive re-run grades
//! them (issue 15 part 1).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{Lab, WAIT};
use serde_json::Value;
use std::time::{Duration, Instant};

const SCOPE: &str = "openid profile email";
/// With the demo API's two scopes.
const API_SCOPE: &str = "openid profile email read:profile read:files";

/// Signs in on LemonLDAP::NG's own login form (`user`, `password`) once the browser shows it,
/// then waits until the app has handled the callback.
async fn sign_in_at_lemonldap(lab: &Lab, user: &str) {
    let field = lab.wait_css("#userfield").await;
    field.send_keys(user).await.expect("type user");
    // The Demo backend's password is the login.
    lab.wait_css("#passwordfield")
        .await
        .send_keys(user)
        .await
        .expect("type password");
    lab.js("window.__e2eActed = true;", vec![]).await;
    lab.click("button[type=submit]").await;
    let deadline = Instant::now() + WAIT * 2;
    loop {
        assert!(Instant::now() < deadline, "stuck at {}", lab.url().await);
        let here = lab
            .try_js(
                "if (window.__e2eActed) return 'navigating'; \
                 const lab = document.querySelector('#lab'); \
                 if (lab && ['logged-in', 'failed'].includes(lab.dataset.phase)) return 'done'; \
                 return 'loading';",
            )
            .await;
        if here.as_ref().and_then(Value::as_str) == Some("done") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pa_pe_lemonldap_ng_login_refresh_without_rotation_no_revocation_and_logout() {
    let lab = Lab::start().await;
    let llng = lab.start_lemonldap().await;
    // The demo API's scopes, declared for this relying party in provider/lemonldap-ng/ (scope
    // rules; undeclared scopes are dropped), and the demo API checking its tokens there.
    lab.configure_provider(&llng.issuer, &llng.api, API_SCOPE)
        .await;

    // Discovery by issuer, then the PKCE login through LemonLDAP::NG's own login page.
    lab.click("#login").await;
    let at = lab.wait_css("#userfield").await;
    drop(at);
    let login_page = lab.url().await;
    assert!(
        login_page.starts_with(&format!("{}/oauth2/authorize?", llng.issuer))
            && login_page.contains("code_challenge_method=S256"),
        "{login_page}"
    );
    sign_in_at_lemonldap(&lab, "dwho").await;
    assert_eq!(lab.wait_phase(&["logged-in", "failed"]).await, "logged-in");
    assert_eq!(lab.failed_steps().await, Vec::<String>::new());
    // RFC 9207: LemonLDAP::NG sends no `iss` on the callback (and does not promise it).
    let landed = lab.landed_url().await;
    assert!(
        landed.contains("code=") && landed.contains("state=") && !landed.contains("iss="),
        "{landed}"
    );
    let discover = lab.step_texts("Discover").await;
    assert_eq!(discover.len(), 1, "{discover:?}");
    assert!(
        discover[0].contains(&format!(
            "GET {}/.well-known/openid-configuration",
            llng.issuer
        )),
        "{}",
        discover[0]
    );
    // It does not advertise `none` although it accepts this public client: said as a deviation.
    assert!(
        discover[0].contains("token_endpoint_auth_methods_supported does not list \"none\""),
        "{}",
        discover[0]
    );
    let token = &lab.step_texts("TokenRequest").await[0];
    assert!(
        token.contains(&format!("POST {}/oauth2/token", llng.issuer))
            && token.contains("code_verifier"),
        "{token}"
    );

    // The ID token: RS256 signature checked against the JWKS, then iss, aud, nonce, at_hash.
    let verify = &lab.step_texts("VerifyIdToken").await[0];
    assert!(verify.contains("RS256"), "{verify}");
    let claims = &lab.step_texts("CheckIdTokenClaims").await[0];
    assert!(
        claims.contains(&format!("{} ✓", llng.issuer)),
        "iss checked: {claims}"
    );
    assert!(
        claims.contains("nonce") && claims.contains("at_hash") && claims.contains("matches ✓"),
        "{claims}"
    );
    assert!(lab.text("#id-aud").await.contains("flow-lab"));
    assert_eq!(lab.text("#id-sub").await, "dwho");
    assert!(lab.text("#id-proves").await.contains(&llng.issuer));
    assert!(lab.text("#token-issuer").await.contains(&llng.issuer));

    // UserInfo: the profile claims live there (not in the ID token), same subject.
    lab.click("#call-userinfo").await;
    let userinfo = lab.text("#userinfo-result").await;
    assert!(
        userinfo.contains("Doctor Who") && userinfo.contains("dwho@badwolf.org"),
        "{userinfo}"
    );

    // The demo API: the token is introspected at LemonLDAP::NG and carries read:profile.
    lab.click("#call-profile").await;
    lab.wait_css("#timeline > li[data-kind=ResourceResponse]")
        .await;
    let resource = lab.step_texts("ResourceResponse").await;
    assert!(
        resource.last().is_some_and(|r| r.contains("200")),
        "{resource:?} {:?}",
        lab.problem().await
    );
    let profile = lab.text("#api-result").await;
    assert!(
        profile.contains("\"sub\"") && profile.contains("dwho"),
        "{profile}"
    );

    // Refresh: new access token, but LemonLDAP::NG sends no new refresh token, and the app says
    // the old one stays in use (no rotation).
    let first_refresh = lab.revealed("refresh-token").await;
    let first_access = lab.revealed("access-token").await;
    lab.click("#refresh").await;
    lab.wait_css("#timeline > li[data-kind=RefreshResponse]")
        .await;
    assert_eq!(lab.wait_phase(&["logged-in", "failed"]).await, "logged-in");
    assert_eq!(lab.failed_steps().await, Vec::<String>::new());
    assert_eq!(
        lab.revealed("refresh-token").await,
        first_refresh,
        "not rotated"
    );
    assert_ne!(lab.revealed("access-token").await, first_access);
    assert_eq!(lab.count("#replaced-refresh-token").await, 0);
    let response = &lab.step_texts("RefreshResponse").await[0];
    assert!(
        response.contains("No refresh token came back")
            && response.contains("Without rotation")
            && !response.contains("refresh_token (new)"),
        "{response}"
    );
    // The refreshed ID token was verified too.
    assert_eq!(
        lab.count("#timeline > li[data-kind=VerifyIdToken][data-status=ok]")
            .await,
        2
    );

    // No revocation endpoint: the buttons cannot be used, and the app says why.
    for id in ["#revoke-access", "#revoke-refresh"] {
        let disabled = lab
            .js(
                &format!("return document.querySelector('{id}').disabled;"),
                vec![],
            )
            .await;
        assert_eq!(disabled, Value::Bool(true), "{id}");
    }
    let why = lab.text("#no-revocation").await;
    assert!(
        why.contains("has no revocation endpoint (RFC 7009)") && why.contains("stay valid"),
        "{why}"
    );
    lab.screenshot("l01-lemonldap-refresh-no-revocation").await;

    // RP-initiated logout: no confirmation page at LemonLDAP::NG (bypassed for this client),
    // straight back to the app with the `state`, the provider's session ended.
    lab.click("#logout-provider").await;
    lab.wait_css("#timeline > li[data-kind=EndSession]").await;
    let end = &lab.step_texts("EndSession").await[0];
    assert!(
        end.contains(&format!("{}/oauth2/logout", llng.issuer))
            && end.contains("id_token_hint")
            && end.contains("post_logout_redirect_uri"),
        "{end}"
    );
    lab.wait_css("#login").await;
    assert!(
        lab.url().await.starts_with(&lab.app),
        "back at the app: {}",
        lab.url().await
    );
    // It hands the logout request's `state` back (RP-Initiated Logout 1.0 §2), checked.
    let back = lab.text("#timeline > li:last-child").await;
    assert!(
        back.contains("its session has ended") && back.contains("matches the one sent ✓"),
        "{back}"
    );
    assert!(!lab.url().await.contains("state="), "{}", lab.url().await);
    assert_eq!(lab.count("#tokens").await, 0);

    // The next login asks for a password again; the second user signs in.
    lab.click("#login").await;
    sign_in_at_lemonldap(&lab, "rtyler").await;
    assert_eq!(lab.wait_phase(&["logged-in", "failed"]).await, "logged-in");
    assert_eq!(lab.text("#id-sub").await, "rtyler");
    lab.finish().await;
}

/// Waits (up to `limit`) until the script `done` returns true in the lab's tab.
async fn wait_for(lab: &Lab, done: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let value = lab.try_js(&format!("return !!({done});")).await;
        if value == Some(Value::Bool(true)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "waited for ({done}) at {}",
            lab.url().await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The scorecard's verdicts and texts by line id.
async fn scorecard(lab: &Lab) -> std::collections::HashMap<String, (String, String)> {
    let value = lab
        .js(
            "return [...document.querySelectorAll('#scorecard tbody tr')]\
               .map(tr => [tr.id, [tr.dataset.verdict, tr.textContent]]);",
            vec![],
        )
        .await;
    serde_json::from_value::<Vec<(String, (String, String))>>(value)
        .unwrap_or_default()
        .into_iter()
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn i15_checkup_against_lemonldap_ng_grades_silent_probes_unknown_with_the_lab_on_screen() {
    let lab = Lab::start().await;
    let llng = lab.start_lemonldap().await;
    // No API base: the first tokens are tried at LemonLDAP::NG's own UserInfo. The preset is
    // LemonLDAP::NG's, so the fix hints (and the export) are its own settings.
    lab.configure_with_preset("lemonldap-ng", &llng.issuer, "", SCOPE)
        .await;
    lab.click("#tab-attack").await;
    lab.click("#lab-checkup").await;
    let here = lab.url().await;
    lab.js("window.__e2eStayed = true;", vec![]).await;
    lab.click("#run-checkup").await;
    // LemonLDAP::NG shows its login page to every prompt=none probe: four popup timeouts
    // (the three probes and the redirect-URI control).
    wait_for(
        &lab,
        "document.querySelector('#run-interactive') && \
         document.querySelector('#lab').dataset.phase === 'idle'",
        Duration::from_secs(90),
    )
    .await;
    // The lab's tab never left: same page (not reloaded), same URL, the probe window closed.
    assert_eq!(
        lab.js("return window.__e2eStayed === true;", vec![]).await,
        Value::Bool(true)
    );
    assert_eq!(lab.url().await, here);
    assert_eq!(lab.client.windows().await.expect("windows").len(), 1);
    let card = scorecard(&lab).await;
    for line in ["PkceEnforced", "PlainRefused", "ImplicitRefused"] {
        let (verdict, text) = &card[&format!("check-{line}")];
        assert_eq!(verdict, "unknown", "{line}: {text}");
        assert!(
            text.contains("answered with its own page")
                && text.contains("prompt=none may be unsupported"),
            "{line}: {text}"
        );
    }
    let offer = lab.text("#interactive-offer").await;
    assert!(offer.contains("Run these probes interactively"), "{offer}");
    for line in ["IssuerExact", "S256Advertised", "TokenCors"] {
        let (verdict, text) = &card[&format!("check-{line}")];
        assert_eq!(verdict, "pass", "{line}: {text}");
    }
    // The three probes and the redirect-URI control: no redirect back; the four altered
    // redirect URIs are not sent (silence would prove nothing when the control is silent too).
    let answers = lab.step_texts("ProbeAnswer").await;
    assert_eq!(answers.len(), 4, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|a| a.contains("No redirect back: the provider showed its own page")),
        "{answers:?}"
    );
    let (verdict, text) = &card["check-RedirectUriExact"];
    assert_eq!(verdict, "unknown", "{text}");
    assert!(text.contains("proves nothing"), "{text}");
    lab.screenshot("l02-lemonldap-checkup-probes-unknown").await;

    // The login that finishes the checkup, through LemonLDAP::NG's own page in this tab.
    lab.click("#checkup-login").await;
    lab.wait_css("#userfield")
        .await
        .send_keys("dwho")
        .await
        .expect("user");
    lab.wait_css("#passwordfield")
        .await
        .send_keys("dwho")
        .await
        .expect("password");
    lab.js("window.__e2eActed = true;", vec![]).await;
    lab.click("button[type=submit]").await;
    wait_for(
        &lab,
        "!window.__e2eActed && document.querySelector('#lab') && \
         ['idle', 'failed'].includes(document.querySelector('#lab').dataset.phase)",
        WAIT * 3,
    )
    .await;
    // LemonLDAP::NG resumes the first (stale) probe request after the sign-in and sends its
    // answer to this tab: the lab recognises it as a probe's, drops it and says so.
    let notice = lab.text("#notice").await;
    assert!(
        notice.contains("earlier probes") && notice.contains("dropped without being used"),
        "{notice}"
    );
    assert!(!lab.url().await.contains('?'), "{}", lab.url().await);
    // Signed in at the provider now: the second try comes straight back with a code.
    lab.click("#tab-attack").await;
    lab.click("#lab-checkup").await;
    lab.js("window.__e2eActed = true;", vec![]).await;
    lab.click("#checkup-login").await;
    wait_for(
        &lab,
        "!window.__e2eActed && document.querySelector('#lab') && \
         ['idle', 'failed'].includes(document.querySelector('#lab').dataset.phase)",
        WAIT * 3,
    )
    .await;
    // Only the attacker's replay (and the server's check of it) may be drawn as failed.
    let failed = lab.failed_steps().await;
    assert!(
        failed
            .iter()
            .all(|k| k == "AttackResponse" || k == "ServerCheck"),
        "{failed:?} {:?} {}",
        lab.step_texts("CheckCallback").await,
        lab.landed_url().await
    );
    lab.click("#tab-attack").await;
    lab.click("#lab-checkup").await;
    let card = scorecard(&lab).await;
    for line in ["CodeSingleUse", "PublicClients"] {
        let (verdict, text) = &card[&format!("check-{line}")];
        assert_eq!(verdict, "pass", "{line}: {text}");
    }

    // Now signed in at the provider: the interactive probes come back without a form.
    lab.click("#run-interactive").await;
    // No challenge: refused with a redirect; plain: a code comes back (and the attacker redeems
    // it). response_type=token: LemonLDAP::NG shows an HTML "Error" page of its own and never
    // redirects back, so the user closes the window, as the lab's sentence tells them to.
    let main = lab.client.window().await.expect("window");
    let deadline = Instant::now() + Duration::from_secs(90);
    let popup = loop {
        assert!(
            Instant::now() < deadline,
            "the implicit probe never showed its page"
        );
        let windows = lab.client.windows().await.expect("windows");
        if let Some(other) = windows.into_iter().find(|w| *w != main) {
            lab.client
                .switch_to_window(other.clone())
                .await
                .expect("switch");
            let at = lab.url().await;
            let text = lab
                .try_js("return document.body ? document.body.innerText : '';")
                .await
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            lab.client
                .switch_to_window(main.clone())
                .await
                .expect("back");
            if at.contains("response_type=token") && text.contains("Error") {
                break other;
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    lab.client.switch_to_window(popup).await.expect("switch");
    lab.client
        .close_window()
        .await
        .expect("close the probe window");
    lab.client.switch_to_window(main).await.expect("back");
    wait_for(
        &lab,
        "document.querySelector('#check-ImplicitRefused').textContent.includes('was closed') && \
         document.querySelector('#lab').dataset.phase === 'idle'",
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(lab.client.windows().await.expect("windows").len(), 1);
    let card = scorecard(&lab).await;
    let verdict = |line: &str| card[&format!("check-{line}")].0.clone();
    // Facts of LemonLDAP::NG 2.16 (provider/lemonldap-ng/README.md): PKCE required for this
    // client, `plain` accepted, no implicit for it, no `iss` on the callback, no rotation.
    assert_eq!(
        verdict("PkceEnforced"),
        "pass",
        "{:?}",
        card["check-PkceEnforced"]
    );
    assert_eq!(
        verdict("PlainRefused"),
        "fail",
        "{:?}",
        card["check-PlainRefused"]
    );
    let (implicit, text) = &card["check-ImplicitRefused"];
    assert_eq!(implicit, "unknown", "{text}");
    assert!(text.contains("was closed"), "{text}");
    for (line, expected) in [
        ("IssuerExact", "pass"),
        ("S256Advertised", "pass"),
        ("PublicClients", "pass"),
        ("TokenCors", "pass"),
        ("NoStore", "pass"),
        ("CodeSingleUse", "pass"),
        ("ReplayRevokes", "warn"),
        // RFC 9700 §4.1.3: once signed in, the registered URI comes straight back with a code
        // and every altered one stays on LemonLDAP::NG's own error page: exact matching.
        ("RedirectUriExact", "pass"),
        // LemonLDAP::NG 2.16 publishes no dpop_signing_alg_values_supported (RFC 9449).
        ("Dpop", "warn"),
    ] {
        assert_eq!(
            verdict(line),
            expected,
            "{line}: {:?}",
            card[&format!("check-{line}")]
        );
    }
    assert!(
        lab.text("#checkup-summary")
            .await
            .starts_with("8 pass · 2 warn · 3 fail · 1 unknown"),
        "{}",
        lab.text("#checkup-summary").await
    );
    assert_eq!(
        verdict("IssInResponse"),
        "fail",
        "{:?}",
        card["check-IssInResponse"]
    );
    assert_eq!(
        verdict("RefreshRotates"),
        "fail",
        "{:?}",
        card["check-RefreshRotates"]
    );
    lab.click("#export-scorecard").await;
    let markdown = lab
        .wait_css("#scorecard-markdown")
        .await
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default();
    // The export's fixes are LemonLDAP::NG's own settings, never the bundled provider's.
    assert!(
        !markdown.contains("provider/server.mjs") && markdown.contains("| Fix |"),
        "{markdown}"
    );
    let out = common::root().join("target/e2e-screenshots/lemonldap-ng-scorecard.md");
    let _ = std::fs::create_dir_all(out.parent().expect("dir"));
    std::fs::write(&out, &markdown).expect("write the scorecard");
    lab.screenshot("l03-lemonldap-checkup-done").await;
    lab.finish().await;
}
