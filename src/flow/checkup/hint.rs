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
        IssuerExact => "Configure the exact issuer of the discovery document (scheme, host, \
            path, trailing slash), or fix the provider's public URL."
            .into(),
        S256Advertised => "Enable PKCE with S256 and publish code_challenge_methods_supported \
            in the metadata."
            .into(),
        PkceEnforced => "Make PKCE mandatory for this client, so a request without \
            code_challenge is refused."
            .into(),
        PlainRefused => "Allow S256 only: turn the plain method off.".into(),
        PublicClients => "Register the app as a public client (token endpoint auth method \
            none): a secret shipped to a browser is not a secret."
            .into(),
        TokenCors => format!(
            "Allow this app's origin for CORS at the token endpoint{}.",
            cors_setting_for(preset_id)
                .map(|(_, s)| format!(" (where: {s})"))
                .unwrap_or_default()
        ),
        IssInResponse => "Turn on RFC 9207 iss in authorization responses; if the provider \
            cannot, give it a redirect URI of its own (RFC 9700 §4.4.2.2)."
            .into(),
        CodeSingleUse => "The provider must refuse a second redemption: upgrade it or report \
            the bug to the vendor."
            .into(),
        ReplayRevokes => "Revocation on replay is a SHOULD: if the provider cannot do it, keep \
            access tokens short-lived."
            .into(),
        RefreshRotates => "Turn on refresh token rotation (one-time refresh tokens) for public \
            clients, or shorten their lifetime."
            .into(),
        ImplicitRefused => {
            "Turn the implicit grant (response_type=token) off for this client.".into()
        }
        RedirectUriExact => "Register the exact redirect URI and make the provider compare it \
            as a string, byte for byte; it must show its own error page, never redirect, for \
            any other URI."
            .into(),
        NoStore => "Token responses must carry Cache-Control: no-store: upgrade the provider \
            or add the header at its proxy."
            .into(),
        Dpop => "Turn DPoP (RFC 9449) on at the provider with ES256 and publish \
            dpop_signing_alg_values_supported, so a browser app's tokens can be bound to a key \
            it cannot leak; then switch DPoP on in the Provider panel."
            .into(),
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
            let h = hint(check, BUNDLED);
            assert!(h.contains(switch) && h.contains("LAB_WEAK"), "{h}");
        }
        assert!(hint(Check::CodeSingleUse, BUNDLED).contains("by default"));
    }

    #[test]
    fn hints_are_preset_specific_short_and_fall_back() {
        let keycloak = hint(Check::PkceEnforced, "keycloak");
        assert!(keycloak.contains("Code Challenge Method = S256") && keycloak.contains(FROM_DOCS));
        assert!(hint(Check::PkceEnforced, "hydra").contains("enforced_for_public_clients"));
        assert!(hint(Check::TokenCors, "dex").contains("web.allowedOrigins"));
        let generic = hint(Check::PkceEnforced, "no-such-preset");
        assert!(generic.contains("mandatory") && !generic.contains(FROM_DOCS));
        for preset in crate::flow::presets::PRESETS {
            for check in Check::ALL {
                let h = hint(check, preset.id);
                assert!(
                    (20..=260).contains(&h.chars().count()),
                    "{check:?} {}: {h}",
                    preset.id
                );
            }
        }
    }
}
