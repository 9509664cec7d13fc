//! The provider's published keys (RFC 7517 JWKS, RFC 7518 §6) and the choice of the one key an
//! ID token's signature is checked with: by `kid`, key type, curve, `use` and `alg`; keys named
//! in the token's own header are never used.

use super::{JwsAlg, JwtError, MAX_JWKS_BODY, MIN_RSA_BITS};
use crate::protocol::document::{parse_document, take, FromValue, JsonProblem, Member};
use crate::protocol::error::sanitize_for_display;
use crate::protocol::http::HttpResponse;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// One published key (RFC 7517 §4, RFC 7518 §6): the members this client reads, as sent.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(from = "Map<String, Value>")]
pub struct Jwk {
    /// Key type (`RSA`, `EC`).
    pub kty: Member<String>,
    /// Key id.
    pub kid: Member<String>,
    /// Intended use (`sig`, `enc`).
    pub use_: Member<String>,
    /// The one algorithm the key is for.
    pub alg: Member<String>,
    /// Permitted operations.
    pub key_ops: Member<Vec<Member<String>>>,
    /// EC curve.
    pub crv: Member<String>,
    /// RSA modulus.
    pub n: Member<String>,
    /// RSA exponent.
    pub e: Member<String>,
    /// EC x coordinate.
    pub x: Member<String>,
    /// EC y coordinate.
    pub y: Member<String>,
}

impl From<Map<String, Value>> for Jwk {
    fn from(mut object: Map<String, Value>) -> Self {
        Jwk {
            kty: take(&mut object, "kty"),
            kid: take(&mut object, "kid"),
            use_: take(&mut object, "use"),
            alg: take(&mut object, "alg"),
            key_ops: take(&mut object, "key_ops"),
            crv: take(&mut object, "crv"),
            n: take(&mut object, "n"),
            e: take(&mut object, "e"),
            x: take(&mut object, "x"),
            y: take(&mut object, "y"),
        }
    }
}

/// A key in the `keys` array is a JSON object; any other entry is kept as `Other` (and dropped).
impl FromValue for Jwk {
    fn from_value(value: Value) -> Result<Self, Value> {
        match value {
            Value::Object(object) => Ok(Jwk::from(object)),
            other => Err(other),
        }
    }
}

/// The provider's published keys (RFC 7517 §5).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Jwks {
    /// The `keys` array's objects (entries that are not objects are dropped).
    pub keys: Vec<Jwk>,
}

/// A JWKS document as sent.
#[derive(Deserialize)]
#[serde(from = "Map<String, Value>")]
struct JwksDocument {
    keys: Member<Vec<Member<Jwk>>>,
}

impl From<Map<String, Value>> for JwksDocument {
    fn from(mut object: Map<String, Value>) -> Self {
        JwksDocument {
            keys: take(&mut object, "keys"),
        }
    }
}

impl Jwks {
    /// The `kid`s, for display.
    pub fn kids(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| {
                k.kid
                    .ok()
                    .map(|kid| sanitize_for_display(kid, 64))
                    .unwrap_or_else(|| "(no kid)".to_owned())
            })
            .collect()
    }
}

/// Validates the JWKS answer: 200, a JSON object with a `keys` array, no member repeated in
/// any key (issue 13 defect 9: `"use":"enc","use":"sig"` must not pick a key). The content
/// type is not checked (`application/json` and `application/jwk-set+json` are both common).
pub fn parse_jwks(response: &HttpResponse) -> Result<Jwks, JwtError> {
    if response.body_len() > MAX_JWKS_BODY {
        return Err(JwtError::JwksInvalid("the document is too large"));
    }
    if response.status != 200 {
        return Err(JwtError::JwksStatus(response.status));
    }
    let doc: JwksDocument = parse_document(&response.body).map_err(|problem| match problem {
        JsonProblem::Duplicate(_) => JwtError::JwksInvalid("a member is repeated in it"),
        _ => JwtError::JwksInvalid("it is not a JSON object"),
    })?;
    match doc.keys {
        Member::Is(keys) => Ok(Jwks {
            keys: keys
                .into_iter()
                .filter_map(|k| match k {
                    Member::Is(key) => Some(key),
                    _ => None,
                })
                .collect(),
        }),
        _ => Err(JwtError::JwksInvalid("it has no keys array")),
    }
}

/// The one key that verifies this token, reduced to its public members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectedKey {
    /// The key's `kid`, if it has one.
    pub kid: Option<String>,
    /// The public JWK to give `SubtleCrypto.importKey('jwk', …)`: `kty` plus `n`/`e` or
    /// `crv`/`x`/`y` only, so a published private member or a conflicting `alg` cannot get in
    /// the way.
    pub jwk_json: String,
    /// RSA modulus size in bits (0 for EC keys).
    pub rsa_bits: usize,
}

/// A string member's text, if it is a string.
fn text(member: &Member<String>) -> Option<&str> {
    member.ok().map(String::as_str)
}

/// Whether an optional member is absent or, when present, the string `wanted`.
fn absent_or(member: &Member<String>, wanted: &str) -> bool {
    *member == Member::Absent || text(member) == Some(wanted)
}

/// Whether a JWKS entry may verify `alg` (RFC 7517 §4.2, §4.3, §4.4).
fn key_fits(key: &Jwk, alg: JwsAlg) -> bool {
    if text(&key.kty) != Some(alg.key_type()) {
        return false;
    }
    if let Some(curve) = alg.curve() {
        if text(&key.crv) != Some(curve) {
            return false;
        }
    }
    if !absent_or(&key.use_, "sig") || !absent_or(&key.alg, alg.name()) {
        return false;
    }
    match &key.key_ops {
        Member::Absent => true,
        Member::Is(ops) => ops.iter().any(|op| text(op) == Some("verify")),
        Member::Other(_) => false,
    }
}

/// Picks the key that must have signed the token: among the keys of the right type, curve,
/// `use` and `alg`, the one whose `kid` equals the header's; without a `kid`, the only one
/// (OIDC Core §10.1: with several keys a `kid` is required). Zero or several is an error.
pub fn select_key(jwks: &Jwks, alg: JwsAlg, kid: Option<&str>) -> Result<SelectedKey, JwtError> {
    let fitting: Vec<&Jwk> = jwks.keys.iter().filter(|k| key_fits(k, alg)).collect();
    let candidates: Vec<&Jwk> = match kid {
        Some(kid) => fitting
            .into_iter()
            .filter(|k| text(&k.kid) == Some(kid))
            .collect(),
        None => fitting,
    };
    let key = match candidates.as_slice() {
        [key] => *key,
        [] => {
            return Err(JwtError::KeyNotFound {
                kid: kid.map(|k| sanitize_for_display(k, 64)),
                alg: alg.name(),
            })
        }
        _ => return Err(JwtError::AmbiguousKey),
    };
    let member = |name: &'static str| -> Result<String, JwtError> {
        let member = match name {
            "n" => &key.n,
            "e" => &key.e,
            "x" => &key.x,
            _ => &key.y,
        };
        let value = text(member).ok_or(JwtError::InvalidKey(name))?;
        // Every public member is base64url (RFC 7518 §6.2.1, §6.3.1).
        URL_SAFE_NO_PAD
            .decode(value)
            .map_err(|_| JwtError::InvalidKey(name))?;
        Ok(value.to_owned())
    };
    let (jwk, rsa_bits) = if alg.key_type() == "RSA" {
        let n = member("n")?;
        let e = member("e")?;
        let modulus = URL_SAFE_NO_PAD.decode(&n).unwrap_or_default();
        let significant = modulus.iter().skip_while(|b| **b == 0).count();
        let bits = significant * 8;
        if bits < MIN_RSA_BITS {
            return Err(JwtError::WeakKey { bits });
        }
        (json!({"kty": "RSA", "n": n, "e": e}), bits)
    } else {
        let x = member("x")?;
        let y = member("y")?;
        (
            json!({
                "kty": "EC",
                "crv": alg.curve(),
                "x": x,
                "y": y,
            }),
            0,
        )
    };
    Ok(SelectedKey {
        kid: text(&key.kid).map(|k| sanitize_for_display(k, 64)),
        jwk_json: jwk.to_string(),
        rsa_bits,
    })
}
