//! PKCE (RFC 7636): the verifier stays in this tab; only its S256 hash travels on the front
//! channel. The verifier is not `Clone` and is moved into the token request, so it is used once.

use crate::protocol::error::{Explain, Side};
use crate::protocol::secret::mask;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The only challenge method this client ever sends (never `plain`, RFC 7636 §7.2).
pub const S256: &str = "S256";

/// Shortest verifier allowed by RFC 7636 §4.1.
pub const MIN_VERIFIER_LEN: usize = 43;
/// Longest verifier allowed by RFC 7636 §4.1.
pub const MAX_VERIFIER_LEN: usize = 128;

/// The PKCE `code_verifier`: secret, single use, not `Clone`.
pub struct CodeVerifier(String);

impl CodeVerifier {
    /// Encodes 32 random bytes (from a CSPRNG) as base64url without padding: 43 characters.
    pub fn from_random(bytes: [u8; 32]) -> Self {
        CodeVerifier(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Accepts a stored verifier only if it is 43..=128 characters of `[A-Za-z0-9-._~]`.
    pub fn parse(s: &str) -> Result<Self, PkceError> {
        let len = s.chars().count();
        if len < MIN_VERIFIER_LEN {
            return Err(PkceError::TooShort { len });
        }
        if len > MAX_VERIFIER_LEN {
            return Err(PkceError::TooLong { len });
        }
        if let Some((position, ch)) = s.chars().enumerate().find(|(_, c)| !is_unreserved(*c)) {
            return Err(PkceError::InvalidCharacter { ch, position });
        }
        Ok(CodeVerifier(s.to_owned()))
    }

    /// The real value: only for the token request or an explicit reveal.
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// The value masked for display.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }

    /// `BASE64URL(SHA-256(ASCII(code_verifier)))`, RFC 7636 §4.2.
    pub fn challenge(&self) -> CodeChallenge {
        let digest = Sha256::digest(self.0.as_bytes());
        CodeChallenge(URL_SAFE_NO_PAD.encode(digest))
    }

    /// Gives up the verifier, consuming it (it goes into the token request body).
    pub fn into_secret(self) -> String {
        self.0
    }
}

impl std::fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeVerifier([redacted])")
    }
}

/// RFC 3986 `unreserved`, the verifier alphabet.
fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

/// The S256 `code_challenge`: public by design (it travels in the authorization URL).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// The challenge text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The method that produced it: always [`S256`].
    pub fn method(&self) -> &'static str {
        S256
    }
}

/// Why a string is not a valid `code_verifier`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PkceError {
    /// Fewer than 43 characters.
    TooShort {
        /// Length in characters.
        len: usize,
    },
    /// More than 128 characters.
    TooLong {
        /// Length in characters.
        len: usize,
    },
    /// A character outside `[A-Za-z0-9-._~]`.
    InvalidCharacter {
        /// The offending character.
        ch: char,
        /// Its index in characters.
        position: usize,
    },
}

impl std::fmt::Display for PkceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PkceError::TooShort { len } => {
                write!(f, "code_verifier too short ({len} < {MIN_VERIFIER_LEN})")
            }
            PkceError::TooLong { len } => {
                write!(f, "code_verifier too long ({len} > {MAX_VERIFIER_LEN})")
            }
            PkceError::InvalidCharacter { ch, position } => write!(
                f,
                "code_verifier has an invalid character {} at {position}",
                ch.escape_debug()
            ),
        }
    }
}

impl std::error::Error for PkceError {}

impl Explain for PkceError {
    fn what_happened(&self) -> String {
        format!(
            "The stored PKCE code_verifier is not valid ({self}). A verifier must be 43 to 128 \
             characters of letters, digits and - . _ ~ (RFC 7636 §4.1)."
        )
    }

    fn whose_side(&self) -> Side {
        // This app generates verifiers itself; a bad one means storage was altered.
        Side::Attacker
    }

    fn what_to_do(&self) -> String {
        "The stored login was discarded. Start a new login from this tab.".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const APPENDIX_B_OCTETS: [u8; 32] = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37,
        77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];

    #[test]
    fn p09_appendix_b_vector() {
        let verifier = CodeVerifier::from_random(APPENDIX_B_OCTETS);
        assert_eq!(
            verifier.secret(),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
        let challenge = verifier.challenge();
        assert_eq!(
            challenge.as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(challenge.method(), "S256");
    }

    #[test]
    fn a02_appendix_b_sha256_octets() {
        let digest = Sha256::digest(b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            digest.as_slice(),
            &[
                19, 211, 30, 150, 26, 26, 216, 236, 47, 22, 177, 12, 76, 152, 46, 8, 118, 168, 120,
                173, 109, 241, 68, 86, 110, 225, 137, 74, 203, 112, 249, 195
            ]
        );
        let parsed = CodeVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert_eq!(
            parsed.challenge().as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    /// Compiles only while `CodeVerifier` is not `Clone` (the `static_assertions` trick): with
    /// `Clone`, both impls below apply and the type of `_` becomes ambiguous.
    trait AmbiguousIfClone<A> {
        fn check() {}
    }
    impl<T> AmbiguousIfClone<()> for T {}
    struct IsClone;
    impl<T: Clone> AmbiguousIfClone<IsClone> for T {}

    #[test]
    fn t02_verifier_is_not_clone() {
        <CodeVerifier as AmbiguousIfClone<_>>::check();
    }

    #[test]
    fn p10_verifier_length_boundaries() {
        assert_eq!(
            CodeVerifier::parse(&"a".repeat(42)).unwrap_err(),
            PkceError::TooShort { len: 42 }
        );
        assert!(CodeVerifier::parse(&"a".repeat(43)).is_ok());
        assert!(CodeVerifier::parse(&"a".repeat(128)).is_ok());
        assert_eq!(
            CodeVerifier::parse(&"a".repeat(129)).unwrap_err(),
            PkceError::TooLong { len: 129 }
        );
        assert_eq!(
            CodeVerifier::parse("").unwrap_err(),
            PkceError::TooShort { len: 0 }
        );
    }

    #[test]
    fn a03_verifier_illegal_characters() {
        for bad in ['+', '/', '=', ' ', '%', 'é', '\0'] {
            let mut s = "a".repeat(42);
            s.push(bad);
            assert_eq!(
                CodeVerifier::parse(&s).unwrap_err(),
                PkceError::InvalidCharacter {
                    ch: bad,
                    position: 42
                },
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a03_verifier_full_alphabet_is_accepted() {
        let s = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
        assert_eq!(CodeVerifier::parse(s).unwrap().secret(), s);
    }

    #[test]
    fn a04_distinct_randomness_gives_distinct_verifiers() {
        let a = CodeVerifier::from_random([1; 32]);
        let b = CodeVerifier::from_random([2; 32]);
        assert_ne!(a.secret(), b.secret());
        assert_ne!(a.challenge(), b.challenge());
        assert_eq!(a.secret().len(), 43);
        assert!(CodeVerifier::parse(a.secret()).is_ok());
    }

    #[test]
    fn x08_verifier_debug_is_redacted() {
        let v = CodeVerifier::from_random(APPENDIX_B_OCTETS);
        let shown = format!("{v:?}");
        assert!(!shown.contains("dBjf"));
        assert_eq!(v.masked(), "dBjf…jXk (43)");
        assert_eq!(
            v.into_secret(),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
    }

    #[test]
    fn p10_error_display_escapes_nul() {
        let err = PkceError::InvalidCharacter {
            ch: '\0',
            position: 3,
        };
        assert!(err.to_string().contains("\\0"));
        assert!(!err.to_string().contains('\0'));
    }

    // proptest is a host-only dev-dependency (Cargo.toml).
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        /// P-1, P-2, P-3: whatever 32 random bytes the CSPRNG gives, the verifier is 43
        /// unreserved characters that parse back, and its S256 challenge is 43 base64url
        /// characters (no padding) that depend only on the verifier.
        #[test]
        fn p01_p03_every_generated_verifier_parses_and_its_challenge_is_43_base64url_chars(
            bytes in proptest::array::uniform32(proptest::num::u8::ANY)
        ) {
            let verifier = CodeVerifier::from_random(bytes);
            proptest::prop_assert_eq!(verifier.secret().len(), 43);
            let parsed = CodeVerifier::parse(verifier.secret()).expect("a generated verifier parses");
            let challenge = verifier.challenge();
            proptest::prop_assert_eq!(challenge.as_str().len(), 43);
            proptest::prop_assert!(challenge
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            proptest::prop_assert_eq!(challenge.method(), "S256");
            proptest::prop_assert_eq!(parsed.challenge(), challenge);
        }

        /// P-1, P-10: every verifier a provider could accept (43..=128 characters of
        /// `[A-Za-z0-9-._~]`) parses, and its challenge is 43 base64url characters too.
        #[test]
        fn p10_every_rfc7636_verifier_parses_and_hashes_to_43_chars(
            s in "[A-Za-z0-9._~-]{43,128}"
        ) {
            let verifier = CodeVerifier::parse(&s).expect("an RFC 7636 verifier parses");
            proptest::prop_assert_eq!(verifier.challenge().as_str().len(), 43);
        }

        /// P-10: anything with a character outside the unreserved set is refused.
        #[test]
        fn p10_any_other_character_is_refused(
            head in "[A-Za-z0-9]{43}",
            bad in "[^A-Za-z0-9._~-]",
        ) {
            let candidate = format!("{head}{bad}");
            proptest::prop_assert!(CodeVerifier::parse(&candidate).is_err());
        }
    }
}
