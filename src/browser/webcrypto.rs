//! Signature verification with the browser's WebCrypto (`SubtleCrypto.importKey('jwk', …)` and
//! `verify`): no RSA or ECDSA code in the wasm. `flow::oidc` decides which key and which
//! parameters; this only runs them.

use crate::flow::oidc::SignatureCheck;
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
/// (`hash` is `SHA-256`, `SHA-384` or `SHA-512`), so no SHA-512 code ships in the wasm.
pub async fn digest(hash: &str, data: &[u8]) -> Result<Vec<u8>, String> {
    let subtle = subtle()?;
    let buffer = JsFuture::from(
        subtle
            .digest_with_str_and_u8_array(hash, data)
            .map_err(describe)?,
    )
    .await
    .map_err(describe)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
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

/// The tab's DPoP key pair (RFC 9449): a WebCrypto ES256 (P-256) pair whose private key is
/// NON-extractable, so neither this app nor a script injected into the page can read it out;
/// at most it can ask for signatures while the tab is open. Kept in memory only: a reload
/// makes a new key, and tokens bound to the old one stop working (which is the point).
pub struct DpopKeyPair {
    private_key: web_sys::CryptoKey,
    public_jwk_json: String,
}

impl DpopKeyPair {
    /// The algorithm of the pair (the proof's `alg`).
    pub const ALG: crate::protocol::jwt::JwsAlg = crate::protocol::jwt::JwsAlg::Es256;

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
            .field("public_jwk", &self.public_jwk_json)
            .field("private_key", &"[non-extractable]")
            .finish()
    }
}

/// `crypto.subtle.generateKey({name: "ECDSA", namedCurve: "P-256"}, false, ["sign", "verify"])`
/// and the public half exported as a JWK. `extractable = false` applies to the private key; a
/// public key is always exportable.
pub async fn generate_dpop_key() -> Result<DpopKeyPair, String> {
    let subtle = subtle()?;
    let params = json_object(&DpopKeyPair::ALG.import_params_json())?;
    let usages = js_sys::Array::of2(&JsValue::from_str("sign"), &JsValue::from_str("verify"));
    let pair = JsFuture::from(
        subtle
            .generate_key_with_object(&params, false, &usages)
            .map_err(describe)?,
    )
    .await
    .map_err(describe)?;
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
        private_key,
        public_jwk_json,
    })
}

/// Signs a proof's signing input (`header.payload`) with the pair's private key: ECDSA P-256
/// with SHA-256, returned as raw `r || s` (64 bytes), which is already the JWS form
/// (RFC 7518 §3.4), so it is appended as it is.
pub async fn sign_dpop(key: &DpopKeyPair, signing_input: &str) -> Result<Vec<u8>, String> {
    let subtle = subtle()?;
    let algorithm = json_object(&DpopKeyPair::ALG.verify_params_json())?;
    let signature = JsFuture::from(
        subtle
            .sign_with_object_and_u8_array(&algorithm, &key.private_key, signing_input.as_bytes())
            .map_err(describe)?,
    )
    .await
    .map_err(describe)?;
    Ok(js_sys::Uint8Array::new(&signature).to_vec())
}
