//! The back channel's answer as the pure core sees it: what the browser glue hands back from
//! `fetch` (status, the headers the page can read, the body or why it was not kept), and the
//! capped, strict-UTF-8 reader the glue feeds the body through.

/// What the browser glue hands back from `fetch`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HttpResponse {
    /// HTTP status; 0 for an opaque redirect (`redirect: "manual"`).
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body as text (empty when it was not read: see `unread_len`).
    pub body: String,
    /// The `WWW-Authenticate` header, if any.
    pub www_authenticate: Option<String>,
    /// The `Cache-Control` header, if any (token answers must say `no-store`, RFC 6749 §5.1).
    pub cache_control: Option<String>,
    /// Why the body was not kept, when it was not (`body` is then empty).
    pub unread: Option<Unread>,
    /// The `DPoP-Nonce` header (RFC 9449 §8), if any: a server's nonce for the next proof.
    pub dpop_nonce: Option<String>,
}

/// Why the back channel did not keep an answer's body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unread {
    /// The body ran past [`READ_CAP`]: reading stopped (the download was cancelled) after this
    /// many bytes (T-24, D-13).
    TooLarge(usize),
    /// The body is not valid UTF-8, so it is no JSON document and no text to show (T-29);
    /// never decoded with replacement characters.
    NotUtf8,
}

impl Unread {
    /// What the step's HTTP details show instead of the body.
    pub fn shown(self) -> String {
        match self {
            Unread::TooLarge(len) => format!(
                "[not read: the answer passed {len} bytes, more than the {} KiB this app reads, \
                 so reading stopped]",
                READ_CAP / 1024
            ),
            Unread::NotUtf8 => "[not shown: the body is not valid UTF-8 text]".to_owned(),
        }
    }
}

/// The most the back channel reads of any answer: the largest document cap (provider
/// metadata, 256 KiB). Past it, reading stops and the stream is cancelled.
pub const READ_CAP: usize = 256 * 1024;

impl HttpResponse {
    /// An answer with `status` and a body labelled `application/json` (scripted runs, tests).
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            content_type: Some("application/json".into()),
            body: body.into(),
            ..Self::default()
        }
    }

    /// The body's size for the caps: its length, or what arrived before reading stopped.
    pub fn body_len(&self) -> usize {
        match self.unread {
            Some(Unread::TooLarge(len)) => len,
            _ => self.body.len(),
        }
    }
}

impl std::fmt::Debug for HttpResponse {
    // The body may hold tokens: show its size only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("body_len", &self.body_len())
            .field("www_authenticate", &self.www_authenticate)
            .field("dpop_nonce", &self.dpop_nonce)
            .finish()
    }
}

/// Collects an answer's body chunk by chunk, as the back channel reads it (`browser::http`): past
/// [`READ_CAP`] it says stop (T-24, D-13), and the bytes are decoded as strict UTF-8 (T-29).
#[derive(Debug, Default)]
pub struct BodyReader {
    bytes: Vec<u8>,
}

impl BodyReader {
    /// Adds a chunk; `Err` once more than [`READ_CAP`] bytes have arrived: the caller stops
    /// reading and cancels the stream, and the body is not kept.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Unread> {
        let len = self.bytes.len() + chunk.len();
        if len > READ_CAP {
            self.bytes = Vec::new();
            return Err(Unread::TooLarge(len));
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// The whole body: its text, or none with [`Unread::NotUtf8`] when a byte sequence is not
    /// UTF-8 (never replaced by U+FFFD, which would make a different document).
    pub fn finish(self) -> (String, Option<Unread>) {
        match String::from_utf8(self.bytes) {
            Ok(text) => (text, None),
            Err(_) => (String::new(), Some(Unread::NotUtf8)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x08_http_response_debug_hides_body() {
        let response = HttpResponse::json(200, r#"{"access_token":"SECRET"}"#);
        assert!(!format!("{response:?}").contains("SECRET"));
    }

    // proptest is a host-only dev-dependency (Cargo.toml).
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        /// T-29 as a rule: text split into chunks anywhere (even inside a character) reads back
        /// as itself; one byte that cannot be UTF-8 anywhere in it makes the body unread.
        fn t29_body_reader_keeps_utf8_and_refuses_any_invalid_byte(
            text in "\\PC{0,64}",
            cuts in proptest::collection::vec(0usize..300, 0..4),
            at in 0usize..300,
            bad in proptest::sample::select(vec![0xFFu8, 0xFE, 0xC0, 0xC1, 0xF5, 0x80, 0xBF]),
        ) {
            let bytes = text.as_bytes();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
            cuts.sort_unstable();
            let mut reader = BodyReader::default();
            let mut from = 0;
            for cut in cuts.into_iter().chain([bytes.len()]) {
                reader.push(&bytes[from..cut]).unwrap();
                from = cut;
            }
            proptest::prop_assert_eq!(reader.finish(), (text.clone(), None));
            // 0x80/0xBF alone, 0xC0/0xC1/0xF5+ and 0xFE/0xFF never start or continue validly
            // at a character boundary (RFC 3629 §4).
            let at = text.char_indices().map(|(i, _)| i).chain([bytes.len()]).nth(at % (text.chars().count() + 1)).unwrap();
            let mut spoiled = bytes.to_vec();
            spoiled.insert(at, bad);
            let mut reader = BodyReader::default();
            reader.push(&spoiled).unwrap();
            proptest::prop_assert_eq!(reader.finish(), (String::new(), Some(Unread::NotUtf8)));
        }

        #[test]
        /// T-24, D-13 as a rule: whatever the chunk sizes, reading stops at the first chunk that
        /// takes the total past the cap, and nothing of the body is kept.
        fn t24_body_reader_stops_past_the_cap(sizes in proptest::collection::vec(1usize..100_000, 1..20)) {
            let mut reader = BodyReader::default();
            let mut total = 0;
            for size in sizes {
                total += size;
                let pushed = reader.push(&vec![b'x'; size]);
                if total > READ_CAP {
                    proptest::prop_assert_eq!(pushed, Err(Unread::TooLarge(total)));
                    return Ok(());
                }
                proptest::prop_assert!(pushed.is_ok());
            }
            proptest::prop_assert_eq!(reader.finish().0.len(), total);
        }
    }
}
