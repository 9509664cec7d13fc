//! The user's provider settings: all non-secret, so they may live in localStorage.

use crate::protocol::authorize::check_endpoint_query;
use crate::protocol::discovery::{validate_issuer, DiscoveryError, ProviderMetadata};
use crate::protocol::document::{stored_or_default, FromStored, Map, Value};
use crate::protocol::dpop::{allowed_algs, DpopAlg};
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

/// Where the app talks to and as whom. Never holds a secret. Written by serde's derive; read
/// from the parsed object (see the `TryFrom` below).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Map<String, Value>")]
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
    /// Extra authorization request parameters (`audience`, `login_hint`, …).
    pub auth_params: AuthParams,
    /// DPoP (RFC 9449) switch: `None` follows the provider (on when its metadata lists
    /// `dpop_signing_alg_values_supported` with an algorithm this app signs with), `Some` is
    /// the user's choice.
    pub dpop: Option<bool>,
    /// The proof algorithm the user picked, by name (`None`: ES256 when allowed, else the
    /// first allowed; see `protocol::dpop::choose_alg`). A plain string, so the settings'
    /// serde code needs no enum of its own.
    pub dpop_alg: Option<String>,
}

/// Endpoints typed by hand, for a provider without (or with a broken) discovery document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
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
            auth_params: AuthParams::default(),
            dpop: None,
            dpop_alg: None,
        }
    }
}

/// The stored settings are read from the parsed object, member by member, with the rules
/// serde's derive had under `#[serde(default)]`: a missing member takes its default, an unknown
/// one is ignored, `null` is "none" for `dpop` and `dpop_alg` only, and a member of another type
/// (or a `client_type` this app does not know) makes the whole text unreadable, so
/// [`ProviderSettings::from_json`] gives the defaults, as it always did: settings half read from
/// a text that is not ours could mix two providers' setups. Repeats were refused by the check
/// before. One `Map` deserializer the app has anyway instead of a derived visitor per struct
/// (issue 14's size goal: they were 8.6 KB raw of the first load).
impl TryFrom<Map<String, Value>> for ProviderSettings {
    type Error = &'static str;

    fn try_from(object: Map<String, Value>) -> Result<Self, Self::Error> {
        ProviderSettings::from_stored(Value::Object(object)).ok_or("not the stored settings")
    }
}

impl FromStored for ProviderSettings {
    fn from_stored(value: Value) -> Option<Self> {
        let Value::Object(mut o) = value else {
            return None;
        };
        let d = ProviderSettings::default();
        // The members with a non-empty default keep it when missing.
        let mut or = |name, default: String| match o.remove(name) {
            None => Some(default),
            Some(Value::String(s)) => Some(s),
            Some(_) => None,
        };
        Some(ProviderSettings {
            issuer: or("issuer", d.issuer)?,
            client_id: or("client_id", d.client_id)?,
            scope: or("scope", d.scope)?,
            api_base: or("api_base", d.api_base)?,
            preset: or("preset", d.preset)?,
            client_type: stored_or_default(&mut o, "client_type")?,
            manual: stored_or_default(&mut o, "manual")?,
            endpoints: stored_or_default(&mut o, "endpoints")?,
            auth_params: stored_or_default(&mut o, "auth_params")?,
            dpop: stored_or_default(&mut o, "dpop")?,
            dpop_alg: stored_or_default(&mut o, "dpop_alg")?,
        })
    }
}

impl FromStored for ClientType {
    fn from_stored(value: Value) -> Option<Self> {
        crate::protocol::document::unit_variant(value)
    }
}

impl FromStored for ManualEndpoints {
    fn from_stored(value: Value) -> Option<Self> {
        let Value::Object(mut o) = value else {
            return None;
        };
        Some(ManualEndpoints {
            authorization_endpoint: stored_or_default(&mut o, "authorization_endpoint")?,
            token_endpoint: stored_or_default(&mut o, "token_endpoint")?,
            jwks_uri: stored_or_default(&mut o, "jwks_uri")?,
            userinfo_endpoint: stored_or_default(&mut o, "userinfo_endpoint")?,
            revocation_endpoint: stored_or_default(&mut o, "revocation_endpoint")?,
            end_session_endpoint: stored_or_default(&mut o, "end_session_endpoint")?,
        })
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
            auth_params: self.auth_params.clone(),
            dpop: self.dpop,
            dpop_alg: self.dpop_alg.clone(),
        }
    }

    /// Whether token requests carry DPoP proofs: the user's choice, else on when `metadata`
    /// advertises a proof algorithm this app's keys can sign with.
    pub fn dpop_on(&self, metadata: Option<&ProviderMetadata>) -> bool {
        self.dpop.unwrap_or_else(|| {
            metadata.is_some_and(|m| {
                !allowed_algs(&m.dpop_signing_alg_values_supported, None, None).is_empty()
            })
        })
    }

    /// The proof algorithm the user picked, when it names one this app signs with.
    pub fn dpop_pick(&self) -> Option<DpopAlg> {
        self.dpop_alg.as_deref().and_then(DpopAlg::parse)
    }

    /// Sets the issuer as typed; the preset becomes "Other provider" unless the issuer still
    /// fits the preset's template, so its hints never describe another server.
    pub fn set_issuer(&mut self, issuer: String) {
        self.preset = crate::flow::presets::preset_for_issuer(&self.preset, &issuer).to_owned();
        self.issuer = issuer;
    }

    /// The extra authorization parameters to send, named ones first, then the free-form lines
    /// (blank lines skipped); each trimmed and checked ([`check_parameter`]), none twice.
    pub fn authorization_parameters(&self) -> Result<Vec<(String, String)>, String> {
        let p = &self.auth_params;
        let mut params: Vec<(String, String)> = NAMED_PARAMETERS
            .iter()
            .map(|(name, read)| {
                let value = read(p).split_whitespace().collect::<Vec<_>>().join(" ");
                ((*name).to_owned(), value)
            })
            .filter(|(_, v)| !v.is_empty())
            .collect();
        for line in p.custom.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let Some((name, value)) = line.split_once('=') else {
                return Err(format!(
                    "Extra parameter line \"{}\" has no =: write name=value.",
                    crate::protocol::error::sanitize_for_display(line, 64)
                ));
            };
            let name = name.trim();
            if NAMED_PARAMETERS.iter().any(|(n, _)| *n == name)
                || params.iter().any(|(n, _)| n == name)
            {
                return Err(format!(
                    "Extra parameter \"{name}\" is given twice: keep one."
                ));
            }
            params.push((name.to_owned(), value.trim().to_owned()));
        }
        for (name, value) in &params {
            check_parameter(name, value)?;
        }
        // RFC 6749 §3.1: a parameter without a value is treated as omitted, so none is sent.
        params.retain(|(_, value)| !value.is_empty());
        Ok(params)
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
        if let Err(problem) = self.authorization_parameters() {
            problems.push(problem);
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

    /// The one line the folded settings form shows: which provider and client a run uses, so
    /// a folded form still says what the user logs in against (issue 12).
    pub fn folded_line(&self, dpop_on: bool) -> String {
        let (issuer, client_id) = (self.issuer.trim(), self.client_id.trim());
        let provider = match (issuer.is_empty(), self.manual) {
            (_, true) => "manual endpoints",
            (true, false) => "no issuer yet",
            (false, false) => issuer,
        };
        let client = if client_id.is_empty() {
            "no client id yet".to_owned()
        } else {
            format!("client {client_id}")
        };
        let kind = match self.client_type {
            ClientType::Public => "",
            ClientType::Confidential => " · PKCE off",
        };
        let dpop = if dpop_on { "on" } else { "off" };
        format!("{provider} · {client}{kind} · DPoP {dpop}")
    }

    /// The query of a shareable link that pre-fills the non-secret settings: issuer, client id,
    /// scopes, preset and the extra authorization parameters (`p.<name>`). Nothing else, and
    /// never a secret (there is none in the settings).
    pub fn share_query(&self) -> String {
        let s = self.normalized();
        let extra: Vec<(String, String)> = s
            .authorization_parameters()
            .unwrap_or_default()
            .into_iter()
            .map(|(name, value)| (format!("p.{name}"), value))
            .collect();
        let mut pairs = vec![
            ("issuer", s.issuer.as_str()),
            ("client_id", &s.client_id),
            ("scope", &s.scope),
            ("preset", &s.preset),
        ];
        match s.dpop {
            Some(true) => pairs.push(("dpop", "on")),
            Some(false) => pairs.push(("dpop", "off")),
            None => {}
        }
        if let Some(alg) = s.dpop_pick() {
            pairs.push(("dpop_alg", alg.name()));
        }
        pairs.extend(extra.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        crate::protocol::uri::form_encode(&pairs)
    }

    /// Applies a shareable link's query (read once at load, when it is not an OAuth callback).
    /// Only `issuer`, `client_id`, `scope`, a known `preset` and extra parameters that pass
    /// [`check_parameter`] are read; values with control characters or longer than 2 KiB are
    /// ignored. Returns whether anything was applied.
    pub fn apply_share_query(&mut self, query: &str) -> bool {
        let mut applied = false;
        // A link's extra parameters replace the saved ones: it describes one setup.
        let mut params = AuthParams::default();
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
                "dpop" if value == "on" || value == "off" => self.dpop = Some(value == "on"),
                "dpop_alg" if DpopAlg::parse(&value).is_some() => self.dpop_alg = Some(value),
                "preset"
                    if crate::flow::presets::find(&value).is_some()
                        || value == crate::flow::presets::OTHER =>
                {
                    self.preset = value
                }
                _ => match name.strip_prefix("p.") {
                    Some(param) if check_parameter(param, &value).is_ok() => {
                        params.set(param, value)
                    }
                    _ => continue,
                },
            }
            applied = true;
        }
        if applied {
            self.auth_params = params;
            self.preset =
                crate::flow::presets::preset_for_issuer(&self.preset, &self.issuer).to_owned();
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

mod auth_params;
pub use auth_params::{check_parameter, AuthParams, ReadParam, NAMED_PARAMETERS};

#[cfg(test)]
mod tests;
