//! DPoP, sender-constrained tokens (RFC 9449): the proof JWT a client sends with every token
//! request and API call, the key's thumbprint (RFC 7638), the server-nonce retry rule, and the
//! `token_type=DPoP` acceptance rule. Pure: the key pair lives in WebCrypto
//! (`browser::webcrypto`); this module builds the signing input and the caller appends the
//! signature it got back, so the private key never reaches Rust.

use crate::protocol::document::parse_object;
use crate::protocol::error::{sanitize_for_display, Explain, Side};
use crate::protocol::http::HttpResponse;
use crate::protocol::resource::challenge_params;
use crate::protocol::secret::AccessToken;
use crate::protocol::uri::{HttpUrl, UriError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

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

// ------------------------------------------------------------------------------ nonces

/// A server nonce (RFC 9449 §8.1: `1*NQCHAR`, printable ASCII without `"` and `\`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DpopNonce(String);

impl DpopNonce {
    /// Checks the `DPoP-Nonce` header's syntax.
    pub fn parse(value: &str) -> Result<DpopNonce, DpopError> {
        let ok = !value.is_empty()
            && value.len() <= MAX_NONCE_LEN
            && value
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
        if ok {
            Ok(DpopNonce(value.to_owned()))
        } else {
            Err(DpopError::NonceMalformed(sanitize_for_display(
                value, MAX_SHOWN,
            )))
        }
    }

    /// The nonce as it goes into the `nonce` claim.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which server answered: they ask for a nonce in different ways (RFC 9449 §8, §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DpopServer {
    /// The token endpoint: HTTP 400, JSON `{"error":"use_dpop_nonce"}`.
    Token,
    /// A resource server: HTTP 401, `WWW-Authenticate: DPoP error="use_dpop_nonce"`.
    Resource,
}

/// What an answer says about nonces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NonceDemand {
    /// Not a `use_dpop_nonce` error: the answer is the real one.
    NotAsked,
    /// The server refused the proof until it carries this nonce.
    Asked(DpopNonce),
}

/// Reads a `use_dpop_nonce` error from `response` (its `DPoP-Nonce` header passed as
/// `nonce_header`); a demand without a usable nonce is an error, as no retry can succeed.
pub fn nonce_demand(
    server: DpopServer,
    response: &HttpResponse,
    nonce_header: Option<&str>,
) -> Result<NonceDemand, DpopError> {
    let asked = match server {
        DpopServer::Token => {
            response.status == 400
                && parse_object(&response.body)
                    .ok()
                    .and_then(|o| o.get("error").and_then(Value::as_str).map(str::to_owned))
                    .as_deref()
                    == Some(USE_DPOP_NONCE)
        }
        DpopServer::Resource => {
            response.status == 401
                && response
                    .www_authenticate
                    .as_deref()
                    .and_then(parse_dpop_challenge)
                    .and_then(|c| c.error)
                    .as_deref()
                    == Some(USE_DPOP_NONCE)
        }
    };
    if !asked {
        return Ok(NonceDemand::NotAsked);
    }
    match nonce_header {
        None => Err(DpopError::NonceMissing),
        Some(value) => DpopNonce::parse(value.trim()).map(NonceDemand::Asked),
    }
}

/// The nonce rule as a state (RFC 9449 §8): the first `use_dpop_nonce` answer is retried once
/// with the server's nonce; a second one means the server will not take our proofs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceRetry {
    /// The request has gone out once.
    FirstTry,
    /// The request has been retried with a nonce.
    Retried,
}

/// What to do with an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NonceStep {
    /// The answer is final: read it as usual.
    Final,
    /// Send the request again with a fresh proof carrying `nonce`; the state becomes `next`.
    Retry {
        /// The nonce for the new proof.
        nonce: DpopNonce,
        /// The state for the retry's answer.
        next: NonceRetry,
    },
    /// Stop: the server keeps asking, or asked without a usable nonce.
    Fail(DpopError),
}

impl NonceRetry {
    /// The transition for one answer's [`nonce_demand`].
    pub fn on_answer(self, demand: Result<NonceDemand, DpopError>) -> NonceStep {
        match (self, demand) {
            (_, Ok(NonceDemand::NotAsked)) => NonceStep::Final,
            (NonceRetry::FirstTry, Ok(NonceDemand::Asked(nonce))) => NonceStep::Retry {
                nonce,
                next: NonceRetry::Retried,
            },
            (NonceRetry::Retried, Ok(NonceDemand::Asked(_))) => {
                NonceStep::Fail(DpopError::NonceRefusedTwice)
            }
            (_, Err(error)) => NonceStep::Fail(error),
        }
    }
}

/// A fresh nonce a server sent along with a successful answer (RFC 9449 §8.2), for the next
/// proof to the same server; a malformed header is ignored.
pub fn next_nonce(nonce_header: Option<&str>) -> Option<DpopNonce> {
    nonce_header.and_then(|value| DpopNonce::parse(value.trim()).ok())
}

// -------------------------------------------------------------------------- challenges

/// A `WWW-Authenticate: DPoP` challenge (RFC 9449 §7.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DpopChallenge {
    /// `error`: `invalid_token`, `invalid_dpop_proof`, `use_dpop_nonce`, ...
    pub error: Option<String>,
    /// `error_description`, sanitized for display.
    pub error_description: Option<String>,
    /// `algs`: the proof algorithms the server accepts, in its order.
    pub algs: Vec<String>,
}

/// The `DPoP` challenge of a `WWW-Authenticate` header, if it has one (other schemes, such as
/// a `Bearer` challenge next to it, are skipped).
pub fn parse_dpop_challenge(header: &str) -> Option<DpopChallenge> {
    let params = challenge_params(header, "dpop")?;
    let get = |wanted: &str| {
        params
            .iter()
            .find(|(name, value)| name == wanted && !value.is_empty())
            .map(|(_, value)| value.as_str())
    };
    Some(DpopChallenge {
        error: get("error").map(|e| sanitize_for_display(e, MAX_SHOWN)),
        error_description: get("error_description").map(|d| sanitize_for_display(d, 500)),
        algs: get("algs")
            .map(|algs| {
                algs.split(' ')
                    .filter(|a| !a.is_empty())
                    .map(|a| sanitize_for_display(a, 32))
                    .collect()
            })
            .unwrap_or_default(),
    })
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
mod tests {
    use super::*;

    /// RFC 7638 §3.1's RSA key (the RFC 7517 Appendix A.1 example key).
    const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

    /// A P-256 public key as WebCrypto exports it (with its `ext` and `key_ops` members).
    const EC_JWK: &str = r#"{"crv":"P-256","ext":true,"key_ops":["verify"],"kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;

    fn ec_key() -> PublicJwk {
        PublicJwk::from_json(EC_JWK).unwrap()
    }

    fn decode_part(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    fn proof_for(request: ProofRequest<'_>) -> UnsignedProof {
        unsigned_proof(
            &ec_key(),
            DpopAlg::Es256,
            &request,
            1_700_000_000,
            &[7u8; 16],
        )
        .unwrap()
    }

    #[test]
    fn r7638_3_1_rsa_thumbprint_test_vector() {
        let json = format!(
            r#"{{"kty":"RSA","n":"{RFC7638_N}","e":"AQAB","alg":"RS256","kid":"2011-04-29"}}"#
        );
        let key = PublicJwk::from_json(&json).unwrap();
        assert_eq!(
            key.canonical_json(),
            format!(r#"{{"e":"AQAB","kty":"RSA","n":"{RFC7638_N}"}}"#)
        );
        assert_eq!(
            key.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    /// RFC 8037 §A.2's Ed25519 public key.
    const RFC8037_JWK: &str =
        r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;

    #[test]
    fn r8037_a_3_ed25519_thumbprint_test_vector() {
        let key = PublicJwk::from_json(RFC8037_JWK).unwrap();
        assert_eq!(
            key.canonical_json(),
            r#"{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#
        );
        assert_eq!(
            key.thumbprint(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
        // A private OKP key is refused for the header.
        let private = RFC8037_JWK.replace(
            "\"kty\"",
            "\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\",\"kty\"",
        );
        assert_eq!(
            PublicJwk::from_json(&private).unwrap_err(),
            DpopError::KeyHasPrivateMember("d")
        );
    }

    #[test]
    fn r9449_4_2_header_alg_and_jwk_per_key_type() {
        let request = ProofRequest {
            method: "POST",
            url: "https://as.example/token",
            access_token: None,
            nonce: None,
        };
        let rsa = PublicJwk::from_json(&format!(
            r#"{{"kty":"RSA","n":"{RFC7638_N}","e":"AQAB","alg":"PS256","ext":true}}"#
        ))
        .unwrap();
        let okp = PublicJwk::from_json(RFC8037_JWK).unwrap();
        for (key, alg, members, sig_len) in [
            (&ec_key(), DpopAlg::Es256, &["crv", "kty", "x", "y"][..], 64),
            (&rsa, DpopAlg::Rs256, &["e", "kty", "n"][..], 256),
            (&rsa, DpopAlg::Ps256, &["e", "kty", "n"][..], 256),
            (&okp, DpopAlg::EdDsa, &["crv", "kty", "x"][..], 64),
            (&okp, DpopAlg::Ed25519, &["crv", "kty", "x"][..], 64),
        ] {
            let proof = unsigned_proof(key, alg, &request, 1, &[3u8; 16]).unwrap();
            let header = decode_part(proof.signing_input().split('.').next().unwrap());
            assert_eq!(header["alg"], alg.name());
            let jwk = header["jwk"].as_object().unwrap();
            assert_eq!(jwk.keys().map(String::as_str).collect::<Vec<_>>(), members);
            assert_eq!(
                proof.clone().finish(&vec![1u8; sig_len + 1]).unwrap_err(),
                DpopError::SignatureLength {
                    expected: sig_len,
                    got: sig_len + 1
                },
                "{alg:?}"
            );
            assert!(proof.finish(&vec![1u8; sig_len]).is_ok());
        }
        assert_eq!(
            unsigned_proof(&okp, DpopAlg::Es256, &request, 1, &[0; 16]).unwrap_err(),
            DpopError::KeyDoesNotFitAlg { alg: "ES256" }
        );
        assert_eq!(
            unsigned_proof(&rsa, DpopAlg::Ed25519, &request, 1, &[0; 16]).unwrap_err(),
            DpopError::KeyDoesNotFitAlg { alg: "Ed25519" }
        );
    }

    #[test]
    fn r9449_5_1_alg_is_what_server_challenge_and_browser_allow_es256_first() {
        let list = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        let bundled = list(&["ES256", "ES384", "PS256", "RS256", "Ed25519", "EdDSA"]);
        let all = allowed_algs(&bundled, None, None);
        assert_eq!(all, DpopAlg::ALL.to_vec());
        assert_eq!(choose_alg(&all, None), DpopAlg::Es256);
        assert_eq!(choose_alg(&all, Some(DpopAlg::Ps256)), DpopAlg::Ps256);
        // A pick the server does not list is not used.
        let rsa_only = allowed_algs(&list(&["RS256"]), None, None);
        assert_eq!(choose_alg(&rsa_only, Some(DpopAlg::Es256)), DpopAlg::Rs256);
        // RFC 9864's name when the provider lists only that one.
        let ed = allowed_algs(&list(&["Ed25519"]), None, None);
        assert_eq!(choose_alg(&ed, None), DpopAlg::Ed25519);
        // The API's algs hint and the browser's probe narrow the list.
        let hint = list(&["PS256", "EdDSA"]);
        assert_eq!(
            allowed_algs(
                &bundled,
                Some(&hint),
                Some(&[DpopAlg::Es256, DpopAlg::Ps256])
            ),
            vec![DpopAlg::Ps256]
        );
        // Nothing in common (or no metadata): the pick, else ES256; the server's answer then
        // says what it wants.
        assert_eq!(
            choose_alg(&allowed_algs(&list(&["ES384"]), None, None), None),
            DpopAlg::Es256
        );
        assert_eq!(choose_alg(&[], Some(DpopAlg::Rs256)), DpopAlg::Rs256);
        assert_eq!(DpopAlg::parse("EdDSA"), Some(DpopAlg::EdDsa));
        assert_eq!(DpopAlg::parse("es256"), None);
        assert!(DpopAlg::EdDsa.same_key(DpopAlg::Ed25519));
        assert!(!DpopAlg::Rs256.same_key(DpopAlg::Ps256));
        assert!(DpopAlg::Ps256
            .sign_params_json()
            .contains(r#""saltLength":32"#));
    }

    #[test]
    fn r7638_3_2_ec_thumbprint_uses_only_required_members_in_order() {
        let key = ec_key();
        assert_eq!(
            key.canonical_json(),
            r#"{"crv":"P-256","kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#
        );
        // The same key with other optional members has the same thumbprint.
        let decorated = EC_JWK.replace("\"ext\":true", "\"kid\":\"k1\",\"use\":\"sig\"");
        assert_eq!(
            PublicJwk::from_json(&decorated).unwrap().thumbprint(),
            key.thumbprint()
        );
        assert_eq!(key.thumbprint().len(), 43);
    }

    #[test]
    fn r9449_4_2_header_has_typ_alg_and_public_jwk_only() {
        let proof = proof_for(ProofRequest {
            method: "POST",
            url: "https://as.example/token",
            access_token: None,
            nonce: None,
        });
        let (header, _) = proof.signing_input().split_once('.').unwrap();
        let header = decode_part(header);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(
            header["jwk"],
            serde_json::json!({"crv":"P-256","kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})
        );
        assert_eq!(header.as_object().unwrap().len(), 3);
    }

    #[test]
    fn r9449_4_2_private_keys_never_go_into_a_header() {
        for private in ["d", "k", "p"] {
            let json = EC_JWK.replace("\"ext\":true", &format!("\"{private}\":\"AAAA\""));
            assert_eq!(
                PublicJwk::from_json(&json).unwrap_err(),
                DpopError::KeyHasPrivateMember(match private {
                    "d" => "d",
                    "k" => "k",
                    _ => "p",
                })
            );
        }
        assert_eq!(
            PublicJwk::from_json(r#"{"kty":"oct"}"#).unwrap_err(),
            DpopError::UnsupportedKeyType("oct".into())
        );
        assert_eq!(
            PublicJwk::from_json(r#"{"kty":"EC","crv":"P-256","x":"a+b","y":"AA"}"#).unwrap_err(),
            DpopError::KeyMemberMissing("x")
        );
        assert_eq!(
            PublicJwk::from_json("[1]").unwrap_err(),
            DpopError::KeyNotJson
        );
    }

    #[test]
    fn r9449_4_2_token_request_claims() {
        let proof = proof_for(ProofRequest {
            method: "POST",
            url: "https://as.example/token",
            access_token: None,
            nonce: None,
        });
        let (_, claims) = proof.signing_input().split_once('.').unwrap();
        let claims = decode_part(claims);
        assert_eq!(
            claims,
            serde_json::json!({
                "jti": URL_SAFE_NO_PAD.encode([7u8; 16]),
                "htm": "POST",
                "htu": "https://as.example/token",
                "iat": 1_700_000_000u64,
            })
        );
        assert_eq!(proof.claims().htm, "POST");
    }

    #[test]
    fn r9449_4_2_jti_is_fresh_entropy_of_at_least_128_bits() {
        let request = ProofRequest {
            method: "GET",
            url: "https://rs.example/api",
            access_token: None,
            nonce: None,
        };
        let a = unsigned_proof(&ec_key(), DpopAlg::Es256, &request, 1, &[1u8; 16]).unwrap();
        let b = unsigned_proof(&ec_key(), DpopAlg::Es256, &request, 1, &[2u8; 16]).unwrap();
        assert_ne!(a.claims().jti, b.claims().jti);
        assert_eq!(
            unsigned_proof(&ec_key(), DpopAlg::Es256, &request, 1, &[1u8; 15]).unwrap_err(),
            DpopError::TooLittleEntropy { got: 15 }
        );
    }

    #[test]
    fn r9449_4_2_ath_is_base64url_sha256_of_the_access_token() {
        // SHA-256("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU") from RFC 9449 §7.1's example.
        let token = AccessToken::new("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU".into());
        assert_eq!(ath(&token), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
        let proof = proof_for(ProofRequest {
            method: "GET",
            url: "https://resource.example.org/protectedresource",
            access_token: Some(&token),
            nonce: None,
        });
        assert_eq!(
            proof.claims().ath.as_deref(),
            Some("fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo")
        );
        assert_eq!(
            dpop_authorization(&token),
            format!("DPoP {}", token.secret())
        );
    }

    #[test]
    fn r9449_4_2_htu_has_no_query_and_no_fragment() {
        assert_eq!(
            normalize_htu("https://rs.example/api/profile?x=1&access_token=no#frag").unwrap(),
            "https://rs.example/api/profile"
        );
        assert_eq!(
            normalize_htu("https://rs.example/api#only-fragment").unwrap(),
            "https://rs.example/api"
        );
    }

    #[test]
    fn r9449_4_3_htu_scheme_host_case_and_default_port_are_normalised() {
        assert_eq!(
            normalize_htu("HTTPS://AS.Example:443/Token").unwrap(),
            "https://as.example/Token"
        );
        assert_eq!(
            normalize_htu("http://127.0.0.1:80").unwrap(),
            "http://127.0.0.1/"
        );
        assert_eq!(
            normalize_htu("http://127.0.0.1:9000/token").unwrap(),
            "http://127.0.0.1:9000/token"
        );
        assert_eq!(
            normalize_htu("https://[::1]:8443/a/%7e").unwrap(),
            "https://[::1]:8443/a/%7e"
        );
        assert!(matches!(
            normalize_htu("ftp://as.example/token"),
            Err(DpopError::InvalidHtu(UriError::ForbiddenScheme(_)))
        ));
        assert!(normalize_htu("https://user@as.example/").is_err());
    }

    #[test]
    fn r9449_8_nonce_goes_into_the_claims() {
        let nonce = DpopNonce::parse("eyJ7S_zG.eyJH0-Z.HX4w-7v").unwrap();
        let proof = proof_for(ProofRequest {
            method: "POST",
            url: "https://as.example/token",
            access_token: None,
            nonce: Some(&nonce),
        });
        assert_eq!(
            proof.claims().nonce.as_deref(),
            Some("eyJ7S_zG.eyJH0-Z.HX4w-7v")
        );
        for bad in ["", "a b", "a\"b", "a\\b", "é", "\n"] {
            assert!(DpopNonce::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn r9449_4_2_method_and_key_are_checked() {
        let request = ProofRequest {
            method: "PO ST",
            url: "https://as.example/token",
            access_token: None,
            nonce: None,
        };
        assert!(matches!(
            unsigned_proof(&ec_key(), DpopAlg::Es256, &request, 1, &[0; 16]),
            Err(DpopError::InvalidMethod(_))
        ));
        let request = ProofRequest {
            method: "POST",
            ..request
        };
        assert_eq!(
            unsigned_proof(&ec_key(), DpopAlg::EdDsa, &request, 1, &[0; 16]).unwrap_err(),
            DpopError::KeyDoesNotFitAlg { alg: "EdDSA" }
        );
        assert_eq!(
            unsigned_proof(&ec_key(), DpopAlg::Rs256, &request, 1, &[0; 16]).unwrap_err(),
            DpopError::KeyDoesNotFitAlg { alg: "RS256" }
        );
    }

    #[test]
    fn r7518_3_4_es256_signature_is_64_bytes_raw_and_is_appended() {
        let proof = proof_for(ProofRequest {
            method: "POST",
            url: "https://as.example/token",
            access_token: None,
            nonce: None,
        });
        let input = proof.signing_input().to_owned();
        // A DER-encoded signature (70-72 bytes) is not a JWS signature.
        assert_eq!(
            proof.clone().finish(&[0x30; 71]).unwrap_err(),
            DpopError::SignatureLength {
                expected: 64,
                got: 71
            }
        );
        let signed = proof.finish(&[0xAB; 64]).unwrap();
        assert_eq!(
            signed.header_value(),
            format!("{input}.{}", URL_SAFE_NO_PAD.encode([0xAB; 64]))
        );
        assert_eq!(signed.masked(), format!("{input}.[signature hidden]"));
    }

    #[test]
    fn inspector_decodes_the_masked_proof_header_and_claims_only() {
        let proof = proof_for(ProofRequest {
            method: "POST",
            url: "https://as.example/token?x=1",
            access_token: None,
            nonce: None,
        });
        let masked = proof.finish(&[0xAB; 64]).unwrap().masked();
        let (header, claims) = decode_masked(&masked).unwrap();
        assert!(header.contains("\"typ\": \"dpop+jwt\""), "{header}");
        assert!(
            claims.contains("\"htu\": \"https://as.example/token\""),
            "{claims}"
        );
        assert!(decode_masked("not a proof").is_none());
        let example = PublicJwk::from_json(RFC9449_EXAMPLE_JWK).unwrap();
        assert!(example.fits(DpopAlg::Es256));
    }

    #[test]
    fn x08_proof_signature_is_redacted_in_debug() {
        let signed = proof_for(ProofRequest {
            method: "POST",
            url: "https://as.example/token",
            access_token: None,
            nonce: None,
        })
        .finish(&[0xAB; 64])
        .unwrap();
        let signature = URL_SAFE_NO_PAD.encode([0xAB; 64]);
        let debug = format!("{signed:?}");
        assert!(!debug.contains(&signature), "{debug}");
        assert!(debug.contains("[redacted]"));
        assert!(!signed.masked().contains(&signature));
        // The access token behind `ath` stays redacted too.
        let token = AccessToken::new("SECRET-ACCESS-TOKEN".into());
        let request = ProofRequest {
            method: "GET",
            url: "https://rs.example/",
            access_token: Some(&token),
            nonce: None,
        };
        assert!(!format!("{request:?}").contains("SECRET-ACCESS-TOKEN"));
    }

    fn token_error(body: &str) -> HttpResponse {
        HttpResponse::json(400, body)
    }

    fn api_401(www: &str) -> HttpResponse {
        HttpResponse {
            status: 401,
            www_authenticate: Some(www.into()),
            ..HttpResponse::default()
        }
    }

    #[test]
    fn r9449_8_token_endpoint_use_dpop_nonce_is_a_400_with_the_nonce_header() {
        let response = token_error(
            r#"{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}"#,
        );
        assert_eq!(
            nonce_demand(
                DpopServer::Token,
                &response,
                Some("eyJ7S_zG.eyJH0-Z.HX4w-7v")
            ),
            Ok(NonceDemand::Asked(
                DpopNonce::parse("eyJ7S_zG.eyJH0-Z.HX4w-7v").unwrap()
            ))
        );
        assert_eq!(
            nonce_demand(DpopServer::Token, &response, None),
            Err(DpopError::NonceMissing)
        );
        // Other errors, and a nonce header on a success, are not a demand.
        assert_eq!(
            nonce_demand(
                DpopServer::Token,
                &token_error(r#"{"error":"invalid_grant"}"#),
                Some("n")
            ),
            Ok(NonceDemand::NotAsked)
        );
        assert_eq!(
            nonce_demand(
                DpopServer::Token,
                &HttpResponse::json(200, r#"{"error":"use_dpop_nonce"}"#),
                Some("n")
            ),
            Ok(NonceDemand::NotAsked)
        );
    }

    #[test]
    fn r9449_9_resource_use_dpop_nonce_is_a_401_dpop_challenge() {
        let response = api_401(
            r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#,
        );
        assert_eq!(
            nonce_demand(DpopServer::Resource, &response, Some("abc")),
            Ok(NonceDemand::Asked(DpopNonce::parse("abc").unwrap()))
        );
        // The same error code in a Bearer challenge is not DPoP's.
        let bearer = api_401(r#"Bearer error="use_dpop_nonce""#);
        assert_eq!(
            nonce_demand(DpopServer::Resource, &bearer, Some("abc")),
            Ok(NonceDemand::NotAsked)
        );
        assert!(matches!(
            nonce_demand(DpopServer::Resource, &response, Some("bad nonce")),
            Err(DpopError::NonceMalformed(_))
        ));
    }

    #[test]
    fn r9449_8_nonce_retry_happens_exactly_once() {
        let nonce = DpopNonce::parse("n1").unwrap();
        let step = NonceRetry::FirstTry.on_answer(Ok(NonceDemand::Asked(nonce.clone())));
        assert_eq!(
            step,
            NonceStep::Retry {
                nonce,
                next: NonceRetry::Retried
            }
        );
        // The retry's answer asks again: failure with a clear message, no third request.
        let again =
            NonceRetry::Retried.on_answer(Ok(NonceDemand::Asked(DpopNonce::parse("n2").unwrap())));
        assert_eq!(again, NonceStep::Fail(DpopError::NonceRefusedTwice));
        assert!(DpopError::NonceRefusedTwice
            .what_happened()
            .contains("asked for a DPoP nonce again"));
        // Any other answer is final, on the first try and on the retry.
        assert_eq!(
            NonceRetry::FirstTry.on_answer(Ok(NonceDemand::NotAsked)),
            NonceStep::Final
        );
        assert_eq!(
            NonceRetry::Retried.on_answer(Ok(NonceDemand::NotAsked)),
            NonceStep::Final
        );
        // A demand without a nonce cannot be retried.
        assert_eq!(
            NonceRetry::FirstTry.on_answer(Err(DpopError::NonceMissing)),
            NonceStep::Fail(DpopError::NonceMissing)
        );
    }

    #[test]
    fn r9449_8_2_a_fresh_nonce_on_success_is_kept_for_the_next_proof() {
        assert_eq!(next_nonce(Some(" n-2 ")), DpopNonce::parse("n-2").ok());
        assert_eq!(next_nonce(Some("a b")), None);
        assert_eq!(next_nonce(None), None);
    }

    #[test]
    fn r9449_7_1_dpop_challenge_algs_and_error() {
        let challenge = parse_dpop_challenge(
            r#"Bearer realm="flow-lab-api", DPoP realm="flow-lab-api", error="invalid_dpop_proof", error_description="DPoP proof htu mismatch", algs="ES256 PS256""#,
        )
        .unwrap();
        assert_eq!(
            challenge,
            DpopChallenge {
                error: Some("invalid_dpop_proof".into()),
                error_description: Some("DPoP proof htu mismatch".into()),
                algs: vec!["ES256".into(), "PS256".into()],
            }
        );
        assert_eq!(
            parse_dpop_challenge(r#"dpop algs="ES256""#).unwrap().algs,
            vec!["ES256".to_owned()]
        );
        assert_eq!(
            parse_dpop_challenge("DPoP").unwrap(),
            DpopChallenge::default()
        );
        assert_eq!(
            parse_dpop_challenge(r#"Bearer error="invalid_token""#),
            None
        );
        assert_eq!(parse_dpop_challenge(""), None);
        // The Bearer reading of the same header is unchanged.
        assert_eq!(
            crate::protocol::resource::parse_www_authenticate(
                r#"Bearer realm="r", DPoP error="invalid_token""#
            ),
            vec![("realm".to_owned(), "r".to_owned())]
        );
    }

    #[test]
    fn r9449_5_token_type_dpop_only_when_a_proof_was_sent() {
        assert_eq!(accept_token_type("DPoP", true), Ok(TokenBinding::Dpop));
        assert_eq!(accept_token_type("dpop", true), Ok(TokenBinding::Dpop));
        assert_eq!(
            accept_token_type("DPoP", false),
            Err(DpopError::DpopTokenWithoutProof)
        );
        assert_eq!(
            accept_token_type("Bearer", false),
            Ok(TokenBinding::Bearer {
                proof_ignored: false
            })
        );
        let ignored = accept_token_type("bearer", true).unwrap();
        assert_eq!(
            ignored,
            TokenBinding::Bearer {
                proof_ignored: true
            }
        );
        assert!(ignored.note().unwrap().contains("Bearer token"));
        assert_eq!(
            accept_token_type("mac", true),
            Err(DpopError::UnsupportedTokenType("mac".into()))
        );
        let token = AccessToken::new("t".into());
        assert_eq!(TokenBinding::Dpop.authorization(&token), "DPoP t");
        assert_eq!(ignored.authorization(&token), "Bearer t");
    }

    #[test]
    fn r9449_6_cnf_jkt_is_read_from_claims() {
        let claims: Map<String, Value> = serde_json::from_str(
            r#"{"active":true,"cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}"#,
        )
        .unwrap();
        assert_eq!(
            cnf_jkt(&claims),
            Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I")
        );
        let unbound: Map<String, Value> = serde_json::from_str(r#"{"active":true}"#).unwrap();
        assert_eq!(cnf_jkt(&unbound), None);
    }

    // proptest is a host-only dev-dependency (Cargo.toml).
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        /// No panic on any input, and the rules hold for whatever a server sends: a nonce that
        /// parses is printable ASCII without `"` and `\\`; an `htu` that builds has no query
        /// or fragment.
        #[test]
        fn r9449_parsers_take_any_input(
            input in "[ -~\\t\\né\\u{202E}]{0,80}",
            status in proptest::sample::select(vec![200u16, 400, 401, 403]),
        ) {
            if let Ok(nonce) = DpopNonce::parse(&input) {
                proptest::prop_assert!(nonce
                    .as_str()
                    .bytes()
                    .all(|b| (0x21..=0x7E).contains(&b) && b != b'"' && b != b'\\'));
            }
            if let Ok(htu) = normalize_htu(&input) {
                proptest::prop_assert!(!htu.contains('?') && !htu.contains('#'));
            }
            let _ = parse_dpop_challenge(&input);
            let _ = PublicJwk::from_json(&input);
            let response = HttpResponse {
                status,
                body: input.clone(),
                www_authenticate: Some(input.clone()),
                ..HttpResponse::default()
            };
            for server in [DpopServer::Token, DpopServer::Resource] {
                let _ = nonce_demand(server, &response, Some(&input));
            }
        }
    }

    #[test]
    fn dpop_errors_say_what_to_do() {
        for error in [
            DpopError::KeyNotJson,
            DpopError::NonceMissing,
            DpopError::NonceRefusedTwice,
            DpopError::DpopTokenWithoutProof,
            DpopError::InvalidHtu(UriError::FragmentNotAllowed),
        ] {
            assert!(!error.what_happened().is_empty());
            assert!(!error.what_to_do().is_empty());
        }
    }
}
