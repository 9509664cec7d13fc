//! The user's provider settings: all non-secret, so they may live in localStorage.

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
}

impl Default for ProviderSettings {
    fn default() -> Self {
        ProviderSettings {
            issuer: "http://127.0.0.1:9000".to_owned(),
            client_id: "flow-lab".to_owned(),
            scope: "openid profile read:profile read:files".to_owned(),
            api_base: "http://127.0.0.1:9001".to_owned(),
            client_type: ClientType::Public,
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
        problems
    }

    /// The JSON kept in localStorage.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads saved settings; anything unreadable gives the defaults.
    pub fn from_json(json: &str) -> Self {
        serde_json::from_str(json).unwrap_or_default()
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
        };
        assert_eq!(s.problems().len(), 3);
    }

    #[test]
    fn unknown_or_missing_fields_fall_back_to_defaults() {
        let s = ProviderSettings::from_json(r#"{"client_id":"x","extra":1}"#);
        assert_eq!(s.client_id, "x");
        assert_eq!(s.issuer, ProviderSettings::default().issuer);
    }
}
