//! End to end, DPoP (RFC 9449, issue 17) against the bundled provider in headless Chromium:
//! the switch on by default (the provider lists ES256 proofs), a login whose token request
//! carries a proof after a drawn CORS preflight, a DPoP-bound token, API and UserInfo calls with
//! `Authorization: DPoP` and a fresh proof, `cnf.jkt` from the demo API beside the key's
//! thumbprint, a refresh with a proof, and the server-nonce round (client
//! `flow-lab-dpop-nonce`), logins with RS256, PS256 and EdDSA keys, the stolen-token
//! experiment and its late-replay (iat) variant. Screenshots (window 1400x1000) go to
//! target/e2e-screenshots/ (the images in docs/screenshots/dpop/ come from there).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::Lab;
use serde_json::json;

const OFFLINE: &str = "openid profile offline_access read:profile read:files";

/// Settings pointing at this test's provider with `client_id`; the DPoP switch as given
/// (`None`: never touched, so it follows the provider's metadata).
async fn configure(lab: &Lab, client_id: &str, dpop: Option<bool>) {
    configure_alg(lab, client_id, dpop, None).await;
}

/// [`configure`] with the proof algorithm picked beside the switch (`None`: not picked).
async fn configure_alg(lab: &Lab, client_id: &str, dpop: Option<bool>, alg: Option<&str>) {
    let _ = lab.client.set_window_size(1400, 1000).await;
    let mut settings = json!({
        "issuer": lab.issuer, "client_id": client_id, "scope": OFFLINE, "api_base": lab.api
    });
    if let Some(on) = dpop {
        settings["dpop"] = json!(on);
    }
    if let Some(alg) = alg {
        settings["dpop_alg"] = json!(alg);
    }
    lab.save_settings(settings).await;
}

/// Scrolls `selector` to the middle of the window and keeps a screenshot of it under
/// target/e2e-screenshots/ (the images in docs/screenshots/dpop/ come from these).
async fn shot(lab: &Lab, selector: &str, name: &str) {
    lab.js(
        "document.querySelector(arguments[0]).scrollIntoView({block: 'center'});",
        vec![json!(selector)],
    )
    .await;
    lab.screenshot(name).await;
}

async fn logged_in(lab: &Lab) {
    assert_eq!(
        lab.wait_phase(&["logged-in", "failed"]).await,
        "logged-in",
        "{:?} {:?}",
        lab.failed_steps().await,
        lab.problem().await
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn r9449_dpop_login_api_userinfo_and_refresh_with_the_bundled_provider() {
    let lab = Lab::start().await;
    configure(&lab, "flow-lab", None).await;
    lab.login_through_provider("alice", "wonderland").await;
    logged_in(&lab).await;
    // The callback page folds the settings (issue 12): open them to read the switch.
    lab.open_settings().await;
    // The switch followed the provider's metadata: on, and says why.
    assert_eq!(
        lab.js("return document.querySelector('#dpop').checked;", vec![])
            .await,
        json!(true)
    );
    assert!(lab.text("#dpop-origin").await.contains("on by default"));
    // ES256 first; the select offers what the provider lists and this Chromium makes.
    assert!(lab
        .text("#dpop-origin")
        .await
        .contains("Proofs: ES256, a non-extractable ECDSA P-256 key"));
    assert_eq!(
        lab.js("return document.querySelector('#dpop-alg').value;", vec![])
            .await,
        json!("ES256")
    );
    let offered = lab
        .js(
            "return [...document.querySelectorAll('#dpop-alg option')].map(o => o.value).join(' ');",
            vec![],
        )
        .await;
    assert_eq!(offered, json!("ES256 EdDSA Ed25519 PS256 RS256"));
    shot(&lab, "#dpop", "dpop-01-switch-and-alg").await;
    // The identity panel says what was really sent: DPoP and a proof, not Bearer.
    let sent = lab.text("#id-sent-access").await;
    assert!(
        sent.contains("Authorization: DPoP <token>") && sent.contains("DPoP: <proof>"),
        "{sent}"
    );
    assert!(!sent.contains("Bearer"), "{sent}");
    assert!(lab
        .text("#token-sent-as")
        .await
        .contains("Authorization: DPoP <token> + DPoP: <proof"));

    // RFC 9449 §5: the token is bound to the key.
    assert_eq!(lab.text("#token-type").await, "DPoP");
    // The preflight is drawn right before the token POST, which carries the proof.
    let kinds = lab.step_kinds().await;
    let post = kinds.iter().position(|k| k == "TokenRequest").unwrap();
    assert_eq!(kinds[post - 2], "Preflight", "{kinds:?}");
    assert_eq!(kinds[post - 1], "PreflightResponse", "{kinds:?}");
    let request = &lab.step_texts("TokenRequest").await[0];
    assert!(request.contains("key thumbprint (jkt)"), "{request}");
    assert_eq!(lab.token_requests().await, 1, "no nonce round: one POST");
    assert_eq!(lab.failed_steps().await, Vec::<String>::new());

    // The inspector decodes the proof; its signature is never shown.
    lab.click("#diagram g.row[data-kind=TokenRequest]").await;
    let header = lab.text("#inspector-dpop-header").await;
    let claims = lab.text("#inspector-dpop-claims").await;
    assert!(header.contains("\"typ\": \"dpop+jwt\""), "{header}");
    assert!(header.contains("\"alg\": \"ES256\""), "{header}");
    assert!(header.contains("\"crv\": \"P-256\""), "{header}");
    assert!(!header.contains("\"d\""), "no private member: {header}");
    assert!(claims.contains("\"htm\": \"POST\""), "{claims}");
    assert!(
        claims.contains(&format!("\"htu\": \"{}/token\"", lab.issuer)),
        "{claims}"
    );
    let request = lab.text("#inspector-request").await;
    assert!(request.contains("DPoP: ey"), "{request}");
    assert!(request.contains("[signature hidden]"), "{request}");
    shot(&lab, "#inspector-dpop", "dpop-02-inspector-proof").await;

    // The API call: Authorization: DPoP and a proof with ath; the API verifies both.
    lab.click("#call-profile").await;
    let profile = lab.text("#api-result").await;
    assert!(profile.contains("Alice Liddell"), "{profile}");
    let call = lab.step_texts("ResourceRequest").await;
    assert!(call[0].contains("DPoP "), "{call:?}");
    lab.click("#diagram g.row[data-kind=ResourceRequest]").await;
    let claims = lab.text("#inspector-dpop-claims").await;
    assert!(claims.contains("\"ath\""), "{claims}");
    assert!(claims.contains("\"htm\": \"GET\""), "{claims}");
    let request = lab.text("#inspector-request").await;
    assert!(request.contains("Authorization: DPoP "), "{request}");
    shot(
        &lab,
        "#diagram g.row[data-kind=Preflight]",
        "dpop-03-diagram-preflight-and-proof",
    )
    .await;

    // cnf.jkt from the demo API (introspection), beside this tab's key thumbprint.
    lab.click("#token-info").await;
    lab.wait_css("#cnf-jkt").await;
    let jkt = lab.text("#cnf-jkt").await;
    let own = lab.text("#dpop-thumbprint").await;
    assert_eq!(jkt, own);
    assert_eq!(jkt.len(), 43, "base64url SHA-256: {jkt}");
    assert!(lab.text("#dpop-binding-verdict").await.contains("✔ equal"));
    shot(&lab, "#dpop-binding", "dpop-04-token-panel-cnf-jkt").await;

    // UserInfo at the provider takes the DPoP token with a proof.
    lab.click("#call-userinfo").await;
    lab.wait_css("#timeline > li[data-kind=UserInfoResponse]")
        .await;
    logged_in(&lab).await;
    let userinfo = lab.step_texts("UserInfoRequest").await;
    assert!(userinfo[0].contains("DPoP "), "{userinfo:?}");
    assert_eq!(lab.failed_steps().await, Vec::<String>::new());

    // The refresh carries a proof of the same key (the refresh token is bound too), after
    // its own preflight, and the new access token is DPoP-bound again.
    let first_access = lab.revealed("access-token").await;
    lab.click("#refresh").await;
    lab.wait_css("#timeline > li[data-kind=RefreshResponse]")
        .await;
    logged_in(&lab).await;
    assert_ne!(first_access, lab.revealed("access-token").await);
    assert_eq!(lab.text("#token-type").await, "DPoP");
    let kinds = lab.step_kinds().await;
    let refresh = kinds.iter().position(|k| k == "RefreshRequest").unwrap();
    assert_eq!(kinds[refresh - 2], "Preflight", "{kinds:?}");
    let refresh = &lab.step_texts("RefreshRequest").await[0];
    assert!(refresh.contains("key thumbprint (jkt)"), "{refresh}");
    lab.click("#call-profile").await;
    lab.wait_css("#timeline > li[data-kind=ResourceResponse]:last-of-type")
        .await;
    assert!(lab.text("#api-result").await.contains("Alice Liddell"));
    assert_eq!(lab.failed_steps().await, Vec::<String>::new());
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn r9449_8_the_token_endpoint_s_nonce_demand_is_answered_by_one_retry() {
    let lab = Lab::start().await;
    configure(&lab, "flow-lab-dpop-nonce", Some(true)).await;
    lab.login_through_provider("alice", "wonderland").await;
    logged_in(&lab).await;
    assert_eq!(lab.text("#token-type").await, "DPoP");
    // Two POSTs: the first refused with use_dpop_nonce, the retry with the nonce.
    assert_eq!(lab.token_requests().await, 2);
    let answers = lab.step_texts("TokenResponse").await;
    assert!(
        answers[0].contains("use_dpop_nonce") && answers[0].contains("DPoP-Nonce"),
        "{answers:?}"
    );
    let requests = lab.step_texts("TokenRequest").await;
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(
        requests[1].contains("again, with the server's nonce"),
        "{requests:?}"
    );
    assert!(
        requests[1].contains("+ nonce"),
        "the retry's proof carries the nonce: {requests:?}"
    );
    assert_eq!(lab.failed_steps().await, Vec::<String>::new());
    lab.click("#diagram g.row[data-kind=TokenResponse]").await;
    shot(&lab, "#inspector", "dpop-05-nonce-round").await;

    // The token answer's fresh DPoP-Nonce is used for the refresh: no second round.
    lab.click("#refresh").await;
    lab.wait_css("#timeline > li[data-kind=RefreshResponse]")
        .await;
    logged_in(&lab).await;
    assert_eq!(lab.token_requests().await, 3, "the refresh went once");
    assert!(lab.step_texts("RefreshRequest").await[0].contains("+ nonce"));
    lab.click("#call-profile").await;
    assert!(lab.text("#api-result").await.contains("Alice Liddell"));
    assert_eq!(lab.failed_steps().await, Vec::<String>::new());
    lab.finish().await;
}

/// Runs the attack lab's stolen-token experiment on the live session and waits for its verdict.
async fn run_stolen_token(lab: &Lab) -> (String, String) {
    lab.click("#tab-attack").await;
    lab.click("#lab-experiments").await;
    lab.click("#run-stolen-token").await;
    stolen_token_verdict(lab).await
}

/// Waits (30 s at most) for the stolen-token card's outcome and findings.
async fn stolen_token_verdict(lab: &Lab) -> (String, String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let outcome = lab
            .js(
                "return document.querySelector('#exp-stolen-token').dataset.outcome;",
                vec![],
            )
            .await;
        let outcome = outcome.as_str().unwrap_or_default().to_owned();
        if outcome != "not run" {
            let findings = lab.text("#stolen-token-findings").await;
            return (outcome, findings);
        }
        assert!(std::time::Instant::now() < deadline, "no verdict");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The late replay's offer on the lab's card: whether its button is disabled, and the reason
/// shown beside it.
async fn late_replay_offer(lab: &Lab) -> (bool, String) {
    let offer = lab
        .js(
            "const r = document.querySelector('#stale-needs-dpop'); \
             return [document.querySelector('#run-stale-proof').disabled, r ? r.textContent : ''];",
            vec![],
        )
        .await;
    (
        offer[0].as_bool().unwrap(),
        offer[1].as_str().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn r9449_stolen_access_token_works_as_bearer_and_fails_against_dpop() {
    let lab = Lab::start().await;
    // DPoP off: the copy of a Bearer token opens the API for the attacker.
    configure(&lab, "flow-lab", Some(false)).await;
    lab.login_through_provider("alice", "wonderland").await;
    logged_in(&lab).await;
    assert_eq!(lab.text("#token-type").await, "Bearer");
    let (outcome, findings) = run_stolen_token(&lab).await;
    assert_eq!(outcome, "attack worked", "{findings}");
    assert!(
        findings.contains("The copy sent as Bearer: 200, the attacker read the profile."),
        "{findings}"
    );
    let answers = lab.step_texts("AttackResponse").await;
    assert!(
        answers[0].contains("200: the attacker reads the profile"),
        "{answers:?}"
    );
    shot(&lab, "#diagram", "dpop-06a-stolen-token-bearer-diagram").await;
    shot(&lab, "#exp-stolen-token", "dpop-06-stolen-token-bearer-200").await;
    // The late replay captures a DPoP proof, which a Bearer login does not make: its button is
    // off, and the reason stands beside it (not a problem after the click).
    let (disabled, reason) = late_replay_offer(&lab).await;
    assert!(disabled, "the late replay is offered to a Bearer login");
    assert!(reason.starts_with("Needs a DPoP login"), "{reason:?}");

    // DPoP on: the same experiment, every attempt refused by the real API.
    lab.click("#tab-live").await;
    configure(&lab, "flow-lab", Some(true)).await;
    lab.login_through_provider("alice", "wonderland").await;
    logged_in(&lab).await;
    assert_eq!(lab.text("#token-type").await, "DPoP");
    let (outcome, findings) = run_stolen_token(&lab).await;
    assert_eq!(outcome, "stopped", "{findings}");
    // As Bearer: the bound token is refused without its proof (RFC 9449 §7.2).
    assert!(
        findings.contains("The copy sent as Bearer: 401 invalid_token"),
        "{findings}"
    );
    // With the attacker's own key: cnf.jkt does not match.
    assert!(
        findings.contains("The copy with a proof of the attacker's own key: 401 invalid_token")
            && findings.contains("cnf.jkt"),
        "{findings}"
    );
    // The captured proof replayed: jti already used; at another URL: htu.
    assert!(
        findings.contains("The captured request replayed: 401 invalid_dpop_proof"),
        "{findings}"
    );
    assert!(
        findings.contains("The captured proof at another URL: 401 invalid_dpop_proof"),
        "{findings}"
    );
    assert!(findings.contains("✔ Stopped by DPoP"), "{findings}");
    assert!(findings.contains("Honest limit"), "{findings}");
    // A DPoP login: the late replay is offered, with no reason shown.
    assert_eq!(late_replay_offer(&lab).await, (false, String::new()));
    // The app's own request with the same proof went through first (200).
    let own = lab.step_texts("ResourceResponse").await;
    assert!(own.last().unwrap().contains("200"), "{own:?}");
    shot(&lab, "#diagram", "dpop-07a-stolen-token-dpop-diagram").await;
    shot(&lab, "#exp-stolen-token", "dpop-07-stolen-token-dpop-401").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn r9449_5_1_login_and_api_call_with_rs256_ps256_and_eddsa_keys() {
    let lab = Lab::start().await;
    for (alg, kty) in [("RS256", "RSA"), ("PS256", "RSA"), ("EdDSA", "OKP")] {
        configure_alg(&lab, "flow-lab", Some(true), Some(alg)).await;
        lab.login_through_provider("alice", "wonderland").await;
        logged_in(&lab).await;
        assert_eq!(lab.text("#token-type").await, "DPoP", "{alg}");
        lab.open_settings().await;
        assert_eq!(
            lab.js("return document.querySelector('#dpop-alg').value;", vec![])
                .await,
            json!(alg)
        );
        assert!(lab
            .text("#dpop-origin")
            .await
            .contains(&format!("Proofs: {alg}")));
        // The proof's header names the algorithm and carries the key's public members only.
        lab.click("#diagram g.row[data-kind=TokenRequest]").await;
        let header = lab.text("#inspector-dpop-header").await;
        assert!(header.contains(&format!("\"alg\": \"{alg}\"")), "{header}");
        assert!(header.contains(&format!("\"kty\": \"{kty}\"")), "{header}");
        for private in ["\"d\"", "\"p\"", "\"q\""] {
            assert!(!header.contains(private), "{alg}: {header}");
        }
        // The demo API verifies the proof of this key.
        lab.click("#call-profile").await;
        assert!(
            lab.text("#api-result").await.contains("Alice Liddell"),
            "{alg}"
        );
        // cnf.jkt (introspection by the demo API) is this key's RFC 7638 thumbprint.
        lab.click("#token-info").await;
        lab.wait_css("#cnf-jkt").await;
        let jkt = lab.text("#cnf-jkt").await;
        assert_eq!(jkt, lab.text("#dpop-thumbprint").await, "{alg}");
        assert!(lab.text("#dpop-binding-verdict").await.contains("✔ equal"));
        assert_eq!(lab.failed_steps().await, Vec::<String>::new(), "{alg}");
        if alg == "EdDSA" {
            lab.click("#diagram g.row[data-kind=TokenRequest]").await;
            shot(&lab, "#inspector-dpop", "dpop-08-eddsa-proof-inspector").await;
        }
    }
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn r9449_11_1_a_captured_proof_replayed_after_the_api_window_is_refused_by_iat() {
    // The demo API accepts a proof for 3 s (and remembers its jti that long).
    let lab = Lab::start_with_provider_env(&[("API_DPOP_IAT_WINDOW_S", "3")]).await;
    configure(&lab, "flow-lab", Some(true)).await;
    lab.login_through_provider("alice", "wonderland").await;
    logged_in(&lab).await;
    assert_eq!(lab.text("#token-type").await, "DPoP");
    lab.click("#tab-attack").await;
    lab.click("#lab-experiments").await;
    lab.js(
        "const w = document.querySelector('#stale-window'); w.value = '3'; \
         w.dispatchEvent(new Event('change'));",
        vec![],
    )
    .await;
    lab.click("#run-stale-proof").await;
    // The card counts the window (3 s + 2 s margin) down.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let waiting = loop {
        let text = lab.text("#stale-waiting").await;
        if !text.is_empty() {
            break text;
        }
        assert!(std::time::Instant::now() < deadline, "no countdown");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(waiting.starts_with("Waiting "), "{waiting}");
    // The status line says what the run waits for (from the session's state), not "Calling
    // the API…".
    let status = lab.text("#status").await;
    assert!(
        status.starts_with("Late replay: waiting ") && status.contains("iat window"),
        "{status}"
    );
    shot(&lab, "#run-stale-proof", "dpop-09a-iat-variant-waiting").await;
    let (outcome, findings) = stolen_token_verdict(&lab).await;
    assert_eq!(outcome, "stopped", "{findings}");
    // At once: the API still remembers the jti.
    assert!(
        findings.contains("The captured request replayed: 401 invalid_dpop_proof")
            && findings.contains("already used"),
        "{findings}"
    );
    // After the window: the jti is forgotten, and the API's iat check refuses the proof.
    assert!(
        findings
            .contains("The captured request replayed after the iat window: 401 invalid_dpop_proof")
            && findings.contains("iat is not within 3 s"),
        "{findings}"
    );
    assert!(
        findings.contains("✔ Stopped by the proof's iat"),
        "{findings}"
    );
    assert_eq!(lab.text("#stale-waiting").await, "");
    let answers = lab.step_texts("AttackResponse").await;
    assert!(
        answers.last().unwrap().contains("invalid_dpop_proof"),
        "{answers:?}"
    );
    shot(&lab, "#exp-stolen-token", "dpop-09-iat-variant-refused").await;
    lab.finish().await;
}
