//! The app's pure protocol core, compiled straight from `../src/protocol` (it imports nothing but
//! serde, serde_json, sha2, base64 and form_urlencoded), plus the invariants every fuzz target
//! checks. "No panics in the pure core: malformed input is an `Err`, never a panic."
#![allow(dead_code)]

#[path = "../../src/protocol/mod.rs"]
pub mod protocol;

/// The X-6 oracle, generated independently of the app's table (tools/invisible-reference.py).
pub mod reference_invisible;

use protocol::error::Explain;

/// Text the UI shows must carry no raw control, format, default-ignorable or separator
/// character: untrusted parts are escaped before they reach a message. Checked against the
/// independent reference table, not the predicate the app escapes with.
pub fn assert_displayable(what: &str, text: &str) {
    if let Some(c) = text
        .chars()
        .find(|&c| reference_invisible::is_reference_invisible(c))
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
