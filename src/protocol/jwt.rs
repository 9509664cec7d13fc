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

use crate::protocol::document::{parse_document, take, JsonProblem, Member};
use crate::protocol::error::{sanitize_for_display, Explain, Side};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Map, Value};

mod jwks;
pub use jwks::{parse_jwks, select_key, Jwk, Jwks, SelectedKey};

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
mod tests;
