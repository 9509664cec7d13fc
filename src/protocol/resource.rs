//! Resource server answers (RFC 6750 §3): 200 JSON, 401 `invalid_token`, 403
//! `insufficient_scope`, read from the `WWW-Authenticate: Bearer` challenge.

use crate::protocol::document::parse_object;
use crate::protocol::error::{sanitize_for_display, Explain, Side};
use crate::protocol::http::HttpResponse;
use serde_json::Value;

/// Largest API response body accepted.
pub const MAX_RESOURCE_BODY: usize = 1024 * 1024;
/// Longest `WWW-Authenticate` header parsed.
const MAX_CHALLENGE_LEN: usize = 8 * 1024;
/// Most parameters read from one challenge.
const MAX_CHALLENGE_PARAMS: usize = 32;

/// Parses the `Bearer` challenge's parameters from a `WWW-Authenticate` header (RFC 7235
/// §4.1, RFC 6750 §3). Names are lower-cased; other schemes' parameters are skipped.
pub fn parse_www_authenticate(header: &str) -> Vec<(String, String)> {
    challenge_params(header, "bearer").unwrap_or_default()
}

/// The parameters of the `scheme` challenge (case-insensitive) in a `WWW-Authenticate` header,
/// `None` when the header has no such challenge; names are lower-cased.
pub fn challenge_params(header: &str, scheme: &str) -> Option<Vec<(String, String)>> {
    if header.len() > MAX_CHALLENGE_LEN {
        return None;
    }
    let mut params = Vec::new();
    let mut seen = false;
    let mut in_bearer = false;
    let mut rest = header;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() || params.len() >= MAX_CHALLENGE_PARAMS {
            break;
        }
        let token_end = rest.find(|c: char| !is_tchar(c)).unwrap_or(rest.len());
        if token_end == 0 {
            // Not a token (stray quote or separator): skip one character and resync.
            let skip = rest.chars().next().map_or(1, char::len_utf8);
            rest = &rest[skip..];
            continue;
        }
        let token = &rest[..token_end];
        let after = rest[token_end..].trim_start_matches([' ', '\t']);
        if let Some(value_part) = after.strip_prefix('=') {
            let value_part = value_part.trim_start_matches([' ', '\t']);
            let (value, remaining) = read_param_value(value_part);
            if in_bearer {
                params.push((token.to_ascii_lowercase(), value));
            }
            rest = remaining;
        } else {
            // A bare token starts a new challenge (auth-scheme).
            in_bearer = token.eq_ignore_ascii_case(scheme);
            seen |= in_bearer;
            rest = after;
        }
    }
    seen.then_some(params)
}

/// RFC 9110 `tchar`.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Reads a token or quoted-string value; returns it and what follows.
fn read_param_value(input: &str) -> (String, &str) {
    if let Some(quoted) = input.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return (value, &quoted[i + 1..]),
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                _ => value.push(c),
            }
        }
        // Unterminated quote: take what there is.
        (value, "")
    } else {
        let end = input.find([',', ' ', '\t']).unwrap_or(input.len());
        (input[..end].to_owned(), &input[end..])
    }
}

/// Validates an API answer: 200 JSON is the data; 401 and 403 become typed errors.
pub fn parse_resource_response(response: &HttpResponse) -> Result<Value, ResourceError> {
    if response.body_len() > MAX_RESOURCE_BODY {
        return Err(ResourceError::BodyTooLarge {
            len: response.body_len(),
        });
    }
    match response.status {
        200 => serde_json::from_str::<serde_json::Value>(&response.body)
            .map_err(|_| ResourceError::NotJson),
        401 | 403 => {
            let mut params = response
                .www_authenticate
                .as_deref()
                .map(parse_www_authenticate)
                .unwrap_or_default();
            // Some APIs put the error in a JSON body instead of the header.
            if !params.iter().any(|(name, _)| name == "error") {
                if let Ok(object) = parse_object(&response.body) {
                    for name in ["error", "error_description", "scope"] {
                        if let Some(Value::String(value)) = object.get(name) {
                            params.push((name.to_owned(), value.clone()));
                        }
                    }
                }
            }
            let get = |wanted: &str| {
                params
                    .iter()
                    .find(|(name, value)| name == wanted && !value.is_empty())
                    .map(|(_, value)| sanitize_for_display(value, 500))
            };
            let description = get("error_description");
            if response.status == 401 {
                Err(ResourceError::InvalidToken { description })
            } else {
                Err(ResourceError::InsufficientScope {
                    scope: get("scope"),
                    description,
                })
            }
        }
        status => Err(ResourceError::UnexpectedStatus(status)),
    }
}

/// Why an API call did not return data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourceError {
    /// Body larger than [`MAX_RESOURCE_BODY`].
    BodyTooLarge {
        /// Length in bytes.
        len: usize,
    },
    /// A 200 whose body is not JSON.
    NotJson,
    /// 401: the token is missing, expired, revoked or otherwise invalid.
    InvalidToken {
        /// `error_description`, sanitized.
        description: Option<String>,
    },
    /// 403: the token is valid but lacks a scope this call needs.
    InsufficientScope {
        /// The scope the API asked for, if it said.
        scope: Option<String>,
        /// `error_description`, sanitized.
        description: Option<String>,
    },
    /// Any other status.
    UnexpectedStatus(u16),
}

impl std::fmt::Display for ResourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BodyTooLarge { len } => write!(f, "API response too large ({len} bytes)"),
            Self::NotJson => f.write_str("API response is not JSON"),
            Self::InvalidToken { .. } => f.write_str("invalid_token (401)"),
            Self::InsufficientScope { scope, .. } => match scope {
                Some(scope) => write!(f, "insufficient_scope (403): needs {scope}"),
                None => f.write_str("insufficient_scope (403)"),
            },
            Self::UnexpectedStatus(status) => write!(f, "unexpected HTTP status {status}"),
        }
    }
}

impl std::error::Error for ResourceError {}

impl Explain for ResourceError {
    fn what_happened(&self) -> String {
        let said = |d: &Option<String>| {
            d.as_deref()
                .map(|d| format!(" It said: \"{d}\""))
                .unwrap_or_default()
        };
        match self {
            Self::BodyTooLarge { len } => {
                format!("The API's answer is {len} bytes, too large to show.")
            }
            Self::NotJson => "The API answered 200, but the body is not JSON.".to_owned(),
            Self::InvalidToken { description } => format!(
                "The API refused the access token (401 invalid_token): it is expired, revoked \
                 or not valid for this API.{}",
                said(description)
            ),
            Self::InsufficientScope { scope, description } => match scope {
                Some(scope) => format!(
                    "The access token is valid, but it lacks the scope \"{scope}\" that this \
                     call needs (403 insufficient_scope).{}",
                    said(description)
                ),
                None => format!(
                    "The access token is valid, but it lacks a scope this call needs (403).{}",
                    said(description)
                ),
            },
            Self::UnexpectedStatus(status) => format!("The API answered {status}."),
        }
    }

    fn whose_side(&self) -> Side {
        match self {
            Self::InvalidToken { .. } | Self::InsufficientScope { .. } => Side::User,
            _ => Side::Provider,
        }
    }

    fn what_to_do(&self) -> String {
        match self {
            Self::InvalidToken { .. } => "Log in again to get a fresh access token.".to_owned(),
            Self::InsufficientScope {
                scope: Some(scope), ..
            } => format!(
                "Log in again requesting \"{scope}\" (add it to the scopes in the settings) and \
                 allow it on the consent page."
            ),
            Self::InsufficientScope { scope: None, .. } => "Log in again requesting the scope \
                this API needs, and allow it on the consent page."
                .to_owned(),
            _ => "Check the API address in the settings and the API's logs.".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, www: Option<&str>, body: &str) -> HttpResponse {
        HttpResponse {
            unread: None,
            dpop_nonce: None,
            status,
            content_type: Some("application/json".into()),
            body: body.into(),
            www_authenticate: www.map(str::to_owned),
            cache_control: None,
        }
    }

    #[test]
    fn www_authenticate_bearer_params_are_parsed() {
        let params = parse_www_authenticate(
            r#"Bearer realm="example", error="invalid_token", error_description="The access token expired""#,
        );
        assert_eq!(
            params,
            vec![
                ("realm".to_owned(), "example".to_owned()),
                ("error".to_owned(), "invalid_token".to_owned()),
                (
                    "error_description".to_owned(),
                    "The access token expired".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn www_authenticate_other_schemes_and_escapes() {
        let params = parse_www_authenticate(
            r#"DPoP algs="ES256", Basic realm="x", bearer ERROR=insufficient_scope,scope="read:files a\"b""#,
        );
        assert_eq!(
            params,
            vec![
                ("error".to_owned(), "insufficient_scope".to_owned()),
                ("scope".to_owned(), "read:files a\"b".to_owned()),
            ]
        );
        assert!(parse_www_authenticate("").is_empty());
        assert!(parse_www_authenticate("Basic realm=\"x\"").is_empty());
        assert_eq!(
            parse_www_authenticate("Bearer error=\"unterminated"),
            vec![("error".to_owned(), "unterminated".to_owned())]
        );
        // Garbage never panics.
        for junk in [
            "\"\"\"",
            "=,=,=",
            "Bearer ==",
            "Bearer é=ü",
            "Bearer a=\"\\",
        ] {
            let _ = parse_www_authenticate(junk);
        }
    }

    #[test]
    fn x09_ok_json_is_returned() {
        let value = parse_resource_response(&response(200, None, r#"{"name":"Ada"}"#)).unwrap();
        assert_eq!(value["name"], "Ada");
        assert_eq!(
            parse_resource_response(&response(200, None, "<html>")).unwrap_err(),
            ResourceError::NotJson
        );
    }

    #[test]
    fn rfc6750_401_invalid_token() {
        let err = parse_resource_response(&response(
            401,
            Some(r#"Bearer error="invalid_token", error_description="expired""#),
            "",
        ))
        .unwrap_err();
        assert_eq!(
            err,
            ResourceError::InvalidToken {
                description: Some("expired".into())
            }
        );
        assert!(err.what_to_do().contains("Log in again"));
        assert_eq!(
            parse_resource_response(&response(401, None, "")).unwrap_err(),
            ResourceError::InvalidToken { description: None }
        );
    }

    #[test]
    fn rfc6750_403_insufficient_scope_names_the_scope() {
        let err = parse_resource_response(&response(
            403,
            Some(r#"Bearer error="insufficient_scope", scope="read:files""#),
            "",
        ))
        .unwrap_err();
        assert_eq!(
            err,
            ResourceError::InsufficientScope {
                scope: Some("read:files".into()),
                description: None
            }
        );
        assert!(err.what_happened().contains("read:files"));
        assert!(err
            .what_to_do()
            .contains("Log in again requesting \"read:files\""));
    }

    #[test]
    fn rfc6750_403_from_json_body_when_header_is_missing() {
        let err = parse_resource_response(&response(
            403,
            None,
            r#"{"error":"insufficient_scope","scope":"read:profile"}"#,
        ))
        .unwrap_err();
        assert_eq!(
            err,
            ResourceError::InsufficientScope {
                scope: Some("read:profile".into()),
                description: None
            }
        );
    }

    #[test]
    fn other_statuses_are_unexpected() {
        for status in [0, 302, 404, 500] {
            assert_eq!(
                parse_resource_response(&response(status, None, "")).unwrap_err(),
                ResourceError::UnexpectedStatus(status)
            );
        }
        let big = "x".repeat(MAX_RESOURCE_BODY + 1);
        assert!(matches!(
            parse_resource_response(&response(200, None, &big)),
            Err(ResourceError::BodyTooLarge { .. })
        ));
    }

    #[test]
    fn x06_description_is_sanitized() {
        let err = parse_resource_response(&response(
            401,
            Some("Bearer error=\"invalid_token\", error_description=\"a\u{202E}b\""),
            "",
        ))
        .unwrap_err();
        assert_eq!(
            err,
            ResourceError::InvalidToken {
                description: Some("a\\u{202E}b".into())
            }
        );
    }
}
