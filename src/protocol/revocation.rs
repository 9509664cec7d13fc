//! Ending a session at the provider: token revocation (RFC 7009) and the RP-initiated logout URL
//! (OpenID Connect RP-Initiated Logout 1.0).
//!
//! Revocation: a public client tells the provider that a token is no longer needed. Request: `POST` form `token`, `token_type_hint`, `client_id` (RFC 7009 §2.1, the
//! public client identifies itself in the body like at the token endpoint). Answer: 200 whether
//! or not the token was valid (§2.2), so an attacker learns nothing; 400 JSON error otherwise.

use crate::protocol::document::parse_object;
use crate::protocol::error::{sanitize_for_display, Explain, Side};
use crate::protocol::http::HttpResponse;
use crate::protocol::token::TokenRequest;
use crate::protocol::uri::{form_encode, url_with_query, HttpUrl, UriError};
use serde_json::Value;

/// Which token is revoked (the `token_type_hint`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// The access token.
    Access,
    /// The refresh token (providers usually revoke the whole grant with it).
    Refresh,
}

impl TokenKind {
    /// The RFC 7009 §2.1 hint value.
    pub fn hint(self) -> &'static str {
        match self {
            TokenKind::Access => "access_token",
            TokenKind::Refresh => "refresh_token",
        }
    }
}

/// Builds the revocation request. The endpoint must be https (or loopback http).
pub fn revocation_request(
    endpoint: &str,
    token: &str,
    kind: TokenKind,
    client_id: &str,
) -> Result<TokenRequest, UriError> {
    HttpUrl::parse(endpoint)?.require_secure()?;
    Ok(TokenRequest {
        url: endpoint.to_owned(),
        body: form_encode(&[
            ("token", token),
            ("token_type_hint", kind.hint()),
            ("client_id", client_id),
        ]),
    })
}

/// The RP-initiated logout URL: `end_session_endpoint` (its own query kept) plus `id_token_hint`
/// (which session), `post_logout_redirect_uri` (where to come back; registered like the redirect
/// URI), `client_id` and `state` (RP-Initiated Logout 1.0 §2: OPTIONAL, handed back on the
/// redirect; some providers, Glewlwyd 2.7.5 among them, only redirect back when it is present).
pub fn end_session_url(
    end_session_endpoint: &str,
    id_token_hint: Option<&str>,
    post_logout_redirect_uri: &str,
    client_id: &str,
    state: Option<&str>,
) -> Result<String, UriError> {
    let mut pairs = Vec::new();
    if let Some(hint) = id_token_hint {
        pairs.push(("id_token_hint", hint));
    }
    pairs.push(("post_logout_redirect_uri", post_logout_redirect_uri));
    pairs.push(("client_id", client_id));
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    let url = url_with_query(end_session_endpoint, &END_SESSION_PARAMETERS, &pairs)?;
    HttpUrl::parse(post_logout_redirect_uri)?.require_secure()?;
    Ok(url)
}

/// The parameters [`end_session_url`] sets: the endpoint's own query must not carry them, or the provider may read its copy instead of ours
/// (a `post_logout_redirect_uri` of someone else's choosing).
const END_SESSION_PARAMETERS: [&str; 4] = [
    "id_token_hint",
    "post_logout_redirect_uri",
    "client_id",
    "state",
];

/// Why a revocation was not confirmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RevocationError {
    /// A 4xx JSON error (e.g. `unsupported_token_type`, `invalid_client`).
    ErrorResponse {
        /// HTTP status.
        status: u16,
        /// The `error` code (sanitized).
        code: String,
        /// `error_description` (sanitized).
        description: Option<String>,
    },
    /// 503: the provider asks to retry later (RFC 7009 §2.2.1).
    Unavailable,
    /// Any other status.
    UnexpectedStatus(u16),
}

/// Validates the revocation answer: any 200 is success; the body is ignored (RFC 7009 §2.2).
pub fn parse_revocation_response(response: &HttpResponse) -> Result<(), RevocationError> {
    match response.status {
        200 => Ok(()),
        503 => Err(RevocationError::Unavailable),
        status @ 400..=499 => {
            let object = parse_object(&response.body).ok();
            let field = |name: &str| {
                object
                    .as_ref()
                    .and_then(|o| o.get(name))
                    .and_then(Value::as_str)
                    .filter(|v| !v.is_empty())
                    .map(|v| sanitize_for_display(v, 500))
            };
            match field("error") {
                Some(code) => Err(RevocationError::ErrorResponse {
                    status,
                    code,
                    description: field("error_description"),
                }),
                None => Err(RevocationError::UnexpectedStatus(status)),
            }
        }
        status => Err(RevocationError::UnexpectedStatus(status)),
    }
}

impl Explain for RevocationError {
    fn what_happened(&self) -> String {
        match self {
            Self::ErrorResponse {
                status,
                code,
                description,
            } => format!(
                "The provider refused to revoke the token (HTTP {status}, {code}){}",
                description
                    .as_deref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_else(|| ".".to_owned())
            ),
            Self::Unavailable => {
                "The provider's revocation service is unavailable (HTTP 503).".to_owned()
            }
            Self::UnexpectedStatus(0) => {
                "The revocation endpoint answered with a redirect, which is not followed."
                    .to_owned()
            }
            Self::UnexpectedStatus(status) => {
                format!("The revocation endpoint answered HTTP {status} instead of 200.")
            }
        }
    }

    fn whose_side(&self) -> Side {
        Side::Provider
    }

    fn what_to_do(&self) -> String {
        match self {
            Self::ErrorResponse { code, .. } if code == "unsupported_token_type" => "This \
                provider does not revoke this kind of token (some only revoke refresh tokens). \
                The token stays valid until it expires."
                .to_owned(),
            Self::Unavailable => "Try again in a moment.".to_owned(),
            _ => "The token may still be valid until it expires; log out to forget it here."
                .to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::uri::parse_query;

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            unread: None,
            dpop_nonce: None,
            status,
            content_type: Some("application/json".into()),
            body: body.into(),
            www_authenticate: None,
            cache_control: None,
        }
    }

    #[test]
    fn request_is_a_form_post_with_hint_and_client_id_and_no_secret() {
        let request = revocation_request(
            "https://as.example/revoke",
            "tok+en/=",
            TokenKind::Refresh,
            "flow-lab",
        )
        .unwrap();
        assert_eq!(request.url, "https://as.example/revoke");
        assert_eq!(
            request.body,
            "token=tok%2Ben%2F%3D&token_type_hint=refresh_token&client_id=flow-lab"
        );
        assert!(!request.body.contains("client_secret"));
        assert!(
            revocation_request("http://as.example/revoke", "t", TokenKind::Access, "c").is_err()
        );
        assert!(revocation_request(
            "http://127.0.0.1:9000/token/revocation",
            "t",
            TokenKind::Access,
            "c"
        )
        .is_ok());
    }

    #[test]
    fn end_session_url_carries_hint_return_address_and_client() {
        assert_eq!(
            end_session_url(
                "https://as.example/logout?tenant=1",
                Some("eyJ.x.y"),
                "https://app.example/",
                "flow-lab",
                Some("st-bye")
            )
            .unwrap(),
            "https://as.example/logout?tenant=1&id_token_hint=eyJ.x.y\
             &post_logout_redirect_uri=https%3A%2F%2Fapp.example%2F&client_id=flow-lab&state=st-bye"
        );
        let without_hint = end_session_url(
            "https://as.example/logout",
            None,
            "https://app.example/",
            "c",
            None,
        )
        .unwrap();
        assert!(!without_hint.contains("id_token_hint") && !without_hint.contains("state="));
        assert!(end_session_url("javascript:x", None, "https://app.example/", "c", None).is_err());
    }

    #[test]
    fn d09_end_session_query_ending_in_a_question_mark_still_gets_a_separator() {
        // `?x=1?` ends with `?`, which was taken for an empty query: id_token_hint was glued
        // to the value of `x` and never reached the provider as a parameter.
        let url = end_session_url(
            "https://as.example/logout?x=1?",
            Some("eyJ.x.y"),
            "https://app.example/",
            "flow-lab",
            None,
        )
        .unwrap();
        let params = parse_query(url.split_once('?').unwrap().1);
        assert_eq!(params[0], ("x".to_owned(), "1?".to_owned()), "{url}");
        assert_eq!(
            params[1],
            ("id_token_hint".to_owned(), "eyJ.x.y".to_owned()),
            "{url}"
        );
    }

    #[test]
    fn d09_end_session_endpoint_pre_setting_our_parameters_is_refused() {
        for endpoint in [
            "https://as.example/logout?post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F",
            "https://as.example/logout?id_token_hint=other",
            "https://as.example/logout?tenant=1&client_id=other",
            "https://as.example/logout?tenant=1;post_logout_redirect_uri=https://evil.example/",
        ] {
            let result =
                end_session_url(endpoint, Some("eyJ.x.y"), "https://app.example/", "c", None);
            assert!(
                matches!(result, Err(UriError::ReservedParameter(_))),
                "{endpoint}: {result:?}"
            );
        }
    }

    #[test]
    fn any_200_is_success_and_errors_are_typed() {
        assert_eq!(parse_revocation_response(&response(200, "")), Ok(()));
        assert_eq!(
            parse_revocation_response(&response(
                400,
                r#"{"error":"unsupported_token_type","error_description":"<b>no</b>"}"#
            )),
            Err(RevocationError::ErrorResponse {
                status: 400,
                code: "unsupported_token_type".into(),
                description: Some("<b>no</b>".into())
            })
        );
        assert_eq!(
            parse_revocation_response(&response(503, "")),
            Err(RevocationError::Unavailable)
        );
        assert_eq!(
            parse_revocation_response(&response(400, "<html>")),
            Err(RevocationError::UnexpectedStatus(400))
        );
        assert_eq!(
            parse_revocation_response(&response(0, "")),
            Err(RevocationError::UnexpectedStatus(0))
        );
    }
}
