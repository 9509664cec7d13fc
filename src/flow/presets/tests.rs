use super::*;
use crate::protocol::discovery::{check_distinct_issuers, validate_issuer};

#[test]
fn bundled_provider_is_first_and_the_default() {
    assert_eq!(PRESETS[0].id, BUNDLED);
    let defaults = crate::flow::settings::ProviderSettings::default();
    assert_eq!(bundled().issuer_template, defaults.issuer);
    assert_eq!(bundled().client_id, defaults.client_id);
    assert_eq!(bundled().scope, defaults.scope);
}

#[test]
fn ids_and_issuers_are_distinct() {
    let mut ids: Vec<&str> = PRESETS.iter().map(|p| p.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), PRESETS.len());
    let issuers: Vec<&str> = PRESETS.iter().map(|p| p.issuer_template).collect();
    // D-15 / RFC 9207 §4: no two configured providers may share an issuer.
    assert_eq!(check_distinct_issuers(&issuers), Ok(()));
}

#[test]
fn complete_issuers_are_valid_and_templates_say_so() {
    for p in PRESETS {
        if p.issuer_needs_filling() {
            let filled = p
                .issuer_template
                .replace(['{', '}'], "")
                .replace("yourOktaDomain", "example.okta.com");
            assert!(validate_issuer(&filled).is_ok(), "{}: {filled}", p.id);
        } else {
            assert!(validate_issuer(p.issuer_template).is_ok(), "{}", p.id);
        }
    }
}

#[test]
fn every_preset_explains_setup_cors_and_its_verification() {
    for p in PRESETS {
        assert!(!p.setup.is_empty(), "{}", p.id);
        assert!(!p.cors_setting.is_empty(), "{}", p.id);
        assert!(!p.verified.is_empty() && !p.sources.is_empty(), "{}", p.id);
        assert!(p.scope.split(' ').all(|s| !s.is_empty()), "{}", p.id);
        // A pure browser client registers this page's redirect URI somewhere.
        if p.fit == Fit::PureBrowser {
            assert!(
                p.setup
                    .iter()
                    .any(|s| crate::text::plain(s).contains("{redirect_uri}")),
                "{} never names the redirect URI",
                p.id
            );
        }
    }
}

#[test]
fn github_and_google_explain_why_and_what_instead() {
    for id in ["github", "google"] {
        match find(id).unwrap().fit {
            Fit::NeedsBackend { why, instead } => {
                assert!(crate::text::plain(why).contains("secret"), "{id}");
                assert!(crate::text::plain(instead).contains("backend"), "{id}");
            }
            Fit::PureBrowser => panic!("{id} cannot be a pure browser client"),
        }
    }
    assert!(find("github").unwrap().endpoints.is_some(), "no discovery");
}

#[test]
fn p15_issuer_of_another_server_switches_the_preset_to_other() {
    // Still the preset's server: the template as given, or its placeholders filled in.
    assert_eq!(
        preset_for_issuer(BUNDLED, " http://127.0.0.1:9000 "),
        BUNDLED
    );
    assert_eq!(
        preset_for_issuer("keycloak", "https://{host}/realms/{realm}"),
        "keycloak"
    );
    assert_eq!(
        preset_for_issuer("keycloak", "https://sso.example.com/realms/lab"),
        "keycloak"
    );
    assert_eq!(
        preset_for_issuer("auth0", "https://acme.eu.auth0.com/"),
        "auth0"
    );
    // Another server: the bundled hints must not describe it.
    assert_eq!(preset_for_issuer(BUNDLED, "http://127.0.0.1:9100"), OTHER);
    assert_eq!(preset_for_issuer(BUNDLED, "http://127.0.0.1:9000/x"), OTHER);
    // A placeholder is one path segment, never empty, never several.
    assert_eq!(preset_for_issuer("keycloak", "https://h/realms/"), OTHER);
    assert_eq!(preset_for_issuer("keycloak", "https://h/x/realms/r"), OTHER);
    assert_eq!(preset_for_issuer("auth0", "https://acme.auth0.com/"), OTHER);
    // The live-verified local servers keep their preset over http on loopback only.
    for (id, issuer) in [
        ("glewlwyd", "http://127.0.0.1:9250/api/oidc"),
        ("lemonldap-ng", "http://127.0.0.1:9330"),
        ("lemonldap-ng", "http://localhost:9330"),
    ] {
        assert_eq!(preset_for_issuer(id, issuer), id, "{issuer}");
    }
    assert_eq!(
        preset_for_issuer("glewlwyd", "http://sso.example/api/oidc"),
        OTHER
    );
    assert_eq!(
        preset_for_issuer("glewlwyd", "http://127.0.0.1.evil/api/oidc"),
        OTHER
    );
    assert_eq!(preset_for_issuer("nope", "http://127.0.0.1:9000"), OTHER);
    assert_eq!(preset_for_issuer(OTHER, "http://127.0.0.1:9000"), OTHER);
    assert!(find(OTHER).is_none(), "no hints for another server");
}

#[test]
fn hints_are_filled_with_this_page() {
    let keycloak = find("keycloak").unwrap();
    let filled: Vec<String> = keycloak
        .setup
        .iter()
        .map(|s| {
            fill(
                &crate::text::plain(s),
                "http://127.0.0.1:8080/",
                "http://127.0.0.1:8080",
            )
        })
        .collect();
    assert!(filled
        .iter()
        .any(|s| s.contains("Valid redirect URIs = http://127.0.0.1:8080/ (exactly)")));
    assert!(filled.iter().all(|s| !s.contains("{origin}")));
    assert_eq!(
        cors_setting_for("keycloak"),
        Some(("Keycloak", "Client → Settings → Web origins"))
    );
    assert_eq!(cors_setting_for("nope"), None);
}
