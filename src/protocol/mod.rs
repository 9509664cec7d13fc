//! Pure OAuth 2.0 / PKCE protocol logic: no web-sys, no leptos, no I/O.
//! Time and randomness come in as arguments so that every rule is host-testable.

pub mod access_jwt;
pub mod authorize;
pub mod callback;
pub mod discovery;
pub mod document;
pub mod dpop;
pub mod error;
pub mod har;
pub mod http;
mod invisible;
pub mod jwt;
pub mod pending;
pub mod pkce;
pub mod probe;
pub mod resource;
pub mod revocation;
pub mod scope;
pub mod secret;
pub mod state;
pub mod token;
pub mod uri;
pub mod userinfo;

#[cfg(test)]
mod robustness_tests {
    //! "No panics on any input": every parser is fed pseudo-random strings built from the
    //! characters most likely to trip a hand-written parser.

    use super::*;

    const ALPHABET: &[&str] = &[
        "a",
        "Z",
        "0",
        "9",
        "-",
        "_",
        ".",
        "~",
        "%",
        "%2",
        "%F",
        "%FF",
        "%C3%A9",
        "+",
        "&",
        "=",
        "?",
        "#",
        "/",
        "//",
        "\\",
        ":",
        "@",
        "[",
        "]",
        "[::1]",
        "\"",
        "'",
        ",",
        " ",
        "\t",
        "\n",
        "\0",
        "é",
        "😀",
        "\u{202E}",
        "{",
        "}",
        "[",
        "]",
        "null",
        "true",
        "1e400",
        "-1",
        "code",
        "state",
        "iss",
        "error",
        "access_token",
        "response",
        "https://",
        "http://",
        "127.0.0.1",
        "localhost",
        "Bearer ",
        "\"issuer\"",
        "\"access_token\":",
        "\"token_type\"",
    ];

    fn junk(seed: &mut u64) -> String {
        let mut out = String::new();
        // A fixed linear congruential generator: deterministic, no RNG dependency.
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let len = (*seed >> 58) as usize;
        for _ in 0..len {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            out.push_str(ALPHABET[(*seed >> 33) as usize % ALPHABET.len()]);
        }
        out
    }

    #[test]
    fn no_parser_panics_on_junk() {
        let mut seed = 42;
        for _ in 0..20_000 {
            let a = junk(&mut seed);
            let b = junk(&mut seed);
            let _ = uri::HttpUrl::parse(&a).map(|u| (u.origin(), u.is_loopback(), u.to_string()));
            let _ = uri::parse_query(&a);
            let _ = uri::same_origin_return_path(&a);
            let _ = secret::mask(&a);
            let _ = error::sanitize_for_display(&a, 7);
            let _ = uri::safe_error_uri(&a);
            let _ = pkce::CodeVerifier::parse(&a);
            let _ = state::State::parse(&a);
            let _ = resource::parse_www_authenticate(&a);
            let _ = discovery::openid_configuration_url(&a);
            let _ = discovery::oauth_metadata_url(&a);
            let _ = pending::PendingSet::from_json(&a);
            if let Ok(Some(params)) = callback::parse_callback(&a, &b) {
                let _ = callback::validate_callback(params, None, 0);
            }
            for status in [200, 400, 401, 403, 500] {
                let response = http::HttpResponse {
                    unread: None,
                    dpop_nonce: None,
                    status,
                    content_type: Some(b.clone()),
                    body: a.clone(),
                    www_authenticate: Some(b.clone()),
                    cache_control: None,
                };
                let _ = token::parse_token_response(&response, &b, true);
                let _ = resource::parse_resource_response(&response);
                let _ = discovery::parse_metadata("https://as.example", &response);
            }
        }
    }
}
