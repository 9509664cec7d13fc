//! DPoP, sender-constrained tokens (RFC 9449): the proof JWT a client sends with every token
//! request and API call, the key's thumbprint (RFC 7638), the server-nonce retry rule, and the
//! `token_type=DPoP` acceptance rule. Pure: the key pair lives in WebCrypto
//! (`browser::webcrypto`); this module builds the signing input and the caller appends the
//! signature it got back, so the private key never reaches Rust.

use crate::protocol::error::{sanitize_for_display, Explain, Side};
use crate::protocol::secret::AccessToken;
use crate::protocol::uri::{HttpUrl, UriError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

mod nonce;
pub use nonce::{
    next_nonce, nonce_demand, parse_dpop_challenge, DpopChallenge, DpopNonce, DpopServer,
    NonceDemand, NonceRetry, NonceStep,
};

/// The proof's `typ` header (RFC 9449 §4.2): it keeps a proof from passing as any other JWT.
pub const PROOF_TYP: &str = "dpop+jwt";
/// The request header that carries the proof (RFC 9449 §4.1).
pub const DPOP_HEADER: &str = "DPoP";
/// The response header that carries a server nonce (RFC 9449 §8).
pub const NONCE_HEADER: &str = "DPoP-Nonce";
/// The error code a server uses to ask for a nonce (RFC 9449 §8, §9).
pub const USE_DPOP_NONCE: &str = "use_dpop_nonce";
/// Fewest random bytes behind a `jti`: 128 bits, so two proofs never share one (RFC 9449 §4.2
/// asks for enough entropy that collisions are negligible).
pub const MIN_JTI_ENTROPY: usize = 16;
/// Longest nonce accepted from a server.
const MAX_NONCE_LEN: usize = 1024;
/// Longest untrusted value echoed in a message.
const MAX_SHOWN: usize = 120;

// --------------------------------------------------------------------- the algorithm

/// A proof algorithm this client's WebCrypto key can sign with (RFC 9449 §4.2 wants an
/// asymmetric JWS algorithm the server lists in `dpop_signing_alg_values_supported`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DpopAlg {
    /// ECDSA on P-256 with SHA-256 (RFC 7518 §3.4).
    Es256,
    /// Ed25519 under RFC 8037's `alg` name `EdDSA`.
    EdDsa,
    /// Ed25519 under RFC 9864's fully-specified `alg` name.
    Ed25519,
    /// RSASSA-PSS with SHA-256, salt 32 bytes (RFC 7518 §3.5), 2048-bit key.
    Ps256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), 2048-bit key.
    Rs256,
}

impl DpopAlg {
    /// Every algorithm, in the order this client prefers them (ES256 first: small, fast keys).
    pub const ALL: [DpopAlg; 5] = [
        DpopAlg::Es256,
        DpopAlg::EdDsa,
        DpopAlg::Ed25519,
        DpopAlg::Ps256,
        DpopAlg::Rs256,
    ];

    /// The name in the proof's `alg` header and in metadata.
    pub fn name(self) -> &'static str {
        match self {
            DpopAlg::Es256 => "ES256",
            DpopAlg::EdDsa => "EdDSA",
            DpopAlg::Ed25519 => "Ed25519",
            DpopAlg::Ps256 => "PS256",
            DpopAlg::Rs256 => "RS256",
        }
    }

    /// The algorithm named `name` (exact, as JOSE names are case-sensitive).
    pub fn parse(name: &str) -> Option<DpopAlg> {
        DpopAlg::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The key it needs, in words (for messages and the Provider panel).
    pub fn key_description(self) -> &'static str {
        match self {
            DpopAlg::Es256 => "ECDSA P-256",
            DpopAlg::EdDsa | DpopAlg::Ed25519 => "Ed25519",
            DpopAlg::Ps256 => "RSA-PSS 2048-bit",
            DpopAlg::Rs256 => "RSASSA-PKCS1-v1_5 2048-bit",
        }
    }

    /// Whether `other` needs the same kind of WebCrypto key (EdDSA and Ed25519 do).
    pub fn same_key(self, other: DpopAlg) -> bool {
        let ed = |a| matches!(a, DpopAlg::EdDsa | DpopAlg::Ed25519);
        self == other || (ed(self) && ed(other))
    }

    /// The `algorithm` argument of `SubtleCrypto.generateKey`, as JSON. RSA's
    /// `publicExponent` is `[1, 0, 1]` (65537), to be handed over as a `Uint8Array`.
    pub fn generate_params_json(self) -> String {
        match self {
            DpopAlg::Es256 => r#"{"name":"ECDSA","namedCurve":"P-256"}"#,
            DpopAlg::EdDsa | DpopAlg::Ed25519 => r#"{"name":"Ed25519"}"#,
            DpopAlg::Ps256 => {
                r#"{"name":"RSA-PSS","modulusLength":2048,"publicExponent":[1,0,1],"hash":"SHA-256"}"#
            }
            DpopAlg::Rs256 => {
                r#"{"name":"RSASSA-PKCS1-v1_5","modulusLength":2048,"publicExponent":[1,0,1],"hash":"SHA-256"}"#
            }
        }
        .to_owned()
    }

    /// The `algorithm` argument of `SubtleCrypto.sign`/`verify`, as JSON.
    pub fn sign_params_json(self) -> String {
        match self {
            DpopAlg::Es256 => r#"{"name":"ECDSA","hash":"SHA-256"}"#,
            DpopAlg::EdDsa | DpopAlg::Ed25519 => r#"{"name":"Ed25519"}"#,
            DpopAlg::Ps256 => r#"{"name":"RSA-PSS","saltLength":32}"#,
            DpopAlg::Rs256 => r#"{"name":"RSASSA-PKCS1-v1_5"}"#,
        }
        .to_owned()
    }

    /// The signature's length in the JWS: fixed for ES256 (`r || s`) and Ed25519; an RSA
    /// signature is as long as the modulus (256 bytes for the 2048-bit keys made here).
    fn signature_len(self) -> usize {
        match self {
            DpopAlg::Es256 | DpopAlg::EdDsa | DpopAlg::Ed25519 => 64,
            DpopAlg::Ps256 | DpopAlg::Rs256 => 256,
        }
    }
}

/// The algorithms a proof may use here: those the server lists (metadata), narrowed by the
/// `algs` of its last DPoP challenge (RFC 9449 §7.1) and by what this browser can make
/// (`None`: not probed yet, so not narrowed), in this client's order of preference.
pub fn allowed_algs(
    server: &[String],
    hint: Option<&[String]>,
    browser: Option<&[DpopAlg]>,
) -> Vec<DpopAlg> {
    let listed = |list: &[String], alg: DpopAlg| list.iter().any(|l| l == alg.name());
    DpopAlg::ALL
        .into_iter()
        .filter(|a| listed(server, *a))
        .filter(|a| hint.is_none_or(|h| listed(h, *a)))
        .filter(|a| browser.is_none_or(|b| b.contains(a)))
        .collect()
}

/// The algorithm of the next key: the user's pick when it is allowed (or nothing is known to
/// be), else the first allowed ([`allowed_algs`]: ES256 when the server takes it), else ES256
/// (the server's answer then says what it wants).
pub fn choose_alg(allowed: &[DpopAlg], pick: Option<DpopAlg>) -> DpopAlg {
    match pick {
        Some(pick) if allowed.is_empty() || allowed.contains(&pick) => pick,
        _ => allowed.first().copied().unwrap_or(DpopAlg::Es256),
    }
}

// ------------------------------------------------------------------------------- the key

/// A public key as it goes into the proof's `jwk` header: only the members RFC 7638 §3.2 lists
/// for its type, so nothing private can slip into a header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicJwk {
    /// An elliptic-curve key (`kty` `EC`).
    Ec {
        /// `crv`, e.g. `P-256`.
        crv: String,
        /// The x coordinate, base64url.
        x: String,
        /// The y coordinate, base64url.
        y: String,
    },
    /// An RSA key (`kty` `RSA`).
    Rsa {
        /// The modulus, base64url.
        n: String,
        /// The exponent, base64url.
        e: String,
    },
    /// An octet key pair (`kty` `OKP`, RFC 8037), e.g. an Ed25519 key.
    Okp {
        /// `crv`, e.g. `Ed25519`.
        crv: String,
        /// The public key, base64url.
        x: String,
    },
}

/// The RFC 7638 members of an EC key (or, without `y`, of an OKP key: RFC 8037 §2), in
/// lexicographic order (serde keeps field order). One struct for both keeps the wasm small.
#[derive(Serialize)]
struct EcMembers<'a> {
    crv: &'a str,
    kty: &'static str,
    x: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    y: Option<&'a str>,
}

/// The RFC 7638 members of an RSA key, in lexicographic order.
#[derive(Serialize)]
struct RsaMembers<'a> {
    e: &'a str,
    kty: &'static str,
    n: &'a str,
}

/// JWK members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4).
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

impl PublicJwk {
    /// Reads a public JWK such as WebCrypto's `exportKey("jwk", publicKey)`: `kty` `EC` or
    /// `RSA` or `OKP` with their members; any private member is refused (a proof header is public).
    pub fn from_json(json: &str) -> Result<PublicJwk, DpopError> {
        let object: Map<String, Value> =
            serde_json::from_str(json).map_err(|_| DpopError::KeyNotJson)?;
        if let Some(private) = PRIVATE_MEMBERS.iter().find(|m| object.contains_key(**m)) {
            return Err(DpopError::KeyHasPrivateMember(private));
        }
        let member = |name: &'static str| -> Result<String, DpopError> {
            match object.get(name) {
                Some(Value::String(value))
                    if !value.is_empty() && URL_SAFE_NO_PAD.decode(value).is_ok() =>
                {
                    Ok(value.clone())
                }
                _ => Err(DpopError::KeyMemberMissing(name)),
            }
        };
        let crv = || match object.get("crv") {
            Some(Value::String(crv)) if !crv.is_empty() => Ok(crv.clone()),
            _ => Err(DpopError::KeyMemberMissing("crv")),
        };
        match object.get("kty").and_then(Value::as_str) {
            Some("EC") => Ok(PublicJwk::Ec {
                crv: crv()?,
                x: member("x")?,
                y: member("y")?,
            }),
            Some("RSA") => Ok(PublicJwk::Rsa {
                n: member("n")?,
                e: member("e")?,
            }),
            Some("OKP") => Ok(PublicJwk::Okp {
                crv: crv()?,
                x: member("x")?,
            }),
            other => Err(DpopError::UnsupportedKeyType(sanitize_for_display(
                other.unwrap_or(""),
                MAX_SHOWN,
            ))),
        }
    }

    /// The canonical JSON of RFC 7638 §3: required members only, sorted, no whitespace.
    pub fn canonical_json(&self) -> String {
        let json = match self {
            PublicJwk::Ec { crv, x, y } => serde_json::to_string(&EcMembers {
                crv,
                kty: "EC",
                x,
                y: Some(y),
            }),
            PublicJwk::Rsa { n, e } => serde_json::to_string(&RsaMembers { e, kty: "RSA", n }),
            PublicJwk::Okp { crv, x } => serde_json::to_string(&EcMembers {
                crv,
                kty: "OKP",
                x,
                y: None,
            }),
        };
        // Serializing a struct of strings cannot fail.
        json.unwrap_or_default()
    }

    /// The JWK SHA-256 thumbprint (RFC 7638 §3), base64url: what a DPoP-bound token's
    /// `cnf.jkt` names (RFC 9449 §6).
    pub fn thumbprint(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.canonical_json().as_bytes()))
    }

    /// Whether this key can sign with `alg` (key type and curve).
    pub fn fits(&self, alg: DpopAlg) -> bool {
        match (self, alg) {
            (PublicJwk::Ec { crv, .. }, DpopAlg::Es256) => crv == "P-256",
            (PublicJwk::Rsa { .. }, DpopAlg::Rs256 | DpopAlg::Ps256) => true,
            (PublicJwk::Okp { crv, .. }, DpopAlg::EdDsa | DpopAlg::Ed25519) => crv == "Ed25519",
            _ => false,
        }
    }

    fn header_value(&self) -> Value {
        serde_json::from_str(&self.canonical_json()).unwrap_or(Value::Null)
    }
}

// ----------------------------------------------------------------------------- the proof

/// The proof's claims (RFC 9449 §4.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProofClaims {
    /// Unique identifier of this proof, from fresh entropy (the server's replay cache key).
    pub jti: String,
    /// The HTTP method of the request (`POST`, `GET`).
    pub htm: String,
    /// The request's URL without query and fragment, normalised ([`normalize_htu`]).
    pub htu: String,
    /// Creation time, seconds since the epoch.
    pub iat: u64,
    /// base64url(SHA-256(access token)) on resource calls ([`ath`]); absent on token requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ath: Option<String>,
    /// The server's nonce, when it gave one (RFC 9449 §8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// What a proof is for: one HTTP request.
#[derive(Clone, Copy, Debug)]
pub struct ProofRequest<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The full URL the request goes to (query and fragment are dropped from `htu`).
    pub url: &'a str,
    /// The access token the request carries (resource calls): gives `ath`.
    pub access_token: Option<&'a AccessToken>,
    /// The server's nonce, when it asked for one.
    pub nonce: Option<&'a DpopNonce>,
}

/// A proof waiting for its signature: the caller signs [`UnsignedProof::signing_input`] with
/// the private key and hands the signature to [`UnsignedProof::finish`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsignedProof {
    alg: DpopAlg,
    header: Value,
    claims: ProofClaims,
    signing_input: String,
}

/// The JOSE header of a proof (RFC 9449 §4.2).
#[derive(Serialize)]
struct ProofHeader<'a> {
    typ: &'static str,
    alg: &'static str,
    jwk: &'a Value,
}

/// Builds the proof for `request` at `now_secs`: header `typ`/`alg`/`jwk`, claims
/// `jti`/`htm`/`htu`/`iat` (+ `ath`, `nonce`), and the JWS signing input
/// `BASE64URL(header).BASE64URL(claims)` (RFC 7515 §5.1).
pub fn unsigned_proof(
    key: &PublicJwk,
    alg: DpopAlg,
    request: &ProofRequest<'_>,
    now_secs: u64,
    jti_entropy: &[u8],
) -> Result<UnsignedProof, DpopError> {
    if !key.fits(alg) {
        return Err(DpopError::KeyDoesNotFitAlg { alg: alg.name() });
    }
    if jti_entropy.len() < MIN_JTI_ENTROPY {
        return Err(DpopError::TooLittleEntropy {
            got: jti_entropy.len(),
        });
    }
    if request.method.is_empty()
        || !request
            .method
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
    {
        return Err(DpopError::InvalidMethod(sanitize_for_display(
            request.method,
            MAX_SHOWN,
        )));
    }
    let claims = ProofClaims {
        jti: URL_SAFE_NO_PAD.encode(jti_entropy),
        htm: request.method.to_owned(),
        htu: normalize_htu(request.url)?,
        iat: now_secs,
        ath: request.access_token.map(ath),
        nonce: request.nonce.map(|n| n.as_str().to_owned()),
    };
    let jwk = key.header_value();
    let header_json = serde_json::to_string(&ProofHeader {
        typ: PROOF_TYP,
        alg: alg.name(),
        jwk: &jwk,
    })
    .unwrap_or_default();
    let claims_json = serde_json::to_string(&claims).unwrap_or_default();
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header_json.as_bytes()),
        URL_SAFE_NO_PAD.encode(claims_json.as_bytes())
    );
    Ok(UnsignedProof {
        alg,
        header: serde_json::from_str(&header_json).unwrap_or(Value::Null),
        claims,
        signing_input,
    })
}

impl UnsignedProof {
    /// `BASE64URL(header).BASE64URL(claims)`: the bytes the private key signs.
    pub fn signing_input(&self) -> &str {
        &self.signing_input
    }

    /// The claims, for the inspector.
    pub fn claims(&self) -> &ProofClaims {
        &self.claims
    }

    /// The decoded header, pretty-printed for the inspector.
    pub fn header_json(&self) -> String {
        serde_json::to_string_pretty(&self.header).unwrap_or_default()
    }

    /// The proof's algorithm.
    pub fn alg(&self) -> DpopAlg {
        self.alg
    }

    /// Appends the signature and gives the compact proof. ECDSA signatures must be the JWS
    /// `r || s` form (64 bytes for ES256, RFC 7518 §3.4), which is what WebCrypto returns; a
    /// DER signature would be refused by every server, so it is refused here first. Ed25519
    /// gives 64 bytes, RSA as many as its modulus (256 for the keys made here).
    pub fn finish(self, signature: &[u8]) -> Result<DpopProof, DpopError> {
        let expected = self.alg.signature_len();
        if signature.len() != expected {
            return Err(DpopError::SignatureLength {
                expected,
                got: signature.len(),
            });
        }
        Ok(DpopProof {
            compact: format!(
                "{}.{}",
                self.signing_input,
                URL_SAFE_NO_PAD.encode(signature)
            ),
            claims: self.claims,
        })
    }
}

/// A signed proof: the value of the `DPoP` request header. `Debug` and [`DpopProof::masked`]
/// hide the signature, so a log line or the timeline cannot carry a replayable proof.
#[derive(Clone, PartialEq, Eq)]
pub struct DpopProof {
    compact: String,
    claims: ProofClaims,
}

impl DpopProof {
    /// The compact JWS for the `DPoP` header.
    pub fn header_value(&self) -> &str {
        &self.compact
    }

    /// The claims it carries.
    pub fn claims(&self) -> &ProofClaims {
        &self.claims
    }

    /// `header.claims.••••`: the decodable parts kept, the signature masked.
    pub fn masked(&self) -> String {
        let signed_part = self
            .compact
            .rsplit_once('.')
            .map_or("", |(signed, _)| signed);
        format!("{signed_part}.[signature hidden]")
    }
}

impl std::fmt::Debug for DpopProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopProof")
            .field("claims", &self.claims)
            .field("signature", &"[redacted]")
            .finish()
    }
}

/// The public key of RFC 9449 §4.2's example proof: explain mode shows it (a WebCrypto key
/// cannot be imported with known private parts, and a fixed key keeps the example repeatable).
pub const RFC9449_EXAMPLE_JWK: &str = r#"{"kty":"EC","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA","crv":"P-256"}"#;

/// Explain mode's stand-in for a signature: 64 zero bytes (the length of an ES256 one). It is
/// not a real signature, and every step that shows it says so.
pub const PLACEHOLDER_SIGNATURE: [u8; 64] = [0; 64];

/// The decoded header and claims of a proof as the timeline keeps it
/// ([`DpopProof::masked`]: `header.claims.[signature hidden]`), pretty-printed for the
/// inspector; `None` when `masked` is not such a value.
pub fn decode_masked(masked: &str) -> Option<(String, String)> {
    let mut parts = masked.splitn(3, '.');
    let mut part = || -> Option<String> {
        let bytes = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
        // from_str, not from_slice: the one Value parser already in the wasm.
        let value: Value = serde_json::from_str(std::str::from_utf8(&bytes).ok()?).ok()?;
        serde_json::to_string_pretty(&value).ok()
    };
    let header = part()?;
    let claims = part()?;
    Some((header, claims))
}

/// `htu` for `url` (RFC 9449 §4.2, §4.3 check 9): no query and no fragment; scheme and host in
/// lower case and the scheme's default port left out (RFC 3986 §6.2.2.1, §6.2.3); an empty
/// path becomes `/`. The path is kept as written: the server normalises its own URL the same
/// way, so anything more could only create a mismatch.
pub fn normalize_htu(url: &str) -> Result<String, DpopError> {
    let without_fragment = url.split_once('#').map_or(url, |(before, _)| before);
    let without_query = without_fragment
        .split_once('?')
        .map_or(without_fragment, |(before, _)| before);
    let parsed = HttpUrl::parse(without_query).map_err(DpopError::InvalidHtu)?;
    let path = if parsed.path().is_empty() {
        "/"
    } else {
        parsed.path()
    };
    Ok(format!("{}{path}", parsed.origin()))
}

/// `ath` (RFC 9449 §4.2): base64url(SHA-256(ASCII(access token))), binding the proof to the
/// token it travels with.
pub fn ath(token: &AccessToken) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.secret().as_bytes()))
}

/// `Authorization: DPoP <token>` (RFC 9449 §7.1): the scheme tells the API to demand a proof.
pub fn dpop_authorization(token: &AccessToken) -> String {
    format!("DPoP {}", token.secret())
}

// ------------------------------------------------------------------- the token's type

/// How a token from the token endpoint is to be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenBinding {
    /// `token_type=DPoP`: bound to our key; send as `Authorization: DPoP` with a fresh proof.
    Dpop,
    /// `token_type=Bearer`: works for whoever holds it.
    Bearer {
        /// We sent a proof and the server ignored it (it does not do DPoP for this client):
        /// worth a note on the diagram, since the token is not sender-constrained.
        proof_ignored: bool,
    },
}

/// The `token_type` rule with DPoP (RFC 9449 §5): `DPoP` only when this request carried a
/// proof (a DPoP token we did not ask for cannot be used); `Bearer` always, noted when a proof
/// was sent; case-insensitive (RFC 6749 §7.1); anything else refused.
pub fn accept_token_type(token_type: &str, proof_sent: bool) -> Result<TokenBinding, DpopError> {
    if token_type.eq_ignore_ascii_case("dpop") {
        if proof_sent {
            Ok(TokenBinding::Dpop)
        } else {
            Err(DpopError::DpopTokenWithoutProof)
        }
    } else if token_type.eq_ignore_ascii_case("bearer") {
        Ok(TokenBinding::Bearer {
            proof_ignored: proof_sent,
        })
    } else {
        Err(DpopError::UnsupportedTokenType(sanitize_for_display(
            token_type, MAX_SHOWN,
        )))
    }
}

impl TokenBinding {
    /// The `Authorization` header value for `token`.
    pub fn authorization(self, token: &AccessToken) -> String {
        match self {
            TokenBinding::Dpop => dpop_authorization(token),
            TokenBinding::Bearer { .. } => format!("Bearer {}", token.secret()),
        }
    }

    /// A teaching note for the diagram, when there is something to say.
    pub fn note(self) -> Option<&'static str> {
        match self {
            TokenBinding::Bearer {
                proof_ignored: true,
            } => Some(
                "The app sent a DPoP proof, but the server issued a Bearer token: it does not \
                 bind tokens to a key for this client, so whoever copies this token can use it.",
            ),
            _ => None,
        }
    }
}

/// `cnf.jkt` of a JWT access token's claims or an introspection answer (RFC 9449 §6.1, §6.2):
/// the thumbprint of the key the token is bound to.
pub fn cnf_jkt(claims: &Map<String, Value>) -> Option<&str> {
    claims.get("cnf")?.get("jkt")?.as_str()
}

// ------------------------------------------------------------------------------ errors

/// Why DPoP could not be done, or a server's DPoP answer cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DpopError {
    /// The exported key is not a JSON object.
    KeyNotJson,
    /// The key handed over for the header has a private member (named).
    KeyHasPrivateMember(&'static str),
    /// The key lacks a member its type needs, or it is not base64url (named).
    KeyMemberMissing(&'static str),
    /// A key type other than `EC`, `RSA` or `OKP`.
    UnsupportedKeyType(String),
    /// The key's type or curve does not match the algorithm.
    KeyDoesNotFitAlg {
        /// The algorithm asked for.
        alg: &'static str,
    },
    /// Fewer than [`MIN_JTI_ENTROPY`] random bytes for the `jti`.
    TooLittleEntropy {
        /// Bytes given.
        got: usize,
    },
    /// The HTTP method is not a token.
    InvalidMethod(String),
    /// The request URL is not an acceptable http(s) URL.
    InvalidHtu(UriError),
    /// The signature does not have the JWS length for the algorithm.
    SignatureLength {
        /// Bytes the algorithm produces.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
    /// The server asked for a nonce (`use_dpop_nonce`) without a `DPoP-Nonce` header.
    NonceMissing,
    /// The `DPoP-Nonce` header is not RFC 9449 nonce syntax.
    NonceMalformed(String),
    /// The server asked for a nonce again after the retry that carried one.
    NonceRefusedTwice,
    /// `token_type=DPoP` although this request carried no proof.
    DpopTokenWithoutProof,
    /// A `token_type` that is neither Bearer nor DPoP.
    UnsupportedTokenType(String),
}

impl std::fmt::Display for DpopError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.what_happened())
    }
}

impl std::error::Error for DpopError {}

impl Explain for DpopError {
    fn what_happened(&self) -> String {
        match self {
            Self::KeyNotJson => "The DPoP public key is not a JSON Web Key.".to_owned(),
            Self::KeyHasPrivateMember(name) => format!(
                "The key given for the DPoP proof header has the private member \"{name}\"; \
                 only a public key may be sent."
            ),
            Self::KeyMemberMissing(name) => format!(
                "The DPoP public key has no usable \"{name}\" member (missing, empty or not \
                 base64url)."
            ),
            Self::UnsupportedKeyType(kty) => {
                format!("The DPoP key type \"{kty}\" is not supported (only EC, RSA and OKP).")
            }
            Self::KeyDoesNotFitAlg { alg } => {
                format!("The DPoP key cannot sign with {alg} (wrong key type or curve).")
            }
            Self::TooLittleEntropy { got } => format!(
                "Only {got} random bytes were given for the proof's jti; at least \
                 {MIN_JTI_ENTROPY} are needed so that no two proofs share one."
            ),
            Self::InvalidMethod(method) => {
                format!("\"{method}\" is not an HTTP method, so no DPoP proof can name it.")
            }
            Self::InvalidHtu(error) => format!(
                "The request URL cannot go into a DPoP proof: {}",
                error.what_happened()
            ),
            Self::SignatureLength { expected, got } => format!(
                "The DPoP proof's signature is {got} bytes; the algorithm gives {expected}."
            ),
            Self::NonceMissing => "The server answered use_dpop_nonce (it wants a server \
                nonce in the proof) but sent no DPoP-Nonce header, so no retry can succeed."
                .to_owned(),
            Self::NonceMalformed(value) => {
                format!("The server's DPoP-Nonce \"{value}\" is not a valid nonce.")
            }
            Self::NonceRefusedTwice => "The server asked for a DPoP nonce again after the \
                retry that carried the nonce it gave: it does not accept this client's \
                proofs."
                .to_owned(),
            Self::DpopTokenWithoutProof => "The token endpoint issued a DPoP-bound token \
                (token_type DPoP) although this request sent no DPoP proof: the token is bound \
                to a key this app does not hold, so it cannot be used."
                .to_owned(),
            Self::UnsupportedTokenType(t) => format!(
                "The token is of type \"{t}\", which this app does not understand (only Bearer \
                 and DPoP)."
            ),
        }
    }

    fn whose_side(&self) -> Side {
        match self {
            Self::NonceMissing
            | Self::NonceMalformed(_)
            | Self::NonceRefusedTwice
            | Self::DpopTokenWithoutProof
            | Self::UnsupportedTokenType(_) => Side::Provider,
            _ => Side::ThisApp,
        }
    }

    fn what_to_do(&self) -> String {
        match self {
            Self::InvalidHtu(error) => error.what_to_do(),
            Self::NonceMissing | Self::NonceMalformed(_) => "Check the provider's DPoP \
                settings: a server that asks for a nonce must send it in the DPoP-Nonce header \
                (and expose that header to the app's origin with CORS)."
                .to_owned(),
            Self::NonceRefusedTwice => "Check the provider's clock and DPoP nonce settings, \
                then try again; or switch DPoP off for this provider."
                .to_owned(),
            Self::DpopTokenWithoutProof | Self::UnsupportedTokenType(_) => "Switch DPoP on \
                for this provider (or configure the provider to issue Bearer tokens to this \
                client), then log in again."
                .to_owned(),
            _ => "This is a bug in the app's DPoP code: report it, and switch DPoP off to \
                continue."
                .to_owned(),
        }
    }
}

#[cfg(test)]
mod tests;
