//! The token endpoint's request (RFC 6749 §4.1.3, §6): the back channel's form body and its
//! CORS-safelisted headers, secrets masked for display.

use crate::protocol::pkce::CodeVerifier;
use crate::protocol::secret::{mask, AccessToken, AuthorizationCode, ClientSecret, RefreshToken};
use crate::protocol::uri::{form_encode, parse_query, HttpUrl, UriError};

/// The token request's content type: CORS-safelisted, so no preflight is needed (T-26).
pub const CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// The token request's `Accept`: CORS-safelisted.
pub const ACCEPT: &str = "application/json";

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

/// A `POST` of `fields` to the token endpoint, which must be https (or loopback http) without
/// fragment or userinfo.
fn form_post(token_endpoint: &str, fields: &[(&str, &str)]) -> Result<TokenRequest, UriError> {
    HttpUrl::parse(token_endpoint)?.require_secure()?;
    Ok(TokenRequest {
        url: token_endpoint.to_owned(),
        body: form_encode(fields),
    })
}

/// An authorization code grant (RFC 6749 §4.1.3) with one more field: the PKCE verifier, an
/// attacker's guess at it, or a confidential client's secret.
fn code_post(
    token_endpoint: &str,
    code: &AuthorizationCode,
    redirect_uri: &str,
    client_id: &str,
    proof: Option<(&str, &str)>,
) -> Result<TokenRequest, UriError> {
    let mut fields = vec![
        ("grant_type", "authorization_code"),
        ("code", code.secret()),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
    ];
    fields.extend(proof);
    form_post(token_endpoint, &fields)
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
    let verifier = verifier.into_secret();
    code_post(
        token_endpoint,
        code,
        redirect_uri,
        client_id,
        Some(("code_verifier", &verifier)),
    )
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
    code_post(
        token_endpoint,
        code,
        redirect_uri,
        client_id,
        guessed_verifier.map(|verifier| ("code_verifier", verifier)),
    )
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
    code_post(
        token_endpoint,
        code,
        redirect_uri,
        client_id,
        Some(("client_secret", client_secret.secret())),
    )
}

/// A public client's refresh: `grant_type=refresh_token&refresh_token&client_id` (the provider
/// may rotate the refresh token; the new one replaces the old, RFC 9700 §4.14).
pub fn refresh_token_request(
    token_endpoint: &str,
    refresh_token: &RefreshToken,
    client_id: &str,
) -> Result<TokenRequest, UriError> {
    form_post(
        token_endpoint,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.secret()),
            ("client_id", client_id),
        ],
    )
}

/// The `Authorization` header value for an API call: the token goes in a header, never in a
/// URL (X-9, RFC 6750 §2.1).
pub fn bearer_authorization(token: &AccessToken) -> String {
    format!("Bearer {}", token.secret())
}
