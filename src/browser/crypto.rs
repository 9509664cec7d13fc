//! Randomness from the browser's CSPRNG (`crypto.getRandomValues`).

use crate::flow::engine::Problem;

/// 32 random bytes (256 bits), as RFC 7636 §7.1 and RFC 6749 §10.10 ask for.
pub fn random_32() -> Result<[u8; 32], Problem> {
    let unavailable = || {
        Problem::local(
            "The browser's secure random number generator is not available.",
            "Use a current browser over http://127.0.0.1 or https.",
        )
    };
    let crypto = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .ok_or_else(unavailable)?;
    let mut bytes = [0u8; 32];
    crypto
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(|_| unavailable())?;
    Ok(bytes)
}
