//! End to end, the attack lab and the provider checkup (issue 7): every experiment run against
//! the bundled provider in Chromium, each outcome asserted from what the provider really
//! answered (status and error code in the steps, requests counted by Resource Timing), the
//! checkup all green for the strict default, and a deliberately weak provider (`LAB_WEAK=all`)
//! whose weak lines fail with the right fix hint while the attacks they allow succeed.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::Lab;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const OFFLINE: &str = "openid profile offline_access read:profile read:files";

/// Buttons whose requests run in the probe window: the lab's tab never leaves (issue 15).
const IN_POPUP: [&str; 3] = ["#run-checkup", "#run-pkce-downgrade", "#run-implicit"];

/// Presses a lab button (marking the page so a navigation is noticed) and waits for `done`.
/// For the probe buttons the mark must survive: the tab never navigated.
async fn run(lab: &Lab, button: &str, user: &str, done: &str) {
    lab.click("#tab-attack").await;
    let checkup = button.contains("checkup");
    lab.click(if checkup {
        "#lab-checkup"
    } else {
        "#lab-experiments"
    })
    .await;
    let in_popup = IN_POPUP.contains(&button);
    let mark = if in_popup {
        "window.__e2eStayed = true;"
    } else {
        "window.__e2eActed = true;"
    };
    lab.js(mark, vec![]).await;
    lab.click(button).await;
    lab.continue_until(user, password_of(user), done).await;
    if in_popup {
        let stayed = lab.js("return window.__e2eStayed === true;", vec![]).await;
        assert_eq!(stayed, json!(true), "{button}: the lab's tab left the page");
        assert_eq!(
            lab.client.windows().await.expect("windows").len(),
            1,
            "{button}: the probe window is closed at the end"
        );
    }
}

/// Signs `user` in at the provider in the lab's window, switching to it and back, until
/// `done` holds in the lab's tab (issue 15: the lab's own logins run in a window too).
async fn sign_in_in_popup(lab: &Lab, user: &str, done: &str) {
    let main = lab.client.window().await.expect("window");
    let deadline = Instant::now() + Duration::from_secs(90);
    let fill = format!(
        "const login = document.querySelector('input[name=login]'); \
         if (login) {{ login.value = '{user}'; \
           document.querySelector('input[name=password]').value = '{}'; \
           document.querySelector('#sign-in').click(); return 'login'; }} \
         const allow = document.querySelector('#allow'); \
         if (allow) {{ allow.click(); return 'consent'; }} \
         return location.href;",
        password_of(user)
    );
    let mut seen = Vec::new();
    loop {
        assert!(
            Instant::now() < deadline,
            "the lab did not get to ({done}); the window showed {seen:?}"
        );
        if lab.try_js(&format!("return !!({done});")).await == Some(Value::Bool(true)) {
            return;
        }
        let windows = lab.client.windows().await.expect("windows");
        if let Some(popup) = windows.into_iter().find(|w| *w != main) {
            if lab.client.switch_to_window(popup).await.is_ok() {
                // The window may close under us once it handed its answer back.
                if let Some(Value::String(at)) = lab.try_js(&fill).await {
                    if seen.last() != Some(&at) {
                        seen.push(at);
                    }
                }
            }
            lab.client
                .switch_to_window(main.clone())
                .await
                .expect("back to the lab's tab");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn password_of(user: &str) -> &'static str {
    if user == "bob" {
        "builder"
    } else {
        "wonderland"
    }
}

fn finished(experiment: &str) -> String {
    format!(
        "document.querySelector('#exp-{experiment}') && \
         document.querySelector('#exp-{experiment}').dataset.outcome !== 'not run' && \
         !['discovering','redirecting','exchanging'].includes(document.querySelector('#lab').dataset.phase)"
    )
}

async fn outcome(lab: &Lab, experiment: &str) -> (String, String) {
    let css = format!("#exp-{experiment}");
    let element = lab.wait_css(&css).await;
    let outcome = element
        .attr("data-outcome")
        .await
        .expect("attr")
        .unwrap_or_default();
    (outcome, lab.text(&format!("{css} .findings")).await)
}

/// A tall screenshot: the lab, the diagram and the list in one picture.
async fn tall_screenshot(lab: &Lab, name: &str) {
    let _ = lab.client.set_window_size(1280, 3200).await;
    lab.screenshot(name).await;
    let _ = lab.client.set_window_size(1280, 900).await;
}

/// Runs an experiment that needs no login and returns its outcome and findings.
async fn run_experiment(lab: &Lab, experiment: &str) -> (String, String) {
    let button = format!("#run-{experiment}");
    run(lab, &button, "alice", &finished(experiment)).await;
    outcome(lab, experiment).await
}

/// Texts of the timeline rows of `kind`, with their status.
async fn rows(lab: &Lab, kind: &str) -> Vec<(String, String)> {
    let value = lab
        .js(
            "return [...document.querySelectorAll(`#timeline > li[data-kind=${arguments[0]}]`)]\
               .map(li => [li.dataset.status, li.textContent]);",
            vec![json!(kind)],
        )
        .await;
    serde_json::from_value(value).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn rfc7636_and_rfc6749_stolen_and_replayed_codes_are_refused_by_the_real_provider() {
    let lab = Lab::start().await;
    run(&lab, "#run-stolen-code", "alice", &finished("code-replay")).await;
    tall_screenshot(&lab, "70-attack-stolen-code-and-replay").await;
    // Stolen code: both attacker redemptions refused with invalid_grant by the provider itself.
    let (stolen, findings) = outcome(&lab, "stolen-code").await;
    assert_eq!(stolen, "stopped", "{findings}");
    assert_eq!(
        findings.matches("refused it (400 invalid_grant)").count(),
        2,
        "{findings}"
    );
    assert!(findings.contains("did not burn"), "{findings}");
    let answers = rows(&lab, "AttackResponse").await;
    assert_eq!(answers.len(), 3, "{answers:?}");
    assert!(answers.iter().all(|(status, _)| status == "failed"));
    assert!(answers[0].1.contains("invalid_grant") && answers[0].1.contains("PKCE"));
    // The real client redeemed the same code afterwards: one ordinary token response.
    let tokens = rows(&lab, "TokenResponse").await;
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].0, "ok");
    // Replay: refused, and the tokens of the first redemption were revoked (RFC 6749 §4.1.2).
    let (replay, findings) = outcome(&lab, "code-replay").await;
    assert_eq!(replay, "stopped", "{findings}");
    assert!(
        findings.contains("200 before the replay, 401 after it"),
        "{findings}"
    );
    // Four real POSTs to the token endpoint from this page: three attacker's, one client's.
    assert_eq!(lab.token_requests().await, 4);
    // The attacker's lane is drawn, its refused steps carry the defence.
    assert_eq!(lab.count("#diagram .lane-name").await, 6);
    assert_eq!(lab.count("#diagram g.row.attacker").await, 3);
    assert!(lab.count("#diagram g.row.defence").await >= 3);
    // The lab's tokens are evidence only: no session is kept.
    assert_eq!(lab.count("#access-token").await, 0);
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn c_state_forged_callback_with_the_attackers_real_code_is_refused_before_any_token_request()
{
    let lab = Lab::start().await;
    // The attacker (bob) logs in to their own account in the lab's window (the lab's tab never
    // goes to the provider); the app then opens the forged link in the lab's tab.
    lab.click("#tab-attack").await;
    lab.click("#lab-experiments").await;
    lab.click("#run-forged-callback").await;
    sign_in_in_popup(&lab, "bob", &finished("forged-callback")).await;
    assert_eq!(
        lab.client.windows().await.expect("windows").len(),
        1,
        "the attacker's window is closed at the end"
    );
    let asked = rows(&lab, "RedirectToAuthorize").await;
    assert_eq!(asked.len(), 1, "one login, the attacker's: {asked:?}");
    tall_screenshot(&lab, "71-attack-forged-callback").await;
    let (forged, findings) = outcome(&lab, "forged-callback").await;
    assert_eq!(forged, "stopped", "{findings}");
    // The page the forged link landed on sent nothing to the token endpoint.
    assert_eq!(lab.token_requests().await, 0);
    let checks = rows(&lab, "CheckCallback").await;
    assert_eq!(checks.last().map(|c| c.0.as_str()), Some("failed"));
    assert!(
        lab.count("#diagram g.row.defence[data-kind=CheckCallback]")
            .await
            == 1
    );
    // The ghost path: what skipping the check would have done.
    assert_eq!(lab.count("#diagram g.row.ghost").await, 3);
    let ghost = lab
        .text("#diagram g.row.ghost[data-kind=TokenResponse]")
        .await;
    assert!(ghost.contains("ATTACKER"), "{ghost}");
    // The attacker's code never reached the address bar's history.
    assert!(!lab.url().await.contains("code="));
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rfc9700_2_1_downgrade_and_implicit_probes_are_refused_by_the_strict_provider() {
    let lab = Lab::start().await;
    let (downgrade, findings) = run_experiment(&lab, "pkce-downgrade").await;
    assert_eq!(downgrade, "stopped", "{findings}");
    assert_eq!(
        findings.matches("refused (invalid_request)").count(),
        2,
        "{findings}"
    );
    let (implicit, findings) = run_experiment(&lab, "implicit").await;
    assert_eq!(implicit, "stopped", "{findings}");
    assert!(findings.contains("unsupported_response_type"), "{findings}");
    let probes = rows(&lab, "ProbeAnswer").await;
    assert!(
        probes.iter().all(|(status, _)| status == "failed"),
        "{probes:?}"
    );
    // No code or token was handed out, and nothing of the answers is left in the URL.
    assert!(!lab.url().await.contains('?') && !lab.url().await.contains('#'));
    lab.screenshot("72-attack-probes-strict").await;
    lab.finish().await;
}

/// The scorecard's verdicts by check, read from the page.
async fn verdicts(lab: &Lab) -> Vec<(String, String)> {
    let value = lab
        .js(
            "return [...document.querySelectorAll('#scorecard tbody tr')]\
               .map(tr => [tr.id, tr.dataset.verdict]);",
            vec![],
        )
        .await;
    serde_json::from_value(value).unwrap_or_default()
}

const PROBES_DONE: &str = "document.querySelector('#checkup-login')";

#[tokio::test(flavor = "multi_thread")]
async fn checkup_of_the_strict_bundled_provider_is_all_green_after_one_login() {
    let lab = Lab::start().await;
    lab.configure(OFFLINE).await;
    run(&lab, "#run-checkup", "alice", PROBES_DONE).await;
    let open: Vec<String> = verdicts(&lab)
        .await
        .into_iter()
        .filter(|(_, v)| v == "unknown")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        open,
        [
            "check-CodeSingleUse",
            "check-ReplayRevokes",
            "check-RefreshRotates",
            "check-NoStore"
        ],
        "only the lines that need a code are open before the login"
    );
    run(
        &lab,
        "#checkup-login",
        "alice",
        "document.querySelector('#check-NoStore').dataset.verdict !== 'unknown'",
    )
    .await;
    tall_screenshot(&lab, "73-checkup-strict").await;
    let all = verdicts(&lab).await;
    assert_eq!(all.len(), 14);
    for (id, verdict) in &all {
        assert_eq!(
            verdict,
            "pass",
            "{id}: {}",
            lab.text(&format!("#{id}")).await
        );
    }
    assert!(lab.text("#checkup-summary").await.starts_with("14 pass"));
    // RFC 9700 §4.1.3: oidc-provider matches redirect URIs exactly. The control came back
    // (login_required), the four altered URIs got its own error page, never a redirect.
    let redirect = lab.text("#check-RedirectUriExact").await;
    assert!(
        redirect.contains("Every altered redirect URI was refused without a redirect")
            && redirect.matches("its own page, no redirect").count() == 4,
        "{redirect}"
    );
    lab.click("#export-scorecard").await;
    let markdown = lab
        .wait_css("#scorecard-markdown")
        .await
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default();
    assert!(
        markdown.contains("14 pass, 0 warn, 0 fail, 0 unknown"),
        "{markdown}"
    );
    assert!(markdown.contains("| Check | Verdict |") && markdown.contains("## Evidence"));
    assert!(
        markdown.contains("cache-control: no-store")
            || markdown.contains("Cache-Control: no-store")
    );
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn checkup_of_a_weak_provider_fails_each_weak_line_with_the_switch_to_drop() {
    let lab = Lab::start().await;
    let weak = lab.start_provider("", &[("LAB_WEAK", "all")]).await;
    lab.configure_provider(&weak.issuer, &weak.api, "openid profile read:profile")
        .await;
    run(&lab, "#run-checkup", "alice", PROBES_DONE).await;
    lab.screenshot("74-checkup-weak").await;
    let all: std::collections::HashMap<String, String> = verdicts(&lab).await.into_iter().collect();
    for (check, switch) in [
        ("PkceEnforced", "pkce_optional"),
        ("PlainRefused", "plain"),
        ("ImplicitRefused", "implicit"),
        ("TokenCors", "no_cors"),
        ("IssInResponse", "no_iss"),
    ] {
        let id = format!("check-{check}");
        assert_eq!(all.get(&id).map(String::as_str), Some("fail"), "{id}");
        let text = lab.text(&format!("#{id} .fix")).await;
        assert!(text.contains(switch), "{id} hint: {text}");
    }
    for check in ["IssuerExact", "S256Advertised"] {
        assert_eq!(
            all.get(&format!("check-{check}")).map(String::as_str),
            Some("pass")
        );
    }
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn against_a_weak_provider_the_downgrade_and_implicit_attacks_succeed_and_are_labelled() {
    let lab = Lab::start().await;
    // Weak on PKCE and implicit, CORS still open so the attacker can redeem what it gets.
    let weak = lab
        .start_provider("", &[("LAB_WEAK", "pkce_optional,plain,implicit,no_iss")])
        .await;
    lab.configure_provider(&weak.issuer, &weak.api, "openid profile read:profile")
        .await;
    // An ordinary login leaves a session and a grant at the provider, so the probes come back
    // with a code. (Not a lab login: its replay makes the provider revoke the grant.)
    lab.login_through_provider("alice", "wonderland").await;
    assert_eq!(lab.wait_phase(&["logged-in"]).await, "logged-in");
    let (downgrade, findings) = run_experiment(&lab, "pkce-downgrade").await;
    assert_eq!(downgrade, "attack worked", "{findings}");
    assert_eq!(
        findings
            .matches("the attacker then redeemed it: the provider handed out tokens")
            .count(),
        2,
        "{findings}"
    );
    let (implicit, findings) = run_experiment(&lab, "implicit").await;
    assert_eq!(implicit, "attack worked", "{findings}");
    let landed = rows(&lab, "ProbeAnswer").await;
    assert!(
        landed
            .last()
            .is_some_and(|(_, t)| t.contains("access token landed in the URL fragment")),
        "{landed:?}"
    );
    // Clearly labelled as a demonstration against a misconfigured server.
    assert!(lab.text("#weak-banner").await.contains("misconfigured"));
    // The token that landed in the URL was never kept: not in the URL, not in storage.
    assert!(!lab.url().await.contains("access_token"));
    let stored = lab.session_storage().await;
    for (at, _) in stored.match_indices("access_token=") {
        let shown: String = stored[at + 13..].chars().take(10).collect();
        assert!(
            shown.contains('…') || shown.contains('•'),
            "unmasked: {shown}"
        );
    }
    tall_screenshot(&lab, "75-attack-weak-provider").await;
    lab.finish().await;
}
