//! In-browser tests of the attack lab tab (no provider needed): a saved scorecard renders its
//! verdicts, fix hints and evidence, provider-controlled text stays text, and the
//! "misconfigured server" banner appears only when an attack really worked.
#![cfg(target_arch = "wasm32")]

use oauth_flow_lab::browser::storage;
use oauth_flow_lab::flow::attack::{Experiment, LabRecord, Outcome, Report};
use oauth_flow_lab::flow::checkup::{Check, Scorecard, Verdict};
use oauth_flow_lab::flow::timeline::{Actor, Channel, HttpExchange, Step, StepKind};
use oauth_flow_lab::App;
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

mod web_support;
use web_support::{click, settle, text};

/// Mounts the whole app after saving `record` as this tab's lab record; the guard also forgets
/// the record.
fn mount(record: &LabRecord) -> (Element, Forget<impl Drop>) {
    storage::save_lab(record);
    let (host, unmount) = web_support::mount(App);
    (host, Forget(unmount))
}

/// Unmounts (its field), then forgets the saved lab record.
struct Forget<T>(#[allow(dead_code)] T);

impl<T> Drop for Forget<T> {
    fn drop(&mut self) {
        storage::save_lab(&LabRecord::default());
    }
}

const HOSTILE: &str = "<img src=x onerror=alert(1)> Authorization Server policy";

fn weak_scorecard() -> LabRecord {
    let mut card = Scorecard::new(
        "http://127.0.0.1:9000",
        "flow-lab",
        "http://127.0.0.1:8080",
        "bundled",
    );
    let evidence = Step::new(
        StepKind::ProbeAnswer,
        Actor::AuthorizationServer,
        Actor::Attacker,
        Channel::Front,
        "Accepted: only a login is missing (login_required)",
        0,
    )
    .with_exchange(HttpExchange {
        method: "NAVIGATE".into(),
        url: "/?error=login_required&state=abcd…xyz (43)".into(),
        ..HttpExchange::default()
    });
    card.record(
        Check::PkceEnforced,
        Verdict::Fail,
        format!("Accepted a request without code_challenge: {HOSTILE}"),
        vec![evidence],
    );
    card.record(
        Check::NoStore,
        Verdict::Pass,
        "The token response carried Cache-Control: no-store.".into(),
        Vec::new(),
    );
    LabRecord {
        scorecard: Some(card),
        checkup_active: true,
        ..LabRecord::default()
    }
}

#[wasm_bindgen_test]
async fn x10_scorecard_shows_verdicts_hints_and_evidence_with_provider_text_as_text() {
    let (host, _guard) = mount(&weak_scorecard());
    settle().await;
    click(&host, "#tab-attack");
    settle().await;
    let row = "#check-PkceEnforced";
    let verdict = host
        .query_selector(row)
        .unwrap()
        .expect("the PKCE line")
        .get_attribute("data-verdict");
    assert_eq!(verdict.as_deref(), Some("fail"));
    // The fix names the bundled provider's switch to drop.
    assert!(text(&host, &format!("{row} .fix")).contains("pkce_optional"));
    // Provider text is rendered as text: no element was created from it.
    assert!(text(&host, row).contains("<img src=x"));
    assert!(host.query_selector("#scorecard img").unwrap().is_none());
    assert!(text(&host, &format!("{row} .evidence summary")).contains("Evidence (1)"));
    assert!(text(&host, &format!("{row} .evidence")).contains("login_required"));
    // A pass has no fix hint; lines not run are unknown.
    assert!(host
        .query_selector("#check-NoStore .fix")
        .unwrap()
        .is_none());
    assert!(text(&host, "#checkup-summary").starts_with("1 pass · 0 warn · 1 fail · 12 unknown"));
    // Nothing in this record says an attack worked.
    assert!(host.query_selector("#weak-banner").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn weak_banner_appears_only_when_an_attack_really_worked() {
    let report = |outcome| Report {
        experiment: Experiment::Implicit,
        outcome,
        findings: vec!["response_type=token: refused (unsupported_response_type).".into()],
    };
    let stopped = LabRecord {
        reports: vec![report(Outcome::Stopped)],
        ..LabRecord::default()
    };
    {
        let (host, _guard) = mount(&stopped);
        settle().await;
        click(&host, "#tab-attack");
        settle().await;
        assert_eq!(
            host.query_selector("#exp-implicit")
                .unwrap()
                .expect("the implicit card")
                .get_attribute("data-outcome")
                .as_deref(),
            Some("stopped")
        );
        assert!(text(&host, "#exp-implicit .findings").contains("unsupported_response_type"));
        assert!(host.query_selector("#weak-banner").unwrap().is_none());
    }
    let worked = LabRecord {
        reports: vec![report(Outcome::Succeeded)],
        ..LabRecord::default()
    };
    let (host, _guard) = mount(&worked);
    settle().await;
    click(&host, "#tab-attack");
    settle().await;
    assert!(text(&host, "#weak-banner").contains("misconfigured"));
}
