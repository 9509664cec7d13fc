//! The user's provider settings: all non-secret, so they may live in localStorage.

use crate::protocol::authorize::{check_endpoint_query, RESERVED_PARAMETERS};
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

/// Extra parameters some providers need on the authorization request, as typed (empty: not
/// sent). Checked by [`ProviderSettings::authorization_parameters`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AuthParams {
    /// The API the access token is for (Auth0).
    pub audience: String,
    /// RFC 8707 resource indicator: an absolute URI without fragment.
    pub resource: String,
    /// OpenID Connect `prompt`: `none`, `login`, `consent`, `select_account` (or `create`).
    pub prompt: String,
    /// Who is expected to sign in (OpenID Connect).
    pub login_hint: String,
    /// Maximum seconds since the user last authenticated (OpenID Connect).
    pub max_age: String,
    /// Requested authentication context classes (OpenID Connect).
    pub acr_values: String,
    /// Preferred languages of the provider's pages (OpenID Connect).
    pub ui_locales: String,
    /// Free-form `name=value` pairs, one a line.
    pub custom: String,
}

impl AuthParams {
    /// Sets the named parameter's field, or appends `name=value` to the free-form lines.
    pub fn set(&mut self, name: &str, value: String) {
        let field = match name {
            "audience" => &mut self.audience,
            "resource" => &mut self.resource,
            "prompt" => &mut self.prompt,
            "login_hint" => &mut self.login_hint,
            "max_age" => &mut self.max_age,
            "acr_values" => &mut self.acr_values,
            "ui_locales" => &mut self.ui_locales,
            _ => {
                if !self.custom.is_empty() {
                    self.custom.push('\n');
                }
                self.custom.push_str(&format!("{name}={value}"));
                return;
            }
        };
        *field = value;
    }
}

/// Reads one named parameter's value out of [`AuthParams`].
pub type ReadParam = fn(&AuthParams) -> &String;

/// The named extra parameters, in the order they are sent, with their value in [`AuthParams`].
pub const NAMED_PARAMETERS: [(&str, ReadParam); 7] = [
    ("audience", |p| &p.audience),
    ("resource", |p| &p.resource),
    ("prompt", |p| &p.prompt),
    ("login_hint", |p| &p.login_hint),
    ("max_age", |p| &p.max_age),
    ("acr_values", |p| &p.acr_values),
    ("ui_locales", |p| &p.ui_locales),
];

/// The `prompt` values OpenID Connect defines (Core §3.1.2.1, plus `create` from Initiating
/// User Registration).
const PROMPT_VALUES: [&str; 5] = ["none", "login", "consent", "select_account", "create"];

/// Longest extra parameter value accepted (the share link's limit too).
const MAX_PARAMETER_LEN: usize = 2048;

/// Checks one extra parameter; the error says what is wrong and what to do.
pub fn check_parameter(name: &str, value: &str) -> Result<(), String> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._~-".contains(&b))
    {
        return Err(format!(
            "Extra parameter name \"{}\": use letters, digits, . _ ~ - only.",
            crate::protocol::error::sanitize_for_display(name, 64)
        ));
    }
    // D-9: the same list the endpoint's own query is checked against.
    if RESERVED_PARAMETERS.contains(&name) && name != "prompt" {
        return Err(format!(
            "Extra parameter \"{name}\" is refused: the app sets it (RFC 6749 §3.1)."
        ));
    }
    if value.len() > MAX_PARAMETER_LEN || value.chars().any(char::is_control) {
        return Err(format!(
            "Extra parameter {name}: value over 2 KiB or with control characters."
        ));
    }
    match name {
        // OIDC Core §3.1.2.1: seconds, a non-negative integer.
        "max_age" if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) => Err(
            format!("max_age must be a whole number of seconds (e.g. 300), not \"{value}\"."),
        ),
        // RFC 8707 §2: an absolute URI, no fragment.
        "resource" if !is_absolute_uri(value) || value.contains('#') => Err(format!(
            "resource must be an absolute URI without #fragment (RFC 8707 §2), not \
             \"{value}\"."
        )),
        "prompt" => {
            let values: Vec<&str> = value.split(' ').collect();
            if values.iter().any(|v| !PROMPT_VALUES.contains(v)) {
                Err(format!(
                    "prompt values: {}; not \"{value}\".",
                    PROMPT_VALUES.join(", ")
                ))
            } else if values.len() > 1 && values.contains(&"none") {
                Err(
                    "prompt=none cannot be combined with another value (OIDC Core \
                     §3.1.2.1)."
                        .to_owned(),
                )
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

/// `scheme:rest` with an RFC 3986 scheme and something after the colon, no spaces.
fn is_absolute_uri(value: &str) -> bool {
    match value.split_once(':') {
        Some((scheme, rest)) => {
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b))
                && !rest.is_empty()
                && !value.contains(' ')
        }
        None => false,
    }
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

impl FromStored for AuthParams {
    fn from_stored(value: Value) -> Option<Self> {
        let Value::Object(mut o) = value else {
            return None;
        };
        Some(AuthParams {
            audience: stored_or_default(&mut o, "audience")?,
            resource: stored_or_default(&mut o, "resource")?,
            prompt: stored_or_default(&mut o, "prompt")?,
            login_hint: stored_or_default(&mut o, "login_hint")?,
            max_age: stored_or_default(&mut o, "max_age")?,
            acr_values: stored_or_default(&mut o, "acr_values")?,
            ui_locales: stored_or_default(&mut o, "ui_locales")?,
            custom: stored_or_default(&mut o, "custom")?,
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

#[cfg(test)]
mod tests {
    use super::*;
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
        s.endpoints.authorization_endpoint =
            "https://as.example/authorize?response_type=token".into();
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
    fn stored_with(
        path: &str,
        name: &str,
        edit: impl FnOnce(&mut Map<String, Value>, &str),
    ) -> String {
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
}
