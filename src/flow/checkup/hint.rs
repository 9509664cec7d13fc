//! The fix for a failed or weak check: the preset's own (typed data on the `Preset`, see
//! [`Fixes`]), else a generic one.

use super::Check;
use crate::flow::presets::{cors_setting_for, find, Fixes};

/// Appended to a provider-specific hint that comes from the vendor's documentation only.
const FROM_DOCS: &str = " (from the vendor's documentation)";

/// This preset's own fix for `check`, if it has one (exhaustive: a new check needs a field in
/// [`Fixes`], and every preset is then checked by the compiler).
pub fn preset_fix(fixes: &Fixes, check: Check) -> Option<&'static str> {
    match check {
        Check::IssuerExact => fixes.issuer_exact,
        Check::S256Advertised => fixes.s256_advertised,
        Check::PkceEnforced => fixes.pkce_enforced,
        Check::PlainRefused => fixes.plain_refused,
        Check::PublicClients => fixes.public_clients,
        Check::TokenCors => fixes.token_cors,
        Check::IssInResponse => fixes.iss_in_response,
        Check::CodeSingleUse => fixes.code_single_use,
        Check::ReplayRevokes => fixes.replay_revokes,
        Check::RefreshRotates => fixes.refresh_rotates,
        Check::ImplicitRefused => fixes.implicit_refused,
        Check::RedirectUriExact => fixes.redirect_uri_exact,
        Check::NoStore => fixes.no_store,
        // No preset documents a DPoP setting yet: the generic fix applies.
        Check::Dpop => None,
    }
}

/// The fix for a failed or weak check with this provider preset: the preset's own setting when
/// known (for the bundled provider, the `LAB_WEAK` switch to drop), else a generic fix.
pub fn hint(check: Check, preset_id: &str) -> String {
    use Check::*;
    if let Some(preset) = find(preset_id) {
        if let Some(specific) = preset_fix(&preset.fixes, check) {
            let source = if preset.fixes.from_docs {
                FROM_DOCS
            } else {
                ""
            };
            return format!("{specific}{source}");
        }
    }
    match check {
        IssuerExact => t!("hint.configure_the_exact").into(),
        S256Advertised => t!("hint.enable_pkce_with").into(),
        PkceEnforced => t!("hint.make_pkce_mandatory").into(),
        PlainRefused => t!("hint.allow_s256_only").into(),
        PublicClients => t!("hint.register_the_app").into(),
        TokenCors => format!(
            "Allow this app's origin for CORS at the token endpoint{}.",
            cors_setting_for(preset_id)
                .map(|(_, s)| format!(" (where: {s})"))
                .unwrap_or_default()
        ),
        IssInResponse => t!("hint.turn_on_rfc").into(),
        CodeSingleUse => t!("hint.the_provider_must").into(),
        ReplayRevokes => t!("hint.revocation_on_replay").into(),
        RefreshRotates => t!("hint.turn_on_refresh").into(),
        ImplicitRefused => t!("hint.turn_the_implicit").into(),
        RedirectUriExact => t!("hint.register_the_exact").into(),
        NoStore => t!("hint.token_responses_must").into(),
        Dpop => t!("hint.turn_dpop_rfc").into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::presets::BUNDLED;

    #[test]
    fn bundled_hints_name_the_lab_weak_switch_to_drop() {
        for (check, switch) in [
            (Check::PkceEnforced, "pkce_optional"),
            (Check::PlainRefused, "without plain"),
            (Check::ImplicitRefused, "implicit"),
            (Check::TokenCors, "no_cors"),
            (Check::IssInResponse, "no_iss"),
        ] {
            let h = crate::text::plain(&hint(check, BUNDLED));
            assert!(h.contains(switch) && h.contains("LAB_WEAK"), "{h}");
        }
        assert!(crate::text::plain(&hint(Check::CodeSingleUse, BUNDLED)).contains("by default"));
    }

    #[test]
    fn hints_are_preset_specific_short_and_fall_back() {
        let keycloak = crate::text::plain(&hint(Check::PkceEnforced, "keycloak"));
        assert!(keycloak.contains("Code Challenge Method = S256") && keycloak.contains(FROM_DOCS));
        assert!(crate::text::plain(&hint(Check::PkceEnforced, "hydra"))
            .contains("enforced_for_public_clients"));
        assert!(crate::text::plain(&hint(Check::TokenCors, "dex")).contains("web.allowedOrigins"));
        let generic = crate::text::plain(&hint(Check::PkceEnforced, "no-such-preset"));
        assert!(generic.contains("mandatory") && !generic.contains(FROM_DOCS));
        for preset in crate::flow::presets::PRESETS {
            for check in Check::ALL {
                let h = crate::text::plain(&hint(check, preset.id));
                assert!(
                    (20..=260).contains(&h.chars().count()),
                    "{check:?} {}: {h}",
                    preset.id
                );
            }
        }
    }
}
