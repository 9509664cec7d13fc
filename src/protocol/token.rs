//! The token endpoint (RFC 6749 §4.1.3, §5): validating the answer (the request is built in
//! `token/request.rs`). Strict on what protects the user (status, token type, field types, duplicates),
//! tolerant but loud on format slips (JSON under a wrong content type, `expires_in` as a string).

use crate::protocol::document::{is_json_media_type, parse_document, take, JsonProblem, Member};
use crate::protocol::error::{sanitize_for_display, Explain, Side};
use crate::protocol::secret::{AccessToken, IdToken, RefreshToken};
use serde::Deserialize;
use serde_json::{Map, Number, Value};

/// Largest token response body accepted (T-24).
pub const MAX_TOKEN_BODY: usize = 64 * 1024;
/// `expires_in` beyond 10 years is clamped (T-17), so that `now + expires_in * 1000` cannot
/// overflow anywhere.
pub const MAX_EXPIRES_IN_SECS: u64 = 10 * 365 * 24 * 3600;
/// Untrusted descriptions are cut to this many characters for display.
const MAX_DESCRIPTION_CHARS: usize = 1024;

mod request;
pub use request::*;

use super::http::{HttpResponse, Unread};

/// A validated token response, held in memory only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSet {
    /// The access token (opaque to this app).
    pub access_token: AccessToken,
    /// `"Bearer"`, or `"DPoP"` when the request carried a proof and the token is bound to its
    /// key (normalised; other types are refused).
    pub token_type: String,
    /// Lifetime in seconds, if stated (clamped to [`MAX_EXPIRES_IN_SECS`]).
    pub expires_in: Option<u64>,
    /// A refresh token, if issued.
    pub refresh_token: Option<RefreshToken>,
    /// The granted scope as sent (raw: sanitize it where it is drawn); the requested scope when
    /// the response omits it (T-18).
    pub granted_scope: String,
    /// Whether the response stated the scope.
    pub scope_was_returned: bool,
    /// The ID token, only when `openid` was requested (T-21); not validated here.
    pub id_token: Option<IdToken>,
    /// Format deviations that were tolerated, to show on the diagram.
    pub deviations: Vec<Deviation>,
}

/// A provider deviation from RFC 6749 that was accepted, but must be shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Deviation {
    /// Valid JSON under another content type (T-11); holds the type sent ("" if none).
    JsonAsWrongContentType(String),
    /// `expires_in` sent as a string of digits (T-17).
    ExpiresInAsString,
    /// `expires_in` with a fractional part; rounded down.
    ExpiresInNotInteger,
    /// `expires_in` beyond [`MAX_EXPIRES_IN_SECS`]; clamped (T-17).
    ExpiresInClamped,
    /// `openid` was requested but no `id_token` came back.
    IdTokenMissing,
    /// An `id_token` came back though `openid` was not requested; ignored (T-21).
    UnrequestedIdTokenIgnored,
}

impl Deviation {
    /// One sentence for the diagram's deviation note.
    pub fn explain(&self) -> String {
        match self {
            Deviation::JsonAsWrongContentType(ct) if ct.is_empty() => {
                "The provider sent JSON without a Content-Type; RFC 6749 §5.1 requires \
                 application/json. Accepted because the body is valid JSON."
                    .to_owned()
            }
            Deviation::JsonAsWrongContentType(ct) => format!(
                "The provider sent JSON as {ct}; RFC 6749 §5.1 requires application/json. \
                 Accepted because the body is valid JSON."
            ),
            Deviation::ExpiresInAsString => "expires_in was sent as a string (\"3600\") instead \
                of a number (RFC 6749 §5.1). Accepted and read as a number."
                .to_owned(),
            Deviation::ExpiresInNotInteger => "expires_in has a fractional part; RFC 6749 \
                Appendix A.14 says whole seconds. Rounded down."
                .to_owned(),
            Deviation::ExpiresInClamped => format!(
                "expires_in is implausibly large; it was capped at {MAX_EXPIRES_IN_SECS} seconds \
                 (10 years)."
            ),
            Deviation::IdTokenMissing => "openid was requested but no id_token came back: this \
                is a plain OAuth login, not an OpenID Connect one."
                .to_owned(),
            Deviation::UnrequestedIdTokenIgnored => "An id_token came back although openid was \
                not requested. It was ignored and its claims are not shown, since they were not \
                validated."
                .to_owned(),
        }
    }
}

/// The token endpoint `error` codes of RFC 6749 §5.2; anything else is kept as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenErrorCode {
    /// `invalid_request`
    InvalidRequest,
    /// `invalid_client`
    InvalidClient,
    /// `invalid_grant`
    InvalidGrant,
    /// `unauthorized_client`
    UnauthorizedClient,
    /// `unsupported_grant_type`
    UnsupportedGrantType,
    /// `invalid_scope`
    InvalidScope,
    /// Any other code (e.g. `slow_down`), made safe for display (T-6).
    Other(String),
}

impl TokenErrorCode {
    /// Maps a raw `error` value; unknown values become `Other` (sanitized).
    pub fn parse(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "invalid_client" => Self::InvalidClient,
            "invalid_grant" => Self::InvalidGrant,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "invalid_scope" => Self::InvalidScope,
            other => Self::Other(sanitize_for_display(other, 100)),
        }
    }

    /// The code as sent on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::Other(code) => code,
        }
    }

    /// A fixed plain-language meaning (T-3, T-4, T-5).
    pub fn meaning(&self) -> String {
        match self {
            Self::InvalidRequest => "the request is missing a parameter or is malformed (for \
                example, the provider requires a code_verifier and none was sent)"
                .to_owned(),
            Self::InvalidClient => "the provider did not accept this client's identity".to_owned(),
            Self::InvalidGrant => {
                "authorization code invalid, expired, already used, or PKCE verifier mismatch"
                    .to_owned()
            }
            Self::UnauthorizedClient => {
                "this client is not allowed to use this grant type".to_owned()
            }
            Self::UnsupportedGrantType => {
                "the provider does not support this grant type".to_owned()
            }
            Self::InvalidScope => {
                "the requested scope is invalid or exceeds what was granted".to_owned()
            }
            Self::Other(code) => format!("an error this app does not know (\"{code}\")"),
        }
    }
}

/// Why a token response was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Body larger than [`MAX_TOKEN_BODY`] (T-24).
    BodyTooLarge {
        /// Length in bytes.
        len: usize,
    },
    /// A 4xx JSON OAuth error (T-3..T-6).
    ErrorResponse {
        /// The error code.
        code: TokenErrorCode,
        /// `error_description`, sanitized and truncated.
        description: Option<String>,
        /// `error_uri`, sanitized; link it only through `uri::safe_error_uri`.
        uri: Option<String>,
        /// The HTTP status.
        status: u16,
    },
    /// A 4xx that is not an OAuth JSON error (T-7, T-8).
    UnexpectedResponse {
        /// The HTTP status.
        status: u16,
        /// The content type sent (sanitized).
        content_type: Option<String>,
    },
    /// Any status other than 200 and 4xx: 5xx, 201, 204, redirects, 0 (T-9, T-22, T-23).
    UnexpectedStatus(u16),
    /// A 200 whose body is not JSON (T-10).
    NotJson,
    /// A 200 whose JSON body is not an object (T-13).
    NotAnObject,
    /// A top-level key appears twice (T-28).
    DuplicateField(String),
    /// `access_token` missing or null (T-14).
    MissingAccessToken,
    /// `token_type` missing or not a string (T-15).
    MissingTokenType,
    /// A `token_type` other than Bearer (T-16b); the token is not used.
    UnsupportedTokenType(String),
    /// A field with the wrong type or an invalid value (T-14, T-17, T-18b, T-19).
    InvalidField(&'static str),
    /// The raw body is not UTF-8 (T-29).
    NotUtf8,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BodyTooLarge { len } => write!(f, "token response too large ({len} bytes)"),
            Self::ErrorResponse { code, status, .. } => {
                write!(f, "token endpoint error {status}: {}", code.as_str())
            }
            Self::UnexpectedResponse {
                status,
                content_type,
            } => write!(
                f,
                "unexpected token response {status} ({})",
                content_type.as_deref().unwrap_or("no content type")
            ),
            Self::UnexpectedStatus(status) => write!(f, "unexpected HTTP status {status}"),
            Self::NotJson => f.write_str("token response is not JSON"),
            Self::NotAnObject => f.write_str("token response is not a JSON object"),
            Self::DuplicateField(name) => write!(f, "duplicate field in token response: {name}"),
            Self::MissingAccessToken => f.write_str("access_token missing"),
            Self::MissingTokenType => f.write_str("token_type missing"),
            Self::UnsupportedTokenType(t) => write!(f, "unsupported token_type \"{t}\""),
            Self::InvalidField(name) => write!(f, "invalid {name}"),
            Self::NotUtf8 => f.write_str("token response is not UTF-8"),
        }
    }
}

impl std::error::Error for TokenError {}

impl Explain for TokenError {
    fn what_happened(&self) -> String {
        match self {
            Self::BodyTooLarge { len } => format!(
                "The token endpoint's answer is at least {len} bytes, more than the {} KiB any real \
                 token response needs. It was not read.",
                MAX_TOKEN_BODY / 1024
            ),
            Self::ErrorResponse {
                code,
                description,
                status,
                ..
            } => {
                let said = description
                    .as_deref()
                    .map(|d| format!(" It said: \"{d}\""))
                    .unwrap_or_default();
                format!(
                    "The token endpoint refused the exchange ({status} {}): {}.{said}",
                    code.as_str(),
                    code.meaning()
                )
            }
            Self::UnexpectedResponse {
                status,
                content_type,
            } => format!(
                "The token endpoint answered {status} with {} instead of an OAuth JSON error. \
                 The body was not displayed as a page (it may be a login or error page).",
                content_type.as_deref().unwrap_or("no content type")
            ),
            Self::UnexpectedStatus(0) => "The token endpoint answered with a redirect. It was \
                not followed: a redirected POST could carry the code and verifier elsewhere \
                (RFC 9700 §4.12)."
                .to_owned(),
            Self::UnexpectedStatus(status @ 300..=399) => format!(
                "The token endpoint answered with a redirect ({status}). It was not followed \
                 (RFC 9700 §4.12)."
            ),
            Self::UnexpectedStatus(status @ 500..=599) => {
                format!("The token endpoint failed with a server error ({status}).")
            }
            Self::UnexpectedStatus(status) => format!(
                "The token endpoint answered {status}; a successful token response must be 200."
            ),
            Self::NotJson => {
                "The token endpoint answered 200, but the body is not JSON.".to_owned()
            }
            Self::NotAnObject => {
                "The token endpoint answered 200 with JSON that is not an object.".to_owned()
            }
            Self::DuplicateField(name) => format!(
                "The token response contains \"{}\" twice. Which value is meant is ambiguous, \
                 so the response was refused.",
                sanitize_for_display(name, 64)
            ),
            Self::MissingAccessToken => "The token response has no access_token.".to_owned(),
            Self::MissingTokenType => {
                "The token response has no token_type (required, RFC 6749 §5.1).".to_owned()
            }
            Self::UnsupportedTokenType(t) => format!(
                "The token is of type \"{t}\", which this app cannot use here (Bearer, or DPoP \
                 when it sent a DPoP proof). A client must not use a token of a type it does not \
                 understand (RFC 6749 §7.1), so it was discarded."
            ),
            Self::InvalidField(name) => format!(
                "The token response's \"{name}\" field has the wrong type or an invalid value."
            ),
            Self::NotUtf8 => "The token response is not valid UTF-8 text, so it is no JSON \
                document (RFC 8259 §8.1). It was refused rather than read with replacement \
                characters."
                .to_owned(),
        }
    }

    fn whose_side(&self) -> Side {
        match self {
            Self::ErrorResponse {
                code:
                    TokenErrorCode::InvalidRequest
                    | TokenErrorCode::InvalidGrant
                    | TokenErrorCode::InvalidScope,
                ..
            } => Side::ThisApp,
            _ => Side::Provider,
        }
    }

    fn what_to_do(&self) -> String {
        match self {
            Self::ErrorResponse { code, .. } => match code {
                TokenErrorCode::InvalidGrant => "Start a new login: a code works once and only \
                    for a few minutes, and only with the verifier of the same login. Nothing is \
                    retried automatically."
                    .to_owned(),
                TokenErrorCode::InvalidClient => "The client is probably registered as \
                    confidential; browser clients must be public. Register it at the provider \
                    as a public client (token endpoint auth method \"none\") with PKCE."
                    .to_owned(),
                TokenErrorCode::InvalidRequest => "Check the client id and redirect URI, and \
                    that the provider accepts PKCE, then start a new login."
                    .to_owned(),
                TokenErrorCode::UnauthorizedClient | TokenErrorCode::UnsupportedGrantType => {
                    "Allow the authorization_code grant for this client at the provider, then \
                     start a new login."
                        .to_owned()
                }
                TokenErrorCode::InvalidScope => {
                    "Fix the scopes in the settings, then start a new login.".to_owned()
                }
                TokenErrorCode::Other(_) => "Read the provider's description and its \
                    documentation for this error code, then start a new login."
                    .to_owned(),
            },
            Self::UnsupportedTokenType(_) => "Switch DPoP on in the Provider panel if the \
                provider binds this client's tokens to a key; otherwise configure it to issue \
                Bearer tokens to this client. Then log in again."
                .to_owned(),
            Self::UnexpectedStatus(status) if *status >= 500 => {
                "Wait a moment and start a new login; check the provider's logs if it persists."
                    .to_owned()
            }
            _ => "Check the token endpoint in the provider's metadata and the provider's logs, \
                then start a new login. Nothing is retried automatically."
                .to_owned(),
        }
    }
}

/// RFC 6749 Appendix A: tokens are `1*VSCHAR` (`%x20-7E`).
fn is_vschar_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| (0x20..=0x7E).contains(&b))
}

/// An OAuth error answer (RFC 6749 §5.2) as sent; members of another type are kept as such.
#[derive(Deserialize)]
#[serde(from = "Map<String, Value>")]
pub(crate) struct ErrorDocument {
    pub(crate) error: Member<String>,
    pub(crate) error_description: Member<String>,
    pub(crate) error_uri: Member<String>,
}

impl From<Map<String, Value>> for ErrorDocument {
    fn from(mut object: Map<String, Value>) -> Self {
        ErrorDocument {
            error: take(&mut object, "error"),
            error_description: take(&mut object, "error_description"),
            error_uri: take(&mut object, "error_uri"),
        }
    }
}

/// A successful token answer (RFC 6749 §5.1) as sent, before validation. Unknown members are
/// ignored (T-20); a member of the wrong type is kept so the error can name it.
#[derive(Deserialize)]
#[serde(from = "Map<String, Value>")]
struct TokenDocument {
    access_token: Member<String>,
    token_type: Member<String>,
    /// A number (whole or not) or, tolerated and flagged, a string (T-17): kept as the JSON
    /// value it was (a serde `untagged` enum would cost its buffering machinery in the wasm).
    expires_in: Member<Value>,
    refresh_token: Member<String>,
    scope: Member<String>,
    id_token: Member<String>,
}

impl From<Map<String, Value>> for TokenDocument {
    fn from(mut object: Map<String, Value>) -> Self {
        TokenDocument {
            access_token: take(&mut object, "access_token"),
            token_type: take(&mut object, "token_type"),
            expires_in: take(&mut object, "expires_in"),
            refresh_token: take(&mut object, "refresh_token"),
            scope: take(&mut object, "scope"),
            id_token: take(&mut object, "id_token"),
        }
    }
}

/// Maps a non-200 answer to the right error (oauth4webapi's rules: only 4xx JSON with a
/// non-empty string `error` is an OAuth error; 5xx bodies are never parsed).
fn non_success(response: &HttpResponse) -> TokenError {
    let status = response.status;
    if !(400..=499).contains(&status) {
        return TokenError::UnexpectedStatus(status);
    }
    if is_json_media_type(response.content_type.as_deref()) {
        if let Ok(doc) = parse_document::<ErrorDocument>(&response.body) {
            if let Some(error) = doc.error.ok().filter(|e| !e.is_empty()) {
                let text = |member: &Member<String>, max: usize| {
                    member
                        .ok()
                        .filter(|s| !s.is_empty())
                        .map(|s| sanitize_for_display(s, max))
                };
                return TokenError::ErrorResponse {
                    code: TokenErrorCode::parse(error),
                    description: text(&doc.error_description, MAX_DESCRIPTION_CHARS),
                    uri: text(&doc.error_uri, 2048),
                    status,
                };
            }
        }
    }
    TokenError::UnexpectedResponse {
        status,
        content_type: response
            .content_type
            .as_deref()
            .map(|ct| sanitize_for_display(ct, 100)),
    }
}

/// Reads `expires_in`: a non-negative number, or (flagged) a string of digits (T-17).
fn expires_in(
    member: &Member<Value>,
    deviations: &mut Vec<Deviation>,
) -> Result<Option<u64>, TokenError> {
    let invalid = TokenError::InvalidField("expires_in");
    let seconds = match member {
        Member::Absent => return Ok(None),
        Member::Is(Value::Number(n)) => number_seconds(n, deviations).ok_or(invalid)?,
        Member::Is(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            deviations.push(Deviation::ExpiresInAsString);
            // Only digits, so the only failure is overflow.
            s.parse::<u64>().unwrap_or(u64::MAX)
        }
        _ => return Err(invalid),
    };
    if seconds > MAX_EXPIRES_IN_SECS {
        deviations.push(Deviation::ExpiresInClamped);
        return Ok(Some(MAX_EXPIRES_IN_SECS));
    }
    Ok(Some(seconds))
}

/// A JSON number as whole seconds, or `None` if negative or not finite.
fn number_seconds(n: &Number, deviations: &mut Vec<Deviation>) -> Option<u64> {
    if let Some(u) = n.as_u64() {
        return Some(u);
    }
    let f = n.as_f64()?;
    if !f.is_finite() || f < 0.0 {
        return None;
    }
    if f.fract() != 0.0 {
        deviations.push(Deviation::ExpiresInNotInteger);
    }
    // Saturating float-to-int conversion; values beyond the cap are clamped by the caller.
    Some(f as u64)
}

/// Validates a token endpoint answer (T-3..T-24, T-28, T-29) of a request sent without a DPoP
/// proof: `token_type` must be Bearer (T-16b).
pub fn parse_token_response(
    response: &HttpResponse,
    requested_scope: &str,
    openid_requested: bool,
) -> Result<TokenSet, TokenError> {
    parse_token_response_with(response, requested_scope, openid_requested, false)
}

/// [`parse_token_response`] for a request that carried a DPoP proof when `proof_sent`:
/// `token_type=DPoP` is then accepted too (RFC 9449 §5, `dpop::accept_token_type`), and kept
/// as `"DPoP"`; without a proof a DPoP token is refused like any other type (T-16b).
pub fn parse_token_response_with(
    response: &HttpResponse,
    requested_scope: &str,
    openid_requested: bool,
    proof_sent: bool,
) -> Result<TokenSet, TokenError> {
    if response.body_len() > MAX_TOKEN_BODY {
        return Err(TokenError::BodyTooLarge {
            len: response.body_len(),
        });
    }
    if response.status != 200 {
        return Err(non_success(response));
    }
    if response.unread == Some(Unread::NotUtf8) {
        return Err(TokenError::NotUtf8);
    }
    let doc: TokenDocument = parse_document(&response.body).map_err(|problem| match problem {
        JsonProblem::NotJson | JsonProblem::Shape => TokenError::NotJson,
        JsonProblem::NotAnObject => TokenError::NotAnObject,
        JsonProblem::Duplicate(key) => TokenError::DuplicateField(sanitize_for_display(&key, 64)),
    })?;
    let mut deviations = Vec::new();
    if !is_json_media_type(response.content_type.as_deref()) {
        deviations.push(Deviation::JsonAsWrongContentType(
            response
                .content_type
                .as_deref()
                .map(|ct| sanitize_for_display(ct, 100))
                .unwrap_or_default(),
        ));
    }

    let access_token = match &doc.access_token {
        m if m.is_absent_or_null() => return Err(TokenError::MissingAccessToken),
        Member::Is(s) if is_vschar_token(s) => AccessToken::new(s.clone()),
        _ => return Err(TokenError::InvalidField("access_token")),
    };
    // RFC 6749 §5.1: case-insensitive; §7.1: an unknown type must not be used; RFC 9449 §5:
    // DPoP only for a request that carried a proof.
    let token_type = match &doc.token_type {
        Member::Is(t) => match super::dpop::accept_token_type(t, proof_sent) {
            Ok(super::dpop::TokenBinding::Dpop) => "DPoP",
            Ok(super::dpop::TokenBinding::Bearer { .. }) => "Bearer",
            Err(_) => {
                return Err(TokenError::UnsupportedTokenType(sanitize_for_display(
                    t, 64,
                )))
            }
        },
        _ => return Err(TokenError::MissingTokenType),
    };
    let expires_in = expires_in(&doc.expires_in, &mut deviations)?;
    let refresh_token = match &doc.refresh_token {
        Member::Absent => None,
        Member::Is(s) if is_vschar_token(s) => Some(RefreshToken::new(s.clone())),
        _ => return Err(TokenError::InvalidField("refresh_token")),
    };
    let (granted_scope, scope_was_returned) = match &doc.scope {
        Member::Absent => (requested_scope.to_owned(), false),
        // Raw: compared with the request and sent again on refresh; sanitized where drawn.
        Member::Is(s) => (s.clone(), true),
        Member::Other(_) => return Err(TokenError::InvalidField("scope")),
    };
    let id_token = match (openid_requested, &doc.id_token) {
        (true, Member::Is(s)) if is_vschar_token(s) => Some(IdToken::new(s.clone())),
        (true, Member::Absent) => {
            deviations.push(Deviation::IdTokenMissing);
            None
        }
        (true, _) => return Err(TokenError::InvalidField("id_token")),
        (false, Member::Absent) => None,
        (false, _) => {
            deviations.push(Deviation::UnrequestedIdTokenIgnored);
            None
        }
    };
    Ok(TokenSet {
        access_token,
        token_type: token_type.to_owned(),
        expires_in,
        refresh_token,
        granted_scope,
        scope_was_returned,
        id_token,
        deviations,
    })
}

#[cfg(test)]
mod tests;
