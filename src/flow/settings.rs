//! The user's provider settings: all non-secret, so they may live in localStorage.

use crate::protocol::authorize::check_endpoint_query;
use crate::protocol::discovery::{validate_issuer, DiscoveryError, ProviderMetadata};
use crate::protocol::uri::HttpUrl;
use serde::{Deserialize, Serialize};

/// Which kind of client the app plays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientType {
    /// A public client with PKCE and no secret: the right choice for a browser.
    #[default]
    Public,
    /// The older confidential variant, PKCE off, a client secret on the back channel. Only for
    /// teaching: a browser cannot keep the secret.
    Confidential,
}

/// The bundled provider's confidential demo client (its secret is public, in this repository).
pub const BUNDLED_CONFIDENTIAL_CLIENT: &str = "flow-lab-confidential";
/// The bundled confidential demo client's secret, deliberately not secret.
pub const BUNDLED_CONFIDENTIAL_SECRET: &str = "demo-secret-not-secret-in-a-browser";

/// Where the app talks to and as whom. Never holds a secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProviderSettings {
    /// The issuer identifier; discovery is fetched from it.
    pub issuer: String,
    /// The public client's id registered at the provider.
    pub client_id: String,
    /// Space-separated scopes to request.
    pub scope: String,
    /// Base URL of the demo resource API (`/api/profile`, `/api/files`).
    pub api_base: String,
    /// Public client with PKCE, or the confidential teaching variant.
    pub client_type: ClientType,
    /// The preset the settings came from (`flow::presets`), for its hints and CORS setting.
    pub preset: String,
    /// Use [`ProviderSettings::endpoints`] instead of discovery.
    pub manual: bool,
    /// Endpoints typed by hand (used only when `manual` is set).
    pub endpoints: ManualEndpoints,
}

/// Endpoints typed by hand, for a provider without (or with a broken) discovery document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ManualEndpoints {
    /// Where the browser is sent to log in (required).
    pub authorization_endpoint: String,
    /// Where the code is redeemed (required).
    pub token_endpoint: String,
    /// The provider's signing keys (needed to verify ID tokens).
    pub jwks_uri: String,
    /// OpenID Connect UserInfo.
    pub userinfo_endpoint: String,
    /// RFC 7009 revocation.
    pub revocation_endpoint: String,
    /// RP-initiated logout.
    pub end_session_endpoint: String,
}

impl Default for ProviderSettings {
    fn default() -> Self {
        ProviderSettings {
            issuer: "http://127.0.0.1:9000".to_owned(),
            client_id: "flow-lab".to_owned(),
            scope: "openid profile read:profile read:files".to_owned(),
            api_base: "http://127.0.0.1:9001".to_owned(),
            client_type: ClientType::Public,
            preset: crate::flow::presets::BUNDLED.to_owned(),
            manual: false,
            endpoints: ManualEndpoints::default(),
        }
    }
}

impl ProviderSettings {
    /// Trims what the user typed and collapses runs of spaces in the scope.
    pub fn normalized(&self) -> ProviderSettings {
        ProviderSettings {
            issuer: self.issuer.trim().to_owned(),
            client_id: self.client_id.trim().to_owned(),
            scope: self.scope.split_whitespace().collect::<Vec<_>>().join(" "),
            api_base: self.api_base.trim().trim_end_matches('/').to_owned(),
            client_type: self.client_type,
            preset: self.preset.clone(),
            manual: self.manual,
            endpoints: ManualEndpoints {
                authorization_endpoint: self.endpoints.authorization_endpoint.trim().to_owned(),
                token_endpoint: self.endpoints.token_endpoint.trim().to_owned(),
                jwks_uri: self.endpoints.jwks_uri.trim().to_owned(),
                userinfo_endpoint: self.endpoints.userinfo_endpoint.trim().to_owned(),
                revocation_endpoint: self.endpoints.revocation_endpoint.trim().to_owned(),
                end_session_endpoint: self.endpoints.end_session_endpoint.trim().to_owned(),
            },
        }
    }

    /// Whether the login uses PKCE (always, except in the confidential teaching variant).
    pub fn uses_pkce(&self) -> bool {
        self.client_type == ClientType::Public
    }

    /// The secret to pre-fill when redeeming as the bundled confidential demo client.
    pub fn known_demo_secret(client_id: &str) -> Option<&'static str> {
        (client_id == BUNDLED_CONFIDENTIAL_CLIENT).then_some(BUNDLED_CONFIDENTIAL_SECRET)
    }

    /// Whether OpenID Connect was asked for.
    pub fn requests_openid(&self) -> bool {
        self.scope.split_whitespace().any(|s| s == "openid")
    }

    /// Plain-language problems with what was typed, before anything is sent.
    pub fn problems(&self) -> Vec<String> {
        let s = self.normalized();
        let mut problems = Vec::new();
        if s.issuer.is_empty() {
            problems.push("The issuer is empty: type the provider's issuer URL.".to_owned());
        }
        if s.client_id.is_empty() {
            problems.push(
                "The client id is empty: type the id of the public client you registered."
                    .to_owned(),
            );
        }
        if s.scope.is_empty() {
            problems.push("No scope is requested: add at least one, e.g. read:profile.".to_owned());
        }
        if s.issuer.contains('{') || s.issuer.contains('}') {
            problems.push(
                "The issuer still has a {placeholder} from the preset: replace it with your \
                 own value (see the setup hints)."
                    .to_owned(),
            );
        }
        if s.manual
            && (s.endpoints.authorization_endpoint.is_empty()
                || s.endpoints.token_endpoint.is_empty())
        {
            problems.push(
                "Manual endpoints are on, but the authorization or token endpoint is empty."
                    .to_owned(),
            );
        }
        problems
    }

    /// The metadata to use instead of discovery when the endpoints were typed by hand: every
    /// URL is held to the same rules as a discovered one (https except loopback, no fragment).
    /// Nothing is advertised, so PKCE support is unknown (a warning on the challenge step) and
    /// `iss` is checked only when the provider sends it.
    pub fn manual_metadata(&self) -> Result<ProviderMetadata, DiscoveryError> {
        let s = self.normalized();
        validate_issuer(&s.issuer)?;
        let required = |name: &'static str, value: &str| -> Result<String, DiscoveryError> {
            if value.is_empty() {
                return Err(DiscoveryError::MissingEndpoint(name));
            }
            HttpUrl::parse(value)
                .and_then(|url| url.require_secure())
                .map_err(|error| DiscoveryError::InvalidEndpoint { name, error })?;
            Ok(value.to_owned())
        };
        let optional =
            |name: &'static str, value: &str| -> Result<Option<String>, DiscoveryError> {
                if value.is_empty() {
                    Ok(None)
                } else {
                    required(name, value).map(Some)
                }
            };
        let e = &s.endpoints;
        Ok(ProviderMetadata {
            issuer: s.issuer.clone(),
            authorization_endpoint: {
                let url = required("authorization_endpoint", &e.authorization_endpoint)?;
                // D-9: a query of its own is kept, but must not pre-set this app's parameters.
                check_endpoint_query(&url).map_err(|error| DiscoveryError::InvalidEndpoint {
                    name: "authorization_endpoint",
                    error,
                })?;
                url
            },
            token_endpoint: required("token_endpoint", &e.token_endpoint)?,
            userinfo_endpoint: optional("userinfo_endpoint", &e.userinfo_endpoint)?,
            jwks_uri: optional("jwks_uri", &e.jwks_uri)?,
            revocation_endpoint: optional("revocation_endpoint", &e.revocation_endpoint)?,
            end_session_endpoint: optional("end_session_endpoint", &e.end_session_endpoint)?,
            warnings: vec![
                "Endpoints typed by hand: nothing is known about what the provider \
                supports (PKCE, iss in the response)."
                    .to_owned(),
            ],
            ..ProviderMetadata::default()
        })
    }

    /// The query of a shareable link that pre-fills the non-secret settings: issuer, client id,
    /// scopes and preset. Nothing else, and never a secret (there is none in the settings).
    pub fn share_query(&self) -> String {
        let s = self.normalized();
        crate::protocol::uri::form_encode(&[
            ("issuer", &s.issuer),
            ("client_id", &s.client_id),
            ("scope", &s.scope),
            ("preset", &s.preset),
        ])
    }

    /// Applies a shareable link's query (read once at load, when it is not an OAuth callback).
    /// Only `issuer`, `client_id`, `scope` and a known `preset` are read; values with control
    /// characters or longer than 2 KiB are ignored. Returns whether anything was applied.
    pub fn apply_share_query(&mut self, query: &str) -> bool {
        let mut applied = false;
        for (name, value) in crate::protocol::uri::parse_query(query) {
            if value.len() > 2048 || value.chars().any(char::is_control) {
                continue;
            }
            let value = value.trim().to_owned();
            if value.is_empty() {
                continue;
            }
            match name.as_str() {
                "issuer" => self.issuer = value,
                "client_id" => self.client_id = value,
                "scope" => self.scope = value,
                "preset" if crate::flow::presets::find(&value).is_some() => self.preset = value,
                _ => continue,
            }
            applied = true;
        }
        if applied {
            // A shared link is for a public client with discovery.
            self.manual = false;
            self.client_type = ClientType::Public;
        }
        applied
    }

    /// The JSON kept in localStorage.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads saved settings; anything unreadable gives the defaults. A missing member keeps its
    /// default, a member of the wrong type makes the whole text unreadable, unknown members are
    /// ignored.
    pub fn from_json(json: &str) -> Self {
        crate::protocol::document::load_stored(json).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        s.endpoints.authorization_endpoint =
            "https://as.example/authorize?response_type=token".into();
        assert!(
            s.manual_metadata().is_err(),
            "D-9 applies to typed endpoints too"
        );
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
}
