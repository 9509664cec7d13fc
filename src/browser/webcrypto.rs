//! Signature verification with the browser's WebCrypto (`SubtleCrypto.importKey('jwk', …)` and
//! `verify`): no RSA or ECDSA code in the wasm. `flow::oidc` decides which key and which
//! parameters; this only runs them.

use crate::flow::oidc::SignatureCheck;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// `Ok(true)`: the signature is valid; `Ok(false)`: it is not; `Err`: WebCrypto refused the key
/// or the parameters (its message).
pub async fn verify(check: &SignatureCheck) -> Result<bool, String> {
    let subtle = web_sys::window()
        .ok_or("no window")?
        .crypto()
        .map_err(describe)?
        .subtle();
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
    let subtle = web_sys::window()
        .ok_or("no window")?
        .crypto()
        .map_err(describe)?
        .subtle();
    let buffer = JsFuture::from(
        subtle
            .digest_with_str_and_u8_array(hash, data)
            .map_err(describe)?,
    )
    .await
    .map_err(describe)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
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
