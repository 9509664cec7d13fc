//! Base64url without padding (RFC 4648 §5), the only base64 this app speaks: PKCE verifiers and
//! challenges, `state`, JWT segments, JWK members. A drop-in for the `base64` crate's
//! `URL_SAFE_NO_PAD` engine with its strict decoding (no padding, no other alphabet, no
//! whitespace, zero trailing bits), in a fraction of its wasm size (see README, Performance).

/// The engine: `URL_SAFE_NO_PAD.encode(…)` and `URL_SAFE_NO_PAD.decode(…)`.
pub const URL_SAFE_NO_PAD: UrlSafeNoPad = UrlSafeNoPad;

/// See [`URL_SAFE_NO_PAD`].
#[derive(Clone, Copy, Debug)]
pub struct UrlSafeNoPad;

/// Why a text is not base64url.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// A byte outside the alphabet (including `=` padding), at this offset.
    InvalidByte(usize, u8),
    /// A length that no byte string encodes to (4n + 1).
    InvalidLength,
    /// The last symbol has bits set that encode nothing (a non-canonical encoding).
    InvalidLastSymbol(usize, u8),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::InvalidByte(at, b) => write!(f, "invalid byte {b} at offset {at}"),
            DecodeError::InvalidLength => f.write_str("invalid length"),
            DecodeError::InvalidLastSymbol(at, b) => {
                write!(f, "invalid last symbol {b} at offset {at}")
            }
        }
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn sextet(b: u8) -> Option<u8> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    })
}

fn encode_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn decode_bytes(text: &[u8]) -> Result<Vec<u8>, DecodeError> {
    if text.len() % 4 == 1 {
        return Err(DecodeError::InvalidLength);
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    for (c, chunk) in text.chunks(4).enumerate() {
        let mut n = 0u32;
        for (i, &b) in chunk.iter().enumerate() {
            let s = sextet(b).ok_or(DecodeError::InvalidByte(c * 4 + i, b))?;
            n |= u32::from(s) << (18 - 6 * i);
        }
        let len = chunk.len() - 1;
        // Bits below the last whole byte must be zero.
        if n & (0x00ff_ffff >> (8 * len)) != 0 {
            let at = c * 4 + len;
            return Err(DecodeError::InvalidLastSymbol(at, text[at]));
        }
        for i in 0..len {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Ok(out)
}

impl UrlSafeNoPad {
    /// Base64url of `bytes`, unpadded.
    pub fn encode(&self, bytes: impl AsRef<[u8]>) -> String {
        encode_bytes(bytes.as_ref())
    }

    /// The bytes of unpadded base64url `text`; anything else is an error.
    pub fn decode(&self, text: impl AsRef<[u8]>) -> Result<Vec<u8>, DecodeError> {
        decode_bytes(text.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    const THEIRS: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[test]
    fn rfc4648_vectors_and_the_rfc7636_verifier() {
        for (bytes, text) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(URL_SAFE_NO_PAD.encode(bytes), text);
            assert_eq!(URL_SAFE_NO_PAD.decode(text).unwrap(), bytes.as_bytes());
        }
        assert_eq!(URL_SAFE_NO_PAD.encode([0xfb, 0xff]), "-_8");
    }

    #[test]
    fn decoding_is_as_strict_as_the_base64_crate() {
        for text in [
            "Zg==", "Zg=", "Zm9v=", "Z", "Zm9vY", "Zh", "Zm9", "Zm-", "Zm9vYmF", "ab+/", "a b",
            "Zg\n", "Zm9vYmFy", "____", "-_8", "-_9", "AAAA", "AAA", "AA", "",
        ] {
            assert_eq!(
                URL_SAFE_NO_PAD.decode(text).ok(),
                THEIRS.decode(text).ok(),
                "{text:?}"
            );
        }
    }

    // proptest is a host-only dev-dependency (Cargo.toml).
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn agrees_with_the_base64_crate(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
            text in "[A-Za-z0-9_=+/ -]{0,12}",
        ) {
            proptest::prop_assert_eq!(URL_SAFE_NO_PAD.encode(&bytes), THEIRS.encode(&bytes));
            proptest::prop_assert_eq!(URL_SAFE_NO_PAD.decode(&text).ok(), THEIRS.decode(&text).ok());
        }
    }
}
