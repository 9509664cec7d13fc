//! The app's pure protocol core, compiled straight from `../src/protocol` (it imports nothing but
//! serde, serde_json, sha2, base64 and form_urlencoded), plus the invariants every fuzz target
//! checks. "No panics in the pure core: malformed input is an `Err`, never a panic."
#![allow(dead_code)]

#[path = "../../src/protocol/mod.rs"]
pub mod protocol;

use protocol::error::{is_invisible_or_bidi, Explain};


/// Text the UI shows must carry no raw control, bidi or zero-width character: untrusted parts
/// are escaped before they reach a message.
pub fn assert_displayable(what: &str, text: &str) {
    if let Some(c) = text
        .chars()
        .find(|&c| c.is_control() || is_invisible_or_bidi(c))
    {
        panic!("{what} shows a raw {:?}: {text:?}", c);
    }
}

/// Every error explains itself in displayable sentences.
pub fn assert_explained(error: &(impl Explain + std::fmt::Display)) {
    assert_displayable("what_happened", &error.what_happened());
    assert_displayable("what_to_do", &error.what_to_do());
    let _ = error.whose_side().label();
    let _ = error.to_string();
}
