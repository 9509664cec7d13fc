//! Host tests of the HAR import on HARs recorded by `tests/har_import.rs` from Chromium's
//! network events during real logins against the bundled provider (`tests/fixtures/har/`).

use super::*;

/// Findings' rows and the drawn kinds of a HAR recorded by `tests/har_import.rs` from Chromium's
/// network events during a real login against the bundled provider.
fn recorded(name: &str) -> Imported {
    import_har(&recorded_text(name)).unwrap()
}

/// The text of a recorded fixture.
fn recorded_text(name: &str) -> String {
    let path = format!("{}/tests/fixtures/har/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).expect("recorded fixture")
}

/// The value of the first `name=` in a recorded fixture (up to `&` or `"`): a secret the HAR
/// carried, which the drawn run must not show.
fn recorded_value(fixture: &str, name: &str) -> String {
    let text = recorded_text(fixture);
    text.split(&format!("{name}="))
        .nth(1)
        .and_then(|rest| rest.split(['&', '"']).next())
        .expect("the value in the recorded fixture")
        .to_owned()
}

#[test]
fn har_recorded_chromium_pkce_login_draws_the_login_with_no_failed_check() {
    let imported = recorded("chromium-pkce-login.har");
    use StepKind::*;
    let drawn: Vec<StepKind> = kinds(&imported)
        .into_iter()
        .filter(|k| *k != ServerCheck)
        .collect();
    assert_eq!(
        drawn,
        [
            Discover,
            RedirectToAuthorize,
            UserAtProvider,
            RedirectBack,
            CheckCallback,
            TokenRequest,
            TokenResponse,
            CheckIdTokenClaims,
            FetchJwks,
            ResourceRequest,
            ResourceResponse
        ]
    );
    assert!(
        imported
            .findings
            .iter()
            .all(|f| f.severity != Severity::Fail),
        "{:#?}",
        imported.findings
    );
    // The real provider's signature is left to WebCrypto (the e2e test checks it).
    assert!(imported.signature.is_some());
    // Chromium drops the discovery answer's body when the page leaves: said, not graded.
    assert!(imported.not_checked.iter().any(|n| n.contains("discovery")));
}

#[test]
fn r9700_05_bba03_har_recorded_pkce_off_login_has_both_findings() {
    let imported = recorded("chromium-pkce-off-login.har");
    let found = rows(&imported);
    assert_eq!(
        &found[..2],
        ["R9700-5", "BBA-3"],
        "{:#?}",
        imported.findings
    );
    assert!(!imported
        .timeline
        .to_json()
        .contains("demo-secret-not-secret"));
}

#[test]
fn c13_har_without_discovery_takes_the_answers_iss_as_given_and_says_so() {
    // A provider whose issuer has a path (Keycloak realms): without the discovery document the
    // issuer is unknown, which must not read as an iss mismatch.
    let text = chromium_har(&GOOD)
        .replace(
            "http%3A%2F%2F127.0.0.1%3A9090",
            "http%3A%2F%2F127.0.0.1%3A9090%2Frealms%2Fdemo",
        )
        .replace(&id_token(NONCE, "lab"), &{
            let exp = (T0 / 1000) + 3600;
            format!(
                "{}.{}.{}",
                b64(&json!({"alg": "RS256", "kid": "k1"})),
                b64(
                    &json!({"iss": "http://127.0.0.1:9090/realms/demo", "aud": "lab", "sub": "a",
                    "exp": exp, "iat": T0 / 1000, "nonce": NONCE})
                ),
                URL_SAFE_NO_PAD.encode([7u8; 256])
            )
        });
    let mut value: Value = serde_json::from_str(&text).unwrap();
    value["log"]["entries"]
        .as_array_mut()
        .unwrap()
        .retain(|e| !e["request"]["url"].as_str().unwrap().contains("well-known"));
    let imported = import_har(&value.to_string()).unwrap();
    assert!(
        imported
            .findings
            .iter()
            .all(|f| f.severity != Severity::Fail),
        "{:#?}",
        imported.findings
    );
    assert!(imported
        .not_checked
        .iter()
        .any(|n| n.contains("taken as given")));
}

#[test]
fn har_with_thousands_of_logins_is_bounded_and_says_so() {
    let text = chromium_har(&GOOD);
    let mut value: Value = serde_json::from_str(&text).unwrap();
    let login = value["log"]["entries"][4].clone();
    let back = value["log"]["entries"][8].clone();
    let entries = value["log"]["entries"].as_array_mut().unwrap();
    for _ in 0..5_000 {
        entries.push(login.clone());
        entries.push(back.clone());
    }
    let imported = import_har(&value.to_string()).unwrap();
    assert!(imported.timeline.len() <= 2_010);
    assert!(imported
        .not_checked
        .iter()
        .any(|n| n.contains("Only the first")));
}

#[test]
fn har_form_post_answer_is_read_as_the_redirect_back() {
    let text = chromium_har(&GOOD);
    let mut value: Value = serde_json::from_str(&text).unwrap();
    let entries = value["log"]["entries"].as_array_mut().unwrap();
    // response_mode=form_post: the provider's page POSTs the answer to the redirect URI.
    entries[8] = form_post(
        entry(3100, "POST", APP, "document", 200),
        &format!("code={CODE}&state={STATE}&iss=http%3A%2F%2F127.0.0.1%3A9090"),
    );
    entries.remove(9);
    let imported = import_har(&value.to_string()).unwrap();
    let back = imported
        .timeline
        .steps()
        .iter()
        .find(|s| s.kind == StepKind::RedirectBack)
        .expect("the redirect back is drawn");
    let x = back.exchange.as_ref().unwrap();
    assert_eq!((x.method.as_str(), x.url.as_str()), ("POST", APP));
    assert!(x.request_body.as_ref().unwrap().starts_with("code="));
    assert!(!x.request_body.as_ref().unwrap().contains(CODE));
    assert!(imported.findings.is_empty(), "{:#?}", imported.findings);
}

#[test]
fn s02_worker_report_json_holds_no_secret_and_the_page_can_still_reveal_each() {
    // The worker's answer to the page: the report as JSON, the values apart (issue 16 / 14).
    let imported = import_har(include_str!(
        "../../../../tests/fixtures/har/chromium-pkce-login.har"
    ))
    .unwrap();
    let original = imported.timeline.clone();
    let values: Vec<String> = original.secrets().exposed().map(str::to_owned).collect();
    assert!(
        !values.is_empty(),
        "the login carries a code, a verifier, tokens"
    );
    let (report, revealable) = wire::report(imported, "login.har");
    let json = serde_json::to_string(&report).unwrap();
    for value in &values {
        assert!(!json.contains(value.as_str()), "a secret in the JSON");
    }
    assert_eq!(revealable.len(), values.len());
    let received = wire::received(&json, revealable).unwrap();
    assert_eq!(received.timeline, original);
    assert_eq!(received.findings, report.findings);
    for (id, step) in original.steps().iter().enumerate() {
        for p in step.params.iter().filter(|p| p.secret) {
            assert_eq!(
                received
                    .timeline
                    .revealable(id, &p.name)
                    .map(|v| v.expose()),
                original.revealable(id, &p.name).map(|v| v.expose()),
                "{id} {}",
                p.name
            );
        }
    }
    // A value offered for a public parameter is not taken.
    let public = original
        .steps()
        .iter()
        .enumerate()
        .find_map(|(id, s)| {
            s.params
                .iter()
                .find(|p| !p.secret)
                .map(|p| (id, p.name.clone()))
        })
        .unwrap();
    let forged = wire::received(&json, vec![(public.0, public.1.clone(), "x".into())]).unwrap();
    assert!(forged.timeline.revealable(public.0, &public.1).is_none());
    assert!(wire::received("{", vec![])
        .unwrap_err()
        .contains("unreadable"));
}

/// The drawn kinds (server checks aside) and the findings (row, severity) of a recorded HAR.
fn graded(name: &str) -> (Vec<StepKind>, Vec<(&'static str, Severity)>) {
    let imported = recorded(name);
    let drawn = kinds(&imported)
        .into_iter()
        .filter(|k| *k != StepKind::ServerCheck)
        .collect();
    let found = imported
        .findings
        .iter()
        .map(|f| (f.row, f.severity))
        .collect();
    (drawn, found)
}

#[test]
fn r9700_07_har_recorded_plain_challenge_login_is_drawn_and_fails_only_pkce_plain() {
    // tests/har_import.rs r9700_7_…: the lab's plain probe request against LAB_WEAK=plain.
    use StepKind::*;
    let (drawn, found) = graded("chromium-weak-plain.har");
    assert_eq!(
        drawn,
        [
            RedirectToAuthorize,
            UserAtProvider,
            RedirectBack,
            CheckCallback,
            TokenRequest,
            TokenResponse,
            CheckIdTokenClaims
        ]
    );
    assert_eq!(found, [("R9700-7", Severity::Fail)]);
    let verifier = recorded_value("chromium-weak-plain.har", "code_verifier");
    let json = recorded("chromium-weak-plain.har").timeline.to_json();
    assert!(
        !json.contains(&verifier),
        "the plain challenge is the verifier"
    );
}

#[test]
fn r9700_09_c19_har_recorded_implicit_login_fails_implicit_and_the_fragment_callback() {
    // tests/har_import.rs r9700_9_…: the lab's implicit probe request against LAB_WEAK=implicit.
    use StepKind::*;
    let (drawn, found) = graded("chromium-weak-implicit.har");
    assert_eq!(
        drawn,
        [
            RedirectToAuthorize,
            UserAtProvider,
            RedirectBack,
            CheckCallback
        ]
    );
    assert_eq!(
        found,
        [("R9700-9", Severity::Fail), ("C-19", Severity::Fail)]
    );
    let token = recorded_value("chromium-weak-implicit.har", "access_token");
    assert!(token.len() > 8);
    let json = recorded("chromium-weak-implicit.har").timeline.to_json();
    assert!(
        !json.contains(&token),
        "the token that landed in the URL is shown"
    );
}

#[test]
fn t26_har_recorded_login_with_a_custom_header_warns_of_the_preflight_only() {
    // tests/har_import.rs t26_…: a CDP-injected fetch wrapper adds X-Requested-With.
    use StepKind::*;
    let (drawn, found) = graded("chromium-preflight-login.har");
    assert_eq!(
        drawn,
        [
            Discover,
            RedirectToAuthorize,
            UserAtProvider,
            RedirectBack,
            CheckCallback,
            TokenRequest,
            TokenResponse,
            CheckIdTokenClaims,
            FetchJwks
        ]
    );
    assert_eq!(found, [("T-26", Severity::Warn)]);
}
