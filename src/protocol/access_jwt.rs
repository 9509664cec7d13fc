//! JWT access tokens (RFC 9068), decoded for display only: the client must not rely on an
//! access token's contents; only the API validates it.

use crate::protocol::error::sanitize_for_display;
use crate::protocol::jwt::{decode, DecodedJwt};
use serde_json::Value;

/// Claims RFC 9068 §2.2 makes required.
const REQUIRED: [&str; 7] = ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"];

/// An access token that is shaped like a JWS, decoded but not verified.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessJwt {
    /// The decoded token.
    pub jwt: DecodedJwt,
    /// The header's `typ`, if it is a string.
    pub typ: Option<String>,
    /// `iss`, if it is a string.
    pub iss: Option<String>,
    /// `aud` as a list (a single string becomes one entry).
    pub aud: Vec<String>,
    /// `scope`, if it is a string.
    pub scope: Option<String>,
    /// `exp` in seconds since the epoch.
    pub exp: Option<u64>,
}

/// Decodes `token` when it is JWT-shaped; `None` for an opaque token.
pub fn inspect(token: &str) -> Option<AccessJwt> {
    let jwt = decode(token).ok()?;
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .map(|s| sanitize_for_display(s, 512))
    };
    let aud = match jwt.claims.get("aud") {
        Some(Value::String(a)) => vec![sanitize_for_display(a, 512)],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(|a| sanitize_for_display(a, 512))
            .collect(),
        _ => Vec::new(),
    };
    Some(AccessJwt {
        typ: text(jwt.header.get("typ")),
        iss: text(jwt.claims.get("iss")),
        aud,
        scope: text(jwt.claims.get("scope")),
        exp: jwt.claims.get("exp").and_then(Value::as_u64),
        jwt,
    })
}

impl AccessJwt {
    /// Whether `typ` is `at+jwt` or `application/at+jwt` (RFC 9068 §2.1; media types compare
    /// case-insensitively).
    pub fn is_at_jwt(&self) -> bool {
        self.typ.as_deref().is_some_and(|t| {
            let t = t.to_ascii_lowercase();
            t == "at+jwt" || t == "application/at+jwt"
        })
    }

    /// Whether `iss` names `issuer` exactly (then this issuer's JWKS is the one to verify with).
    pub fn names_issuer(&self, issuer: &str) -> bool {
        self.iss.as_deref() == Some(issuer)
    }

    /// What an API validating this token (RFC 9068 §4) would object to, signature aside.
    pub fn api_objections(&self, issuer: &str, now_s: u64) -> Vec<String> {
        let mut out = Vec::new();
        if !self.is_at_jwt() {
            out.push("typ is not at+jwt: an API must refuse it (§4).".to_owned());
        }
        if !self.names_issuer(issuer) {
            out.push("iss is not this provider.".to_owned());
        }
        match self.exp {
            Some(exp) if exp <= now_s => out.push("exp has passed: expired.".to_owned()),
            _ => {}
        }
        let missing: Vec<&str> = REQUIRED
            .into_iter()
            .filter(|c| !self.jwt.claims.contains_key(*c))
            .collect();
        if !missing.is_empty() {
            out.push(format!(
                "Missing required claims (§2.2): {}.",
                missing.join(", ")
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use serde_json::json;

    const ISSUER: &str = "https://as.example";
    const NOW_S: u64 = 1_764_000_000;

    fn token(header: Value, claims: Value) -> String {
        let part = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.{}",
            part(&header),
            part(&claims),
            URL_SAFE_NO_PAD.encode([1u8; 256])
        )
    }

    fn claims() -> Value {
        json!({"iss": ISSUER, "exp": NOW_S + 60, "aud": "https://api.example", "sub": "alice",
               "client_id": "flow-lab", "iat": NOW_S, "jti": "j1", "scope": "openid read:files"})
    }

    #[test]
    fn rfc9068_2_2_well_formed_access_jwt_is_decoded_with_aud_scope_exp() {
        let at = inspect(&token(
            json!({"alg": "RS256", "typ": "at+jwt", "kid": "k"}),
            claims(),
        ))
        .expect("JWT-shaped");
        assert!(at.is_at_jwt());
        assert_eq!(at.aud, vec!["https://api.example".to_owned()]);
        assert_eq!(at.scope.as_deref(), Some("openid read:files"));
        assert_eq!(at.exp, Some(NOW_S + 60));
        assert!(at.api_objections(ISSUER, NOW_S).is_empty());
    }

    #[test]
    fn rfc9068_2_1_application_at_jwt_typ_is_accepted_case_insensitively() {
        let at = inspect(&token(
            json!({"alg": "RS256", "typ": "Application/AT+JWT"}),
            claims(),
        ));
        assert!(at.unwrap().is_at_jwt());
    }

    #[test]
    fn rfc9068_4_api_objects_to_plain_jwt_typ_other_issuer_expiry_and_missing_claims() {
        let mut c = claims();
        c["iss"] = json!("https://evil.example");
        c["exp"] = json!(NOW_S - 1);
        c.as_object_mut().unwrap().remove("jti");
        let at = inspect(&token(json!({"alg": "RS256", "typ": "JWT"}), c)).unwrap();
        let all = at.api_objections(ISSUER, NOW_S).join(" ");
        for word in ["typ", "iss", "expired", "jti"] {
            assert!(all.contains(word), "{word}: {all}");
        }
        assert!(!at.names_issuer(ISSUER));
    }

    #[test]
    fn rfc9068_opaque_access_token_is_not_decoded() {
        assert_eq!(inspect("SlAV32hkKG"), None);
        assert_eq!(inspect("a.b.c"), None);
    }

    #[test]
    fn rfc9068_2_2_aud_array_is_listed() {
        let mut c = claims();
        c["aud"] = json!(["https://api.example", "https://other.example"]);
        let at = inspect(&token(json!({"alg": "ES256", "typ": "at+jwt"}), c)).unwrap();
        assert_eq!(at.aud.len(), 2);
    }
}
