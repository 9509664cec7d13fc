//! The `state` parameter: 256 random bits per login, the CSRF defence that ties a callback to
//! the request this tab started (RFC 6749 §10.12). Secret until used, so `Debug` is redacted.

use crate::protocol::error::{Explain, Side};
use crate::protocol::secret::mask;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// Longest `state` accepted back from a callback (C-24).
pub const MAX_STATE_LEN: usize = 512;

/// An opaque `state` value (RFC 6749 Appendix A.5: `1*VSCHAR`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct State(String);

impl State {
    /// Encodes 32 random bytes (from a CSPRNG) as base64url without padding: 43 characters.
    pub fn from_random(bytes: [u8; 32]) -> Self {
        State(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Accepts a non-empty value of at most 512 bytes of visible ASCII (`%x20-7E`).
    pub fn parse(s: &str) -> Result<State, StateError> {
        if s.is_empty() {
            return Err(StateError::Empty);
        }
        if s.len() > MAX_STATE_LEN {
            return Err(StateError::TooLong { len: s.len() });
        }
        if let Some(position) = s.bytes().position(|b| !(0x20..=0x7E).contains(&b)) {
            return Err(StateError::InvalidCharacter { position });
        }
        Ok(State(s.to_owned()))
    }

    /// The real value: for the authorization URL, storage keys, or an explicit reveal.
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// The value masked for display.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("State([redacted])")
    }
}

/// Why a string is not a valid `state`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateError {
    /// Empty (RFC 6749 §3.1: a parameter without a value counts as omitted).
    Empty,
    /// Longer than [`MAX_STATE_LEN`] bytes.
    TooLong {
        /// Length in bytes.
        len: usize,
    },
    /// A byte outside `%x20-7E`.
    InvalidCharacter {
        /// Its byte index.
        position: usize,
    },
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateError::Empty => f.write_str("state is empty"),
            StateError::TooLong { len } => {
                write!(f, "state too long ({len} > {MAX_STATE_LEN} bytes)")
            }
            StateError::InvalidCharacter { position } => {
                write!(
                    f,
                    "state has a character outside %x20-7E at byte {position}"
                )
            }
        }
    }
}

impl std::error::Error for StateError {}

impl Explain for StateError {
    fn what_happened(&self) -> String {
        format!(
            "A state value is not well-formed ({self}). This app only ever creates 43-character \
             random values, so this one was not made by this app."
        )
    }

    fn whose_side(&self) -> Side {
        Side::Attacker
    }

    fn what_to_do(&self) -> String {
        "Nothing was trusted from it. Start a new login from this tab.".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a04_random_state_is_43_chars_and_distinct() {
        let a = State::from_random([7; 32]);
        let b = State::from_random([8; 32]);
        assert_eq!(a.secret().len(), 43);
        assert_ne!(a, b);
        assert_eq!(State::parse(a.secret()).unwrap(), a);
    }

    #[test]
    fn c04_empty_state_is_rejected() {
        assert_eq!(State::parse("").unwrap_err(), StateError::Empty);
    }

    #[test]
    fn c24_state_over_512_bytes_is_rejected() {
        assert!(State::parse(&"s".repeat(512)).is_ok());
        assert_eq!(
            State::parse(&"s".repeat(513)).unwrap_err(),
            StateError::TooLong { len: 513 }
        );
    }

    #[test]
    fn c03_state_outside_vschar_is_rejected() {
        assert_eq!(
            State::parse("ab\ncd").unwrap_err(),
            StateError::InvalidCharacter { position: 2 }
        );
        assert_eq!(
            State::parse("é").unwrap_err(),
            StateError::InvalidCharacter { position: 0 }
        );
    }

    #[test]
    fn pg_state_with_dash_underscore_and_space_is_kept_byte_identical() {
        let s = State::parse("a-b_c d~e.f").unwrap();
        assert_eq!(s.secret(), "a-b_c d~e.f");
    }

    #[test]
    fn x08_state_debug_is_redacted() {
        let s = State::parse("topsecretstatevalue").unwrap();
        assert!(!format!("{s:?}").contains("topsecret"));
        assert_eq!(s.masked(), "tops…lue (19)");
    }
}
