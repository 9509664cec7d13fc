//! The token endpoint (RFC 6749 §4.1.3, §5): building the back-channel request and validating
//! the answer. Strict on what protects the user (status, token type, field types, duplicates),
//! tolerant but loud on format slips (JSON under a wrong content type, `expires_in` as a string).

use crate::protocol::document::{is_json_media_type, parse_document, take, JsonProblem, Member};
use crate::protocol::error::{sanitize_for_display, Explain, Side};
use crate::protocol::pkce::CodeVerifier;
use crate::protocol::secret::{
    mask, AccessToken, AuthorizationCode, ClientSecret, IdToken, RefreshToken,
};
use crate::protocol::uri::{form_encode, parse_query, HttpUrl, UriError};
use serde::Deserialize;
use serde_json::{Map, Number, Value};

/// The token request's content type: CORS-safelisted, so no preflight is needed (T-26).
pub const CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// The token request's `Accept`: CORS-safelisted.
pub const ACCEPT: &str = "application/json";
/// Largest token response body accepted (T-24).
pub const MAX_TOKEN_BODY: usize = 64 * 1024;
/// `expires_in` beyond 10 years is clamped (T-17), so that `now + expires_in * 1000` cannot
/// overflow anywhere.
pub const MAX_EXPIRES_IN_SECS: u64 = 10 * 365 * 24 * 3600;
/// Untrusted descriptions are cut to this many characters for display.
const MAX_DESCRIPTION_CHARS: usize = 1024;

/// Body fields whose values are secrets and must be masked for display.
const SECRET_FIELDS: [&str; 4] = ["code", "code_verifier", "client_secret", "refresh_token"];

/// A token endpoint request: `POST url` with a form body and [`TokenRequest::headers`] only.
///
/// Not `Clone`: it holds the use-once verifier (or the code); the one deliberate second send,
/// the attack lab's replay, asks for [`TokenRequest::replay_copy`].
#[derive(PartialEq, Eq)]
pub struct TokenRequest {
    /// The token endpoint.
    pub url: String,
    /// The form-encoded body (contains secrets).
    pub body: String,
}

impl TokenRequest {
    /// Same as the module's [`CONTENT_TYPE`].
    pub const CONTENT_TYPE: &'static str = CONTENT_TYPE;
    /// Same as the module's [`ACCEPT`].
    pub const ACCEPT: &'static str = ACCEPT;

    /// The only headers sent: no `Authorization`, nothing that forces a CORS preflight (T-1).
    pub fn headers() -> [(&'static str, &'static str); 2] {
        [("Content-Type", CONTENT_TYPE), ("Accept", ACCEPT)]
    }

    /// A second, identical request, for the attack lab's replay experiment only (sending the
    /// same code and verifier twice is what the experiment shows the provider refusing).
    pub fn replay_copy(&self) -> TokenRequest {
        TokenRequest {
            url: self.url.clone(),
            body: self.body.clone(),
        }
    }

    /// The body with `code`, `code_verifier`, `client_secret` and `refresh_token` masked.
    pub fn masked_body(&self) -> String {
        self.body
            .split('&')
            .map(|piece| match piece.split_once('=') {
                Some((name, _)) if SECRET_FIELDS.contains(&name) => {
                    let value = parse_query(piece)
                        .into_iter()
                        .next()
                        .map(|(_, v)| v)
                        .unwrap_or_default();
                    format!("{name}={}", mask(&value))
                }
                _ => piece.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("url", &self.url)
            .field("body", &"[redacted]")
            .finish()
    }
}

/// The token endpoint must be https (or loopback http) without fragment or userinfo.
fn checked_endpoint(token_endpoint: &str) -> Result<String, UriError> {
    HttpUrl::parse(token_endpoint)?.require_secure()?;
    Ok(token_endpoint.to_owned())
}

/// The PKCE code exchange: `grant_type=authorization_code&code&redirect_uri&client_id&
/// code_verifier`. Consumes the verifier, so it cannot be sent twice (T-2).
pub fn authorization_code_request(
    token_endpoint: &str,
    code: &AuthorizationCode,
    redirect_uri: &str,
    client_id: &str,
    verifier: CodeVerifier,
) -> Result<TokenRequest, UriError> {
    let url = checked_endpoint(token_endpoint)?;
    let verifier = verifier.into_secret();
    let body = form_encode(&[
        ("grant_type", "authorization_code"),
        ("code", code.secret()),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
        ("code_verifier", &verifier),
    ]);
    Ok(TokenRequest { url, body })
}

/// Attack lab only: the code redeemed the way an attacker would, with a guessed `code_verifier`
/// or none at all. The app's own logins never use this (their verifier is moved, not chosen).
pub fn attacker_code_request(
    token_endpoint: &str,
    code: &AuthorizationCode,
    redirect_uri: &str,
    client_id: &str,
    guessed_verifier: Option<&str>,
) -> Result<TokenRequest, UriError> {
    let url = checked_endpoint(token_endpoint)?;
    let mut fields = vec![
        ("grant_type", "authorization_code"),
        ("code", code.secret()),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
    ];
    if let Some(verifier) = guessed_verifier {
        fields.push(("code_verifier", verifier));
    }
    Ok(TokenRequest {
        url,
        body: form_encode(&fields),
    })
}

/// The "PKCE off" teaching variant: a confidential client authenticating with
/// `client_secret_post` (the secret in the body), which only a server can keep secret.
pub fn confidential_code_request(
    token_endpoint: &str,
    code: &AuthorizationCode,
    redirect_uri: &str,
    client_id: &str,
    client_secret: &ClientSecret,
) -> Result<TokenRequest, UriError> {
    let url = checked_endpoint(token_endpoint)?;
    let body = form_encode(&[
        ("grant_type", "authorization_code"),
        ("code", code.secret()),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
        ("client_secret", client_secret.secret()),
    ]);
    Ok(TokenRequest { url, body })
}

/// A public client's refresh: `grant_type=refresh_token&refresh_token&client_id` (the provider
/// may rotate the refresh token; the new one replaces the old, RFC 9700 §4.14).
pub fn refresh_token_request(
    token_endpoint: &str,
    refresh_token: &RefreshToken,
    client_id: &str,
) -> Result<TokenRequest, UriError> {
    let url = checked_endpoint(token_endpoint)?;
    let body = form_encode(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.secret()),
        ("client_id", client_id),
    ]);
    Ok(TokenRequest { url, body })
}

/// The `Authorization` header value for an API call: the token goes in a header, never in a
/// URL (X-9, RFC 6750 §2.1).
pub fn bearer_authorization(token: &AccessToken) -> String {
    format!("Bearer {}", token.secret())
}

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
mod tests {
    use super::*;
    use crate::protocol::http::BodyReader;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn ok(body: &str) -> Result<TokenSet, TokenError> {
        parse_token_response(&HttpResponse::json(200, body), "read:profile", false)
    }

    fn with(fields: &str) -> Result<TokenSet, TokenError> {
        ok(&format!(
            r#"{{"access_token":"at-1","token_type":"Bearer"{fields}}}"#
        ))
    }

    fn request(code: &str) -> TokenRequest {
        authorization_code_request(
            "https://as.example/token",
            &AuthorizationCode::new(code.into()),
            "https://app.example/cb?x=1",
            "flow-lab",
            CodeVerifier::parse(VERIFIER).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn t01_request_body_is_exactly_the_pkce_exchange() {
        let req = request("abc");
        assert_eq!(req.url, "https://as.example/token");
        assert_eq!(
            req.body,
            format!(
                "grant_type=authorization_code&code=abc\
                 &redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1&client_id=flow-lab\
                 &code_verifier={VERIFIER}"
            )
        );
        assert!(!req.body.contains("client_secret"));
        assert_eq!(
            TokenRequest::headers(),
            [
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Accept", "application/json")
            ]
        );
        assert!(!TokenRequest::headers()
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("authorization")));
        assert_eq!(TokenRequest::CONTENT_TYPE, CONTENT_TYPE);
    }

    #[test]
    fn ph_code_with_plus_slash_equals_is_reencoded() {
        let req = request("a+b/c=");
        assert!(req.body.contains("&code=a%2Bb%2Fc%3D&"), "{}", req.body);
    }

    #[test]
    fn t02_verifier_is_moved_into_the_request() {
        // `CodeVerifier` is not Clone and `authorization_code_request` takes it by value, so a
        // second use does not compile; here the body carries it exactly once.
        let req = request("abc");
        assert_eq!(req.body.matches(VERIFIER).count(), 1);
    }

    #[test]
    fn x08_token_request_debug_and_masked_body_hide_secrets() {
        let req = request("THE-AUTHORIZATION-CODE");
        let shown = format!("{req:?}");
        assert!(!shown.contains("THE-AUTHORIZATION-CODE"));
        assert!(!shown.contains(VERIFIER));
        let masked = req.masked_body();
        assert!(!masked.contains("THE-AUTHORIZATION-CODE"));
        assert!(!masked.contains(VERIFIER));
        assert!(masked.starts_with("grant_type=authorization_code&code=THE-…ODE (22)&"));
        assert!(masked.contains("client_id=flow-lab"));
        assert!(masked.ends_with("code_verifier=dBjf…jXk (43)"));
    }

    #[test]
    fn t01_endpoint_must_be_secure() {
        let code = AuthorizationCode::new("c".into());
        let err = authorization_code_request(
            "http://as.example/token",
            &code,
            "https://app.example/",
            "c",
            CodeVerifier::from_random([0; 32]),
        )
        .unwrap_err();
        assert_eq!(err, UriError::InsecureEndpoint("http://as.example".into()));
        assert!(authorization_code_request(
            "http://127.0.0.1:9000/token",
            &code,
            "http://127.0.0.1:8080/",
            "c",
            CodeVerifier::from_random([0; 32]),
        )
        .is_ok());
        assert_eq!(
            authorization_code_request(
                "https://as.example/token#f",
                &code,
                "https://app.example/",
                "c",
                CodeVerifier::from_random([0; 32]),
            )
            .unwrap_err(),
            UriError::FragmentNotAllowed
        );
    }

    #[test]
    fn pkce_off_confidential_request_puts_secret_in_body() {
        let req = confidential_code_request(
            "https://as.example/token",
            &AuthorizationCode::new("abc".into()),
            "https://app.example/",
            "demo",
            &ClientSecret::new("demo-secret-value".into()),
        )
        .unwrap();
        assert!(req
            .body
            .ends_with("&client_id=demo&client_secret=demo-secret-value"));
        assert!(!req.body.contains("code_verifier"));
        assert!(!req.masked_body().contains("demo-secret-value"));
    }

    #[test]
    fn refresh_request_shape() {
        let req = refresh_token_request(
            "https://as.example/token",
            &RefreshToken::new("rt-123456789".into()),
            "flow-lab",
        )
        .unwrap();
        assert_eq!(
            req.body,
            "grant_type=refresh_token&refresh_token=rt-123456789&client_id=flow-lab"
        );
        assert!(!req.masked_body().contains("rt-123456789"));
    }

    #[test]
    fn x09_bearer_header() {
        assert_eq!(
            bearer_authorization(&AccessToken::new("tok".into())),
            "Bearer tok"
        );
    }

    #[test]
    fn pa_happy_path() {
        let set =
            with(r#","expires_in":3600,"refresh_token":"rt-1","scope":"read:profile""#).unwrap();
        assert_eq!(set.access_token.secret(), "at-1");
        assert_eq!(set.token_type, "Bearer");
        assert_eq!(set.expires_in, Some(3600));
        assert_eq!(set.refresh_token.unwrap().secret(), "rt-1");
        assert_eq!(set.granted_scope, "read:profile");
        assert!(set.scope_was_returned);
        assert!(set.deviations.is_empty());
    }

    #[test]
    fn t03_invalid_grant_is_typed_with_its_meaning() {
        let err = parse_token_response(
            &HttpResponse::json(
                400,
                r#"{"error":"invalid_grant","error_description":"Code expired"}"#,
            ),
            "s",
            false,
        )
        .unwrap_err();
        assert_eq!(
            err,
            TokenError::ErrorResponse {
                code: TokenErrorCode::InvalidGrant,
                description: Some("Code expired".into()),
                uri: None,
                status: 400,
            }
        );
        assert!(err.what_happened().contains(
            "authorization code invalid, expired, already used, or PKCE verifier mismatch"
        ));
        assert!(err.what_happened().contains("Code expired"));
    }

    #[test]
    fn t04_other_rfc_error_codes_are_typed() {
        for (raw, code) in [
            ("invalid_request", TokenErrorCode::InvalidRequest),
            (
                "unsupported_grant_type",
                TokenErrorCode::UnsupportedGrantType,
            ),
            ("invalid_scope", TokenErrorCode::InvalidScope),
            ("unauthorized_client", TokenErrorCode::UnauthorizedClient),
        ] {
            let err = parse_token_response(
                &HttpResponse::json(400, format!(r#"{{"error":"{raw}"}}"#)),
                "s",
                false,
            )
            .unwrap_err();
            let TokenError::ErrorResponse { code: got, .. } = &err else {
                panic!("{err:?}");
            };
            assert_eq!(got, &code);
            assert_eq!(got.as_str(), raw);
            assert!(!got.meaning().is_empty());
        }
    }

    #[test]
    fn t05_invalid_client_hints_at_confidential_registration() {
        let mut response = HttpResponse::json(401, r#"{"error":"invalid_client"}"#);
        response.www_authenticate = Some("Basic realm=\"as\"".into());
        let err = parse_token_response(&response, "s", false).unwrap_err();
        assert!(matches!(
            err,
            TokenError::ErrorResponse {
                code: TokenErrorCode::InvalidClient,
                status: 401,
                ..
            }
        ));
        assert!(err
            .what_to_do()
            .contains("probably registered as confidential; browser clients must be public"));
    }

    #[test]
    fn t06_unknown_error_code_is_other() {
        for raw in ["slow_down", "foo", "<b>x</b>"] {
            let err = parse_token_response(
                &HttpResponse::json(400, format!(r#"{{"error":"{raw}"}}"#)),
                "s",
                false,
            )
            .unwrap_err();
            assert!(
                matches!(&err, TokenError::ErrorResponse { code: TokenErrorCode::Other(c), .. } if c == raw),
                "{err:?}"
            );
        }
    }

    #[test]
    fn t07_4xx_html_is_an_unexpected_response() {
        let response = HttpResponse {
            unread: None,
            dpop_nonce: None,
            status: 400,
            content_type: Some("text/html".into()),
            body: "<html><form>login</form></html>".into(),
            www_authenticate: None,
            cache_control: None,
        };
        assert_eq!(
            parse_token_response(&response, "s", false).unwrap_err(),
            TokenError::UnexpectedResponse {
                status: 400,
                content_type: Some("text/html".into())
            }
        );
        // JSON error under a non-JSON type is not believed either (oauth4webapi).
        let mut response = HttpResponse::json(400, r#"{"error":"invalid_grant"}"#);
        response.content_type = Some("text/plain".into());
        assert!(matches!(
            parse_token_response(&response, "s", false),
            Err(TokenError::UnexpectedResponse { status: 400, .. })
        ));
    }

    #[test]
    fn t08_4xx_json_without_string_error_is_unexpected() {
        for body in [
            "{}",
            r#"{"error":42}"#,
            r#"{"error":""}"#,
            "[]",
            "{",
            r#"{"error":"a","error":"b"}"#,
        ] {
            assert_eq!(
                parse_token_response(&HttpResponse::json(400, body), "s", false).unwrap_err(),
                TokenError::UnexpectedResponse {
                    status: 400,
                    content_type: Some("application/json".into())
                },
                "{body}"
            );
        }
    }

    #[test]
    fn t09_500_is_unexpected_status_even_with_an_oauth_body() {
        let response = HttpResponse {
            unread: None,
            dpop_nonce: None,
            status: 500,
            content_type: Some("text/html".into()),
            body: "<h1>Internal Server Error</h1>".into(),
            www_authenticate: None,
            cache_control: None,
        };
        assert_eq!(
            parse_token_response(&response, "s", false).unwrap_err(),
            TokenError::UnexpectedStatus(500)
        );
        assert_eq!(
            parse_token_response(
                &HttpResponse::json(503, r#"{"error":"invalid_grant"}"#),
                "s",
                false
            )
            .unwrap_err(),
            TokenError::UnexpectedStatus(503)
        );
    }

    #[test]
    fn t10_200_non_json_is_not_json() {
        let mut response = HttpResponse::json(200, "<html>ok</html>");
        assert_eq!(
            parse_token_response(&response, "s", false).unwrap_err(),
            TokenError::NotJson
        );
        response.content_type = Some("text/html".into());
        assert_eq!(
            parse_token_response(&response, "s", false).unwrap_err(),
            TokenError::NotJson
        );
        response.body = String::new();
        assert_eq!(
            parse_token_response(&response, "s", false).unwrap_err(),
            TokenError::NotJson
        );
    }

    #[test]
    fn t11_json_as_text_plain_is_accepted_and_flagged() {
        let response = HttpResponse {
            unread: None,
            dpop_nonce: None,
            status: 200,
            content_type: Some("text/plain".into()),
            body: r#"{"access_token":"at","token_type":"bearer"}"#.into(),
            www_authenticate: None,
            cache_control: None,
        };
        let set = parse_token_response(&response, "s", false).unwrap();
        assert_eq!(set.access_token.secret(), "at");
        assert_eq!(
            set.deviations,
            vec![Deviation::JsonAsWrongContentType("text/plain".into())]
        );
        assert!(set.deviations[0]
            .explain()
            .contains("text/plain; RFC 6749 §5.1 requires application/json"));
        let mut none = response.clone();
        none.content_type = None;
        let set = parse_token_response(&none, "s", false).unwrap();
        assert_eq!(
            set.deviations,
            vec![Deviation::JsonAsWrongContentType(String::new())]
        );
    }

    #[test]
    fn t12_json_media_type_with_charset_or_case_is_clean() {
        for ct in ["application/json; charset=utf-8", "Application/JSON"] {
            let mut response =
                HttpResponse::json(200, r#"{"access_token":"at","token_type":"Bearer"}"#);
            response.content_type = Some(ct.into());
            let set = parse_token_response(&response, "s", false).unwrap();
            assert!(set.deviations.is_empty(), "{ct}");
        }
    }

    #[test]
    fn pd_charset_utf8_uppercase_is_accepted() {
        let mut response =
            HttpResponse::json(200, r#"{"access_token":"at","token_type":"Bearer"}"#);
        response.content_type = Some("application/json;charset=UTF-8".into());
        assert!(parse_token_response(&response, "s", false)
            .unwrap()
            .deviations
            .is_empty());
    }

    #[test]
    fn t13_non_object_bodies_are_refused() {
        for body in ["null", "[]", "\"x\"", "42"] {
            assert_eq!(ok(body).unwrap_err(), TokenError::NotAnObject, "{body}");
        }
    }

    #[test]
    fn t14_access_token_missing_or_invalid() {
        assert_eq!(
            ok(r#"{"token_type":"Bearer"}"#).unwrap_err(),
            TokenError::MissingAccessToken
        );
        assert_eq!(
            ok(r#"{"access_token":null,"token_type":"Bearer"}"#).unwrap_err(),
            TokenError::MissingAccessToken
        );
        for value in [r#""""#, "42", "true", "[]", r#""a\nb""#] {
            assert_eq!(
                ok(&format!(
                    r#"{{"access_token":{value},"token_type":"Bearer"}}"#
                ))
                .unwrap_err(),
                TokenError::InvalidField("access_token"),
                "{value}"
            );
        }
    }

    #[test]
    fn t15_token_type_missing_or_not_a_string() {
        assert_eq!(
            ok(r#"{"access_token":"a"}"#).unwrap_err(),
            TokenError::MissingTokenType
        );
        for value in ["null", "1", "[\"Bearer\"]"] {
            assert_eq!(
                ok(&format!(r#"{{"access_token":"a","token_type":{value}}}"#)).unwrap_err(),
                TokenError::MissingTokenType
            );
        }
    }

    #[test]
    fn t16_token_type_is_case_insensitive() {
        for t in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            let set = ok(&format!(r#"{{"access_token":"a","token_type":"{t}"}}"#)).unwrap();
            assert_eq!(set.token_type, "Bearer");
        }
    }

    #[test]
    fn pb_lowercase_and_uppercase_bearer() {
        assert!(ok(r#"{"access_token":"a","token_type":"bearer"}"#).is_ok());
        assert!(ok(r#"{"access_token":"a","token_type":"BEARER"}"#).is_ok());
    }

    #[test]
    fn t16b_dpop_token_accepted_only_when_a_proof_was_sent() {
        let body = r#"{"access_token":"SECRET-AT","token_type":"DPoP"}"#;
        let response = HttpResponse::json(200, body);
        let set = parse_token_response_with(&response, "s", false, true).unwrap();
        assert_eq!(set.token_type, "DPoP");
        let lower = HttpResponse::json(200, r#"{"access_token":"a","token_type":"dpop"}"#);
        assert_eq!(
            parse_token_response_with(&lower, "s", false, true)
                .unwrap()
                .token_type,
            "DPoP"
        );
        // A DPoP token the app did not ask for (no proof sent) cannot be used: refused.
        let err = parse_token_response_with(&response, "s", false, false).unwrap_err();
        assert_eq!(err, TokenError::UnsupportedTokenType("DPoP".into()));
        // Bearer stays accepted with a proof sent (the server ignored it).
        let bearer = HttpResponse::json(200, r#"{"access_token":"a","token_type":"Bearer"}"#);
        assert_eq!(
            parse_token_response_with(&bearer, "s", false, true)
                .unwrap()
                .token_type,
            "Bearer"
        );
    }

    #[test]
    fn t16b_other_token_types_are_refused() {
        for t in ["DPoP", "mac", "N_A", ""] {
            let err = ok(&format!(
                r#"{{"access_token":"SECRET-AT","token_type":"{t}"}}"#
            ))
            .unwrap_err();
            assert_eq!(err, TokenError::UnsupportedTokenType(t.into()));
            assert!(!format!("{err:?}{err}").contains("SECRET-AT"));
        }
    }

    #[test]
    fn t17_expires_in_variants() {
        assert_eq!(
            with(r#","expires_in":3600"#).unwrap().expires_in,
            Some(3600)
        );
        assert_eq!(with(r#","expires_in":0"#).unwrap().expires_in, Some(0));
        assert_eq!(with("").unwrap().expires_in, None);
        let s = with(r#","expires_in":"3600""#).unwrap();
        assert_eq!(s.expires_in, Some(3600));
        assert_eq!(s.deviations, vec![Deviation::ExpiresInAsString]);
        for bad in [
            "-1",
            r#""abc""#,
            "null",
            "true",
            r#""""#,
            r#""-1""#,
            r#"" 3600""#,
            "-0.5",
            "[]",
        ] {
            assert_eq!(
                with(&format!(r#","expires_in":{bad}"#)).unwrap_err(),
                TokenError::InvalidField("expires_in"),
                "{bad}"
            );
        }
        let big = with(r#","expires_in":1e20"#).unwrap();
        assert_eq!(big.expires_in, Some(MAX_EXPIRES_IN_SECS));
        assert_eq!(big.deviations, vec![Deviation::ExpiresInClamped]);
        let big = with(r#","expires_in":18446744073709551615"#).unwrap();
        assert_eq!(big.expires_in, Some(MAX_EXPIRES_IN_SECS));
        let big = with(r#","expires_in":"99999999999999999999999""#).unwrap();
        assert_eq!(big.expires_in, Some(MAX_EXPIRES_IN_SECS));
        let frac = with(r#","expires_in":3600.7"#).unwrap();
        assert_eq!(frac.expires_in, Some(3600));
        assert_eq!(frac.deviations, vec![Deviation::ExpiresInNotInteger]);
    }

    #[test]
    fn t18_missing_scope_means_requested_scope() {
        let set = with("").unwrap();
        assert_eq!(set.granted_scope, "read:profile");
        assert!(!set.scope_was_returned);
    }

    #[test]
    fn pc_no_expires_no_scope_extra_fields() {
        let set = with(r#","foo":1,"bar":{"x":[1,2]}"#).unwrap();
        assert_eq!(set.expires_in, None);
        assert_eq!(set.granted_scope, "read:profile");
        assert!(set.deviations.is_empty());
    }

    #[test]
    fn t18b_scope_null_or_array_is_invalid() {
        for value in ["null", r#"["a"]"#, "1"] {
            assert_eq!(
                with(&format!(r#","scope":{value}"#)).unwrap_err(),
                TokenError::InvalidField("scope")
            );
        }
    }

    #[test]
    fn t18c_different_scope_is_accepted_as_granted() {
        let set = with(r#","scope":"read:files""#).unwrap();
        assert_eq!(set.granted_scope, "read:files");
        assert!(set.scope_was_returned);
        let set = with(r#","scope":"""#).unwrap();
        assert_eq!(set.granted_scope, "");
    }

    #[test]
    fn t19_refresh_token_wrong_types_are_invalid() {
        for value in ["null", r#""""#, "1"] {
            assert_eq!(
                with(&format!(r#","refresh_token":{value}"#)).unwrap_err(),
                TokenError::InvalidField("refresh_token")
            );
        }
    }

    #[test]
    fn t19b_refresh_token_is_kept_masked() {
        let set = with(r#","refresh_token":"refresh-secret-123""#).unwrap();
        let rt = set.refresh_token.clone().unwrap();
        assert_eq!(rt.secret(), "refresh-secret-123");
        assert_eq!(rt.masked(), "refr…123 (18)");
        assert!(!format!("{set:?}").contains("refresh-secret-123"));
        assert!(!format!("{set:?}").contains("at-1"));
    }

    #[test]
    fn t20_unknown_fields_are_ignored() {
        assert!(with(r#","foo":1,"token_type_hint":"x""#).is_ok());
    }

    #[test]
    fn t21_id_token_is_ignored_unless_openid_requested() {
        let body = r#"{"access_token":"a","token_type":"Bearer","id_token":"eyJ.x.y"}"#;
        let set =
            parse_token_response(&HttpResponse::json(200, body), "read:profile", false).unwrap();
        assert_eq!(set.id_token, None);
        assert_eq!(set.deviations, vec![Deviation::UnrequestedIdTokenIgnored]);
        let set = parse_token_response(&HttpResponse::json(200, body), "openid", true).unwrap();
        assert_eq!(set.id_token.unwrap().secret(), "eyJ.x.y");
        let set = parse_token_response(
            &HttpResponse::json(200, r#"{"access_token":"a","token_type":"Bearer"}"#),
            "openid",
            true,
        )
        .unwrap();
        assert_eq!(set.deviations, vec![Deviation::IdTokenMissing]);
        assert_eq!(
            parse_token_response(
                &HttpResponse::json(
                    200,
                    r#"{"access_token":"a","token_type":"Bearer","id_token":5}"#
                ),
                "openid",
                true
            )
            .unwrap_err(),
            TokenError::InvalidField("id_token")
        );
    }

    #[test]
    fn t22_redirects_are_unexpected_status() {
        for status in [0, 302, 307] {
            let response = HttpResponse {
                status,
                ..HttpResponse::default()
            };
            let err = parse_token_response(&response, "s", false).unwrap_err();
            assert_eq!(err, TokenError::UnexpectedStatus(status));
            assert!(err.what_happened().contains("not followed"));
        }
    }

    #[test]
    fn t23_success_must_be_200() {
        for status in [201, 204] {
            let err = parse_token_response(
                &HttpResponse::json(status, r#"{"access_token":"a","token_type":"Bearer"}"#),
                "s",
                false,
            )
            .unwrap_err();
            assert_eq!(err, TokenError::UnexpectedStatus(status));
        }
    }

    #[test]
    fn t24_body_over_64_kib_is_refused() {
        let body = format!(
            r#"{{"access_token":"a","token_type":"Bearer","pad":"{}"}}"#,
            "x".repeat(MAX_TOKEN_BODY)
        );
        assert!(matches!(ok(&body), Err(TokenError::BodyTooLarge { .. })));
        let err = parse_token_response(&HttpResponse::json(400, &body), "s", false).unwrap_err();
        assert!(matches!(err, TokenError::BodyTooLarge { .. }));
    }

    #[test]
    fn t28_duplicate_keys_are_refused() {
        assert_eq!(
            ok(r#"{"access_token":"a","access_token":"b","token_type":"Bearer"}"#).unwrap_err(),
            TokenError::DuplicateField("access_token".into())
        );
        assert_eq!(
            ok(r#"{"access_token":"a","token_type":"Bearer","token_type":"DPoP"}"#).unwrap_err(),
            TokenError::DuplicateField("token_type".into())
        );
    }

    /// Issue 13 defect 9: a repeated member inside a nested object of a token response is
    /// refused like a top-level one, not silently last-wins.
    #[test]
    fn t28_nested_duplicate_keys_are_refused() {
        let body = r#"{"access_token":"a","token_type":"Bearer",
            "authorization_details":[{"type":"payment","type":"account"}]}"#;
        assert_eq!(
            ok(body).unwrap_err(),
            TokenError::DuplicateField("type".into())
        );
    }

    #[test]
    fn t29_invalid_utf8_is_a_parse_error() {
        let read = |bytes: &[u8]| {
            let mut reader = BodyReader::default();
            reader.push(bytes).unwrap();
            let (body, unread) = reader.finish();
            HttpResponse {
                body,
                unread,
                ..HttpResponse::json(200, "")
            }
        };
        let bad = read(b"{\"access_token\":\"a\xff\",\"token_type\":\"Bearer\"}");
        assert_eq!((bad.body.as_str(), bad.unread), ("", Some(Unread::NotUtf8)));
        assert_eq!(
            parse_token_response(&bad, "s", false).unwrap_err(),
            TokenError::NotUtf8
        );
        assert_eq!(read(b"{}").body, "{}");
        // What fetch's text() makes of invalid UTF-8 (U+FFFD) is not a valid token either.
        assert_eq!(
            ok("{\"access_token\":\"a\u{FFFD}\",\"token_type\":\"Bearer\"}").unwrap_err(),
            TokenError::InvalidField("access_token")
        );
    }

    #[test]
    fn x05_long_error_description_is_truncated() {
        let body = format!(
            r#"{{"error":"invalid_grant","error_description":"{}"}}"#,
            "d".repeat(5000)
        );
        let err = parse_token_response(&HttpResponse::json(400, &body), "s", false).unwrap_err();
        let TokenError::ErrorResponse {
            description: Some(d),
            ..
        } = err
        else {
            panic!("{err:?}")
        };
        assert_eq!(d.chars().count(), MAX_DESCRIPTION_CHARS + 1);
    }

    #[test]
    fn every_error_explains_itself() {
        let errors = [
            TokenError::BodyTooLarge { len: 1 },
            TokenError::UnexpectedResponse {
                status: 400,
                content_type: None,
            },
            TokenError::UnexpectedStatus(500),
            TokenError::UnexpectedStatus(201),
            TokenError::NotJson,
            TokenError::NotAnObject,
            TokenError::DuplicateField("a".into()),
            TokenError::MissingAccessToken,
            TokenError::MissingTokenType,
            TokenError::UnsupportedTokenType("mac".into()),
            TokenError::InvalidField("scope"),
            TokenError::NotUtf8,
        ];
        for e in errors {
            assert!(!e.what_happened().is_empty() && !e.what_to_do().is_empty());
            assert!(!e.to_string().is_empty());
        }
    }

    // proptest is a host-only dev-dependency (Cargo.toml).
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        /// P-h, RFC 6749 Appendix B: a code containing `+ / = %` (or anything else) goes into
        /// the token request form-encoded and decodes back to exactly the same code, once;
        /// `+` is never sent raw (it would decode as a space).
        #[test]
        fn ph_form_encoding_round_trips_codes_with_plus_slash_equals_percent(
            code in "[A-Za-z0-9+/=%._~ -]{1,64}"
        ) {
            let req = request(&code);
            let sent: Vec<String> = parse_query(&req.body)
                .into_iter()
                .filter(|(k, _)| k == "code")
                .map(|(_, v)| v)
                .collect();
            proptest::prop_assert_eq!(sent, vec![code.clone()]);
            // On the wire: `/` and `=` always escaped, `+` only ever a space.
            let wire = req
                .body
                .split('&')
                .find_map(|p| p.strip_prefix("code="))
                .unwrap_or_default();
            proptest::prop_assert!(!wire.contains(['/', '=']), "{}", wire);
            proptest::prop_assert_eq!(wire.contains('+'), code.contains(' '));
        }

        /// The same for any Unicode text: form encoding is lossless.
        #[test]
        fn ph_form_encoding_round_trips_any_text(name in "\\PC{1,16}", value in "\\PC{0,64}") {
            let encoded = form_encode(&[(&name, &value)]);
            proptest::prop_assert_eq!(parse_query(&encoded), vec![(name, value)]);
        }
    }
}
