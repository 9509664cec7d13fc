use super::*;
use crate::flow::checkup::Scorecard;
use crate::flow::checkup::{Check, Verdict};
use crate::flow::problem::TransportError;
use crate::flow::timeline::tests::forget_secrets;
use crate::flow::timeline::{Actor, Step, StepKind, StepStatus, Timeline};
use crate::protocol::http::HttpResponse;
use crate::protocol::probe::ProbeKind;
use crate::protocol::token::TokenRequest;

fn refused() -> TokenAnswer {
    TokenAnswer::Refused {
        error: "invalid_grant".into(),
        status: 400,
    }
}

fn tokens() -> TokenAnswer {
    TokenAnswer::Tokens { refresh: false }
}

#[test]
fn rfc7636_stolen_code_refused_without_and_with_wrong_verifier_is_stopped() {
    let report = stolen_code_report(&refused(), &refused(), &tokens());
    assert_eq!(report.outcome, Outcome::Stopped);
    assert!(crate::text::plain(&report.findings[2]).contains("did not burn"));
}

#[test]
fn stolen_code_redeemed_by_the_attacker_is_reported_as_success() {
    let report = stolen_code_report(&tokens(), &refused(), &refused());
    assert_eq!(report.outcome, Outcome::Succeeded);
}

#[test]
fn a_provider_that_burns_the_code_after_a_failed_attempt_is_said_so() {
    let report = stolen_code_report(&refused(), &refused(), &refused());
    assert_eq!(report.outcome, Outcome::Stopped);
    assert!(crate::text::plain(&report.findings[2]).contains("burns a code"));
}

#[test]
fn rfc6749_4_1_2_replay_refused_and_tokens_revoked() {
    let report = replay_report(&refused(), Some(200), Some(401));
    assert_eq!(report.outcome, Outcome::Stopped);
    assert!(report.findings[1].contains("revoked them"));
    let kept = replay_report(&refused(), Some(200), Some(200));
    assert!(kept.findings[1].contains("SHOULD"));
    assert_eq!(
        replay_report(&tokens(), None, None).outcome,
        Outcome::Succeeded
    );
}

#[test]
fn rfc9700_2_1_1_downgrade_is_stopped_only_when_both_probes_were_clearly_refused() {
    let answer = |kind, accepted| DowngradeAnswer {
        kind,
        sentence: "x".into(),
        accepted,
    };
    let refused = [
        answer(ProbeKind::NoChallenge, Some(false)),
        answer(ProbeKind::PlainChallenge, Some(false)),
    ];
    assert_eq!(downgrade_report(&refused).outcome, Outcome::Stopped);
    let unclear = [
        answer(ProbeKind::NoChallenge, Some(false)),
        answer(ProbeKind::PlainChallenge, None),
    ];
    assert_eq!(downgrade_report(&unclear).outcome, Outcome::Unknown);
    let accepted = [answer(ProbeKind::NoChallenge, Some(true))];
    assert_eq!(downgrade_report(&accepted).outcome, Outcome::Succeeded);
}

#[test]
fn t26_cors_probe_is_readable_only_when_an_answer_came_back() {
    let mut t = Timeline::new();
    let (step, request) = cors_probe_started(
        &mut t,
        "http://127.0.0.1:9000/token",
        "http://127.0.0.1:8080/",
        "flow-lab",
        0,
    )
    .expect("a request");
    assert!(!request.body.contains("code_verifier"));
    let refused = HttpResponse::json(400, r#"{"error":"invalid_grant"}"#);
    assert!(cors_probe_answered(&mut t, step, Ok(refused), 3));
    assert_eq!(t.steps()[step].status, StepStatus::Ok);
    let (step, _) =
        cors_probe_started(&mut t, "http://127.0.0.1:9000/token", "r", "c", 4).expect("a request");
    let blocked = Err(TransportError::Network {
        origin: "http://127.0.0.1:9000".into(),
    });
    assert!(!cors_probe_answered(&mut t, step, blocked, 5));
    assert!(t.steps()[step].is_failed());
}

#[test]
fn forged_callback_stopped_by_state_draws_a_ghost_path_and_no_real_token_request() {
    let mut t = Timeline::new();
    let check = Step::local(StepKind::CheckCallback, "check", 0);
    t.push_failed(check, "unknown state");
    let report = forged_link_stopped(&mut t, 1);
    assert_eq!(report.outcome, Outcome::Stopped);
    let check = t.last_of(StepKind::CheckCallback).unwrap().1;
    assert!(check.defence.is_some());
    let ghosts: Vec<_> = t.steps().iter().filter(|s| s.ghost).collect();
    assert_eq!(ghosts.len(), 3);
    assert!(ghosts.iter().all(|s| s.status == StepStatus::Pending));
}

#[test]
fn forged_callback_that_passed_the_check_is_not_reported_as_stopped() {
    let mut t = Timeline::new();
    let check = Step::local(StepKind::CheckCallback, "check", 0);
    t.push_done(check, 0.0);
    assert_eq!(forged_link_stopped(&mut t, 1).outcome, Outcome::Succeeded);
}

#[test]
fn attack_answer_refusal_is_the_attackers_failure_with_the_defence_highlighted() {
    let mut t = Timeline::new();
    let request = TokenRequest {
        url: "http://127.0.0.1:9000/token".into(),
        body: "grant_type=authorization_code&code=abc".into(),
    };
    let step = attack_request(&mut t, "steal", &request, vec![], 0);
    let response = HttpResponse::json(
        400,
        r#"{"error":"invalid_grant","error_description":"PKCE verification failed"}"#,
    );
    let answer = attack_answer(&mut t, step, Ok(response), "PKCE", 5);
    assert_eq!(answer, refused());
    let last = t.steps().last().unwrap();
    assert_eq!(last.from, Actor::AuthorizationServer);
    assert_eq!(last.to, Actor::Attacker);
    assert!(last.is_failed());
    assert_eq!(last.defence.as_deref(), Some("PKCE"));
    assert!(t.has_attacker());
    // The code never appears unmasked in what is drawn or stored.
    assert!(!t.steps()[step]
        .exchange
        .as_ref()
        .unwrap()
        .request_body
        .as_ref()
        .unwrap()
        .contains("code=abc"));
}

#[test]
fn attack_answer_with_tokens_is_drawn_as_the_attack_working() {
    let mut t = Timeline::new();
    let request = TokenRequest {
        url: "http://127.0.0.1:9000/token".into(),
        body: "grant_type=authorization_code".into(),
    };
    let step = attack_request(&mut t, "steal", &request, vec![], 0);
    let response = HttpResponse::json(
        200,
        r#"{"access_token":"AT-secret","token_type":"Bearer","expires_in":60}"#,
    );
    let answer = attack_answer(&mut t, step, Ok(response), "PKCE", 5);
    assert_eq!(answer, TokenAnswer::Tokens { refresh: false });
    let last = t.steps().last().unwrap();
    assert!(!last.is_failed() && !last.deviations.is_empty());
    let stored = t.to_json();
    assert!(!stored.contains("AT-secret"));
}

#[test]
fn lab_record_takes_a_login_or_probe_only_once() {
    let mut record = LabRecord::default();
    record
        .logins
        .push(("s1".into(), LabLogin::CodeExperiments { checkup: true }));
    assert_eq!(
        record.take_login("s1"),
        Some(LabLogin::CodeExperiments { checkup: true })
    );
    assert_eq!(record.take_login("s1"), None);
}

/// A record with every field set, a scorecard with evidence among them.
fn full_record() -> LabRecord {
    let mut card = Scorecard::new("https://as.example", "app", "https://app.example", "auth0");
    let run = crate::flow::timeline::tests::full_timeline();
    card.record(
        Check::CodeSingleUse,
        Verdict::Fail,
        "redeemed twice".into(),
        run.steps()[..2].to_vec(),
    );
    card.record(Check::NoStore, Verdict::Pass, "no-store".into(), vec![]);
    LabRecord {
        reports: vec![Report {
            experiment: Experiment::PkceDowngrade,
            outcome: Outcome::Succeeded,
            findings: vec!["plain accepted".into(), "é😀\u{1}".into()],
        }],
        logins: vec![
            ("s1".into(), LabLogin::CodeExperiments { checkup: true }),
            ("s2".into(), LabLogin::CodeExperiments { checkup: false }),
        ],
        downgrade: vec![DowngradeAnswer {
            kind: ProbeKind::NoChallenge,
            sentence: "accepted".into(),
            accepted: None,
        }],
        scorecard: Some(card),
        unanswered: vec![ProbeKind::Implicit],
        probe_states: vec!["s1".into()],
        checkup_active: true,
        stolen_token: Some((Outcome::Stopped, vec!["✔ Stopped by DPoP".into()])),
    }
}

#[test]
fn lab_record_round_trips_with_its_scorecard() {
    let mut record = full_record();
    let json = record.to_json();
    assert!(!json.contains("THE-REAL-CODE"), "{json}");
    let back = LabRecord::from_json(&json);
    if let Some(card) = &mut record.scorecard {
        card.findings
            .iter_mut()
            .flat_map(|f| &mut f.evidence)
            .for_each(forget_secrets);
    }
    assert_eq!(back, record);
    assert_eq!(back.to_json(), json);
    assert_eq!(
        LabRecord::default(),
        LabRecord::from_json(&LabRecord::default().to_json())
    );
}

#[test]
fn unreadable_lab_record_is_the_empty_default() {
    let good = full_record().to_json();
    for bad in [
        "",
        "garbage",
        "null",
        "[]",
        "{}",
        "{\"reports\":[]}",
        &good.replace("\"PkceDowngrade\"", "\"Downgrade\""),
        // The attacker's login runs in the lab's window now: never a lab login of the tab.
        &good.replace(
            "{\"CodeExperiments\":{\"checkup\":false}}",
            "\"AttackerCode\"",
        ),
        &good.replace(
            "{\"CodeExperiments\":{\"checkup\":true}}",
            "\"CodeExperiments\"",
        ),
        &good.replace("\"NoChallenge\"", "2"),
        &good.replace(",\"sentence\":\"accepted\"", ""),
        &good.replace("\"Fail\"", "\"fail\""),
        &good.replace("1764000000000", "-1"),
        &good.replace("{\"check\":", "{\"check\":1,\"check\":"),
    ] {
        assert_ne!(bad, good);
        assert_eq!(LabRecord::from_json(bad), LabRecord::default(), "{bad}");
    }
    // Saved by an older build without `checkup_active`: it reads as false.
    let mut value = serde_json::from_str::<serde_json::Value>(&good).unwrap();
    value.as_object_mut().unwrap().remove("checkup_active");
    let back = LabRecord::from_json(&value.to_string());
    assert!(!back.checkup_active && back.logins.len() == 2);
}

#[test]
fn saved_scorecard_missing_lines_is_repaired() {
    let good = full_record().to_json();
    let mut value = serde_json::from_str::<serde_json::Value>(&good).unwrap();
    let findings = value["scorecard"]["findings"].as_array().unwrap().clone();
    // Keep two lines, in reverse order, one of them twice.
    let kept: Vec<_> = findings
        .into_iter()
        .filter(|f| f["check"] == "CodeSingleUse" || f["check"] == "NoStore")
        .rev()
        .collect();
    let mut twice = kept.clone();
    twice.push(kept[0].clone());
    value["scorecard"]["findings"] = twice.into();
    let back = LabRecord::from_json(&value.to_string());
    let card = back.scorecard.expect("the record is still readable");
    let order: Vec<Check> = card.findings.iter().map(|f| f.check).collect();
    assert_eq!(order, Check::ALL);
    assert_eq!(card.finding(Check::CodeSingleUse).verdict, Verdict::Fail);
    assert_eq!(card.finding(Check::CodeSingleUse).evidence.len(), 2);
    assert_eq!(card.finding(Check::NoStore).verdict, Verdict::Pass);
    assert_eq!(card.finding(Check::IssuerExact).verdict, Verdict::Unknown);
    assert_eq!(card.counts(), (1, 0, 1, 12));
}

/// [`full_record`] as the release before issue 14's size work wrote it to sessionStorage
/// (serde's derive): the stored format, pinned.
const STORED_RECORD: &str = concat!(
    r#"{"reports":[{"experiment":"PkceDowngrade","outcome":"Succeeded","#,
    r#""findings":["plain accepted","é😀\u0001"]}],"logins":[["s1","#,
    r#"{"CodeExperiments":{"checkup":true}}],["s2",{"CodeExperiments":{"checkup":false}}]],"#,
    r#""unanswered":["Implicit"],"probe_states":["s1"],"downgrade":[{"kind":"NoChallenge","#,
    r#""sentence":"accepted","accepted":null}],"scorecard":{"issuer":"https://as.example","#,
    r#""client_id":"app","origin":"https://app.example","preset":"auth0","#,
    r#""findings":[{"check":"IssuerExact","verdict":"Unknown","detail":"Not run yet.","#,
    r#""evidence":[],"hint":null},{"check":"S256Advertised","verdict":"Unknown","#,
    r#""detail":"Not run yet.","evidence":[],"hint":null},{"check":"PkceEnforced","#,
    r#""verdict":"Unknown","detail":"Not run yet.","evidence":[],"hint":null},"#,
    r#"{"check":"PlainRefused","verdict":"Unknown","detail":"Not run yet.","evidence":[],"#,
    r#""hint":null},{"check":"PublicClients","verdict":"Unknown","detail":"Not run yet.","#,
    r#""evidence":[],"hint":null},{"check":"TokenCors","verdict":"Unknown","#,
    r#""detail":"Not run yet.","evidence":[],"hint":null},{"check":"IssInResponse","#,
    r#""verdict":"Unknown","detail":"Not run yet.","evidence":[],"hint":null},"#,
    r#"{"check":"CodeSingleUse","verdict":"Fail","detail":"redeemed twice","#,
    r#""evidence":[{"kind":"TokenRequest","from":"ClientApp","to":"AuthorizationServer","#,
    r#""channel":"Back","label":"Exchange \"code\"\n→ tokens","status":"Active","#,
    r#""started_at_ms":1764000000000,"duration_ms":null,"params":[{"name":"grant_type","#,
    r#""shown":"authorization_code","secret":false},{"name":"code","shown":"ab…yz (43)","#,
    r#""secret":true}],"exchange":{"method":"POST","url":"https://as.example/token","#,
    r#""request_headers":[["Content-Type","x-www-form"]],"request_body":"code=%E2%80%A2","#,
    r#""status":400,"response_headers":[],"response_body":null},"note":"note","#,
    r#""deviations":["no iss"],"callout":"callout","difference":"difference","defence":"PKCE","#,
    r#""ghost":false},{"kind":"AttackResponse","from":"AuthorizationServer","to":"Attacker","#,
    r#""channel":"Front","label":"ghost","#,
    r#""status":{"Failed":{"reason":"refused: invalid_grant"}},"started_at_ms":5,"#,
    r#""duration_ms":0.0,"params":[],"exchange":null,"note":"","deviations":[],"callout":null,"#,
    r#""difference":null,"defence":null,"ghost":true}],"hint":"hint.the_provider_must"},"#,
    r#"{"check":"ReplayRevokes","verdict":"Unknown","detail":"Not run yet.","evidence":[],"#,
    r#""hint":null},{"check":"RefreshRotates","verdict":"Unknown","detail":"Not run yet.","#,
    r#""evidence":[],"hint":null},{"check":"ImplicitRefused","verdict":"Unknown","#,
    r#""detail":"Not run yet.","evidence":[],"hint":null},{"check":"RedirectUriExact","#,
    r#""verdict":"Unknown","detail":"Not run yet.","evidence":[],"hint":null},"#,
    r#"{"check":"NoStore","verdict":"Pass","detail":"no-store","evidence":[],"hint":null},"#,
    r#"{"check":"Dpop","verdict":"Unknown","detail":"Not run yet.","evidence":[],"#,
    r#""hint":null}]},"checkup_active":true,"stolen_token":["Stopped",["✔ Stopped by DPoP"]]}"#,
);

/// The record to expect back from storage: [`full_record`] without the secret values its
/// evidence still carries (storage never holds them).
fn stored_record() -> LabRecord {
    let mut record = full_record();
    if let Some(card) = &mut record.scorecard {
        card.findings
            .iter_mut()
            .flat_map(|f| &mut f.evidence)
            .for_each(forget_secrets);
    }
    record
}

#[test]
fn lab_record_stored_before_reads_back_equal_and_is_written_the_same() {
    assert_eq!(full_record().to_json(), STORED_RECORD);
    assert_eq!(LabRecord::from_json(STORED_RECORD), stored_record());
}

/// [`STORED_RECORD`] with the object at `at` (`scorecard/findings/7`) edited.
fn record_edited(
    at: &str,
    edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> String {
    crate::protocol::document::edited_at(STORED_RECORD, at, edit)
}

#[test]
fn lab_record_missing_members_are_none_or_default_or_make_it_unreadable() {
    let removed = |at: &str, name: &str| {
        LabRecord::from_json(&record_edited(at, |o| {
            o.remove(name);
        }))
    };
    let full = stored_record();
    for name in ["reports", "logins", "downgrade"] {
        assert_eq!(
            removed("", name),
            LabRecord::default(),
            "{name} is required"
        );
    }
    let mut expected = full.clone();
    expected.scorecard = None;
    assert_eq!(removed("", "scorecard"), expected);
    let mut expected = full.clone();
    expected.unanswered.clear();
    assert_eq!(removed("", "unanswered"), expected);
    let mut expected = full.clone();
    expected.probe_states.clear();
    assert_eq!(removed("", "probe_states"), expected);
    let mut expected = full.clone();
    expected.checkup_active = false;
    assert_eq!(removed("", "checkup_active"), expected);
    let mut expected = full.clone();
    expected.stolen_token = None;
    assert_eq!(removed("", "stolen_token"), expected);
    let mut expected = full.clone();
    expected.downgrade[0].accepted = None;
    assert_eq!(removed("downgrade/0", "accepted"), expected);
    let mut expected = full.clone();
    expected.scorecard.as_mut().unwrap().findings[7].hint = None;
    assert_eq!(removed("scorecard/findings/7", "hint"), expected);
    for (at, name) in [
        ("reports/0", "experiment"),
        ("reports/0", "outcome"),
        ("reports/0", "findings"),
        ("downgrade/0", "kind"),
        ("downgrade/0", "sentence"),
        ("scorecard", "issuer"),
        ("scorecard", "client_id"),
        ("scorecard", "origin"),
        ("scorecard", "preset"),
        ("scorecard", "findings"),
        ("scorecard/findings/7", "check"),
        ("scorecard/findings/7", "verdict"),
        ("scorecard/findings/7", "detail"),
        ("scorecard/findings/7", "evidence"),
        ("scorecard/findings/7/evidence/0", "label"),
        ("logins/0/1/CodeExperiments", "checkup"),
    ] {
        assert_eq!(
            removed(at, name),
            LabRecord::default(),
            "{at}/{name} is required"
        );
    }
}

#[test]
fn lab_record_unknown_members_are_ignored() {
    for at in [
        "",
        "reports/0",
        "logins/0/1/CodeExperiments",
        "downgrade/0",
        "scorecard",
        "scorecard/findings/7",
        "scorecard/findings/7/evidence/1",
    ] {
        let json = record_edited(at, |o| {
            o.insert("unknown".into(), serde_json::json!({"x": [1, null]}));
        });
        assert_eq!(LabRecord::from_json(&json), stored_record(), "{at}");
    }
}

/// A member of another type anywhere, or a name this app does not store, makes the whole
/// record unreadable: the lab starts empty, as before.
#[test]
fn lab_record_with_a_member_of_another_type_is_the_empty_default() {
    use serde_json::json;
    let cases: [(&str, &str, Vec<serde_json::Value>); 20] = [
        ("", "reports", vec![json!(null), json!({}), json!([1])]),
        (
            "",
            "logins",
            vec![
                json!(null),
                json!([["s"]]),
                json!([["s", "CodeExperiments"]]),
                json!([["s", {"CodeExperiments": null}]]),
                json!([[1, {"CodeExperiments": {"checkup": true}}]]),
            ],
        ),
        (
            "",
            "unanswered",
            vec![json!(null), json!(["Nope"]), json!([1])],
        ),
        (
            "",
            "probe_states",
            vec![json!(null), json!([1]), json!("s1")],
        ),
        ("", "downgrade", vec![json!(null), json!([null])]),
        ("", "scorecard", vec![json!(1), json!("x"), json!([])]),
        (
            "",
            "checkup_active",
            vec![json!(null), json!(1), json!("true")],
        ),
        (
            "",
            "stolen_token",
            vec![
                json!("Stopped"),
                json!(["Stopped"]),
                json!(["Stopped", ["a"], 1]),
                json!(["stopped", []]),
                json!(["Stopped", [1]]),
            ],
        ),
        (
            "reports/0",
            "experiment",
            vec![json!("Downgrade"), json!(null), json!(0)],
        ),
        (
            "reports/0",
            "outcome",
            vec![json!("succeeded"), json!(null)],
        ),
        (
            "reports/0",
            "findings",
            vec![json!(null), json!([1]), json!("x")],
        ),
        (
            "logins/0/1/CodeExperiments",
            "checkup",
            vec![json!(null), json!("true"), json!(1)],
        ),
        (
            "downgrade/0",
            "kind",
            vec![json!(2), json!("Plain"), json!(null)],
        ),
        ("downgrade/0", "accepted", vec![json!("yes"), json!(0)]),
        ("scorecard", "issuer", vec![json!(null), json!(1)]),
        (
            "scorecard",
            "findings",
            vec![json!(null), json!({}), json!([1])],
        ),
        (
            "scorecard/findings/7",
            "check",
            vec![json!("Nope"), json!(null), json!(1)],
        ),
        (
            "scorecard/findings/7",
            "verdict",
            vec![json!("fail"), json!(null)],
        ),
        (
            "scorecard/findings/7",
            "evidence",
            vec![json!(null), json!([1]), json!([{}])],
        ),
        (
            "scorecard/findings/7",
            "hint",
            vec![json!(1), json!([]), json!({})],
        ),
    ];
    for (at, name, wrong) in cases {
        for wrong in wrong {
            let json = record_edited(at, |o| {
                o.insert(name.into(), wrong.clone());
            });
            assert_eq!(
                LabRecord::from_json(&json),
                LabRecord::default(),
                "{at}/{name}: {wrong}"
            );
        }
    }
}
