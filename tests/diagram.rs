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
        row("ServerCheck", "local", "ok"),
        // Asked for while the code is redeemed: drawn with the token request.
        row("FetchJwks", "back", "ok"),
        row("TokenResponse", "back", "ok"),
        row("VerifyIdToken", "local", "ok"),
        row("CheckIdTokenClaims", "local", "ok"),
    ];
    assert_eq!(rows(&lab).await, expected);
    // The diagram resumed after the redirect: the steps before it are still drawn, and each
    // front-channel hop is two legs through the address bar (page → Browser → server, and back).
    assert_eq!(lab.count("#diagram g.row.ch-front path.arrow").await, 4);
    let redirect = lab
        .text("#diagram g.row[data-kind=RedirectToAuthorize]")
        .await;
    assert!(redirect.contains("location = URL"), "{redirect}");
    // The server's checks: the app's own BASE64URL(SHA-256(verifier)) beside the stored
    // challenge, tied to the authorization request, inferred from the 200.
    lab.click("#diagram g.row[data-kind=ServerCheck]").await;
    let check = lab.text("#inspector").await;
    assert!(
        check.contains("BASE64URL(SHA-256(code_verifier)) = code_challenge")
            && check.contains("Inferred from the answer: the server answered 200"),
        "{check}"
    );
    let drawn = lab.text("#diagram g.row[data-kind=ServerCheck]").await;
    assert!(drawn.contains("↑ from step 6"), "{drawn}");
    let values: Vec<String> = serde_json::from_value(
        lab.js(
            "return [...document.querySelectorAll('#inspector .params-table code.value')]\
               .map(c => c.textContent);",
            vec![],
        )
        .await,
    )
    .unwrap_or_default();
    assert_eq!(values.len(), 3, "{values:?}");
    assert!(
        values[0].contains('…'),
        "the verifier is masked: {values:?}"
    );
    assert_eq!(
        values[1], values[2],
        "hash computed here = challenge stored"
    );
    assert_eq!(values[1].len(), 43, "{values:?}");
    // Selecting the token request opens the inspector with the masked verifier.
    lab.click("#diagram g.row[data-kind=TokenRequest]").await;
    let inspector = lab.text("#inspector").await;
    assert!(inspector.contains("code_verifier"), "{inspector}");
    assert!(inspector.contains("Back channel"), "{inspector}");
    assert!(inspector.contains("HTTP 200"), "{inspector}");
    lab.screenshot("10-diagram-live").await;
    // Replay: step back with the keyboard, then the position shows one step fewer.
    lab.click("#replay-back").await;
    assert_eq!(lab.text("#replay-position").await, "14 / 15");
    // Back shows the remaining steps settled: nothing replays its arrival.
    assert_eq!(lab.count("#diagram g.row.newest").await, 0);
    assert_eq!(lab.count("#diagram .packet").await, 0);
    let last = lab
        .js(
            "const rows = document.querySelectorAll('#diagram g.row');\
             return rows[rows.length - 1].dataset.status;",
            vec![],
        )
        .await;
    assert_eq!(last, json!("ok"));
    lab.finish().await;
}

/// The diagram follows the active step: after Next, the step that arrived is inside the window.
#[tokio::test(flavor = "multi_thread")]
async fn the_diagram_scrolls_the_step_that_arrives_into_view() {
    let lab = Lab::start().await;
    lab.log_in_as_alice().await;
    lab.wait_phase(&["logged-in"]).await;
    let _ = lab.client.set_window_size(1280, 600).await;
    lab.click("#reduce-motion").await;
    for _ in 0..3 {
        lab.click("#replay-back").await;
    }
    lab.js("window.scrollTo(0, 0);", vec![]).await;
    lab.click("#replay-forward").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let inside = lab
        .js(
            "const rows = document.querySelectorAll('#diagram g.row');\
             const r = rows[rows.length - 1].getBoundingClientRect();\
             return [rows.length, r.top >= -1 && r.bottom <= innerHeight + 1, scrollY, r.top, r.bottom,\
                     innerHeight, document.documentElement.scrollHeight];",
            vec![],
        )
        .await;
    assert_eq!(inside[1], json!(true), "not scrolled into view: {inside}");
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
    // the exports' worker is started under the page's strict policy (no blob: script,
    // no 'unsafe-eval'); every document from here on records its violations.
    lab.watch_csp_violations().await;
    lab.log_in_as_alice().await;
    lab.wait_phase(&["logged-in"]).await;
    let fetched = "return performance.getEntriesByType('resource').map(e => e.name)\
                   .filter(n => n.includes('-worker'));";
    assert_eq!(
        lab.js(fetched, vec![]).await,
        json!([]),
        "the exporters' worker is not part of the first load"
    );
    // Each export is produced by the exports' Web Worker (loaded on the click, not at first load).
    let export = |button: &'static str| lab.export(button);
    let svg = export("#export-svg").await;
    assert!(
        svg.starts_with("<?xml") && svg.contains("<svg"),
        "{}",
        &svg[..svg.len().min(200)]
    );
    let mermaid = export("#export-mermaid").await;
    assert!(mermaid.starts_with("sequenceDiagram"), "{mermaid}");
    assert!(mermaid.contains("C->>AS: Exchange the code"), "{mermaid}");
    let har_text = export("#export-har").await;
    let har: Value = serde_json::from_str(&har_text).expect("HAR is JSON");
    // Produced by the worker, fetched only on the first click.
    let worker = lab.js(fetched, vec![]).await.to_string();
    assert!(worker.contains("export-worker-loader.js"), "{worker}");
    assert!(
        !worker.contains("har-worker"),
        "an export loads only its own worker: {worker}"
    );
    // Download: the file saved is the text the worker produced.
    let downloads = root()
        .join("target/e2e-downloads")
        .join(format!("{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&downloads);
    std::fs::create_dir_all(&downloads).expect("a downloads folder");
    lab.cdp(
        "Browser.setDownloadBehavior",
        json!({ "behavior": "allow", "downloadPath": downloads.to_string_lossy() }),
    )
    .await;
    lab.click(".export-output button.download").await;
    let saved = downloads.join("oauth-flow.har");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::read_to_string(&saved).ok().as_deref() != Some(har_text.as_str()) {
        assert!(
            std::time::Instant::now() < deadline,
            "the download {} never held the exported HAR",
            saved.display()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let violations = lab.csp_violations().await;
    assert!(violations.is_empty(), "CSP violations: {violations:?}");
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

/// Every drawn element of the real SVG whose box (getBBox, in the SVG's own units) leaves the
/// viewBox, as "kind step: tag class".
async fn outside_view_box(lab: &Lab) -> Vec<String> {
    let value = lab
        .js(
            "const svg = document.querySelector('#diagram');\
             const vb = svg.viewBox.baseVal; const out = [];\
             for (const e of svg.querySelectorAll('text, rect, circle, path, line')) {\
               if (e.closest('defs') || e.classList.contains('hit')) continue;\
               const b = e.getBBox(); if (b.width === 0 && b.height === 0) continue;\
               if (b.x < -0.5 || b.y < -0.5 || b.x + b.width > vb.width + 0.5\
                   || b.y + b.height > vb.height + 0.5) {\
                 const g = e.closest('g.row');\
                 out.push(`${g ? 'step ' + (+g.dataset.step + 1) + ' ' + g.dataset.kind : 'lanes'}: \
${e.tagName}.${e.getAttribute('class')} x ${b.x.toFixed(1)}..${(b.x + b.width).toFixed(1)} \
of ${vb.width}: ${(e.textContent || '').slice(0, 40)}`);\
               }\
             }\
             for (const g of svg.querySelectorAll('g.row')) {\
               const box = g.querySelector('.note-box'); if (!box) continue;\
               const n = box.getBBox();\
               for (const t of g.querySelectorAll('.label tspan, .chips tspan')) {\
                 const b = t.getBBox();\
                 if (b.x < n.x - 0.5 || b.x + b.width > n.x + n.width + 0.5)\
                   out.push(`step ${+g.dataset.step + 1}: text leaves its note box \
${b.x.toFixed(1)}..${(b.x + b.width).toFixed(1)} of ${n.x}..${n.x + n.width}: ${t.textContent}`);\
               }\
             }\
             return out;",
            vec![],
        )
        .await;
    serde_json::from_value(value).unwrap_or_default()
}

/// Checks the real SVG at 390, 1280 and 1920 px and saves a tall screenshot of each
/// (to `$E2E_SHOTS`, else target/e2e-screenshots).
async fn check_widths(lab: &Lab, name: &str) -> Vec<String> {
    let shots = std::env::var("E2E_SHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root().join("target/e2e-screenshots"));
    let _ = std::fs::create_dir_all(&shots);
    let mut outside = Vec::new();
    for width in [390u32, 1280, 1920] {
        let _ = lab.client.set_window_size(width, 2400).await;
        // The phone layout switches on resize; give it a frame to redraw.
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        for line in outside_view_box(lab).await {
            outside.push(format!("{name} at {width} px: {line}"));
        }
        let top = lab
            .js(
                "const r = document.querySelector('#diagram').getBoundingClientRect(); \
                 return Math.max(0, r.top + scrollY - 60);",
                vec![],
            )
            .await;
        lab.js("window.scrollTo(0, arguments[0]);", vec![top]).await;
        if let Ok(png) = lab.client.screenshot().await {
            let _ = std::fs::write(shots.join(format!("{name}-{width}.png")), png);
        }
    }
    let _ = lab.client.set_window_size(1280, 900).await;
    outside
}

/// L-1 in the browser: the drawn SVG (real text widths) stays inside its viewBox at every width,
/// for a live run with an API call and for each explain variant.
#[tokio::test(flavor = "multi_thread")]
async fn l1_the_real_svg_stays_inside_its_view_box_at_390_1280_and_1920_px() {
    let lab = Lab::start().await;
    lab.log_in_as_alice().await;
    lab.wait_phase(&["logged-in"]).await;
    lab.click("#call-profile").await;
    lab.wait_css("#diagram g.row[data-kind=ResourceResponse]")
        .await;
    let mut outside = check_widths(&lab, "live").await;
    lab.click("#tab-explain").await;
    outside.extend(check_widths(&lab, "explain-pkce").await);
    lab.click("#explain-pkce").await;
    outside.extend(check_widths(&lab, "explain-confidential").await);
    lab.click("#explain-implicit").await;
    outside.extend(check_widths(&lab, "explain-implicit").await);
    lab.finish().await;
    assert!(outside.is_empty(), "{}", outside.join("\n"));
}

/// L-1 for the attack lab, and P-7 drawn: each refused exchange's server-check note is failed
/// with the provider's real error; the client's own exchange is accepted.
#[tokio::test(flavor = "multi_thread")]
async fn l1_p07_refused_code_in_the_attack_lab_draws_the_servers_check_failed_and_fits() {
    let lab = Lab::start().await;
    lab.click("#tab-attack").await;
    lab.click("#lab-experiments").await;
    lab.js("window.__e2eActed = true;", vec![]).await;
    lab.click("#run-stolen-code").await;
    lab.continue_until(
        "alice",
        "wonderland",
        "document.querySelector('#exp-code-replay') && \
         document.querySelector('#exp-code-replay').dataset.outcome !== 'not run' && \
         !['discovering','redirecting','exchanging'].includes(document.querySelector('#lab').dataset.phase)",
    )
    .await;
    let checks: Vec<(String, String)> = serde_json::from_value(
        lab.js(
            "return [...document.querySelectorAll('#diagram g.row[data-kind=ServerCheck]')]\
               .filter(g => g.dataset.step && g.textContent.includes('Server checks'))\
               .map(g => [g.dataset.status, g.textContent]);",
            vec![],
        )
        .await,
    )
    .unwrap_or_default();
    // Two attacker redemptions refused by PKCE, the client's accepted, the replay refused.
    let statuses: Vec<&str> = checks.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(statuses, ["failed", "failed", "ok", "failed"], "{checks:?}");
    assert!(
        checks[1].1.contains("Refused: 400 invalid_grant"),
        "{checks:?}"
    );
    let outside = check_widths(&lab, "attack-refused-code").await;
    lab.finish().await;
    assert!(outside.is_empty(), "{}", outside.join("\n"));
}

/// The pitfall callouts, each on its step: in the inspector, on the row (a ⚠ with the text as
/// its title), in the SVG export and in the Mermaid export, for a live run and explain mode.
#[tokio::test(flavor = "multi_thread")]
async fn pitfall_callouts_sit_on_their_steps_in_the_inspector_and_the_exports() {
    let lab = Lab::start().await;
    lab.log_in_as_alice().await;
    lab.wait_phase(&["logged-in"]).await;
    let live = [
        ("CheckCallback", "logs you in to THEIR account"),
        ("TokenResponse", "an access token is not identity"),
    ];
    assert_callouts(&lab, "live", &live).await;
    lab.click("#tab-explain").await;
    // Explain mode is the live engine under a scripted driver: the same words as the live run.
    let explain = [
        ("CheckCallback", "logs you in to THEIR account"),
        ("TokenResponse", "an access token is not identity"),
    ];
    assert_callouts(&lab, "explain", &explain).await;
    lab.click("#explain-implicit").await;
    let implicit = [("RedirectBack", "must not use the implicit grant")];
    assert_callouts(&lab, "explain implicit", &implicit).await;
    lab.finish().await;
}

async fn assert_callouts(lab: &Lab, run: &str, callouts: &[(&str, &str)]) {
    let export = |button: &'static str| lab.export(button);
    let svg = export("#export-svg").await;
    let mermaid = export("#export-mermaid").await;
    for (kind, words) in callouts {
        lab.click(&format!("#diagram g.row[data-kind={kind}]"))
            .await;
        let callout = lab.text("#inspector .callout").await;
        assert!(
            callout.contains(words),
            "{run} {kind}: inspector callout {callout:?}"
        );
        let title = lab
            .js(
                "const g = document.querySelector(`#diagram g.row[data-kind=${arguments[0]}]`);\
                 const t = g && g.querySelector('.callout-mark title');\
                 return t ? t.textContent : '';",
                vec![json!(kind)],
            )
            .await;
        assert!(
            title.as_str().unwrap_or_default().contains(words),
            "{run} {kind}: no ⚠ on its row: {title}"
        );
        // The row's markup runs from its data-kind to the next row's.
        let in_svg = svg
            .split("data-kind=")
            .any(|row| row.starts_with(&format!("\"{kind}\"")) && row.contains(words));
        assert!(in_svg, "{run} {kind}: the SVG export lost the callout");
        assert!(
            mermaid
                .lines()
                .any(|l| l.contains('⚠') && l.contains(words)),
            "{run} {kind}: the Mermaid export lost the callout\n{mermaid}"
        );
    }
}

/// Runs axe-core (npm, installed by scripts/setup into tools/) on the page as it is now and
/// returns its violations, one line each.
async fn axe_violations(lab: &Lab) -> Vec<String> {
    let source = std::fs::read_to_string(root().join("tools/node_modules/axe-core/axe.min.js"))
        .expect("axe-core in tools/node_modules: run scripts/setup");
    lab.js(&format!("{source}\nreturn typeof window.axe;"), vec![])
        .await;
    let result = lab
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             axe.run(document, { rules: { 'label-content-name-mismatch': { enabled: true } } })\
               .then(r => done(r.violations.map(v => `${v.id} (${v.impact}): ` +\
                 v.nodes.slice(0, 6).map(n => n.target.join(' ')).join(', '))))\
               .catch(e => done([`axe failed: ${e}`]));",
            vec![],
        )
        .await
        .expect("axe runs");
    serde_json::from_value(result).unwrap_or_default()
}

/// Accessibility, measured: axe-core finds no violation on any tab (live after a login,
/// explain after a replay, the attack lab) in the light and the dark colour scheme.
#[tokio::test(flavor = "multi_thread")]
async fn a11y_axe_finds_no_violations_on_each_tab_in_light_and_dark() {
    let lab = Lab::start().await;
    lab.log_in_as_alice().await;
    lab.wait_phase(&["logged-in"]).await;
    let mut found = Vec::new();
    for scheme in ["light", "dark"] {
        lab.cdp(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        )
        .await;
        lab.click("#tab-live").await;
        lab.click("#diagram g.row[data-kind=TokenRequest]").await;
        for v in axe_violations(&lab).await {
            found.push(format!("live, {scheme}: {v}"));
        }
        lab.click("#tab-explain").await;
        lab.click("#replay-back").await;
        lab.click("#replay-back").await;
        lab.click("#replay-forward").await;
        for v in axe_violations(&lab).await {
            found.push(format!("explain, {scheme}: {v}"));
        }
        lab.click("#tab-attack").await;
        for v in axe_violations(&lab).await {
            found.push(format!("attack lab, {scheme}: {v}"));
        }
    }
    lab.finish().await;
    assert!(found.is_empty(), "{}", found.join("\n"));
}
