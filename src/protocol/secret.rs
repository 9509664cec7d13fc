//! Secret values: newtypes whose `Debug` never prints the value, and a masking helper for the
//! UI, so a stray `{:?}` or log line cannot leak a credential.

use crate::protocol::error::push_visible;

/// Values up to this many characters are fully hidden: a prefix and suffix would reveal most of
/// them.
const FULLY_HIDDEN_MAX: usize = 8;

/// Masks a secret for display: `dBjf…jXk (43)`, or `•••• (n)` for values of 8 characters or
/// fewer. Counts characters, not bytes, so multibyte input cannot cause a panic.
pub fn mask(value: &str) -> String {
    let len = value.chars().count();
    if len <= FULLY_HIDDEN_MAX {
        return format!("•••• ({len})");
    }
    let mut out = String::new();
    // The shown characters may come from an untrusted source: escape invisible ones.
    value
        .chars()
        .take(4)
        .for_each(|c| push_visible(&mut out, c));
    out.push('…');
    value
        .chars()
        .skip(len - 3)
        .for_each(|c| push_visible(&mut out, c));
    out.push_str(&format!(" ({len})"));
    out
}

/// Declares a secret newtype: `Clone`, `PartialEq`, `Debug` redacted, value reachable only
/// through an explicit `secret()`.
macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: String) -> Self {
                $name(value)
            }

            /// The real value: only for sending it where it belongs, or an explicit reveal.
            pub fn secret(&self) -> &str {
                &self.0
            }

            /// The value masked for display (see [`mask`]).
            pub fn masked(&self) -> String {
                mask(&self.0)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_type!(
    /// The single-use authorization code from the callback.
    AuthorizationCode
);
secret_type!(
    /// An access token: forwarded as `Authorization: Bearer`, never put in a URL.
    AccessToken
);
secret_type!(
    /// A refresh token: kept in memory only.
    RefreshToken
);
secret_type!(
    /// A confidential client's secret (the "PKCE off" teaching variant only).
    ClientSecret
);
secret_type!(
    /// An OpenID Connect ID token (unvalidated here; its claims are not trusted).
    IdToken
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x08_debug_never_prints_secrets() {
        let rendered = format!(
            "{:?} {:?} {:?} {:?} {:?}",
            AccessToken::new("s3cr3t".into()),
            RefreshToken::new("s3cr3t".into()),
            AuthorizationCode::new("s3cr3t".into()),
            ClientSecret::new("s3cr3t".into()),
            IdToken::new("s3cr3t".into()),
        );
        assert!(!rendered.contains("s3cr3t"));
        assert!(rendered.contains("AccessToken([redacted])"));
        assert!(rendered.contains("IdToken([redacted])"));
    }

    #[test]
    fn x08_secret_is_reachable_explicitly() {
        let token = AccessToken::new("s3cr3t".into());
        assert_eq!(token.secret(), "s3cr3t");
        assert_eq!(token.clone(), token);
    }

    #[test]
    fn x08_mask_shows_prefix_suffix_and_length() {
        assert_eq!(
            mask("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "dBjf…jXk (43)"
        );
        assert_eq!(mask("123456789"), "1234…789 (9)");
        assert_eq!(mask("12345678"), "•••• (8)");
        assert_eq!(mask(""), "•••• (0)");
        let token = AccessToken::new("abcdefghijklmnop".into());
        assert_eq!(token.masked(), "abcd…nop (16)");
    }

    #[test]
    fn x08_mask_is_char_safe() {
        assert_eq!(mask("éééééééééé"), "éééé…ééé (10)");
        assert_eq!(mask("😀😀😀😀😀😀😀😀😀"), "😀😀😀😀…😀😀😀 (9)");
    }

    #[test]
    fn x06_mask_escapes_invisible_characters() {
        assert_eq!(mask("\u{202E}bcdefghijk"), "\\u{202E}bcd…ijk (11)");
    }
}
