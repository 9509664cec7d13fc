//! Signature verification with the browser's WebCrypto (`SubtleCrypto.importKey('jwk', …)` and
//! `verify`): no RSA or ECDSA code in the wasm. `flow::oidc` decides which key and which
//! parameters; this only runs them.

use crate::flow::oidc::SignatureCheck;
use crate::protocol::dpop::DpopAlg;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// `Ok(true)`: the signature is valid; `Ok(false)`: it is not; `Err`: WebCrypto refused the key
/// or the parameters (its message).
pub async fn verify(check: &SignatureCheck) -> Result<bool, String> {
    let subtle = subtle()?;
    let jwk = json_object(&check.jwk_json)?;
    let import = json_object(&check.import_params_json)?;
    let usages = js_sys::Array::of1(&JsValue::from_str("verify"));
    let key: web_sys::CryptoKey = JsFuture::from(
        subtle
            .import_key_with_object("jwk", &jwk, &import, false, &usages)
            .map_err(describe)?,
    )
    .await
    .map_err(describe)?
    .dyn_into()
    .map_err(describe)?;
    let algorithm = json_object(&check.verify_params_json)?;
    let verdict = JsFuture::from(
        subtle
            .verify_with_object_and_u8_array_and_u8_array(
                &algorithm,
                &key,
                &check.signature,
                check.signing_input.as_bytes(),
            )
            .map_err(describe)?,
    )
    .await
    .map_err(describe)?;
    Ok(verdict.as_bool() == Some(true))
}

/// `crypto.subtle.digest(hash, data)`: the access token's hash for the ID token's `at_hash`
/// (`hash` is `SHA-256`, `SHA-384` or `SHA-512`), so no SHA-512 code ships in the wasm. Asked
/// for when called, not when first polled, so it runs beside the signature check.
pub fn digest(
    hash: &str,
    data: &[u8],
) -> impl std::future::Future<Output = Result<Vec<u8>, String>> + 'static {
    let asked = subtle().and_then(|subtle| {
        subtle
            .digest_with_str_and_u8_array(hash, data)
            .map_err(describe)
    });
    async move {
        let buffer = JsFuture::from(asked?).await.map_err(describe)?;
        Ok(js_sys::Uint8Array::new(&buffer).to_vec())
    }
}

/// `crypto.subtle` of the page or of the worker it runs in (the HAR import verifies the ID
/// token's signature in its worker, src/browser/har_worker.rs).
fn subtle() -> Result<web_sys::SubtleCrypto, String> {
    let crypto =
        js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).map_err(describe)?;
    Ok(crypto
        .dyn_into::<web_sys::Crypto>()
        .map_err(describe)?
        .subtle())
}

fn json_object(json: &str) -> Result<js_sys::Object, String> {
    js_sys::JSON::parse(json)
        .map_err(describe)?
        .dyn_into()
        .map_err(describe)
}

/// A DOMException or Error as "Name: message".
fn describe(error: JsValue) -> String {
    let field = |name: &str| {
        js_sys::Reflect::get(&error, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    format!("{}: {}", field("name"), field("message"))
}

/// The tab's DPoP key pair (RFC 9449): a WebCrypto pair (ECDSA P-256, RSA 2048 or Ed25519, per
/// the proof algorithm) whose private key is NON-extractable, so neither this app nor a script
/// injected into the page can read it out; at most it can ask for signatures while the tab is
/// open. Kept in memory only: a reload makes a new key, and tokens bound to the old one stop
/// working (which is the point).
pub struct DpopKeyPair {
    alg: DpopAlg,
    private_key: web_sys::CryptoKey,
    public_jwk_json: String,
}

impl DpopKeyPair {
    /// The proof algorithm the pair signs with (the proof's `alg`).
    pub fn alg(&self) -> DpopAlg {
        self.alg
    }

    /// The public key as WebCrypto exported it (`exportKey("jwk", publicKey)`), for
    /// `protocol::dpop::PublicJwk::from_json`.
    pub fn public_jwk_json(&self) -> &str {
        &self.public_jwk_json
    }

    /// The private key handle (usable only to sign; `exportKey` refuses it).
    pub fn private_key(&self) -> &web_sys::CryptoKey {
        &self.private_key
    }
}

impl std::fmt::Debug for DpopKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopKeyPair")
            .field("alg", &self.alg)
            .field("public_jwk", &self.public_jwk_json)
            .field("private_key", &"[non-extractable]")
            .finish()
    }
}

/// `alg`'s `generateKey` parameters as a JS object: RSA's `publicExponent` must be a
/// `Uint8Array`, which JSON cannot say.
fn generate_params(alg: DpopAlg) -> Result<js_sys::Object, String> {
    let params = json_object(&alg.generate_params_json())?;
    let exponent = JsValue::from_str("publicExponent");
    if js_sys::Reflect::has(&params, &exponent).unwrap_or(false) {
        let bytes = js_sys::Uint8Array::from(&[1u8, 0, 1][..]);
        js_sys::Reflect::set(&params, &exponent, &bytes).map_err(describe)?;
    }
    Ok(params)
}

/// `crypto.subtle.generateKey(<alg's parameters>, false, ["sign", "verify"])` and the public
/// half exported as a JWK. `extractable = false` applies to the private key; a public key is
/// always exportable. The WebCrypto call starts when this is called, not when the future is
/// first polled: on the callback page the key is made while the page is mounted.
pub fn generate_dpop_key(
    alg: DpopAlg,
) -> impl std::future::Future<Output = Result<DpopKeyPair, String>> {
    let started = start_generate(alg);
    async move {
        let subtle = subtle()?;
        let pair = started?.await.map_err(describe)?;
        // A CryptoKeyPair is a plain dictionary: read its two members.
        let member = |name: &str| -> Result<web_sys::CryptoKey, String> {
            js_sys::Reflect::get(&pair, &JsValue::from_str(name))
                .map_err(describe)?
                .dyn_into()
                .map_err(describe)
        };
        let private_key = member("privateKey")?;
        let public_key = member("publicKey")?;
        let jwk = JsFuture::from(subtle.export_key("jwk", &public_key).map_err(describe)?)
            .await
            .map_err(describe)?;
        let public_jwk_json = js_sys::JSON::stringify(&jwk)
            .map_err(describe)?
            .as_string()
            .ok_or("the exported key is not JSON")?;
        Ok(DpopKeyPair {
            alg,
            private_key,
            public_jwk_json,
        })
    }
}

/// The `generateKey` call of [`generate_dpop_key`], made now.
fn start_generate(alg: DpopAlg) -> Result<JsFuture, String> {
    let params = generate_params(alg)?;
    let usages = js_sys::Array::of2(&JsValue::from_str("sign"), &JsValue::from_str("verify"));
    let promise = subtle()?
        .generate_key_with_object(&params, false, &usages)
        .map_err(describe)?;
    Ok(JsFuture::from(promise))
}

/// Which proof algorithms this browser can make a non-extractable key for: one `generateKey`
/// per kind of key (EdDSA and Ed25519 share one), the keys thrown away. RSA is probed with an
/// `importKey` of a fixed public key instead: a 2048-bit RSA `generateKey` costs 100-800 ms of
/// the WebCrypto thread, which the tab's real key then waits behind (and which takes a core
/// from the page on a small machine); every WebCrypto that imports an RSA key for an algorithm
/// also makes one.
pub async fn probe_dpop_algs() -> Vec<DpopAlg> {
    let mut made: Vec<DpopAlg> = Vec::new();
    for alg in DpopAlg::ALL {
        let works = match made.iter().find(|m| m.same_key(alg)) {
            Some(_) => true,
            None if matches!(alg, DpopAlg::Ps256 | DpopAlg::Rs256) => imports_rsa(alg).await,
            None => generate_dpop_key(alg).await.is_ok(),
        };
        if works {
            made.push(alg);
        }
    }
    made
}

/// A 2048-bit RSA public key (made once with `openssl genrsa`; only its form matters), for
/// [`imports_rsa`].
const RSA_PROBE_JWK: &str = concat!(
    r#"{"kty":"RSA","e":"AQAB","n":""#,
    "1VS3oRXCSVYPC5jWpv4hxPradwln3dJTXNwSKLwjevE45mxCmXo4svw6FeBOl2JfKa4T8F_bWIgF9xDS",
    "pSK5MwRTnK-4RfDTczIWYBr9CE6hkfEcJXbjZRJEfBxcjGG15wL8FezSzBbV9-IM7JZl8SWfLjxAfYAT",
    "Ti0gKS8_uCgg2exVUfVElo1i5nor_UywFSVZMuBbo454Dp7g-_8EoIghwOlXVHjB3VtYu3gLvVbY208v",
    "xiA0ZG20wKVyBd3nl-DB-8HUUNfae3DG8HPQfxlR_RcXZwOmlHjIJbCgysJCGJQoaR-kvOeL6Fz6aed-",
    "DPMwi5Sj1aXlxH2T0K-z-w",
    r#""}"#
);

/// Whether WebCrypto imports an RSA public key for `alg`'s parameters.
async fn imports_rsa(alg: DpopAlg) -> bool {
    let (Ok(subtle), Ok(jwk), Ok(import)) = (
        subtle(),
        json_object(RSA_PROBE_JWK),
        json_object(&alg.generate_params_json()),
    ) else {
        return false;
    };
    let usages = js_sys::Array::of1(&JsValue::from_str("verify"));
    match subtle.import_key_with_object("jwk", &jwk, &import, false, &usages) {
        Ok(promise) => JsFuture::from(promise).await.is_ok(),
        Err(_) => false,
    }
}

/// Signs a proof's signing input (`header.payload`) with the pair's private key, with the
/// parameters of its algorithm. WebCrypto's ECDSA signature is raw `r || s` (64 bytes), already
/// the JWS form (RFC 7518 §3.4); RSA and Ed25519 signatures are used as they are.
pub async fn sign_dpop(key: &DpopKeyPair, signing_input: &str) -> Result<Vec<u8>, String> {
    let subtle = subtle()?;
    let algorithm = json_object(&key.alg.sign_params_json())?;
    let signature = JsFuture::from(
        subtle
            .sign_with_object_and_u8_array(&algorithm, &key.private_key, signing_input.as_bytes())
            .map_err(describe)?,
    )
    .await
    .map_err(describe)?;
    Ok(js_sys::Uint8Array::new(&signature).to_vec())
}
