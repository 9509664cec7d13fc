//! Host tests of the timeline: the secrets kept out of it, its steps, and its stored format.

use super::*;

#[test]
fn s02_saved_timeline_never_contains_revealable_secret_values() {
    let mut timeline = Timeline::new();
    let step =
        Step::local(StepKind::GenerateVerifier, "Generate code_verifier", 1).with_params(vec![
            Param::secret(
                "code_verifier",
                "dBjf…jXk (43)".into(),
                "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            ),
        ]);
    timeline.push(step);
    let json = timeline.to_json();
    assert!(!json.contains("dBjftJeZ4CVP"), "secret leaked: {json}");
    let restored = Timeline::from_json(&json);
    assert_eq!(restored.steps()[0].params[0].shown, "dBjf…jXk (43)");
    assert!(restored.revealable(0, "code_verifier").is_none());
    assert!(restored.secrets().is_empty(), "values never leave memory");
    assert_eq!(
        timeline
            .revealable(0, "code_verifier")
            .map(SecretValue::expose),
        Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "the live run can still reveal it"
    );
}

#[test]
fn restored_run_marks_steps_left_active_as_failed() {
    let mut timeline = Timeline::new();
    let id = timeline.push(Step::new(
        StepKind::TokenRequest,
        Actor::ClientApp,
        Actor::AuthorizationServer,
        Channel::Back,
        "Exchange code",
        10,
    ));
    timeline.fail_unfinished("page was reloaded", 30);
    assert!(timeline.steps()[id].is_failed());
    assert_eq!(timeline.steps()[id].duration_ms, Some(20.0));
}

/// What storing keeps of a step: everything but secret values still carried by its params
/// (a step inside a timeline carries none: they moved to the store).
pub(crate) fn forget_secrets(step: &mut Step) {
    for p in &mut step.params {
        p.carried = Carried::default();
    }
}

/// A timeline with every kind of field: all actors, channels and statuses (a failed step),
/// an exchange, masked and public params, callout, difference, defence and ghost.
pub(crate) fn full_timeline() -> Timeline {
    let mut t = Timeline::new();
    t.push(
        Step::new(
            StepKind::TokenRequest,
            Actor::ClientApp,
            Actor::AuthorizationServer,
            Channel::Back,
            "Exchange \"code\"\n→ tokens",
            1_764_000_000_000,
        )
        .with_params(vec![
            Param::public("grant_type", "authorization_code"),
            Param::secret("code", "ab…yz (43)".into(), "THE-REAL-CODE"),
        ])
        .with_exchange(HttpExchange {
            method: "POST".into(),
            url: "https://as.example/token".into(),
            request_headers: vec![("Content-Type".into(), "x-www-form".into())],
            request_body: Some("code=%E2%80%A2".into()),
            status: Some(400),
            response_headers: vec![],
            response_body: None,
        })
        .with_note("note")
        .with_callout("callout")
        .with_difference("difference")
        .with_defence("PKCE"),
    );
    t.step_mut(0).unwrap().deviations = vec!["no iss".into()];
    t.push_failed(
        Step::new(
            StepKind::AttackResponse,
            Actor::AuthorizationServer,
            Actor::Attacker,
            Channel::Front,
            "ghost",
            5,
        )
        .as_ghost(),
        "refused: invalid_grant",
    );
    t.push_done(
        Step::new(
            StepKind::UserAtProvider,
            Actor::User,
            Actor::Browser,
            Channel::UserAction,
            "",
            6,
        ),
        12.5,
    );
    for (kind, status) in [
        (StepKind::ProbeAnswer, StepStatus::Pending),
        (StepKind::Discover, StepStatus::Active),
    ] {
        let id = t.push(Step::new(
            kind,
            Actor::ResourceServer,
            Actor::ResourceServer,
            Channel::Local,
            "x",
            7,
        ));
        t.step_mut(id).unwrap().status = status;
    }
    t
}

#[test]
fn saved_timeline_round_trips_every_field_but_the_revealable_secrets() {
    let t = full_timeline();
    let json = t.to_json();
    assert!(!json.contains("THE-REAL-CODE"), "secret leaked: {json}");
    assert!(!json.contains("revealable"), "{json}");
    let back = Timeline::from_json(&json);
    assert_eq!(back, t);
    assert!(back.secrets().is_empty() && t.revealable(0, "code").is_some());
    assert_eq!(back.to_json(), json);
}

#[test]
fn missing_defaulted_fields_read_as_their_defaults() {
    let json = full_timeline().to_json();
    let mut value = serde_json::from_str::<serde_json::Value>(&json).unwrap();
    for name in ["callout", "difference", "defence", "ghost"] {
        value["steps"][1].as_object_mut().unwrap().remove(name);
    }
    let back = Timeline::from_json(&value.to_string());
    let step = &back.steps()[1];
    assert!(step.is_failed() && step.callout.is_none() && step.defence.is_none());
    assert!(!step.ghost);
    // A required field missing makes the whole timeline unreadable.
    value["steps"][1].as_object_mut().unwrap().remove("label");
    assert!(Timeline::from_json(&value.to_string()).is_empty());
}

#[test]
fn unreadable_saved_timeline_restores_empty() {
    let good = full_timeline().to_json();
    for bad in [
        "{not json",
        "",
        "null",
        "[]",
        "{}",
        r#"{"steps":null}"#,
        r#"{"steps":[1]}"#,
        r#"{"steps":[],"steps":[]}"#,
        &good.replace("\"TokenRequest\"", "\"Nope\""),
        &good.replace("\"Back\"", "\"back\""),
        &good.replace("\"Failed\"", "\"Broken\""),
        &good.replace("1764000000000", "-1"),
        &good.replace("\"status\":400", "\"status\":70000"),
        &good.replace("\"secret\":true", "\"secret\":\"yes\""),
        &good.replace("\"note\":\"note\"", "\"note\":\"note\",\"note\":\"x\""),
        &format!("{}{}", "[".repeat(200), "]".repeat(200)),
    ] {
        assert!(Timeline::from_json(bad).is_empty(), "{bad}");
    }
    assert_eq!(Timeline::from_json(&good).len(), 5);
}

/// [`full_timeline`] as the release before issue 14's size work wrote it to sessionStorage
/// (serde's derive): the stored format, pinned.
const STORED_FULL: &str = concat!(
    r#"{"steps":[{"kind":"TokenRequest","from":"ClientApp","to":"AuthorizationServer","#,
    r#""channel":"Back","label":"Exchange \"code\"\n→ tokens","status":"Active","#,
    r#""started_at_ms":1764000000000,"duration_ms":null,"params":[{"name":"grant_type","#,
    r#""shown":"authorization_code","secret":false},{"name":"code","shown":"ab…yz (43)","#,
    r#""secret":true}],"exchange":{"method":"POST","url":"https://as.example/token","#,
    r#""request_headers":[["Content-Type","x-www-form"]],"request_body":"code=%E2%80%A2","#,
    r#""status":400,"response_headers":[],"response_body":null},"note":"note","#,
    r#""deviations":["no iss"],"callout":"callout","difference":"difference","#,
    r#""defence":"PKCE","ghost":false},{"kind":"AttackResponse","#,
    r#""from":"AuthorizationServer","to":"Attacker","channel":"Front","label":"ghost","#,
    r#""status":{"Failed":{"reason":"refused: invalid_grant"}},"started_at_ms":5,"#,
    r#""duration_ms":0.0,"params":[],"exchange":null,"note":"","deviations":[],"#,
    r#""callout":null,"difference":null,"defence":null,"ghost":true},"#,
    r#"{"kind":"UserAtProvider","from":"User","to":"Browser","channel":"UserAction","#,
    r#""label":"","status":"Ok","started_at_ms":6,"duration_ms":12.5,"params":[],"#,
    r#""exchange":null,"note":"","deviations":[],"callout":null,"difference":null,"#,
    r#""defence":null,"ghost":false},{"kind":"ProbeAnswer","from":"ResourceServer","#,
    r#""to":"ResourceServer","channel":"Local","label":"x","status":"Pending","#,
    r#""started_at_ms":7,"duration_ms":null,"params":[],"exchange":null,"note":"","#,
    r#""deviations":[],"callout":null,"difference":null,"defence":null,"ghost":false},"#,
    r#"{"kind":"Discover","from":"ResourceServer","to":"ResourceServer","channel":"Local","#,
    r#""label":"x","status":"Active","started_at_ms":7,"duration_ms":null,"params":[],"#,
    r#""exchange":null,"note":"","deviations":[],"callout":null,"difference":null,"#,
    r#""defence":null,"ghost":false}]}"#
);

#[test]
fn stored_timeline_written_before_reads_back_equal_and_is_written_the_same() {
    assert_eq!(full_timeline().to_json(), STORED_FULL);
    assert_eq!(Timeline::from_json(STORED_FULL), full_timeline());
}

/// Every step kind, actor, channel and status this app stores, by the names it stores them.
#[test]
fn stored_timeline_every_kind_actor_channel_and_status_reads_back() {
    use StepKind::*;
    let kinds = [
        Discover,
        GenerateVerifier,
        DeriveChallenge,
        GenerateState,
        SavePending,
        RedirectToAuthorize,
        UserAtProvider,
        RedirectBack,
        CheckCallback,
        TokenRequest,
        TokenResponse,
        ServerCheck,
        ResourceRequest,
        ResourceResponse,
        Logout,
        FetchJwks,
        VerifyIdToken,
        CheckIdTokenClaims,
        UserInfoRequest,
        UserInfoResponse,
        RefreshRequest,
        RefreshResponse,
        Revoke,
        EndSession,
        Intercept,
        AttackRequest,
        AttackResponse,
        ForgedLink,
        ProbeRequest,
        ProbeAnswer,
        Preflight,
        PreflightResponse,
    ];
    let actors = [Actor::ALL.as_slice(), &[Actor::Attacker]].concat();
    let channels = [
        Channel::Front,
        Channel::Back,
        Channel::Local,
        Channel::UserAction,
    ];
    let statuses = [
        StepStatus::Pending,
        StepStatus::Active,
        StepStatus::Ok,
        StepStatus::Failed {
            reason: "why".into(),
        },
    ];
    let mut t = Timeline::new();
    for (i, kind) in kinds.into_iter().enumerate() {
        let id = t.push(Step::new(
            kind,
            actors[i % actors.len()],
            actors[(i + 1) % actors.len()],
            channels[i % channels.len()],
            &format!("{kind:?}"),
            i as u64,
        ));
        t.step_mut(id).unwrap().status = statuses[i % statuses.len()].clone();
    }
    let json = t.to_json();
    for name in [r#""kind":"PreflightResponse""#, r#""from":"Attacker""#] {
        assert!(json.contains(name), "{name}: {json}");
    }
    assert_eq!(Timeline::from_json(&json), t);
    // serde's other spelling of a unit variant, an object with one `null` member, as before.
    let other = json.replacen(r#""kind":"Discover""#, r#""kind":{"Discover":null}"#, 1);
    let other = other.replacen(r#""status":"Ok""#, r#""status":{"Ok":null}"#, 1);
    assert_ne!(other, json);
    assert_eq!(Timeline::from_json(&other), t);
}

/// The stored JSON of [`full_timeline`] with one member edited: `at` is the path to the
/// object holding it (`steps/0/exchange`).
fn stored_edited(
    at: &str,
    edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> String {
    crate::protocol::document::edited_at(STORED_FULL, at, edit)
}

/// Where each stored member sits, with what its absence reads as: `None` when the whole
/// timeline is then unreadable (a required member), else the step changed as expected.
const STEP_MEMBERS: [&str; 16] = [
    "kind",
    "from",
    "to",
    "channel",
    "label",
    "status",
    "started_at_ms",
    "duration_ms",
    "params",
    "exchange",
    "note",
    "deviations",
    "callout",
    "difference",
    "defence",
    "ghost",
];

#[test]
fn stored_timeline_missing_members_are_none_or_default_or_make_it_unreadable() {
    let full = full_timeline();
    // Without `#[serde(default)]` a missing `Option` is `None`; the rest are required.
    for name in STEP_MEMBERS {
        let back = Timeline::from_json(&stored_edited("steps/0", |o| {
            o.remove(name);
        }));
        let mut expected = full.clone();
        let step = expected.step_mut(0).unwrap();
        match name {
            "duration_ms" => step.duration_ms = None,
            "exchange" => step.exchange = None,
            "callout" => step.callout = None,
            "difference" => step.difference = None,
            "defence" => step.defence = None,
            "ghost" => step.ghost = false,
            _ => {
                assert!(back.is_empty(), "{name} is required");
                continue;
            }
        }
        assert_eq!(back, expected, "{name} missing");
    }
    // The ghost step's `ghost: true` missing reads as false.
    let back = Timeline::from_json(&stored_edited("steps/1", |o| {
        o.remove("ghost");
    }));
    assert!(!back.steps()[1].ghost);
    for name in ["name", "shown", "secret"] {
        let json = stored_edited("steps/0/params/1", |o| {
            o.remove(name);
        });
        assert!(Timeline::from_json(&json).is_empty(), "param {name}");
    }
    for name in [
        "method",
        "url",
        "request_headers",
        "request_body",
        "status",
        "response_headers",
        "response_body",
    ] {
        let back = Timeline::from_json(&stored_edited("steps/0/exchange", |o| {
            o.remove(name);
        }));
        let mut expected = full.clone();
        let exchange = expected.step_mut(0).unwrap().exchange.as_mut().unwrap();
        match name {
            "request_body" => exchange.request_body = None,
            "status" => exchange.status = None,
            "response_body" => exchange.response_body = None,
            _ => {
                assert!(back.is_empty(), "exchange {name} is required");
                continue;
            }
        }
        assert_eq!(back, expected, "exchange {name} missing");
    }
    let json = stored_edited("steps/1/status/Failed", |o| {
        o.remove("reason");
    });
    assert!(Timeline::from_json(&json).is_empty(), "reason");
    assert!(Timeline::from_json(&stored_edited("", |o| {
        o.remove("steps");
    }))
    .is_empty());
}

#[test]
fn stored_timeline_unknown_members_are_ignored() {
    for at in [
        "",
        "steps/0",
        "steps/1",
        "steps/0/params/0",
        "steps/0/exchange",
        "steps/1/status/Failed",
    ] {
        for extra in [
            serde_json::json!(null),
            serde_json::json!(1),
            serde_json::json!({"x": [1, "y"]}),
        ] {
            let json = stored_edited(at, |o| {
                o.insert("unknown".into(), extra.clone());
            });
            assert_eq!(Timeline::from_json(&json), full_timeline(), "{at}: {extra}");
        }
    }
}

/// A member of another type anywhere (or a name this app does not store) makes the whole
/// stored timeline unreadable: the callback page starts an empty one, as before.
#[test]
fn stored_timeline_with_a_member_of_another_type_restores_empty() {
    use serde_json::json;
    let any_but_string = [json!(null), json!(1), json!(true), json!([]), json!({})];
    let mut cases: Vec<(&str, &str, Vec<serde_json::Value>)> = vec![
        (
            "steps/0",
            "kind",
            vec![
                json!("Nope"),
                json!("tokenRequest"),
                json!(1),
                json!(null),
                json!({}),
                json!({"TokenRequest": 1}),
            ],
        ),
        (
            "steps/0",
            "from",
            vec![json!("Server"), json!(0), json!(null)],
        ),
        ("steps/0", "to", vec![json!("user"), json!([]), json!(null)]),
        (
            "steps/0",
            "channel",
            vec![json!("back"), json!(true), json!(null)],
        ),
        (
            "steps/0",
            "status",
            vec![
                json!("Failed"),
                json!("Done"),
                json!(null),
                json!({}),
                json!({"Failed": {}}),
                json!({"Failed": {"reason": 1}}),
                json!({"Ok": 1}),
                json!({"Ok": null, "Active": null}),
            ],
        ),
        (
            "steps/0",
            "started_at_ms",
            vec![
                json!(-1),
                json!(1.5),
                json!("1"),
                json!(null),
                json!(18446744073709551616.0),
            ],
        ),
        (
            "steps/0",
            "duration_ms",
            vec![json!("1"), json!(true), json!([]), json!({})],
        ),
        (
            "steps/0",
            "params",
            vec![
                json!(null),
                json!({}),
                json!("x"),
                json!([1]),
                json!([null]),
            ],
        ),
        (
            "steps/0",
            "exchange",
            vec![json!(1), json!("x"), json!([]), json!(true)],
        ),
        (
            "steps/0",
            "deviations",
            vec![json!(null), json!("x"), json!([1]), json!([null])],
        ),
        (
            "steps/0",
            "ghost",
            vec![json!(null), json!(1), json!("true")],
        ),
        (
            "steps/0/params/0",
            "secret",
            vec![json!(null), json!("yes"), json!(1)],
        ),
        (
            "steps/0/exchange",
            "status",
            vec![json!(70000), json!(-1), json!(1.0), json!("200")],
        ),
        (
            "steps/0/exchange",
            "request_headers",
            vec![
                json!(null),
                json!([["a"]]),
                json!([["a", "b", "c"]]),
                json!([[1, "b"]]),
                json!(["ab"]),
                json!([{}]),
            ],
        ),
        (
            "steps/0/exchange",
            "response_headers",
            vec![json!({}), json!([["a", null]])],
        ),
    ];
    for name in ["label", "note"] {
        cases.push(("steps/0", name, any_but_string.to_vec()));
    }
    for name in ["callout", "difference", "defence"] {
        cases.push(("steps/0", name, any_but_string[1..].to_vec()));
    }
    for name in ["name", "shown"] {
        cases.push(("steps/0/params/1", name, any_but_string.to_vec()));
    }
    for name in ["method", "url"] {
        cases.push(("steps/0/exchange", name, any_but_string.to_vec()));
    }
    for name in ["request_body", "response_body"] {
        cases.push(("steps/0/exchange", name, any_but_string[1..].to_vec()));
    }
    cases.push(("steps/1/status/Failed", "reason", any_but_string.to_vec()));
    cases.push((
        "",
        "steps",
        vec![json!(null), json!({}), json!([1]), json!([[]]), json!("x")],
    ));
    for (at, name, wrong) in cases {
        for wrong in wrong {
            let json = stored_edited(at, |o| {
                o.insert(name.into(), wrong.clone());
            });
            assert!(
                Timeline::from_json(&json).is_empty(),
                "{at}/{name}: {wrong}"
            );
        }
    }
    // The same members with `null` where it means "none" are read.
    for (at, name) in [
        ("steps/0", "callout"),
        ("steps/0", "exchange"),
        ("steps/0/exchange", "status"),
        ("steps/0/exchange", "request_body"),
    ] {
        let json = stored_edited(at, |o| {
            o.insert(name.into(), serde_json::Value::Null);
        });
        assert_eq!(Timeline::from_json(&json).len(), 5, "{at}/{name}: null");
    }
}
