//! A deliberately small RFC 3986 subset for http(s) endpoints, without IDNA (the `url` crate
//! would add 68 KB gz to the wasm). It is strict: anything a browser would "fix up" (spaces,
//! backslashes, non-ASCII hosts) is refused rather than guessed at, so this parser and the
//! browser's cannot disagree about where a URL points.

use crate::protocol::error::{sanitize_for_display, Explain, Side};

/// Longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 8192;

/// An absolute `http:` or `https:` URL with a host, no userinfo and no fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpUrl {
    scheme: String,
    host: String,
    port: Option<u16>,
    path: String,
    query: Option<String>,
}

impl HttpUrl {
    /// Parses an absolute http(s) URL; see [`UriError`] for everything it refuses.
    pub fn parse(input: &str) -> Result<HttpUrl, UriError> {
        if input.is_empty() {
            return Err(UriError::Empty);
        }
        if input.len() > MAX_URL_LEN {
            return Err(UriError::TooLong { len: input.len() });
        }
        let (scheme, rest) = split_scheme(input)?;
        if scheme != "http" && scheme != "https" {
            return Err(UriError::ForbiddenScheme(sanitize_for_display(&scheme, 32)));
        }
        // RFC 6749 §3.1, §3.2: endpoints have no fragment (D-8).
        if input.contains('#') {
            return Err(UriError::FragmentNotAllowed);
        }
        // Browsers silently drop tabs/newlines and turn `\` into `/`: refuse instead of guessing.
        if let Some((position, ch)) = input
            .char_indices()
            .find(|(_, c)| !c.is_ascii() || c.is_ascii_control() || *c == ' ' || *c == '\\')
        {
            return Err(UriError::InvalidCharacter { ch, position });
        }
        let Some(after_slashes) = rest.strip_prefix("//") else {
            return Err(UriError::MissingHost);
        };
        let offset = input.len() - after_slashes.len();
        let authority_end = after_slashes
            .find(['/', '?'])
            .unwrap_or(after_slashes.len());
        let authority = &after_slashes[..authority_end];
        // RFC 3986 §3.2.1: userinfo in a URL is deprecated and a phishing aid (D-8).
        if authority.contains('@') {
            return Err(UriError::UserinfoNotAllowed);
        }
        let (host, port) = split_host_port(authority)?;
        let remainder = &after_slashes[authority_end..];
        let (path, query) = match remainder.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (remainder, None),
        };
        let path_offset = offset + authority_end;
        check_component(path, path_offset, false)?;
        if let Some(query) = query {
            check_component(query, path_offset + path.len() + 1, true)?;
        }
        Ok(HttpUrl {
            scheme,
            host,
            port,
            path: path.to_owned(),
            query: query.map(str::to_owned),
        })
    }

    /// `http` or `https` (lower case).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The host, lower-cased; IPv6 literals keep their brackets (`[::1]`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The explicit port, if any (even when it is the default one).
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The path as written (may be empty).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query without its `?`, if there is one.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The port that will be used: the explicit one or the scheme's default.
    pub fn effective_port(&self) -> u16 {
        self.port
            .unwrap_or(if self.scheme == "https" { 443 } else { 80 })
    }

    /// Whether the host is this machine: `localhost`, `127.0.0.0/8` or `[::1]`.
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost" || self.host == "[::1]" || is_ipv4_loopback(&self.host)
    }

    /// `scheme://host[:port]`, with the scheme's default port left out.
    pub fn origin(&self) -> String {
        match self.port {
            Some(port) if port != self.effective_default() => {
                format!("{}://{}:{}", self.scheme, self.host, port)
            }
            _ => format!("{}://{}", self.scheme, self.host),
        }
    }

    fn effective_default(&self) -> u16 {
        if self.scheme == "https" {
            443
        } else {
            80
        }
    }

    /// TLS is required (RFC 6749 §3.1, §3.2), except plain http to this machine for local
    /// testing (D-6, P-i).
    pub fn require_secure(&self) -> Result<(), UriError> {
        if self.scheme == "https" || self.is_loopback() {
            Ok(())
        } else {
            Err(UriError::InsecureEndpoint(self.origin()))
        }
    }
}

impl std::fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        f.write_str(&self.path)?;
        if let Some(query) = &self.query {
            write!(f, "?{query}")?;
        }
        Ok(())
    }
}

/// Splits `scheme:rest`, lower-casing the scheme; refuses relative references.
fn split_scheme(input: &str) -> Result<(String, &str), UriError> {
    let Some((scheme, rest)) = input.split_once(':') else {
        return Err(UriError::NotAbsolute);
    };
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    // `localhost:8080/x` is a host and port typed without a scheme, not a scheme "localhost".
    if !valid || rest.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(UriError::NotAbsolute);
    }
    Ok((scheme.to_ascii_lowercase(), rest))
}

/// Splits and checks `host[:port]`; the host is lower-cased (RFC 3986 §6.2.2.1).
fn split_host_port(authority: &str) -> Result<(String, Option<u16>), UriError> {
    let (host, port) = if let Some(inner_and_rest) = authority.strip_prefix('[') {
        let Some(close) = inner_and_rest.find(']') else {
            return Err(UriError::InvalidHost);
        };
        let inner = &inner_and_rest[..close];
        let valid = inner.contains(':')
            && inner
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
        if !valid {
            return Err(UriError::InvalidHost);
        }
        let after = &inner_and_rest[close + 1..];
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or(UriError::InvalidHost)?),
        };
        (&authority[..close + 2], port)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(UriError::MissingHost);
    }
    if !host.starts_with('[')
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
    {
        return Err(UriError::InvalidHost);
    }
    let port = match port {
        None => None,
        Some(text) => {
            let valid =
                !text.is_empty() && text.len() <= 5 && text.bytes().all(|b| b.is_ascii_digit());
            match text.parse::<u16>() {
                Ok(port) if valid && port != 0 => Some(port),
                _ => return Err(UriError::InvalidPort),
            }
        }
    };
    Ok((host.to_ascii_lowercase(), port))
}

/// Checks a path or query: RFC 3986 `pchar`s, `/` (and `?` in a query), and well-formed
/// percent-encoding.
fn check_component(text: &str, offset: usize, is_query: bool) -> Result<(), UriError> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let ok = match b {
            b'%' => {
                let hex = |j: usize| bytes.get(j).is_some_and(|h| h.is_ascii_hexdigit());
                if hex(i + 1) && hex(i + 2) {
                    i += 2;
                    true
                } else {
                    false
                }
            }
            b'?' => is_query,
            b if b.is_ascii_alphanumeric() => true,
            b'-' | b'.' | b'_' | b'~' => true,
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' => true,
            b':' | b'@' | b'/' => true,
            _ => false,
        };
        if !ok {
            return Err(UriError::InvalidCharacter {
                ch: char::from(b),
                position: offset + i,
            });
        }
        i += 1;
    }
    Ok(())
}

/// `127.a.b.c` in canonical dotted decimal; other spellings (octal, hex, short forms) are
/// treated as not loopback, which is the safe direction.
fn is_ipv4_loopback(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4
        && parts[0] == "127"
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
                && p.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

/// `application/x-www-form-urlencoded` (space → `+`, `+` → `%2B`), RFC 6749 Appendix B.
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The one builder for every URL this app sends the browser to (authorization request, probes,
/// end-session): `endpoint` (a secure http(s) URL without fragment) with `params` appended to
/// its own query, which is kept (RFC 6749 §3.1). The endpoint's query must not already carry
/// any name in `reserved`: sent twice, the server may read the endpoint's copy (A-1, D-9).
pub fn url_with_query(
    endpoint: &str,
    reserved: &[&str],
    params: &[(&str, &str)],
) -> Result<String, UriError> {
    let url = HttpUrl::parse(endpoint)?;
    url.require_secure()?;
    if let Some(name) = reserved_in_query(url.query().unwrap_or(""), reserved) {
        return Err(UriError::ReservedParameter(sanitize_for_display(&name, 64)));
    }
    // Look at the query itself: a `?` inside it (`?x=1?`) does not start a new one.
    let separator = match url.query() {
        None => "?",
        Some(query) if query.is_empty() || query.ends_with('&') => "",
        Some(_) => "&",
    };
    Ok(format!("{endpoint}{separator}{}", form_encode(params)))
}

/// The first name of `query` that is in `reserved`, with `;` taken as a separator as well as
/// `&`: some servers split on both, so `x=1;response_type=token` sets `response_type` there.
pub fn reserved_in_query(query: &str, reserved: &[&str]) -> Option<String> {
    query
        .split(['&', ';'])
        .flat_map(parse_query)
        .map(|(name, _)| name)
        .find(|name| reserved.contains(&name.as_str()))
}

/// Decodes a query string (a leading `?` is ignored) into name/value pairs, in order and with
/// duplicates kept so that callers can detect them. Invalid UTF-8 becomes U+FFFD.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    let query = query.strip_prefix('?').unwrap_or(query);
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// Longest return path accepted after login.
const MAX_RETURN_PATH: usize = 2048;

/// The path to go to after login: `candidate` only if it is a same-origin relative path (one
/// leading `/`, not `//` or `/\`, printable ASCII only), else `/` (C-28, RFC 9700 §4.11.1).
pub fn same_origin_return_path(candidate: &str) -> String {
    let bytes = candidate.as_bytes();
    let single_slash = bytes.first() == Some(&b'/') && !matches!(bytes.get(1), Some(b'/' | b'\\'));
    // Browsers strip tabs/newlines and read `\` as `/`, so `/\t/evil` would become `//evil`.
    let clean = bytes
        .iter()
        .all(|b| (0x21..=0x7E).contains(b) && *b != b'\\');
    if single_slash && clean && candidate.len() <= MAX_RETURN_PATH {
        candidate.to_owned()
    } else {
        "/".to_owned()
    }
}

/// Why a string is not an acceptable http(s) endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UriError {
    /// Nothing was given.
    Empty,
    /// Longer than [`MAX_URL_LEN`].
    TooLong {
        /// Length in bytes.
        len: usize,
    },
    /// A relative reference or a host without `http://` / `https://`.
    NotAbsolute,
    /// Any scheme other than http and https (`javascript:`, `data:`, `file:`, `ftp:`; D-7).
    ForbiddenScheme(String),
    /// A character a URL must not contain (space, control, backslash, non-ASCII, bad `%`).
    InvalidCharacter {
        /// The character.
        ch: char,
        /// Its byte index.
        position: usize,
    },
    /// A `#fragment` (D-8).
    FragmentNotAllowed,
    /// `user:pass@` before the host (D-8).
    UserinfoNotAllowed,
    /// No host after `//`.
    MissingHost,
    /// A host with characters outside letters, digits, `-`, `.`, `_` (IDN hosts must be
    /// written in their `xn--` form), or a malformed IPv6 literal.
    InvalidHost,
    /// A port that is not a number from 1 to 65535.
    InvalidPort,
    /// Plain http to a host other than this machine (D-6); holds the origin.
    InsecureEndpoint(String),
    /// An endpoint's own query already carries a parameter this app sets on it (e.g.
    /// `response_type`, `code_challenge_method`, `request_uri`, `post_logout_redirect_uri`);
    /// holds its name, sanitized. Sending it twice is forbidden (RFC 6749 §3.1) and could
    /// change the flow (A-1, P-5).
    ReservedParameter(String),
}

impl std::fmt::Display for UriError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UriError::Empty => f.write_str("empty URL"),
            UriError::TooLong { len } => write!(f, "URL too long ({len} bytes)"),
            UriError::NotAbsolute => f.write_str("not an absolute http(s) URL"),
            UriError::ForbiddenScheme(scheme) => write!(f, "forbidden scheme \"{scheme}:\""),
            UriError::InvalidCharacter { ch, position } => write!(
                f,
                "invalid character {} at byte {position}",
                ch.escape_debug()
            ),
            UriError::FragmentNotAllowed => f.write_str("URL has a #fragment"),
            UriError::UserinfoNotAllowed => f.write_str("URL has user:password@"),
            UriError::MissingHost => f.write_str("URL has no host"),
            UriError::InvalidHost => f.write_str("URL has an invalid host"),
            UriError::InvalidPort => f.write_str("URL has an invalid port"),
            UriError::InsecureEndpoint(origin) => write!(f, "{origin} is not https"),
            UriError::ReservedParameter(name) => {
                write!(f, "URL already carries the parameter \"{name}\"")
            }
        }
    }
}

impl std::error::Error for UriError {}

impl Explain for UriError {
    fn what_happened(&self) -> String {
        match self {
            UriError::Empty => "An endpoint address is empty.".to_owned(),
            UriError::TooLong { len } => {
                format!(
                    "An endpoint address is {len} bytes long, beyond the {MAX_URL_LEN}-byte limit."
                )
            }
            UriError::NotAbsolute => {
                "An endpoint address is not a full http:// or https:// URL.".to_owned()
            }
            UriError::ForbiddenScheme(scheme) => format!(
                "An endpoint address uses the \"{scheme}:\" scheme. Only https (and http to this \
                 machine) can be used: other schemes could run code or read local files."
            ),
            UriError::InvalidCharacter { ch, position } => format!(
                "An endpoint address contains {} at byte {position}, which a URL must not \
                 contain unencoded. Browsers would silently rewrite it, so it is refused.",
                ch.escape_debug()
            ),
            UriError::FragmentNotAllowed => {
                "An endpoint address has a #fragment, which OAuth endpoints must not have \
                 (RFC 6749 §3.1)."
                    .to_owned()
            }
            UriError::UserinfoNotAllowed => "An endpoint address has user:password@ before the \
                host, a deprecated form often used to disguise where a link goes."
                .to_owned(),
            UriError::MissingHost => "An endpoint address has no host name.".to_owned(),
            UriError::InvalidHost => "An endpoint address has an invalid host name \
                (internationalized names must be written in their xn-- form)."
                .to_owned(),
            UriError::InvalidPort => "An endpoint address has an invalid port.".to_owned(),
            UriError::InsecureEndpoint(origin) => format!(
                "{origin} uses plain http on a host that is not this machine, so codes and \
                 tokens would cross the network unencrypted."
            ),
            UriError::ReservedParameter(name) => format!(
                "The provider's endpoint address already carries \"{name}\" in its query \
                 (after & or ;). This app sets that parameter itself, and OAuth parameters must \
                 not be sent twice (RFC 6749 §3.1): a second response_type or \
                 code_challenge_method could switch the login to another flow or downgrade \
                 PKCE, and request, request_uri or response_mode could replace the whole \
                 request or send the answer elsewhere."
            ),
        }
    }

    fn whose_side(&self) -> Side {
        match self {
            UriError::Empty | UriError::NotAbsolute => Side::ThisApp,
            _ => Side::Provider,
        }
    }

    fn what_to_do(&self) -> String {
        match self {
            UriError::ReservedParameter(_) => "Remove the parameter from the provider's \
                authorization_endpoint (in its metadata); the app adds it to every login."
                .to_owned(),
            UriError::InsecureEndpoint(_) => "Use the provider's https address. Plain http is \
                only allowed for a provider on this machine (localhost, 127.0.0.1, [::1])."
                .to_owned(),
            _ => "Check the issuer in the settings and the provider's configuration; the \
                endpoint must be an https URL without #fragment or user:password@."
                .to_owned(),
        }
    }
}

/// The `error_uri` to render as a link, only when it parses as an `https:` URL; anything
/// else (`javascript:`, `data:`, `http:`) is shown as text or left out.
pub fn safe_error_uri(uri: &str) -> Option<String> {
    const MAX_ERROR_URI: usize = 2048;
    if uri.len() > MAX_ERROR_URI {
        return None;
    }
    match HttpUrl::parse(uri) {
        Ok(url) if url.scheme() == "https" => Some(uri.to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pi_http_loopback_is_allowed() {
        for url in [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/token",
            "http://127.1.2.3/",
            "http://localhost:9000/auth",
            "http://LOCALHOST/",
            "http://[::1]:9000/token",
        ] {
            let parsed = HttpUrl::parse(url).unwrap();
            assert!(parsed.is_loopback(), "{url}");
            assert_eq!(parsed.require_secure(), Ok(()), "{url}");
        }
    }

    #[test]
    fn d06_http_on_a_remote_host_is_insecure() {
        for (url, origin) in [
            ("http://as.example/token", "http://as.example"),
            (
                "http://127.0.0.1.evil.example/",
                "http://127.0.0.1.evil.example",
            ),
            (
                "http://localhost.evil.example/",
                "http://localhost.evil.example",
            ),
            ("http://0177.0.0.1/", "http://0177.0.0.1"),
            ("http://[::ffff:127.0.0.1]/", "http://[::ffff:127.0.0.1]"),
            ("http://10.0.0.1:8080/", "http://10.0.0.1:8080"),
        ] {
            let parsed = HttpUrl::parse(url).unwrap();
            assert_eq!(
                parsed.require_secure(),
                Err(UriError::InsecureEndpoint(origin.into())),
                "{url}"
            );
        }
        assert_eq!(
            HttpUrl::parse("https://as.example/token")
                .unwrap()
                .require_secure(),
            Ok(())
        );
    }

    #[test]
    fn d07_forbidden_schemes() {
        for (url, scheme) in [
            ("javascript:alert(1)", "javascript"),
            ("JavaScript:alert(1)", "javascript"),
            ("data:text/html,<script>alert(1)</script>", "data"),
            ("file:///etc/passwd", "file"),
            ("ftp://as.example/token", "ftp"),
            ("wss://as.example/", "wss"),
        ] {
            assert_eq!(
                HttpUrl::parse(url),
                Err(UriError::ForbiddenScheme(scheme.into())),
                "{url}"
            );
        }
    }

    #[test]
    fn d08_fragment_and_userinfo_are_rejected() {
        assert_eq!(
            HttpUrl::parse("https://as.example/token#x"),
            Err(UriError::FragmentNotAllowed)
        );
        assert_eq!(
            HttpUrl::parse("https://as.example/token#"),
            Err(UriError::FragmentNotAllowed)
        );
        assert_eq!(
            HttpUrl::parse("https://user:pass@as.example/token"),
            Err(UriError::UserinfoNotAllowed)
        );
        assert_eq!(
            HttpUrl::parse("https://as.example@evil.example/"),
            Err(UriError::UserinfoNotAllowed)
        );
    }

    #[test]
    fn d05_malformed_urls_are_rejected() {
        assert_eq!(HttpUrl::parse(""), Err(UriError::Empty));
        assert_eq!(HttpUrl::parse("/token"), Err(UriError::NotAbsolute));
        assert_eq!(
            HttpUrl::parse("//as.example/token"),
            Err(UriError::NotAbsolute)
        );
        assert_eq!(
            HttpUrl::parse("as.example/token"),
            Err(UriError::NotAbsolute)
        );
        assert_eq!(
            HttpUrl::parse("localhost:8080/x"),
            Err(UriError::NotAbsolute)
        );
        assert_eq!(
            HttpUrl::parse("https:as.example"),
            Err(UriError::MissingHost)
        );
        assert_eq!(HttpUrl::parse("https:///token"), Err(UriError::MissingHost));
        assert_eq!(HttpUrl::parse("https://:443/"), Err(UriError::MissingHost));
        assert_eq!(
            HttpUrl::parse("https://exämple.com/"),
            Err(UriError::InvalidCharacter {
                ch: 'ä',
                position: 10
            })
        );
        assert_eq!(
            HttpUrl::parse("https://a b/"),
            Err(UriError::InvalidCharacter {
                ch: ' ',
                position: 9
            })
        );
        assert_eq!(
            HttpUrl::parse("https://as.example\\@evil/"),
            Err(UriError::InvalidCharacter {
                ch: '\\',
                position: 18
            })
        );
        assert_eq!(
            HttpUrl::parse("https://as.example/\ttoken"),
            Err(UriError::InvalidCharacter {
                ch: '\t',
                position: 19
            })
        );
        assert_eq!(
            HttpUrl::parse("https://as.example/a<b"),
            Err(UriError::InvalidCharacter {
                ch: '<',
                position: 20
            })
        );
        assert_eq!(
            HttpUrl::parse("https://as.example/%zz"),
            Err(UriError::InvalidCharacter {
                ch: '%',
                position: 19
            })
        );
        assert_eq!(
            HttpUrl::parse("https://as.example/%4"),
            Err(UriError::InvalidCharacter {
                ch: '%',
                position: 19
            })
        );
        assert_eq!(
            HttpUrl::parse("https://as%2eexample/"),
            Err(UriError::InvalidHost)
        );
        assert_eq!(HttpUrl::parse("https://[zz]/"), Err(UriError::InvalidHost));
        assert_eq!(HttpUrl::parse("https://[::1/"), Err(UriError::InvalidHost));
        assert_eq!(
            HttpUrl::parse("https://as.example:/"),
            Err(UriError::InvalidPort)
        );
        assert_eq!(
            HttpUrl::parse("https://as.example:0/"),
            Err(UriError::InvalidPort)
        );
        assert_eq!(
            HttpUrl::parse("https://as.example:65536/"),
            Err(UriError::InvalidPort)
        );
        assert_eq!(
            HttpUrl::parse("https://as.example:+443/"),
            Err(UriError::InvalidPort)
        );
        assert_eq!(
            HttpUrl::parse("https://as.example:1:2/"),
            Err(UriError::InvalidPort)
        );
        let long = format!("https://as.example/{}", "a".repeat(MAX_URL_LEN));
        assert!(matches!(
            HttpUrl::parse(&long),
            Err(UriError::TooLong { .. })
        ));
    }

    #[test]
    fn d05_components_are_exposed() {
        let url = HttpUrl::parse("HTTPS://AS.Example:8443/t1/auth?tenant=x&y=%20").unwrap();
        assert_eq!(url.scheme(), "https");
        assert_eq!(url.host(), "as.example");
        assert_eq!(url.port(), Some(8443));
        assert_eq!(url.path(), "/t1/auth");
        assert_eq!(url.query(), Some("tenant=x&y=%20"));
        assert_eq!(url.origin(), "https://as.example:8443");
        assert_eq!(
            url.to_string(),
            "https://as.example:8443/t1/auth?tenant=x&y=%20"
        );
        let bare = HttpUrl::parse("https://as.example").unwrap();
        assert_eq!(bare.path(), "");
        assert_eq!(bare.query(), None);
        assert_eq!(bare.effective_port(), 443);
    }

    #[test]
    fn origin_omits_default_ports() {
        assert_eq!(
            HttpUrl::parse("https://as.example:443/x").unwrap().origin(),
            "https://as.example"
        );
        assert_eq!(
            HttpUrl::parse("http://localhost:80/x").unwrap().origin(),
            "http://localhost"
        );
        assert_eq!(
            HttpUrl::parse("http://localhost:443/x").unwrap().origin(),
            "http://localhost:443"
        );
        assert_eq!(
            HttpUrl::parse("http://[::1]:9000/").unwrap().origin(),
            "http://[::1]:9000"
        );
    }

    #[test]
    fn a06_form_encoding_round_trips() {
        let encoded = form_encode(&[
            ("scope", "openid profile"),
            ("redirect_uri", "https://app.example/cb?x=1&y=2"),
            ("code", "a+b/c=d"),
        ]);
        assert_eq!(
            encoded,
            "scope=openid+profile&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1%26y%3D2&code=a%2Bb%2Fc%3Dd"
        );
        assert_eq!(
            parse_query(&encoded),
            vec![
                ("scope".to_owned(), "openid profile".to_owned()),
                (
                    "redirect_uri".to_owned(),
                    "https://app.example/cb?x=1&y=2".to_owned()
                ),
                ("code".to_owned(), "a+b/c=d".to_owned()),
            ]
        );
    }

    #[test]
    fn c05_parse_query_keeps_duplicates_and_strips_question_mark() {
        assert_eq!(
            parse_query("?a=1&a=2&b"),
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("a".to_owned(), "2".to_owned()),
                ("b".to_owned(), String::new()),
            ]
        );
        assert!(parse_query("").is_empty());
        assert!(parse_query("?").is_empty());
        assert_eq!(parse_query("x=%FF")[0].1, "\u{FFFD}");
    }

    #[test]
    fn c28_only_same_origin_relative_paths_are_returned_to() {
        assert_eq!(same_origin_return_path("/files?tab=2"), "/files?tab=2");
        assert_eq!(same_origin_return_path("/"), "/");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            " /x",
            "javascript:alert(1)",
            "evil.example",
            "",
            "/é",
        ] {
            assert_eq!(same_origin_return_path(bad), "/", "{bad:?}");
        }
        assert_eq!(
            same_origin_return_path(&format!("/{}", "a".repeat(3000))),
            "/"
        );
    }

    #[test]
    fn x04_error_uri_is_a_link_only_when_https() {
        assert_eq!(
            safe_error_uri("https://as.example/errors/denied").as_deref(),
            Some("https://as.example/errors/denied")
        );
        assert_eq!(safe_error_uri("javascript:alert(1)"), None);
        assert_eq!(
            safe_error_uri("data:text/html,<script>alert(1)</script>"),
            None
        );
        assert_eq!(safe_error_uri("http://evil.example/"), None);
        assert_eq!(safe_error_uri("http://127.0.0.1/err"), None);
        assert_eq!(safe_error_uri("//evil.example/x"), None);
        assert_eq!(safe_error_uri("https://user:pw@evil.example/"), None);
        assert_eq!(safe_error_uri(""), None);
    }
}
