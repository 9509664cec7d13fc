use super::*;
use crate::protocol::authorize::RESERVED_PARAMETERS;
use serde_json::{json, Map, Value};

#[test]
fn normalized_trims_and_collapses_scope() {
    let typed = ProviderSettings {
        issuer: " http://127.0.0.1:9000 ".into(),
        client_id: " flow-lab".into(),
        scope: " openid   read:profile ".into(),
        api_base: "http://127.0.0.1:9001/".into(),
        client_type: ClientType::Confidential,
        ..ProviderSettings::default()
    };
    let s = typed.normalized();
    assert_eq!(s.issuer, "http://127.0.0.1:9000");
    assert_eq!(s.scope, "openid read:profile");
    assert_eq!(s.api_base, "http://127.0.0.1:9001");
    assert!(!s.uses_pkce());
}

#[test]
fn settings_json_never_holds_a_secret() {
    let s = ProviderSettings {
        client_type: ClientType::Confidential,
        client_id: BUNDLED_CONFIDENTIAL_CLIENT.into(),
        ..ProviderSettings::default()
    };
    assert!(!s.to_json().contains(BUNDLED_CONFIDENTIAL_SECRET));
}

#[test]
fn empty_fields_are_reported_in_plain_words() {
    let s = ProviderSettings {
        issuer: String::new(),
        client_id: " ".into(),
        scope: String::new(),
        api_base: String::new(),
        client_type: ClientType::Public,
        ..ProviderSettings::default()
    };
    assert_eq!(s.problems().len(), 3);
}

#[test]
fn unknown_or_missing_fields_fall_back_to_defaults() {
    let s = ProviderSettings::from_json(r#"{"client_id":"x","extra":1}"#);
    assert_eq!(s.client_id, "x");
    assert_eq!(s.issuer, ProviderSettings::default().issuer);
}

#[test]
fn placeholder_left_in_the_issuer_is_a_problem() {
    let s = ProviderSettings {
        issuer: "https://{host}/realms/{realm}".into(),
        ..ProviderSettings::default()
    };
    assert!(s.problems()[0].contains("placeholder"));
}

#[test]
fn manual_endpoints_follow_the_discovery_rules() {
    let mut s = ProviderSettings {
        issuer: "https://as.example".into(),
        manual: true,
        ..ProviderSettings::default()
    };
    assert_eq!(s.problems().len(), 1, "{:?}", s.problems());
    s.endpoints.authorization_endpoint = " https://as.example/authorize ".into();
    s.endpoints.token_endpoint = "http://as.example/token".into();
    assert!(matches!(
        s.manual_metadata(),
        Err(DiscoveryError::InvalidEndpoint {
            name: "token_endpoint",
            ..
        })
    ));
    s.endpoints.token_endpoint = "https://as.example/token".into();
    s.endpoints.jwks_uri = "https://as.example/jwks".into();
    let m = s.manual_metadata().unwrap();
    assert_eq!(m.authorization_endpoint, "https://as.example/authorize");
    assert_eq!(m.jwks_uri.as_deref(), Some("https://as.example/jwks"));
    assert_eq!(m.revocation_endpoint, None);
    assert!(!m.iss_parameter_supported);
    assert!(m.code_challenge_methods_supported.is_empty());
    s.endpoints.userinfo_endpoint = "javascript:alert(1)".into();
    assert!(s.manual_metadata().is_err());
    s.endpoints.userinfo_endpoint = String::new();
    s.endpoints.authorization_endpoint = "https://as.example/authorize?response_type=token".into();
    assert!(
        s.manual_metadata().is_err(),
        "D-9 applies to typed endpoints too"
    );
}

/// Every member of the stored settings set to something other than its default.
fn every_member_set() -> ProviderSettings {
    ProviderSettings {
        issuer: "https://login.example.com/realms/lab".into(),
        client_id: "my app".into(),
        scope: "openid email".into(),
        api_base: "https://api.example.com".into(),
        client_type: ClientType::Confidential,
        preset: "keycloak".into(),
        manual: true,
        endpoints: ManualEndpoints {
            authorization_endpoint: "https://as.example/authorize".into(),
            token_endpoint: "https://as.example/token".into(),
            jwks_uri: "https://as.example/jwks".into(),
            userinfo_endpoint: "https://as.example/userinfo".into(),
            revocation_endpoint: "https://as.example/revoke".into(),
            end_session_endpoint: "https://as.example/logout".into(),
        },
        auth_params: AuthParams {
            audience: "https://api.example.com".into(),
            resource: "urn:example:api".into(),
            prompt: "login".into(),
            login_hint: "alice@example.com".into(),
            max_age: "300".into(),
            acr_values: "urn:mace:incommon:iap:silver".into(),
            ui_locales: "fr-CA en".into(),
            custom: "tenant=acme\norganization=org_1".into(),
        },
        dpop: Some(false),
        dpop_alg: Some("PS256".into()),
    }
}

/// [`every_member_set`] as the release before issue 14's size work wrote it to localStorage
/// (serde's derive, members in declaration order): the stored format, pinned.
const STORED_EVERY_MEMBER: &str = concat!(
    r#"{"issuer":"https://login.example.com/realms/lab","client_id":"my app","#,
    r#""scope":"openid email","api_base":"https://api.example.com","#,
    r#""client_type":"Confidential","preset":"keycloak","manual":true,"#,
    r#""endpoints":{"authorization_endpoint":"https://as.example/authorize","#,
    r#""token_endpoint":"https://as.example/token","jwks_uri":"https://as.example/jwks","#,
    r#""userinfo_endpoint":"https://as.example/userinfo","#,
    r#""revocation_endpoint":"https://as.example/revoke","#,
    r#""end_session_endpoint":"https://as.example/logout"},"#,
    r#""auth_params":{"audience":"https://api.example.com","resource":"urn:example:api","#,
    r#""prompt":"login","login_hint":"alice@example.com","max_age":"300","#,
    r#""acr_values":"urn:mace:incommon:iap:silver","ui_locales":"fr-CA en","#,
    r#""custom":"tenant=acme\norganization=org_1"},"dpop":false,"dpop_alg":"PS256"}"#
);

#[test]
fn stored_settings_round_trip_every_member_in_the_format_already_stored() {
    let s = every_member_set();
    assert_eq!(
        s.to_json(),
        STORED_EVERY_MEMBER,
        "the stored text is unchanged"
    );
    assert_eq!(ProviderSettings::from_json(&s.to_json()), s);
    assert_eq!(ProviderSettings::from_json(STORED_EVERY_MEMBER), s);
    let default = ProviderSettings::default();
    assert_eq!(ProviderSettings::from_json(&default.to_json()), default);
    let on = ProviderSettings {
        dpop: Some(true),
        ..every_member_set()
    };
    assert_eq!(ProviderSettings::from_json(&on.to_json()), on);
}

/// Members of the stored settings, top level then `endpoints` then `auth_params`, each with
/// the path to it in the JSON.
const STORED_MEMBERS: [(&str, &str); 25] = [
    ("", "issuer"),
    ("", "client_id"),
    ("", "scope"),
    ("", "api_base"),
    ("", "client_type"),
    ("", "preset"),
    ("", "manual"),
    ("", "endpoints"),
    ("", "auth_params"),
    ("", "dpop"),
    ("", "dpop_alg"),
    ("endpoints", "authorization_endpoint"),
    ("endpoints", "token_endpoint"),
    ("endpoints", "jwks_uri"),
    ("endpoints", "userinfo_endpoint"),
    ("endpoints", "revocation_endpoint"),
    ("endpoints", "end_session_endpoint"),
    ("auth_params", "audience"),
    ("auth_params", "resource"),
    ("auth_params", "prompt"),
    ("auth_params", "login_hint"),
    ("auth_params", "max_age"),
    ("auth_params", "acr_values"),
    ("auth_params", "ui_locales"),
    ("auth_params", "custom"),
];

/// The stored JSON of [`every_member_set`] with one member edited.
fn stored_with(path: &str, name: &str, edit: impl FnOnce(&mut Map<String, Value>, &str)) -> String {
    let mut value: Value = serde_json::from_str(STORED_EVERY_MEMBER).unwrap();
    let object = if path.is_empty() {
        &mut value
    } else {
        &mut value[path]
    };
    edit(object.as_object_mut().unwrap(), name);
    value.to_string()
}

#[test]
fn stored_settings_missing_members_take_their_defaults() {
    let all = every_member_set();
    for (path, name) in STORED_MEMBERS {
        let json = stored_with(path, name, |o, n| {
            o.remove(n);
        });
        let mut expected = all.clone();
        to_default(&mut expected, name);
        assert_eq!(
            ProviderSettings::from_json(&json),
            expected,
            "{path}.{name} missing"
        );
    }
    assert_eq!(
        ProviderSettings::from_json("{}"),
        ProviderSettings::default()
    );
    // `null` is "none" for the two optional members, as when they are missing.
    for name in ["dpop", "dpop_alg"] {
        let json = stored_with("", name, |o, n| {
            o.insert(n.into(), Value::Null);
        });
        let mut expected = all.clone();
        to_default(&mut expected, name);
        assert_eq!(ProviderSettings::from_json(&json), expected, "{name}: null");
    }
}

/// Sets the member `name` (names are unique across the levels) to its default.
fn to_default(s: &mut ProviderSettings, name: &str) {
    let d = ProviderSettings::default();
    let (e, p) = (&mut s.endpoints, &mut s.auth_params);
    match name {
        "issuer" => s.issuer = d.issuer,
        "client_id" => s.client_id = d.client_id,
        "scope" => s.scope = d.scope,
        "api_base" => s.api_base = d.api_base,
        "client_type" => s.client_type = d.client_type,
        "preset" => s.preset = d.preset,
        "manual" => s.manual = d.manual,
        "endpoints" => *e = d.endpoints,
        "auth_params" => *p = d.auth_params,
        "dpop" => s.dpop = d.dpop,
        "dpop_alg" => s.dpop_alg = d.dpop_alg,
        "authorization_endpoint" => e.authorization_endpoint.clear(),
        "token_endpoint" => e.token_endpoint.clear(),
        "jwks_uri" => e.jwks_uri.clear(),
        "userinfo_endpoint" => e.userinfo_endpoint.clear(),
        "revocation_endpoint" => e.revocation_endpoint.clear(),
        "end_session_endpoint" => e.end_session_endpoint.clear(),
        "audience" => p.audience.clear(),
        "resource" => p.resource.clear(),
        "prompt" => p.prompt.clear(),
        "login_hint" => p.login_hint.clear(),
        "max_age" => p.max_age.clear(),
        "acr_values" => p.acr_values.clear(),
        "ui_locales" => p.ui_locales.clear(),
        "custom" => p.custom.clear(),
        _ => panic!("no member {name}"),
    }
}

#[test]
fn stored_settings_unknown_members_are_ignored() {
    for path in ["", "endpoints", "auth_params"] {
        for extra in [
            json!(1),
            json!(null),
            json!({"deep": [1, {"x": "y"}]}),
            json!("s"),
        ] {
            let json = stored_with(path, "client_secret", |o, n| {
                o.insert(n.into(), extra.clone());
            });
            assert_eq!(
                ProviderSettings::from_json(&json),
                every_member_set(),
                "{path}: {extra}"
            );
        }
    }
}

/// A member of another type (or an enum value this app does not know) makes the whole
/// stored text unreadable: the page starts from the defaults, as before issue 14's size
/// work. A repeated member, a text that is not JSON or not an object, likewise.
#[test]
fn stored_settings_with_a_member_of_another_type_give_the_defaults() {
    for (path, name) in STORED_MEMBERS {
        let wrong: &[Value] = match name {
            "manual" => &[json!(null), json!("true"), json!(1), json!([]), json!({})],
            "dpop" => &[json!("on"), json!(0), json!([]), json!({})],
            "dpop_alg" => &[json!(5), json!(true), json!([]), json!({})],
            "client_type" => &[json!(null), json!("public"), json!("Other"), json!(0)],
            "endpoints" | "auth_params" => &[json!(null), json!("x"), json!(1), json!(true)],
            _ => &[json!(null), json!(1), json!(true), json!([]), json!({})],
        };
        for wrong in wrong {
            let json = stored_with(path, name, |o, n| {
                o.insert(n.into(), wrong.clone());
            });
            assert_eq!(
                ProviderSettings::from_json(&json),
                ProviderSettings::default(),
                "{path}.{name}: {wrong}"
            );
        }
    }
    for bad in [
        "",
        "not json",
        "[]",
        "null",
        r#"{"issuer":"https://a.example","issuer":"https://b.example"}"#,
        r#"{"endpoints":{"jwks_uri":"a","jwks_uri":"b"}}"#,
    ] {
        assert_eq!(
            ProviderSettings::from_json(bad),
            ProviderSettings::default(),
            "{bad}"
        );
    }
}

#[test]
fn settings_saved_before_presets_existed_still_load() {
    let s = ProviderSettings::from_json(
        r#"{"issuer":"http://127.0.0.1:9000","client_id":"flow-lab","scope":"openid","api_base":"x","client_type":"Public"}"#,
    );
    assert_eq!(s.preset, "bundled");
    assert!(!s.manual);
}

#[test]
fn p12_the_folded_line_names_the_issuer_the_client_and_dpop() {
    let mut s = ProviderSettings {
        issuer: " http://127.0.0.1:9000 ".into(),
        client_id: "flow-lab".into(),
        ..ProviderSettings::default()
    };
    assert_eq!(
        s.folded_line(true),
        "http://127.0.0.1:9000 · client flow-lab · DPoP on"
    );
    s.client_type = ClientType::Confidential;
    s.client_id = String::new();
    assert_eq!(
        s.folded_line(false),
        "http://127.0.0.1:9000 · no client id yet · PKCE off · DPoP off"
    );
    s.manual = true;
    assert!(s.folded_line(false).starts_with("manual endpoints · "));
    s.manual = false;
    s.issuer = String::new();
    assert!(s.folded_line(false).starts_with("no issuer yet · "));
}

#[test]
fn dpop_switch_follows_the_provider_until_set_and_rides_the_share_link() {
    let mut metadata = ProviderMetadata::default();
    let s = ProviderSettings::default();
    assert!(!s.dpop_on(None));
    assert!(!s.dpop_on(Some(&metadata)));
    metadata.dpop_signing_alg_values_supported = vec!["ES384".into()];
    assert!(
        !s.dpop_on(Some(&metadata)),
        "ES384 only: no key of this app can sign"
    );
    metadata.dpop_signing_alg_values_supported = vec!["EdDSA".into()];
    assert!(s.dpop_on(Some(&metadata)), "an Ed25519 key can");
    metadata
        .dpop_signing_alg_values_supported
        .push("ES256".into());
    assert!(s.dpop_on(Some(&metadata)));
    let off = ProviderSettings {
        dpop: Some(false),
        ..ProviderSettings::default()
    };
    assert!(!off.dpop_on(Some(&metadata)));
    let mut shared = ProviderSettings::default();
    assert!(shared.apply_share_query(&off.share_query()));
    assert_eq!(shared.dpop, Some(false));
    let on = ProviderSettings {
        dpop: Some(true),
        ..ProviderSettings::default()
    };
    let mut shared = ProviderSettings::default();
    shared.apply_share_query(&on.share_query());
    assert_eq!(shared.dpop, Some(true));
    assert!(!ProviderSettings::default().share_query().contains("dpop"));
    // The picked algorithm rides along; an unknown one is ignored.
    let ps = ProviderSettings {
        dpop_alg: Some("PS256".into()),
        ..ProviderSettings::default()
    };
    let mut shared = ProviderSettings::default();
    shared.apply_share_query(&ps.share_query());
    assert_eq!(shared.dpop_pick(), Some(DpopAlg::Ps256));
    shared.apply_share_query("dpop_alg=HS256");
    assert_eq!(shared.dpop_pick(), Some(DpopAlg::Ps256));
    let saved = ProviderSettings::from_json(r#"{"dpop_alg":"EdDSA"}"#);
    assert_eq!(saved.dpop_pick(), Some(DpopAlg::EdDsa));
    let unknown = ProviderSettings::from_json(r#"{"dpop_alg":"HS256"}"#);
    assert_eq!(unknown.dpop_pick(), None);
}

#[test]
fn share_link_round_trips_the_non_secret_settings_only() {
    let s = ProviderSettings {
        issuer: "https://login.example.com/realms/lab".into(),
        client_id: "my app".into(),
        scope: "openid email".into(),
        preset: "keycloak".into(),
        ..ProviderSettings::default()
    };
    let query = s.share_query();
    assert_eq!(
        query,
        "issuer=https%3A%2F%2Flogin.example.com%2Frealms%2Flab&client_id=my+app\
         &scope=openid+email&preset=keycloak"
    );
    let mut other = ProviderSettings::default();
    assert!(other.apply_share_query(&query));
    assert_eq!(other.issuer, s.issuer);
    assert_eq!(other.client_id, s.client_id);
    assert_eq!(other.scope, s.scope);
    assert_eq!(other.preset, "keycloak");
    assert_eq!(other.api_base, ProviderSettings::default().api_base);
}

#[test]
fn share_link_ignores_secrets_unknown_presets_and_junk() {
    let mut s = ProviderSettings::default();
    let before = s.clone();
    assert!(!s.apply_share_query(
        "client_secret=s3cr3t&code=x&preset=nope&issuer=%0Ahttps%3A%2F%2Fx&scope="
    ));
    assert_eq!(s, before);
    assert!(!s.to_json().contains("s3cr3t"));
    let long = format!("issuer=https://{}.example", "a".repeat(3000));
    assert!(!s.apply_share_query(&long));
}

fn with_params(edit: impl FnOnce(&mut AuthParams)) -> ProviderSettings {
    let mut s = ProviderSettings::default();
    edit(&mut s.auth_params);
    s
}

#[test]
fn oidc_3_1_2_1_named_parameters_are_sent_in_order_and_checked() {
    let s = with_params(|p| {
        p.audience = "https://api.example.com".into();
        p.prompt = "login consent".into();
        p.login_hint = " alice@example.com ".into();
        p.max_age = "300".into();
        p.ui_locales = "fr-CA  en".into();
        p.custom = "\n tenant = acme \norganization=org_1\n".into();
    });
    assert_eq!(
        s.authorization_parameters().unwrap(),
        [
            ("audience", "https://api.example.com"),
            ("prompt", "login consent"),
            ("login_hint", "alice@example.com"),
            ("max_age", "300"),
            ("ui_locales", "fr-CA en"),
            ("tenant", "acme"),
            ("organization", "org_1"),
        ]
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
    );
    assert!(s.problems().is_empty());
    for (edit, words) in [
        (with_params(|p| p.max_age = "-1".into()), "whole number"),
        (with_params(|p| p.max_age = "5m".into()), "whole number"),
        (
            with_params(|p| p.prompt = "none login".into()),
            "prompt=none",
        ),
        (
            with_params(|p| p.prompt = "always".into()),
            "select_account",
        ),
        (with_params(|p| p.login_hint = "a\u{7}".into()), "control"),
        (with_params(|p| p.custom = "tenant".into()), "no ="),
        (with_params(|p| p.custom = "a b=1".into()), "letters"),
        (with_params(|p| p.custom = "audience=x".into()), "twice"),
        (with_params(|p| p.custom = "t=1\nt=2".into()), "twice"),
    ] {
        let problems = edit.problems();
        assert!(
            problems.len() == 1 && problems[0].contains(words),
            "{words}: {problems:?}"
        );
    }
}

#[test]
fn rfc8707_2_resource_must_be_an_absolute_uri_without_fragment() {
    for good in [
        "https://api.example.com/",
        "urn:example:api",
        "http://127.0.0.1:9001",
    ] {
        assert!(check_parameter("resource", good).is_ok(), "{good}");
    }
    for bad in [
        "api.example.com",
        "/api",
        "https://api.example.com/#x",
        "https:",
        "1x:y",
    ] {
        let error = check_parameter("resource", bad).unwrap_err();
        assert!(error.contains("RFC 8707"), "{bad}: {error}");
    }
}

#[test]
fn d09_reserved_names_are_refused_as_extra_parameters() {
    // Only `prompt` has a field of its own; the rest are the app's own parameters.
    for name in RESERVED_PARAMETERS.iter().filter(|n| **n != "prompt") {
        let s = with_params(|p| p.custom = format!("{name}=x"));
        let problems = s.problems();
        assert!(
            problems.len() == 1 && problems[0].contains(&format!("\"{name}\" is refused")),
            "{name}: {problems:?}"
        );
    }
    let s = with_params(|p| p.custom = "prompt=none".into());
    assert!(
        s.problems()[0].contains("twice"),
        "prompt goes in its own field"
    );
}

// proptest is a host-only dev-dependency (Cargo.toml).
#[cfg(not(target_arch = "wasm32"))]
proptest::proptest! {
    #[test]
    fn d09_any_reserved_name_among_extra_lines_is_refused(
        reserved in proptest::sample::select(RESERVED_PARAMETERS.to_vec()),
        // Distinct names (map keys): a name given twice is a different refusal.
        before in proptest::collection::btree_map("[a-z]{1,8}", "[ -~]{0,12}", 0..3),
        after in proptest::collection::btree_map("[a-z]{1,8}", "[ -~]{0,12}", 0..3),
        value in "[ -~]{0,20}",
        pad in " {0,2}",
    ) {
        let mut lines: Vec<String> = before.iter().map(|(k, v)| format!("{k}_x={v}")).collect();
        lines.push(format!("{pad}{reserved}{pad}={value}"));
        lines.extend(after.iter().map(|(k, v)| format!("{k}_y={v}")));
        let s = with_params(|p| p.custom = lines.join("\n"));
        let error = s.authorization_parameters().unwrap_err();
        proptest::prop_assert!(error.contains(reserved), "{}", error);
        proptest::prop_assert!(s.share_query().split('&').all(|p| !p.starts_with("p.")));
    }

    #[test]
    fn d09_other_extra_names_are_sent_once_and_survive_the_share_link(
        name in "[a-z][a-z0-9_]{0,10}_x",
        value in "[ -~]{1,30}",
    ) {
        let s = with_params(|p| p.custom = format!("{name}={value}"));
        let sent = s.authorization_parameters().unwrap();
        // Without a value it counts as omitted (RFC 6749 §3.1) and is not sent.
        proptest::prop_assert_eq!(sent.len(), usize::from(!value.trim().is_empty()));
        let mut other = ProviderSettings::default();
        other.apply_share_query(&s.share_query());
        proptest::prop_assert_eq!(other.authorization_parameters().unwrap(), sent);
    }
}

#[test]
fn share_link_carries_the_extra_parameters_and_refuses_reserved_ones() {
    let s = with_params(|p| {
        p.login_hint = "alice".into();
        p.resource = "https://api.example.com/".into();
        p.custom = "tenant=acme".into();
    });
    let query = s.share_query();
    assert!(query.ends_with(
        "&p.resource=https%3A%2F%2Fapi.example.com%2F&p.login_hint=alice&p.tenant=acme"
    ));
    let mut other = with_params(|p| p.audience = "old".into());
    assert!(other.apply_share_query(&query));
    assert_eq!(
        other.auth_params, s.auth_params,
        "the link's setup replaces the saved one"
    );
    let mut other = ProviderSettings::default();
    other.apply_share_query("issuer=http%3A%2F%2F127.0.0.1%3A9000&p.state=x&p.max_age=soon");
    assert_eq!(other.auth_params, AuthParams::default());
}

#[test]
fn p15_typed_or_shared_issuer_of_another_server_leaves_the_preset() {
    let mut s = ProviderSettings::default();
    s.set_issuer("http://127.0.0.1:9000".into());
    assert_eq!(s.preset, "bundled");
    s.set_issuer("https://sso.example.org".into());
    assert_eq!(s.preset, crate::flow::presets::OTHER);
    let mut s = ProviderSettings::default();
    s.apply_share_query("issuer=https%3A%2F%2Fsso.example.org");
    assert_eq!(
        s.preset,
        crate::flow::presets::OTHER,
        "no bundled hints for it"
    );
    assert!(s.share_query().ends_with("preset=other"));
    let mut back = ProviderSettings::default();
    back.apply_share_query(&s.share_query());
    assert_eq!(back.preset, "other");
}
