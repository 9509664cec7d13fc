//! The extra parameters of the authorization request (Auth0's `audience`, RFC 8707's
//! `resource`, OpenID Connect's `prompt` and the others, and free-form ones), as typed in the
//! settings, and the rules each must pass before it is sent.

use crate::protocol::authorize::RESERVED_PARAMETERS;
use crate::protocol::document::{stored_or_default, FromStored, Value};
use serde::Serialize;

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
