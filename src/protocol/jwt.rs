//! OpenID Connect ID tokens (RFC 7515 JWS, RFC 7519 JWT, RFC 7517 JWK, OIDC Core §3.1.3.7):
//! decoding, choosing the provider's key, and checking the claims.
//!
//! The signature itself is checked by the browser's WebCrypto (`src/browser/webcrypto.rs`): this
//! module only decides *which* key and *which* WebCrypto parameters, so that every rule except
//! the arithmetic is host-tested. Order of the checks, as the timeline shows them:
//! 1. decode, and refuse `alg: none`, symmetric and unknown algorithms before any key is looked
//!    at ([`decode`], [`DecodedJwt::algorithm`]);
//! 2. pick exactly one key of the provider's JWKS by `kid`, key type, curve, `use` and `alg`
//!    ([`select_key`]); keys named in the token's own header (`jwk`, `jku`, `x5u`) are never used;
//! 3. WebCrypto verifies the signature over `header.payload`;
//! 4. only then are the claims believed: `iss`, `aud`/`azp`, `exp`/`iat` with a small skew,
//!    `nonce`, `sub` and, when present, `at_hash` ([`check_claims`], [`check_at_hash`]).

use crate::protocol::document::{parse_document, take, FromValue, JsonProblem, Member};
use crate::protocol::error::{sanitize_for_display, Explain, Side};
use crate::protocol::http::HttpResponse;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// Longest ID token accepted.
pub const MAX_JWT_LEN: usize = 32 * 1024;
/// Largest JWKS document accepted.
pub const MAX_JWKS_BODY: usize = 128 * 1024;
/// Clock difference tolerated between this browser and the provider, in seconds.
pub const CLOCK_SKEW_SECS: u64 = 60;
/// Smallest RSA modulus accepted (NIST SP 800-131A: 2048 bits).
pub const MIN_RSA_BITS: usize = 2048;
/// Longest untrusted value echoed in a message.
const MAX_SHOWN: usize = 200;

/// The JWS algorithms this client verifies with WebCrypto (RFC 7518 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwsAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (the OpenID Connect default).
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256.
    Ps256,
    /// RSASSA-PSS with SHA-384.
    Ps384,
    /// RSASSA-PSS with SHA-512.
    Ps512,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// ECDSA on P-384 with SHA-384.
    Es384,
    /// ECDSA on P-521 with SHA-512.
    Es512,
}

impl JwsAlg {
    /// Reads the header's `alg`: `none`, symmetric (`HS*`) and unknown algorithms are refused.
    pub fn parse(alg: &str) -> Result<JwsAlg, JwtError> {
        Ok(match alg {
            "RS256" => JwsAlg::Rs256,
            "RS384" => JwsAlg::Rs384,
            "RS512" => JwsAlg::Rs512,
            "PS256" => JwsAlg::Ps256,
            "PS384" => JwsAlg::Ps384,
            "PS512" => JwsAlg::Ps512,
            "ES256" => JwsAlg::Es256,
            "ES384" => JwsAlg::Es384,
            "ES512" => JwsAlg::Es512,
            _ if alg.eq_ignore_ascii_case("none") => return Err(JwtError::AlgNone),
            _ if alg.starts_with("HS") => {
                return Err(JwtError::SymmetricAlg(sanitize_for_display(alg, 32)))
            }
            _ => return Err(JwtError::UnsupportedAlg(sanitize_for_display(alg, 32))),
        })
    }

    /// The name as it appears in a JOSE header.
    pub fn name(self) -> &'static str {
        match self {
            JwsAlg::Rs256 => "RS256",
            JwsAlg::Rs384 => "RS384",
            JwsAlg::Rs512 => "RS512",
            JwsAlg::Ps256 => "PS256",
            JwsAlg::Ps384 => "PS384",
            JwsAlg::Ps512 => "PS512",
            JwsAlg::Es256 => "ES256",
            JwsAlg::Es384 => "ES384",
            JwsAlg::Es512 => "ES512",
        }
    }

    /// The JWK `kty` a key for this algorithm must have.
    pub fn key_type(self) -> &'static str {
        match self {
            JwsAlg::Es256 | JwsAlg::Es384 | JwsAlg::Es512 => "EC",
            _ => "RSA",
        }
    }

    /// The JWK `crv` for the ECDSA algorithms.
    pub fn curve(self) -> Option<&'static str> {
        match self {
            JwsAlg::Es256 => Some("P-256"),
            JwsAlg::Es384 => Some("P-384"),
            JwsAlg::Es512 => Some("P-521"),
            _ => None,
        }
    }

    /// Bits of the SHA-2 hash the algorithm uses.
    pub fn hash_bits(self) -> u32 {
        match self {
            JwsAlg::Rs256 | JwsAlg::Ps256 | JwsAlg::Es256 => 256,
            JwsAlg::Rs384 | JwsAlg::Ps384 | JwsAlg::Es384 => 384,
            JwsAlg::Rs512 | JwsAlg::Ps512 | JwsAlg::Es512 => 512,
        }
    }

    /// ECDSA signatures are `r || s` of fixed length (RFC 7518 §3.4), which is also WebCrypto's
    /// format: anything else (e.g. DER) is malformed.
    pub fn ecdsa_signature_len(self) -> Option<usize> {
        match self {
            JwsAlg::Es256 => Some(64),
            JwsAlg::Es384 => Some(96),
            JwsAlg::Es512 => Some(132),
            _ => None,
        }
    }

    fn webcrypto_name(self) -> &'static str {
        match self {
            JwsAlg::Rs256 | JwsAlg::Rs384 | JwsAlg::Rs512 => "RSASSA-PKCS1-v1_5",
            JwsAlg::Ps256 | JwsAlg::Ps384 | JwsAlg::Ps512 => "RSA-PSS",
            _ => "ECDSA",
        }
    }

    /// The WebCrypto name of the algorithm's hash: `SHA-256`, `SHA-384` or `SHA-512`.
    pub fn hash_name(self) -> &'static str {
        match self.hash_bits() {
            256 => "SHA-256",
            384 => "SHA-384",
            _ => "SHA-512",
        }
    }

    fn webcrypto_hash(self) -> String {
        self.hash_name().to_owned()
    }

    /// The `algorithm` argument of `SubtleCrypto.importKey('jwk', …)`, as JSON.
    pub fn import_params_json(self) -> String {
        match self.curve() {
            Some(curve) => json!({"name": "ECDSA", "namedCurve": curve}),
            None => json!({
                "name": self.webcrypto_name(),
                "hash": self.webcrypto_hash(),
            }),
        }
        .to_string()
    }

    /// The `algorithm` argument of `SubtleCrypto.verify(…)`, as JSON. RSA-PSS uses a salt as
    /// long as the hash (RFC 7518 §3.5).
    pub fn verify_params_json(self) -> String {
        match self {
            JwsAlg::Ps256 | JwsAlg::Ps384 | JwsAlg::Ps512 => json!({
                "name": "RSA-PSS",
                "saltLength": self.hash_bits() / 8,
            }),
            JwsAlg::Es256 | JwsAlg::Es384 | JwsAlg::Es512 => json!({
                "name": "ECDSA",
                "hash": self.webcrypto_hash(),
            }),
            _ => json!({"name": "RSASSA-PKCS1-v1_5"}),
        }
        .to_string()
    }
}

/// The JOSE header members this client acts on (RFC 7515 §4.1), as sent.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(from = "Map<String, Value>")]
pub struct JoseHeader {
    /// The signature algorithm.
    pub alg: Member<String>,
    /// The signing key's id.
    pub kid: Member<String>,
    /// Critical extensions: any value (even `null`) means a rule this client does not know.
    pub crit: Member<Value>,
}

impl From<Map<String, Value>> for JoseHeader {
    fn from(mut object: Map<String, Value>) -> Self {
        JoseHeader {
            alg: take(&mut object, "alg"),
            kid: take(&mut object, "kid"),
            crit: take(&mut object, "crit"),
        }
    }
}

/// A JWS in compact serialization, decoded but NOT verified: nothing in it is trusted yet.
#[derive(Clone, PartialEq)]
pub struct DecodedJwt {
    /// The JOSE header, typed.
    pub jose: JoseHeader,
    /// The JOSE header as sent, for display.
    pub header: Map<String, Value>,
    /// The claims (payload).
    pub claims: Map<String, Value>,
    /// `BASE64URL(header) '.' BASE64URL(payload)`: the bytes the signature covers.
    pub signing_input: String,
    /// The signature bytes.
    pub signature: Vec<u8>,
}

impl std::fmt::Debug for DecodedJwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedJwt")
            .field("header", &self.header)
            .field("claims", &"[not shown]")
            .finish()
    }
}

impl DecodedJwt {
    /// The header's `alg`, refused when it is `none`, symmetric or unknown (OIDC Core §3.1.3.7
    /// step 7; RFC 8725 §3.1), or when the header has `crit` parameters (RFC 7515 §4.1.11).
    pub fn algorithm(&self) -> Result<JwsAlg, JwtError> {
        let alg = match &self.jose.alg {
            Member::Is(alg) => JwsAlg::parse(alg)?,
            _ => return Err(JwtError::Malformed("the header has no alg")),
        };
        if self.jose.crit != Member::Absent {
            return Err(JwtError::CriticalHeader);
        }
        if let Some(len) = alg.ecdsa_signature_len() {
            if self.signature.len() != len {
                return Err(JwtError::SignatureLength {
                    expected: len,
                    actual: self.signature.len(),
                });
            }
        }
        Ok(alg)
    }

    /// The header's `kid`, if it is a string.
    pub fn kid(&self) -> Option<&str> {
        self.jose.kid.ok().map(String::as_str)
    }

    /// The header as indented JSON, for display (values sanitized by the caller's text nodes).
    pub fn header_json(&self) -> String {
        pretty(&self.header)
    }

    /// The claims as indented JSON, for display.
    pub fn claims_json(&self) -> String {
        pretty(&self.claims)
    }
}

fn pretty(map: &Map<String, Value>) -> String {
    sanitize_for_display(&crate::protocol::document::pretty(map), 8_000).replace("\\u{A}", "\n")
}

/// Splits and base64url-decodes a compact JWS (RFC 7515 §7.1). Does not look at `alg`.
pub fn decode(token: &str) -> Result<DecodedJwt, JwtError> {
    if token.len() > MAX_JWT_LEN {
        return Err(JwtError::TooLarge { len: token.len() });
    }
    let parts: Vec<&str> = token.split('.').collect();
    match parts.len() {
        3 => {}
        5 => return Err(JwtError::Encrypted),
        _ => return Err(JwtError::Malformed("a JWS has three dot-separated parts")),
    }
    let segment = |part: &str, what: &'static str| -> Result<Vec<u8>, JwtError> {
        // base64url without padding only (RFC 7515 §2): '=' and '+/' are refused.
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| JwtError::Malformed(what))
    };
    let text = |bytes: Vec<u8>, what: &'static str| -> Result<String, JwtError> {
        String::from_utf8(bytes).map_err(|_| JwtError::Malformed(what))
    };
    let object = |text: &str, what: &'static str| -> Result<Map<String, Value>, JwtError> {
        parse_document(text).map_err(|problem| match problem {
            JsonProblem::Duplicate(key) => {
                JwtError::DuplicateMember(sanitize_for_display(&key, 64))
            }
            _ => JwtError::Malformed(what),
        })
    };
    const NOT_AN_OBJECT: &str = "the header is not a JSON object";
    let header_text = text(
        segment(parts[0], "the header is not base64url")?,
        NOT_AN_OBJECT,
    )?;
    let header = object(&header_text, NOT_AN_OBJECT)?;
    // Read from the parsed header rather than the text again (one deserializer less in the
    // wasm).
    let jose = JoseHeader::from(header.clone());
    let claims = object(
        &text(
            segment(parts[1], "the payload is not base64url")?,
            "the payload is not a JSON object",
        )?,
        "the payload is not a JSON object",
    )?;
    let signature = segment(parts[2], "the signature is not base64url")?;
    Ok(DecodedJwt {
        jose,
        header,
        claims,
        signing_input: format!("{}.{}", parts[0], parts[1]),
        signature,
    })
}

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

/// How the `nonce` claim is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NonceRule {
    /// After a login: the claim must be present and equal to the nonce this tab sent.
    Expected(String),
    /// After a refresh (OIDC Core §12.2): absent, or equal to the original one if known.
    IfPresent(Option<String>),
}

/// What the claims check found out about the `nonce` (so the UI says only what was compared).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceCheck {
    /// Present and equal to the nonce this tab sent with the login.
    Matches,
    /// Absent, as a refreshed token may be (OIDC Core §12.2): nothing compared.
    Absent,
    /// Present, but the login sent no nonce to compare it with.
    NotCompared,
}

/// What the claims must say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimRules {
    /// The issuer the login was sent to (exact string comparison).
    pub issuer: String,
    /// This client's id: it must be an audience.
    pub client_id: String,
    /// The nonce rule.
    pub nonce: NonceRule,
    /// After a refresh: the subject must not change (OIDC Core §12.2).
    pub expected_sub: Option<String>,
    /// Now, in milliseconds since the Unix epoch.
    pub now_ms: u64,
}

/// The claims of a verified ID token that the app shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdTokenClaims {
    /// Issuer.
    pub iss: String,
    /// Subject: the user's stable id at this issuer, raw (compared on refresh and with
    /// UserInfo, OIDC Core §12.2, §5.3.2); draw it through [`IdTokenClaims::shown_sub`].
    pub sub: String,
    /// Audiences (this client's id is one of them).
    pub aud: Vec<String>,
    /// Authorized party, if stated.
    pub azp: Option<String>,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// When the user actually authenticated, if stated.
    pub auth_time: Option<u64>,
    /// What was found out about the nonce.
    pub nonce: NonceCheck,
    /// `name`, if present (sanitized).
    pub name: Option<String>,
    /// `email`, if present (sanitized).
    pub email: Option<String>,
}

impl IdTokenClaims {
    /// The subject made safe to show (escaped, cut at 200 characters).
    pub fn shown_sub(&self) -> String {
        sanitize_for_display(&self.sub, MAX_SHOWN)
    }
}

/// A NumericDate (RFC 7519 §2): a non-negative JSON number; fractions are rounded down.
fn numeric_date(claims: &Map<String, Value>, name: &'static str) -> Result<Option<u64>, JwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(v) => Ok(Some(v)),
            None => match n.as_f64() {
                Some(f) if f.is_finite() && f >= 0.0 => Ok(Some(f as u64)),
                _ => Err(JwtError::InvalidClaim(name)),
            },
        },
        Some(_) => Err(JwtError::InvalidClaim(name)),
    }
}

fn string_claim(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, JwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(JwtError::InvalidClaim(name)),
    }
}

/// Checks the claims of a token whose signature was verified (OIDC Core §3.1.3.7 steps 2–5,
/// 9–11): `iss` exact, `aud` contains the client id (and `azp` equals it when there are several
/// audiences or `azp` is present), `exp` in the future and `iat` not in the future (both with
/// [`CLOCK_SKEW_SECS`]), `nonce`, and a `sub`.
pub fn check_claims(
    claims: &Map<String, Value>,
    rules: &ClaimRules,
) -> Result<IdTokenClaims, JwtError> {
    let iss = string_claim(claims, "iss")?.ok_or(JwtError::MissingClaim("iss"))?;
    if iss != rules.issuer {
        return Err(JwtError::IssuerMismatch {
            expected: rules.issuer.clone(),
            actual: sanitize_for_display(&iss, MAX_SHOWN),
        });
    }
    let aud: Vec<String> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(items)) => {
            let strings: Vec<String> = items
                .iter()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect();
            if strings.len() != items.len() || strings.is_empty() {
                return Err(JwtError::InvalidClaim("aud"));
            }
            strings
        }
        None => return Err(JwtError::MissingClaim("aud")),
        Some(_) => return Err(JwtError::InvalidClaim("aud")),
    };
    if !aud.contains(&rules.client_id) {
        return Err(JwtError::AudienceMismatch {
            client_id: rules.client_id.clone(),
            aud: aud
                .iter()
                .map(|a| sanitize_for_display(a, 100))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let azp = string_claim(claims, "azp")?;
    match &azp {
        Some(azp) if *azp != rules.client_id => {
            return Err(JwtError::AzpMismatch(sanitize_for_display(azp, 100)))
        }
        None if aud.len() > 1 => return Err(JwtError::MissingClaim("azp")),
        _ => {}
    }
    let now_s = rules.now_ms / 1000;
    let exp = numeric_date(claims, "exp")?.ok_or(JwtError::MissingClaim("exp"))?;
    if now_s >= exp.saturating_add(CLOCK_SKEW_SECS) {
        return Err(JwtError::Expired {
            seconds_ago: now_s - exp,
        });
    }
    let iat = numeric_date(claims, "iat")?.ok_or(JwtError::MissingClaim("iat"))?;
    if iat > now_s.saturating_add(CLOCK_SKEW_SECS) {
        return Err(JwtError::IssuedInFuture {
            seconds_ahead: iat - now_s,
        });
    }
    // RFC 7519 §4.1.5: not to be accepted before nbf (with the same skew as iat).
    if let Some(nbf) = numeric_date(claims, "nbf")? {
        if nbf > now_s.saturating_add(CLOCK_SKEW_SECS) {
            return Err(JwtError::NotYetValid {
                seconds_ahead: nbf - now_s,
            });
        }
    }
    let nonce = string_claim(claims, "nonce")?;
    let nonce_check = match (&rules.nonce, &nonce) {
        (NonceRule::Expected(expected), Some(actual)) if actual == expected => NonceCheck::Matches,
        (NonceRule::Expected(_), Some(_)) => return Err(JwtError::NonceMismatch),
        (NonceRule::Expected(_), None) => return Err(JwtError::MissingClaim("nonce")),
        (NonceRule::IfPresent(Some(expected)), Some(actual)) if actual != expected => {
            return Err(JwtError::NonceMismatch)
        }
        (NonceRule::IfPresent(Some(_)), Some(_)) => NonceCheck::Matches,
        // The login sent none, so there is nothing to compare a refreshed token's nonce with.
        (NonceRule::IfPresent(None), Some(_)) => NonceCheck::NotCompared,
        (NonceRule::IfPresent(_), None) => NonceCheck::Absent,
    };
    let sub = match string_claim(claims, "sub")? {
        Some(sub) if !sub.is_empty() => sub,
        _ => return Err(JwtError::MissingClaim("sub")),
    };
    if let Some(expected) = &rules.expected_sub {
        if *expected != sub {
            return Err(JwtError::SubjectChanged);
        }
    }
    let shown = |name: &'static str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .map(|v| sanitize_for_display(v, MAX_SHOWN))
    };
    Ok(IdTokenClaims {
        iss,
        sub,
        aud: aud.iter().map(|a| sanitize_for_display(a, 100)).collect(),
        azp: azp.map(|a| sanitize_for_display(&a, 100)),
        exp,
        iat,
        auth_time: numeric_date(claims, "auth_time").ok().flatten(),
        nonce: nonce_check,
        name: shown("name"),
        email: shown("email"),
    })
}

/// What the `at_hash` check found (OIDC Core §3.1.3.8: optional in the code flow).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtHash {
    /// No `at_hash` claim.
    Absent,
    /// Present and equal to the left half of the SHA-2 hash (256, 384 or 512, as the
    /// algorithm) of the access token.
    Matches,
}

/// Checks `at_hash`, which binds the access token to this ID token: base64url of the left half
/// of the hash of the access token, with the SHA-2 of the token's algorithm (OIDC Core §3.1.3.6).
/// `access_token_digest` is that hash ([`JwsAlg::hash_name`]), computed by the browser's
/// WebCrypto like the signature check: SHA-384/512 from the sha2 crate would add 3 KB gz to the
/// wasm. A digest of the wrong length (none could be computed) is [`JwtError::DigestUnavailable`].
pub fn check_at_hash(
    claims: &Map<String, Value>,
    alg: JwsAlg,
    access_token_digest: &[u8],
) -> Result<AtHash, JwtError> {
    let Some(claimed) = string_claim(claims, "at_hash")? else {
        return Ok(AtHash::Absent);
    };
    let digest = access_token_digest;
    if digest.len() * 8 != alg.hash_bits() as usize {
        return Err(JwtError::DigestUnavailable(alg.hash_name()));
    }
    if URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2]) == claimed {
        Ok(AtHash::Matches)
    } else {
        Err(JwtError::AtHashMismatch)
    }
}

/// Why an ID token (or the JWKS needed to check it) was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JwtError {
    /// Longer than [`MAX_JWT_LEN`].
    TooLarge {
        /// Length in bytes.
        len: usize,
    },
    /// Not a well-formed compact JWS; says which part.
    Malformed(&'static str),
    /// Five parts: an encrypted ID token (JWE), which this client cannot decrypt.
    Encrypted,
    /// The header or payload repeats a member.
    DuplicateMember(String),
    /// `alg: none`: an unsigned token.
    AlgNone,
    /// `HS256` & co.: signed with a shared secret, which a public client does not have.
    SymmetricAlg(String),
    /// An algorithm this client does not implement.
    UnsupportedAlg(String),
    /// The header has `crit` extensions this client does not understand.
    CriticalHeader,
    /// An ECDSA signature of the wrong length.
    SignatureLength {
        /// Length the algorithm requires.
        expected: usize,
        /// Length received.
        actual: usize,
    },
    /// The provider's metadata names no `jwks_uri`.
    NoJwksUri,
    /// The JWKS answered a status other than 200.
    JwksStatus(u16),
    /// The JWKS is not a usable key set; says why.
    JwksInvalid(&'static str),
    /// No key of the JWKS fits the token's `kid` and algorithm.
    KeyNotFound {
        /// The header's `kid`.
        kid: Option<String>,
        /// The header's algorithm.
        alg: &'static str,
    },
    /// Several keys fit and the token names none of them.
    AmbiguousKey,
    /// The chosen key lacks a member or it is not base64url.
    InvalidKey(&'static str),
    /// An RSA key below [`MIN_RSA_BITS`].
    WeakKey {
        /// Its size.
        bits: usize,
    },
    /// WebCrypto refused the key or the operation; holds its message.
    Verifier(String),
    /// The signature does not match: the token was altered or signed by another key.
    BadSignature,
    /// A required claim is missing.
    MissingClaim(&'static str),
    /// A claim has the wrong type.
    InvalidClaim(&'static str),
    /// `iss` is not the issuer the login was sent to.
    IssuerMismatch {
        /// Expected issuer.
        expected: String,
        /// What the token says (sanitized).
        actual: String,
    },
    /// This client is not among the audiences.
    AudienceMismatch {
        /// This client's id.
        client_id: String,
        /// The audiences the token names (sanitized).
        aud: String,
    },
    /// `azp` names another client.
    AzpMismatch(String),
    /// `exp` has passed.
    Expired {
        /// How long ago.
        seconds_ago: u64,
    },
    /// `iat` is in the future.
    IssuedInFuture {
        /// How far ahead.
        seconds_ahead: u64,
    },
    /// `nonce` differs from the one this tab sent.
    NonceMismatch,
    /// A refreshed ID token names another user.
    SubjectChanged,
    /// `at_hash` does not match the access token.
    AtHashMismatch,
    /// No digest of the access token (WebCrypto failed), so `at_hash` cannot be checked.
    DigestUnavailable(&'static str),
    /// `nbf` is in the future: the token is not valid yet.
    NotYetValid {
        /// How far ahead.
        seconds_ahead: u64,
    },
}

impl std::fmt::Display for JwtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.what_happened())
    }
}

impl std::error::Error for JwtError {}

impl Explain for JwtError {
    fn what_happened(&self) -> String {
        match self {
            Self::TooLarge { len } => format!(
                "The ID token is {len} bytes, more than the {} KiB this app accepts.",
                MAX_JWT_LEN / 1024
            ),
            Self::Malformed(what) => format!("The ID token is not a well-formed JWT: {what}."),
            Self::Encrypted => "The ID token is encrypted (JWE). This public client has no \
                decryption key, so it cannot read it."
                .to_owned(),
            Self::DuplicateMember(name) => {
                format!("The ID token repeats \"{name}\", so which value is meant is ambiguous.")
            }
            Self::AlgNone => "The ID token says alg \"none\": it carries no signature, so \
                anyone could have written it. Unsigned ID tokens are refused."
                .to_owned(),
            Self::SymmetricAlg(alg) => format!(
                "The ID token is signed with {alg}, a shared-secret algorithm. A public client \
                 has no secret, so it cannot check such a signature; it is refused."
            ),
            Self::UnsupportedAlg(alg) => format!(
                "The ID token is signed with \"{alg}\", an algorithm this app does not verify \
                 (it supports RS256/384/512, PS256/384/512 and ES256/384/512)."
            ),
            Self::CriticalHeader => "The ID token's header lists critical extensions (crit) \
                this app does not understand, so it must refuse the token."
                .to_owned(),
            Self::SignatureLength { expected, actual } => {
                format!("The ID token's ECDSA signature is {actual} bytes instead of {expected}.")
            }
            Self::NoJwksUri => "The provider's metadata names no jwks_uri, so there is no key \
                to check the ID token's signature with."
                .to_owned(),
            Self::JwksStatus(status) => {
                format!("The provider's key set (JWKS) answered HTTP {status} instead of 200.")
            }
            Self::JwksInvalid(why) => {
                format!("The provider's key set (JWKS) is not usable: {why}.")
            }
            Self::KeyNotFound {
                kid: Some(kid),
                alg,
            } => format!(
                "The provider's key set has no {alg} signing key with kid \"{kid}\", the key the \
                 ID token says it was signed with."
            ),
            Self::KeyNotFound { kid: None, alg } => {
                format!("The provider's key set has no {alg} signing key for this ID token.")
            }
            Self::AmbiguousKey => "Several keys of the provider could have signed the ID token \
                and it does not say which (no kid), so it cannot be checked."
                .to_owned(),
            Self::InvalidKey(member) => {
                format!("The provider's signing key has no valid \"{member}\" member.")
            }
            Self::WeakKey { bits } => format!(
                "The provider's RSA key has {bits} bits, fewer than the {MIN_RSA_BITS} required."
            ),
            Self::Verifier(message) => format!(
                "The browser's WebCrypto could not check the signature: {}",
                sanitize_for_display(message, MAX_SHOWN)
            ),
            Self::BadSignature => "The ID token's signature does not match its content: it was \
                altered after the provider signed it, or signed by another key. Its claims \
                cannot be believed."
                .to_owned(),
            Self::MissingClaim(name) => format!("The ID token has no \"{name}\" claim."),
            Self::InvalidClaim(name) => {
                format!("The ID token's \"{name}\" claim has the wrong type.")
            }
            Self::IssuerMismatch { expected, actual } => format!(
                "The ID token was issued by \"{actual}\", but the login was sent to \
                 \"{expected}\" (iss must match exactly)."
            ),
            Self::AudienceMismatch { client_id, aud } => format!(
                "The ID token is meant for \"{aud}\", not for this client \"{client_id}\" (aud). \
                 A token issued to another app must not log you in here."
            ),
            Self::AzpMismatch(azp) => {
                format!("The ID token was issued to the client \"{azp}\" (azp), not to this one.")
            }
            Self::Expired { seconds_ago } => {
                format!("The ID token expired {seconds_ago} seconds ago (exp).")
            }
            Self::IssuedInFuture { seconds_ahead } => format!(
                "The ID token claims to be issued {seconds_ahead} seconds in the future (iat)."
            ),
            Self::NonceMismatch => "The ID token's nonce is not the one this tab sent with the \
                login: it belongs to another login (a replayed or injected token)."
                .to_owned(),
            Self::SubjectChanged => "The refreshed ID token names a different user (sub) than \
                the original one."
                .to_owned(),
            Self::AtHashMismatch => "The ID token's at_hash does not match the access token \
                that came with it: the two were not issued together."
                .to_owned(),
            Self::DigestUnavailable(hash) => format!(
                "The browser's WebCrypto could not compute the {hash} of the access token, so \
                 the ID token's at_hash cannot be checked."
            ),
            Self::NotYetValid { seconds_ahead } => {
                format!("The ID token is not valid until {seconds_ahead} seconds from now (nbf).")
            }
        }
    }

    fn whose_side(&self) -> Side {
        match self {
            Self::AlgNone
            | Self::BadSignature
            | Self::IssuerMismatch { .. }
            | Self::AudienceMismatch { .. }
            | Self::AzpMismatch(_)
            | Self::NonceMismatch
            | Self::SubjectChanged
            | Self::AtHashMismatch => Side::Attacker,
            Self::Verifier(_) | Self::DigestUnavailable(_) => Side::ThisApp,
            _ => Side::Provider,
        }
    }

    fn what_to_do(&self) -> String {
        match self {
            Self::AlgNone
            | Self::BadSignature
            | Self::NonceMismatch
            | Self::AtHashMismatch
            | Self::SubjectChanged => "Nothing from this answer was kept: the tokens were \
                discarded. Log in again; if it happens every time, something between you and \
                the provider is altering its answers."
                .to_owned(),
            Self::IssuerMismatch { .. } | Self::AudienceMismatch { .. } | Self::AzpMismatch(_) => {
                "The tokens were discarded. Check that the issuer and client id in the settings \
                 are the ones registered at this provider, then log in again."
                    .to_owned()
            }
            Self::Expired { .. } | Self::IssuedInFuture { .. } | Self::NotYetValid { .. } => {
                format!(
                    "Check this computer's clock (up to {CLOCK_SKEW_SECS} s of difference is \
                 tolerated), then log in again."
                )
            }
            Self::SymmetricAlg(_) | Self::UnsupportedAlg(_) | Self::Encrypted => "Configure the \
                provider to sign ID tokens for this client with RS256 or ES256 (an asymmetric \
                key published in its JWKS)."
                .to_owned(),
            _ => {
                "Check the provider's signing keys and its jwks_uri, then log in again.".to_owned()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://as.example";
    const CLIENT: &str = "flow-lab";
    const NOW_MS: u64 = 1_764_000_000_000;
    const NOW_S: u64 = NOW_MS / 1000;

    fn b64(json: &Value) -> String {
        URL_SAFE_NO_PAD.encode(json.to_string())
    }

    fn token(header: Value, claims: Value, signature: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            b64(&header),
            b64(&claims),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    /// The access token's digest for `alg`, as WebCrypto computes it in the app.
    fn digest_of(alg: JwsAlg, token: &str) -> Vec<u8> {
        use sha2::Digest;
        match alg.hash_bits() {
            256 => sha2::Sha256::digest(token).to_vec(),
            384 => sha2::Sha384::digest(token).to_vec(),
            _ => sha2::Sha512::digest(token).to_vec(),
        }
    }

    fn good_claims() -> Value {
        serde_json::json!({
            "iss": ISSUER, "sub": "alice", "aud": CLIENT, "exp": NOW_S + 300, "iat": NOW_S - 5,
            "nonce": "n-0S6_WzA2Mj", "name": "Alice Liddell"
        })
    }

    fn rules() -> ClaimRules {
        ClaimRules {
            issuer: ISSUER.into(),
            client_id: CLIENT.into(),
            nonce: NonceRule::Expected("n-0S6_WzA2Mj".into()),
            expected_sub: None,
            now_ms: NOW_MS,
        }
    }

    fn check(claims: Value) -> Result<IdTokenClaims, JwtError> {
        check_claims(claims.as_object().unwrap(), &rules())
    }

    fn with(mut claims: Value, name: &str, value: Value) -> Value {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value;
        }
        claims
    }

    fn rsa_key(kid: &str) -> Value {
        // A 2048-bit modulus: 256 bytes, first byte non-zero.
        let n = URL_SAFE_NO_PAD.encode([0xC5u8; 256]);
        serde_json::json!({ "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": n, "e": "AQAB" })
    }

    fn ec_key(kid: &str, crv: &str) -> Value {
        let c = URL_SAFE_NO_PAD.encode([7u8; 32]);
        serde_json::json!({ "kty": "EC", "kid": kid, "crv": crv, "x": c, "y": c })
    }

    fn jwks(keys: Vec<Value>) -> Jwks {
        Jwks {
            keys: keys
                .into_iter()
                .map(|k| serde_json::from_value(k).unwrap())
                .collect(),
        }
    }

    /// The JWKS answer for `keys`, a JSON text written by hand so members can repeat.
    fn jwks_answer(keys: &str) -> HttpResponse {
        HttpResponse::json(200, format!(r#"{{"keys":[{keys}]}}"#))
    }

    /// Issue 13 defect 9 (T-28 at every depth): a key with `"use":"enc","use":"sig"` must not be
    /// selected as a signing key; the whole JWKS is refused.
    #[test]
    fn t28_jwks_key_with_repeated_use_is_refused() {
        let n = URL_SAFE_NO_PAD.encode([0xC5u8; 256]);
        let key =
            format!(r#"{{"kty":"RSA","kid":"k1","use":"enc","use":"sig","n":"{n}","e":"AQAB"}}"#);
        assert!(
            matches!(
                parse_jwks(&jwks_answer(&key)),
                Err(JwtError::JwksInvalid(_))
            ),
            "{:?}",
            parse_jwks(&jwks_answer(&key))
        );
        // The same key without the repeat is read.
        let once = key.replace(r#""use":"enc","#, "");
        assert_eq!(parse_jwks(&jwks_answer(&once)).unwrap().kids(), ["k1"]);
    }

    /// T-28 at every depth in the ID token: a repeated member inside a nested claim.
    #[test]
    fn t28_nested_repeated_claim_is_refused() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#);
        let claims =
            URL_SAFE_NO_PAD.encode(r#"{"sub":"a","address":{"country":"x","country":"y"}}"#);
        assert_eq!(
            decode(&format!("{header}.{claims}.c2ln")).unwrap_err(),
            JwtError::DuplicateMember("country".into())
        );
    }

    // proptest is a host-only dev-dependency (Cargo.toml).
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        /// T-28 as a rule over generated keys: any member this client reads, repeated with any
        /// two values, makes the JWKS unusable; the key with one copy is read.
        #[test]
        fn t28_any_repeated_key_member_refuses_the_jwks(
            member in proptest::sample::select(vec![
                "kty", "kid", "use", "alg", "key_ops", "crv", "n", "e", "x", "y", "d",
            ]),
            first in "[a-zA-Z0-9_-]{0,12}",
            second in "[a-zA-Z0-9_-]{0,12}",
            position in 0usize..3,
        ) {
            let mut members = vec![
                r#""kty":"RSA""#.to_owned(),
                r#""kid":"k1""#.to_owned(),
                r#""e":"AQAB""#.to_owned(),
            ];
            members.insert(position, format!(r#""{member}":"{first}""#));
            let once = format!("{{{}}}", members.join(","));
            members.push(format!(r#""{member}":"{second}""#));
            let twice = format!("{{{}}}", members.join(","));
            proptest::prop_assert!(
                matches!(parse_jwks(&jwks_answer(&twice)), Err(JwtError::JwksInvalid(_))),
                "{twice}"
            );
            let dedup = once.matches(&format!(r#""{member}":"#)).count() == 1;
            if dedup {
                proptest::prop_assert!(parse_jwks(&jwks_answer(&once)).is_ok(), "{once}");
            }
        }
    }

    #[test]
    fn decodes_header_claims_and_signing_input() {
        let jwt = token(
            serde_json::json!({"alg":"RS256","kid":"k1"}),
            good_claims(),
            b"sig",
        );
        let decoded = decode(&jwt).unwrap();
        assert_eq!(decoded.kid(), Some("k1"));
        assert_eq!(decoded.algorithm().unwrap(), JwsAlg::Rs256);
        assert_eq!(decoded.claims["sub"], "alice");
        assert_eq!(decoded.signature, b"sig");
        assert_eq!(
            decoded.signing_input,
            jwt.rsplit_once('.').unwrap().0,
            "the signature covers header.payload exactly as received"
        );
        assert!(decoded.claims_json().contains("Alice Liddell"));
        assert!(
            !format!("{decoded:?}").contains("Alice"),
            "Debug hides claims"
        );
    }

    #[test]
    fn malformed_tokens_are_refused_without_panicking() {
        for bad in [
            "",
            "a",
            "a.b",
            "a.b.c.d",
            "!!.e30.",
            "e30.!!.",
            "e30.e30.!!",
            "W10.e30.",
        ] {
            assert!(
                matches!(decode(bad), Err(JwtError::Malformed(_))),
                "{bad}: {:?}",
                decode(bad)
            );
        }
        assert_eq!(decode("a.b.c.d.e"), Err(JwtError::Encrypted));
        // Padded base64 is not base64url-without-padding (RFC 7515 §2).
        let padded = format!("{}=.e30.", URL_SAFE_NO_PAD.encode("{\"alg\":\"RS256\"}"));
        assert!(decode(&padded).is_err());
        let long = "a".repeat(MAX_JWT_LEN + 1);
        assert!(matches!(decode(&long), Err(JwtError::TooLarge { .. })));
        let dup = format!(
            "{}.e30.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","alg":"none"}"#)
        );
        assert_eq!(decode(&dup), Err(JwtError::DuplicateMember("alg".into())));
    }

    #[test]
    fn alg_none_symmetric_and_unknown_algorithms_are_refused() {
        let alg = |a: &str| {
            decode(&token(serde_json::json!({ "alg": a }), good_claims(), b""))
                .unwrap()
                .algorithm()
        };
        assert_eq!(alg("none"), Err(JwtError::AlgNone));
        assert_eq!(alg("None"), Err(JwtError::AlgNone));
        assert_eq!(alg("HS256"), Err(JwtError::SymmetricAlg("HS256".into())));
        assert_eq!(alg("EdDSA"), Err(JwtError::UnsupportedAlg("EdDSA".into())));
        assert_eq!(alg("rs256"), Err(JwtError::UnsupportedAlg("rs256".into())));
        let no_alg = decode(&token(serde_json::json!({}), good_claims(), b"")).unwrap();
        assert!(matches!(no_alg.algorithm(), Err(JwtError::Malformed(_))));
        let crit = decode(&token(
            serde_json::json!({"alg":"RS256","crit":["exp"]}),
            good_claims(),
            b"",
        ))
        .unwrap();
        assert_eq!(crit.algorithm(), Err(JwtError::CriticalHeader));
        assert_eq!(JwtError::AlgNone.whose_side(), Side::Attacker);
    }

    #[test]
    fn ecdsa_signature_must_be_raw_r_and_s() {
        let es = |len: usize| {
            decode(&token(
                serde_json::json!({"alg":"ES256"}),
                good_claims(),
                &vec![1u8; len],
            ))
            .unwrap()
            .algorithm()
        };
        assert_eq!(es(64), Ok(JwsAlg::Es256));
        assert_eq!(
            es(70),
            Err(JwtError::SignatureLength {
                expected: 64,
                actual: 70
            })
        );
    }

    #[test]
    fn webcrypto_parameters_per_algorithm() {
        assert_eq!(
            JwsAlg::Rs256.import_params_json(),
            r#"{"hash":"SHA-256","name":"RSASSA-PKCS1-v1_5"}"#
        );
        assert_eq!(
            JwsAlg::Rs256.verify_params_json(),
            r#"{"name":"RSASSA-PKCS1-v1_5"}"#
        );
        assert_eq!(
            JwsAlg::Es256.import_params_json(),
            r#"{"name":"ECDSA","namedCurve":"P-256"}"#
        );
        assert_eq!(
            JwsAlg::Es384.verify_params_json(),
            r#"{"hash":"SHA-384","name":"ECDSA"}"#
        );
        assert_eq!(
            JwsAlg::Ps512.verify_params_json(),
            r#"{"name":"RSA-PSS","saltLength":64}"#
        );
    }

    #[test]
    fn key_is_chosen_by_kid_among_fitting_keys() {
        let set = jwks(vec![rsa_key("old"), rsa_key("new"), ec_key("ec", "P-256")]);
        let key = select_key(&set, JwsAlg::Rs256, Some("new")).unwrap();
        assert_eq!(key.kid.as_deref(), Some("new"));
        assert_eq!(key.rsa_bits, 2048);
        let jwk: Value = serde_json::from_str::<serde_json::Value>(&key.jwk_json).unwrap();
        assert_eq!(jwk["kty"], "RSA");
        assert!(jwk.get("alg").is_none() && jwk.get("kid").is_none() && jwk.get("d").is_none());
        // A kid that names a key of another type does not select it.
        assert_eq!(
            select_key(&set, JwsAlg::Rs256, Some("ec")),
            Err(JwtError::KeyNotFound {
                kid: Some("ec".into()),
                alg: "RS256"
            })
        );
        let ec = select_key(&set, JwsAlg::Es256, Some("ec")).unwrap();
        let jwk: Value = serde_json::from_str::<serde_json::Value>(&ec.jwk_json).unwrap();
        assert_eq!(jwk["crv"], "P-256");
        // The curve must match the algorithm.
        assert!(select_key(&set, JwsAlg::Es384, Some("ec")).is_err());
    }

    #[test]
    fn without_kid_exactly_one_fitting_key_is_required() {
        let one = jwks(vec![rsa_key("a"), ec_key("e", "P-256")]);
        assert_eq!(
            select_key(&one, JwsAlg::Rs256, None)
                .unwrap()
                .kid
                .as_deref(),
            Some("a")
        );
        let two = jwks(vec![rsa_key("a"), rsa_key("b")]);
        assert_eq!(
            select_key(&two, JwsAlg::Rs256, None),
            Err(JwtError::AmbiguousKey)
        );
        assert!(matches!(
            select_key(&Jwks::default(), JwsAlg::Rs256, None),
            Err(JwtError::KeyNotFound { kid: None, .. })
        ));
    }

    #[test]
    fn keys_for_encryption_or_another_alg_are_not_used() {
        let mut enc = rsa_key("k");
        enc["use"] = "enc".into();
        let mut other_alg = rsa_key("k");
        other_alg["alg"] = "PS256".into();
        let mut sign_only = rsa_key("k");
        sign_only["key_ops"] = serde_json::json!(["sign"]);
        for key in [enc, other_alg, sign_only] {
            assert!(
                select_key(&jwks(vec![key.clone()]), JwsAlg::Rs256, Some("k")).is_err(),
                "{key}"
            );
        }
        // No use/alg/key_ops at all is fine.
        let mut bare = rsa_key("k");
        for m in ["use", "alg"] {
            bare.as_object_mut().unwrap().remove(m);
        }
        assert!(select_key(&jwks(vec![bare]), JwsAlg::Rs256, Some("k")).is_ok());
    }

    #[test]
    fn weak_or_incomplete_keys_are_refused() {
        let mut small = rsa_key("k");
        small["n"] = URL_SAFE_NO_PAD.encode([0xC5u8; 128]).into();
        assert_eq!(
            select_key(&jwks(vec![small]), JwsAlg::Rs256, Some("k")),
            Err(JwtError::WeakKey { bits: 1024 })
        );
        let mut no_e = rsa_key("k");
        no_e.as_object_mut().unwrap().remove("e");
        assert_eq!(
            select_key(&jwks(vec![no_e]), JwsAlg::Rs256, Some("k")),
            Err(JwtError::InvalidKey("e"))
        );
        let mut bad_x = ec_key("k", "P-256");
        bad_x["x"] = "not base64!".into();
        assert_eq!(
            select_key(&jwks(vec![bad_x]), JwsAlg::Es256, Some("k")),
            Err(JwtError::InvalidKey("x"))
        );
    }

    /// RFC 7517 §5: `keys` is an array of JWKs, and a JWK is a JSON object (§4). An entry that
    /// is not one is dropped, never read as a key: serde's derive read an array entry field by
    /// field (`["RSA","k"]` as `kty` and `kid`), which the map-based reading no longer does.
    #[test]
    fn rfc7517_jwks_entries_that_are_not_objects_are_dropped() {
        let body = serde_json::json!({"keys": [["RSA", "positional"], rsa_key("a"), null, "k", 3]});
        let set = parse_jwks(&HttpResponse::json(200, body.to_string())).unwrap();
        assert_eq!(set.kids(), ["a"]);
    }

    #[test]
    fn jwks_document_is_validated() {
        let response = |status: u16, body: &str| HttpResponse {
            unread: None,
            dpop_nonce: None,
            status,
            content_type: Some("application/jwk-set+json".into()),
            body: body.into(),
            www_authenticate: None,
            cache_control: None,
        };
        let set = parse_jwks(&response(
            200,
            &serde_json::json!({"keys":[rsa_key("a"), 3]}).to_string(),
        ))
        .unwrap();
        assert_eq!(set.kids(), ["a"]);
        assert_eq!(
            parse_jwks(&response(404, "{}")),
            Err(JwtError::JwksStatus(404))
        );
        assert!(matches!(
            parse_jwks(&response(200, "<html>")),
            Err(JwtError::JwksInvalid(_))
        ));
        assert!(matches!(
            parse_jwks(&response(200, "{\"keys\":{}}")),
            Err(JwtError::JwksInvalid(_))
        ));
    }

    #[test]
    fn good_claims_pass() {
        let claims = check(good_claims()).unwrap();
        assert_eq!(claims.iss, ISSUER);
        assert_eq!(claims.sub, "alice");
        assert_eq!(claims.aud, [CLIENT]);
        assert_eq!(claims.nonce, NonceCheck::Matches);
        assert_eq!(claims.name.as_deref(), Some("Alice Liddell"));
    }

    #[test]
    fn wrong_issuer_is_refused_even_by_a_trailing_slash() {
        for iss in ["https://evil.example", "https://as.example/"] {
            assert!(matches!(
                check(with(good_claims(), "iss", iss.into())),
                Err(JwtError::IssuerMismatch { .. })
            ));
        }
        assert_eq!(
            check(with(good_claims(), "iss", Value::Null)),
            Err(JwtError::MissingClaim("iss"))
        );
    }

    #[test]
    fn wrong_audience_is_refused() {
        let err = check(with(good_claims(), "aud", "another-app".into())).unwrap_err();
        assert!(matches!(err, JwtError::AudienceMismatch { .. }));
        assert_eq!(err.whose_side(), Side::Attacker);
        assert!(err.what_happened().contains("another-app"));
        assert!(check(with(good_claims(), "aud", serde_json::json!(["x", "y"]))).is_err());
        assert_eq!(
            check(with(good_claims(), "aud", serde_json::json!([]))),
            Err(JwtError::InvalidClaim("aud"))
        );
        assert_eq!(
            check(with(good_claims(), "aud", 42.into())),
            Err(JwtError::InvalidClaim("aud"))
        );
    }

    #[test]
    fn several_audiences_need_azp_equal_to_this_client() {
        let multi = with(good_claims(), "aud", serde_json::json!([CLIENT, "api"]));
        assert_eq!(check(multi.clone()), Err(JwtError::MissingClaim("azp")));
        assert!(check(with(multi.clone(), "azp", CLIENT.into())).is_ok());
        assert_eq!(
            check(with(multi, "azp", "api".into())),
            Err(JwtError::AzpMismatch("api".into()))
        );
        // A single audience with a foreign azp is refused too.
        assert!(check(with(good_claims(), "azp", "other".into())).is_err());
    }

    #[test]
    fn expiry_and_issue_time_allow_a_small_skew_only() {
        assert!(check(with(good_claims(), "exp", (NOW_S - 30).into())).is_ok());
        assert_eq!(
            check(with(good_claims(), "exp", (NOW_S - 61).into())),
            Err(JwtError::Expired { seconds_ago: 61 })
        );
        assert!(check(with(good_claims(), "iat", (NOW_S + 30).into())).is_ok());
        assert_eq!(
            check(with(good_claims(), "iat", (NOW_S + 3600).into())),
            Err(JwtError::IssuedInFuture {
                seconds_ahead: 3600
            })
        );
        assert_eq!(
            check(with(good_claims(), "exp", Value::Null)),
            Err(JwtError::MissingClaim("exp"))
        );
        assert_eq!(
            check(with(good_claims(), "exp", "tomorrow".into())),
            Err(JwtError::InvalidClaim("exp"))
        );
        assert_eq!(
            check(with(good_claims(), "iat", (-5).into())),
            Err(JwtError::InvalidClaim("iat"))
        );
        // Fractional NumericDates are allowed (RFC 7519 §2).
        assert!(check(with(
            good_claims(),
            "exp",
            ((NOW_S + 10) as f64 + 0.5).into()
        ))
        .is_ok());
    }

    #[test]
    fn wrong_or_missing_nonce_is_refused() {
        assert_eq!(
            check(with(good_claims(), "nonce", "someone-elses".into())),
            Err(JwtError::NonceMismatch)
        );
        assert_eq!(
            check(with(good_claims(), "nonce", Value::Null)),
            Err(JwtError::MissingClaim("nonce"))
        );
        // After a refresh the nonce may be absent, or must be the original.
        let refresh = ClaimRules {
            nonce: NonceRule::IfPresent(Some("n-0S6_WzA2Mj".into())),
            expected_sub: Some("alice".into()),
            ..rules()
        };
        let no_nonce = with(good_claims(), "nonce", Value::Null);
        assert_eq!(
            check_claims(no_nonce.as_object().unwrap(), &refresh)
                .unwrap()
                .nonce,
            NonceCheck::Absent
        );
        let other = with(good_claims(), "nonce", "x".into());
        assert_eq!(
            check_claims(other.as_object().unwrap(), &refresh),
            Err(JwtError::NonceMismatch)
        );
        let bob = with(good_claims(), "sub", "bob".into());
        assert_eq!(
            check_claims(bob.as_object().unwrap(), &refresh),
            Err(JwtError::SubjectChanged)
        );
    }

    #[test]
    fn subject_is_required() {
        for sub in [Value::Null, "".into()] {
            assert_eq!(
                check(with(good_claims(), "sub", sub)),
                Err(JwtError::MissingClaim("sub"))
            );
        }
    }

    #[test]
    fn at_hash_binds_the_access_token() {
        // OIDC Core §A.3 example: access token and its at_hash.
        let access = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
        let claims = serde_json::json!({ "at_hash": "77QmUPtjPfzWtF2AnpK9RQ" });
        let claims = claims.as_object().unwrap();
        assert_eq!(
            check_at_hash(claims, JwsAlg::Rs256, &digest_of(JwsAlg::Rs256, access)),
            Ok(AtHash::Matches)
        );
        assert_eq!(
            check_at_hash(
                claims,
                JwsAlg::Rs256,
                &digest_of(JwsAlg::Rs256, "another-token")
            ),
            Err(JwtError::AtHashMismatch)
        );
        assert_eq!(
            check_at_hash(
                &Map::new(),
                JwsAlg::Rs256,
                &digest_of(JwsAlg::Rs256, access)
            ),
            Ok(AtHash::Absent)
        );
        // No digest (WebCrypto failed) or one of another size: said so, not a pass.
        assert_eq!(
            check_at_hash(claims, JwsAlg::Rs384, &digest_of(JwsAlg::Rs256, access)),
            Err(JwtError::DigestUnavailable("SHA-384"))
        );
        assert_eq!(
            check_at_hash(claims, JwsAlg::Rs256, &[]),
            Err(JwtError::DigestUnavailable("SHA-256"))
        );
    }

    #[test]
    fn oidc3_1_3_6_at_hash_is_checked_for_the_384_and_512_algorithms() {
        // The left half of SHA-384 / SHA-512 of the OIDC Core §A.3 access token, computed
        // with Python's hashlib (an independent implementation).
        let access = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
        for (algs, at_hash) in [
            (
                [JwsAlg::Rs384, JwsAlg::Ps384, JwsAlg::Es384],
                "jtAeDp945y1dDqU3nkIVGNZP1HjH_MFs",
            ),
            (
                [JwsAlg::Rs512, JwsAlg::Ps512, JwsAlg::Es512],
                "q7nS86GgvvFaZkzALLWqJYaJIKw2wCDAVfCAsm5CrBM",
            ),
        ] {
            let claims = serde_json::json!({ "at_hash": at_hash });
            let claims = claims.as_object().unwrap();
            for alg in algs {
                assert_eq!(
                    check_at_hash(claims, alg, &digest_of(alg, access)),
                    Ok(AtHash::Matches),
                    "{alg:?}"
                );
                assert_eq!(
                    check_at_hash(claims, alg, &digest_of(alg, "another-token")),
                    Err(JwtError::AtHashMismatch),
                    "{alg:?}"
                );
            }
            // The SHA-256 half does not pass for a 384/512 algorithm.
            let sha256 = serde_json::json!({ "at_hash": "77QmUPtjPfzWtF2AnpK9RQ" });
            assert_eq!(
                check_at_hash(
                    sha256.as_object().unwrap(),
                    algs[0],
                    &digest_of(algs[0], access)
                ),
                Err(JwtError::AtHashMismatch)
            );
        }
    }

    #[test]
    fn rfc7519_4_1_5_nbf_in_the_future_is_refused_beyond_the_skew() {
        assert!(check(with(good_claims(), "nbf", (NOW_S + 30).into())).is_ok());
        assert!(check(with(good_claims(), "nbf", (NOW_S - 3600).into())).is_ok());
        assert_eq!(
            check(with(good_claims(), "nbf", (NOW_S + 3600).into())),
            Err(JwtError::NotYetValid {
                seconds_ahead: 3600
            })
        );
        assert_eq!(
            check(with(good_claims(), "nbf", "soon".into())),
            Err(JwtError::InvalidClaim("nbf"))
        );
    }

    #[test]
    fn oidc12_2_subject_is_compared_raw_not_in_its_display_form() {
        // OIDC Core §2 allows 255 ASCII characters; the display form is cut at 200.
        let long = "s".repeat(255);
        let first = check(with(good_claims(), "sub", long.clone().into())).unwrap();
        let refresh = |expected: &str| ClaimRules {
            nonce: NonceRule::IfPresent(Some("n-0S6_WzA2Mj".into())),
            expected_sub: Some(expected.to_owned()),
            ..rules()
        };
        let again = with(good_claims(), "sub", long.clone().into());
        assert!(check_claims(again.as_object().unwrap(), &refresh(&first.sub)).is_ok());
        // Another user whose raw sub is the first one's escaped form is not the same user.
        let first = check(with(good_claims(), "sub", "a\u{202E}b".into())).unwrap();
        let other = with(good_claims(), "sub", "a\\u{202E}b".into());
        assert_eq!(
            check_claims(other.as_object().unwrap(), &refresh(&first.sub)),
            Err(JwtError::SubjectChanged)
        );
    }

    #[test]
    fn hostile_claim_values_are_sanitized_for_display() {
        let claims = with(good_claims(), "name", "\u{202E}evil".into());
        assert_eq!(
            check(claims).unwrap().name.as_deref(),
            Some("\\u{202E}evil")
        );
        let err = check(with(good_claims(), "iss", "https://x\u{202E}".into())).unwrap_err();
        assert!(err.what_happened().contains("\\u{202E}"));
    }
}
