use super::*;
use crate::flow::problem::TransportError;
use crate::flow::scripted::fixtures::{checked_login, metadata_json as metadata, ISSUER};
use crate::flow::settings::ProviderSettings;
use crate::flow::timeline::StepStatus;
use crate::protocol::discovery::parse_metadata;
use crate::protocol::error::Side;
use crate::protocol::http::HttpResponse;

fn json(status: u16, body: &str) -> Result<HttpResponse, TransportError> {
    Ok(HttpResponse::json(status, body))
}

#[test]
fn discovery_tries_openid_appended_then_rfc8414_inserted() {
    assert_eq!(
        discovery_urls(ISSUER).unwrap(),
        [
            "https://as.example/realms/lab/.well-known/openid-configuration",
            "https://as.example/.well-known/oauth-authorization-server/realms/lab"
        ]
    );
    assert!(
        discovery_urls("http://as.example").is_err(),
        "https except loopback"
    );
}

#[test]
fn not_found_falls_back_but_a_wrong_document_stops_discovery() {
    let mut timeline = Timeline::new();
    let step = discovery_started(&mut timeline, "u", 0, 1);
    let failure =
        discovery_finished(&mut timeline, step, ISSUER, json(404, "{}"), true, 2).unwrap_err();
    assert!(failure.try_next && failure.network_origin.is_none());
    let reason = format!("{:?}", timeline.steps()[0].status);
    assert!(
        reason.contains("Trying the RFC 8414 location next"),
        "{reason}"
    );

    let step = discovery_started(&mut timeline, "u", 1, 3);
    assert!(timeline.steps()[step].label.contains("RFC 8414"));
    let other = metadata("https://evil.example");
    let failure =
        discovery_finished(&mut timeline, step, ISSUER, json(200, &other), false, 4).unwrap_err();
    assert!(
        !failure.try_next,
        "an issuer mismatch is never replaced silently"
    );
    assert!(failure.problem.what_happened.contains("evil.example"));

    let step = discovery_started(&mut timeline, "u", 0, 5);
    let network = Err(TransportError::Network {
        origin: "https://as.example".into(),
    });
    let failure = discovery_finished(&mut timeline, step, ISSUER, network, true, 6).unwrap_err();
    assert!(failure.try_next);
    assert_eq!(
        failure.network_origin.as_deref(),
        Some("https://as.example")
    );

    let step = discovery_started(&mut timeline, "u", 1, 7);
    let found = discovery_finished(
        &mut timeline,
        step,
        ISSUER,
        json(200, &metadata(ISSUER)),
        false,
        8,
    )
    .unwrap();
    assert!(found.iss_parameter_supported, "D-12 remembered");
    assert_eq!(timeline.steps()[step].status, StepStatus::Ok);
}

#[test]
fn cors_diagnosis_names_the_origin_and_the_preset_setting() {
    let problem = cors_diagnosis(
        "https://sso.example.com",
        "token endpoint",
        "http://127.0.0.1:8080",
        Some(("Keycloak", "Client → Settings → Web origins")),
    );
    assert_eq!(problem.whose_side, Side::Network);
    // The sentences the fault tests (T-26) look for are kept.
    assert!(problem
        .what_happened
        .contains("does not allow this page's origin (CORS)"));
    assert!(problem
        .what_happened
        .contains("origin, http://127.0.0.1:8080, on its token endpoint"));
    assert!(problem
        .what_to_do
        .contains("its CORS settings must allow this page's origin"));
    assert!(problem.what_to_do.contains(
        "register exactly http://127.0.0.1:8080 (scheme, host and port, no path and no \
             trailing slash) in Keycloak: Client → Settings → Web origins"
    ));
    let generic = cors_diagnosis("https://x", "discovery", "http://127.0.0.1:8080", None);
    assert!(generic.what_to_do.contains("allowed or web origins"));
}

#[test]
fn metadata_kept_for_the_tab_is_validated_again_when_read_back() {
    let parsed = parse_metadata(ISSUER, &HttpResponse::json(200, metadata(ISSUER))).unwrap();
    let document = metadata_document(&parsed);
    assert_eq!(metadata_from_document(ISSUER, &document), Some(parsed));
    // Read back for another issuer, or tampered, it is not used.
    assert_eq!(
        metadata_from_document("https://other.example", &document),
        None
    );
    let tampered = document.replace("https://as.example/token", "http://evil.example/token");
    assert_eq!(metadata_from_document(ISSUER, &tampered), None);
}

/// Every place a callback's step can be read from: the chips (shown and revealable), the
/// step's URL, the saved JSON, the diagram's geometry (what the SVG export draws) and the
/// Mermaid and HAR exports. Panics if `secret` is in any of them. `revealable`: whether it
/// may be kept in memory behind a reveal button (the run's own secrets), or not at all.
fn assert_nowhere(timeline: &Timeline, secret: &str, what: &str, revealable: bool) {
    for (id, step) in timeline.steps().iter().enumerate() {
        for p in &step.params {
            assert!(!p.shown.contains(secret), "{what}: chip {p:?}");
            let kept = timeline.revealable(id, &p.name).map(|v| v.expose());
            assert!(
                revealable || !kept.unwrap_or("").contains(secret),
                "{what}: kept in memory to reveal: {p:?}"
            );
        }
        if let Some(x) = &step.exchange {
            assert!(!x.url.contains(secret), "{what}: URL {}", x.url);
        }
        assert!(!step.label.contains(secret), "{what}: label");
    }
    let saved = timeline.to_json();
    assert!(!saved.contains(secret), "{what}: saved timeline {saved}");
    let drawn = format!(
        "{:?}",
        crate::diagram::layout::layout(timeline.steps(), 1200.0)
    );
    assert!(!drawn.contains(secret), "{what}: diagram (SVG export)");
    let mermaid = crate::diagram::export::to_mermaid(timeline);
    assert!(!mermaid.contains(secret), "{what}: Mermaid {mermaid}");
    let har = crate::diagram::export::to_har(timeline);
    assert!(!har.contains(secret), "{what}: HAR {har}");
}

#[test]
fn c17_s02_tokens_in_a_refused_callback_are_masked_in_chips_url_storage_and_exports() {
    const TOKEN: &str = "SECRETVALUE-access-token-0123456789";
    const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.SIGNATUREVALUE-jarm-0123";
    for (query, secret) in [
        (
            format!("?access_token={TOKEN}&token_type=bearer&state=abc"),
            TOKEN,
        ),
        (format!("?response={JWT}&state=abc"), JWT),
        (format!("?code=thecode12345&id_token={JWT}&state=abc"), JWT),
        (format!("?token={TOKEN}&state=abc"), TOKEN),
        (format!("?code=c&refresh_token={TOKEN}&state=abc"), TOKEN),
        (format!("?code=c&state=abc&unknown_param={TOKEN}"), TOKEN),
    ] {
        let mut timeline = Timeline::new();
        let _ = callback_received(&mut timeline, &query, "", 1_000);
        let (_, back) = timeline.last_of(StepKind::RedirectBack).expect("drawn");
        assert!(back.params.len() >= 2, "{query}: {:?}", back.params);
        assert_nowhere(&timeline, secret, &query, false);
    }
}

#[test]
fn s02_x08_a_whole_run_shows_no_secret_in_any_param_url_body_save_or_export() {
    let code = "SECRET-CODE-0123456789";
    let (mut timeline, call, [state, verifier, nonce]) =
        login_until_token_request(&ProviderSettings::default().scope, code);
    let (access, refresh) = ("SECRET-ACCESS-0123456789", "SECRET-REFRESH-0123456789");
    let body = format!(
        r#"{{"access_token":"{access}","token_type":"Bearer","refresh_token":"{refresh}","expires_in":60,"scope":"openid"}}"#
    );
    let tokens = token_response_received(&mut timeline, &call, json(200, &body), 4).unwrap();
    for secret in [state.as_str(), &verifier, &nonce, code, access, refresh] {
        assert_nowhere(&timeline, secret, secret, true);
        for step in timeline.steps() {
            let x = step.exchange.clone().unwrap_or_default();
            let headers = format!("{:?}{:?}", x.request_headers, x.response_headers);
            assert!(!headers.contains(secret), "headers of {:?}", step.kind);
            for body in [x.request_body, x.response_body].into_iter().flatten() {
                assert!(!body.contains(secret), "body of {:?}: {body}", step.kind);
            }
        }
    }
    assert_eq!(tokens.access_token.secret(), access);
}

/// Plans a login asking for `scope` with fixed entropy, comes back with `code`, and sends the
/// token request; returns the timeline, the call, and the state, verifier and nonce used.
fn login_until_token_request(scope: &str, code: &str) -> (Timeline, TokenCall, [String; 3]) {
    let mut timeline = Timeline::new();
    let login = checked_login(&mut timeline, scope, code);
    let call = token_request_started(&mut timeline, login.authorized, None, 3).unwrap();
    let nonce = login.nonce.expect("openid asked for");
    (timeline, call, [login.state, login.verifier, nonce])
}

/// Runs a login asking for `requested` whose token response grants `granted`; returns the
/// notes drawn on the token response step.
fn token_answer_notes(requested: &str, granted: &str) -> Vec<String> {
    let (mut timeline, call, _) = login_until_token_request(requested, "c0de");
    let body = format!(r#"{{"access_token":"a","token_type":"Bearer","scope":"{granted}"}}"#);
    token_response_received(&mut timeline, &call, json(200, &body), 4).unwrap();
    let (_, answer) = timeline.last_of(StepKind::TokenResponse).expect("drawn");
    answer.deviations.clone()
}

#[test]
fn rfc6749_3_3_token_response_step_notes_narrowed_scope_not_reordered_scope() {
    let same = token_answer_notes("openid read:profile", "read:profile openid");
    assert!(same.iter().all(|n| !n.contains("grant")), "{same:?}");
    let narrowed = token_answer_notes("openid read:profile read:files", "openid read:profile");
    assert!(
        narrowed
            .iter()
            .any(|n| n.contains("narrowed") && n.contains("read:files")),
        "{narrowed:?}"
    );
}

#[test]
fn c17_s02_harmless_callback_parameters_stay_readable() {
    let mut timeline = Timeline::new();
    let query = "?error=access_denied&error_description=User+said+no&state=abc\
                     &iss=https%3A%2F%2Fas.example&session_state=xyz.123&scope=openid";
    let _ = callback_received(&mut timeline, query, "", 1_000);
    let (_, back) = timeline.last_of(StepKind::RedirectBack).expect("drawn");
    let shown = |name: &str| {
        back.params
            .iter()
            .find(|p| p.name == name)
            .map(|p| (p.shown.clone(), p.secret))
    };
    assert_eq!(shown("error"), Some(("access_denied".into(), false)));
    assert_eq!(
        shown("error_description"),
        Some(("User said no".into(), false))
    );
    assert_eq!(shown("iss"), Some(("https://as.example".into(), false)));
    assert_eq!(shown("session_state"), Some(("xyz.123".into(), false)));
    assert_eq!(shown("scope"), Some(("openid".into(), false)));
    assert_eq!(
        shown("state").map(|s| s.1),
        Some(true),
        "state stays masked (X-8)"
    );
    let url = &back.exchange.as_ref().unwrap().url;
    assert!(url.contains("error_description=User said no"), "{url}");
    assert!(!url.contains("state=abc"), "{url}");
}

// proptest is a host-only dev-dependency (Cargo.toml).
#[cfg(not(target_arch = "wasm32"))]
proptest::proptest! {
    /// C-17, S-2 as a rule: whatever a parameter is called, unless the app knows the name
    /// to be harmless its value is masked everywhere the callback goes.
    #[test]
    fn c17_s02_any_parameter_not_known_harmless_is_masked_everywhere(
        name in "[a-z_]{1,16}",
        value in "Zq[A-Za-z0-9._~-]{10,60}",
        with_code in proptest::bool::ANY,
    ) {
        proptest::prop_assume!(
            !crate::protocol::callback::is_harmless_callback_parameter(&name)
                && name != "state" && name != "code"
        );
        let code = if with_code { "code=c0de&" } else { "" };
        let query = format!("?{code}{name}={value}&state=abc");
        let mut timeline = Timeline::new();
        let _ = callback_received(&mut timeline, &query, "", 1_000);
        proptest::prop_assert!(timeline.last_of(StepKind::RedirectBack).is_some());
        assert_nowhere(&timeline, &value, &query, false);
    }
}
