//! The OpenID Connect UserInfo answer (OIDC Core §5.3): a JSON object about the user, whose
//! `sub` MUST equal the ID token's (§5.3.2), or it may describe someone else (token substitution).

use crate::protocol::document::parse_object;
use crate::protocol::error::{sanitize_for_display, Explain, Side};
use crate::protocol::http::HttpResponse;
use crate::protocol::resource::{parse_resource_response, ResourceError};
use serde_json::{Map, Value};

/// Why a UserInfo answer was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserInfoError {
    /// 401/403 and other HTTP-level failures, as for any resource.
    Resource(ResourceError),
    /// A signed or encrypted answer (`application/jwt`), which this app does not verify.
    SignedResponse,
    /// Not a JSON object.
    NotAnObject,
    /// No `sub` string.
    MissingSub,
    /// `sub` differs from the ID token's.
    SubjectMismatch {
        /// The ID token's subject (sanitized).
        expected: String,
        /// UserInfo's subject (sanitized).
        actual: String,
    },
}

/// Validates the answer; `expected_sub` is the verified ID token's subject, when there is one.
pub fn parse_userinfo(
    response: &HttpResponse,
    expected_sub: Option<&str>,
) -> Result<Map<String, Value>, UserInfoError> {
    let jwt = response.content_type.as_deref().is_some_and(|ct| {
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("application/jwt")
    });
    if response.status == 200 && jwt {
        return Err(UserInfoError::SignedResponse);
    }
    parse_resource_response(response).map_err(UserInfoError::Resource)?;
    let object = parse_object(&response.body).map_err(|_| UserInfoError::NotAnObject)?;
    let sub = match object.get("sub") {
        Some(Value::String(sub)) if !sub.is_empty() => sub,
        _ => return Err(UserInfoError::MissingSub),
    };
    if let Some(expected) = expected_sub {
        if sub != expected {
            return Err(UserInfoError::SubjectMismatch {
                expected: sanitize_for_display(expected, 200),
                actual: sanitize_for_display(sub, 200),
            });
        }
    }
    Ok(object)
}

impl Explain for UserInfoError {
    fn what_happened(&self) -> String {
        match self {
            Self::Resource(error) => error.what_happened(),
            Self::SignedResponse => "The UserInfo endpoint answered with a signed JWT \
                (application/jwt); this app only reads plain JSON UserInfo."
                .to_owned(),
            Self::NotAnObject => "The UserInfo answer is not a JSON object.".to_owned(),
            Self::MissingSub => "The UserInfo answer has no \"sub\" (subject).".to_owned(),
            Self::SubjectMismatch { expected, actual } => format!(
                "UserInfo describes the user \"{actual}\", but the ID token says \"{expected}\": \
                 the answer is about someone else and was discarded (OIDC Core §5.3.2)."
            ),
        }
    }

    fn whose_side(&self) -> Side {
        match self {
            Self::Resource(error) => error.whose_side(),
            Self::SubjectMismatch { .. } => Side::Attacker,
            _ => Side::Provider,
        }
    }

    fn what_to_do(&self) -> String {
        match self {
            Self::Resource(error) => error.what_to_do(),
            Self::SignedResponse => "Configure the client at the provider to return unsigned \
                UserInfo (userinfo_signed_response_alg unset)."
                .to_owned(),
            _ => "Log in again; the ID token's claims remain the reliable statement of who \
                you are."
                .to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, ct: &str, body: &str) -> HttpResponse {
        HttpResponse {
            unread: None,
            dpop_nonce: None,
            status,
            content_type: Some(ct.into()),
            body: body.into(),
            www_authenticate: None,
            cache_control: None,
        }
    }

    #[test]
    fn same_subject_is_accepted() {
        let info = parse_userinfo(
            &response(200, "application/json", r#"{"sub":"alice","name":"Alice"}"#),
            Some("alice"),
        )
        .unwrap();
        assert_eq!(info["name"], "Alice");
    }

    #[test]
    fn another_subject_or_none_is_refused() {
        let other = parse_userinfo(
            &response(200, "application/json", r#"{"sub":"bob"}"#),
            Some("alice"),
        )
        .unwrap_err();
        assert!(matches!(other, UserInfoError::SubjectMismatch { .. }));
        assert_eq!(other.whose_side(), Side::Attacker);
        assert_eq!(
            parse_userinfo(&response(200, "application/json", r#"{"name":"x"}"#), None),
            Err(UserInfoError::MissingSub)
        );
        assert_eq!(
            parse_userinfo(&response(200, "application/json", "[1]"), None),
            Err(UserInfoError::NotAnObject)
        );
    }

    #[test]
    fn signed_userinfo_and_401_are_explained() {
        assert_eq!(
            parse_userinfo(&response(200, "application/jwt", "eyJ.a.b"), None),
            Err(UserInfoError::SignedResponse)
        );
        assert!(matches!(
            parse_userinfo(&response(401, "application/json", "{}"), None),
            Err(UserInfoError::Resource(ResourceError::InvalidToken { .. }))
        ));
    }
}
