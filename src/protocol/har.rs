//! A typed, tolerant reader of HAR 1.2 files (the browser's "Save all as HAR"), for the import.
//! A HAR is untrusted input from a stranger: size and entry count are capped before anything is
//! kept, every field the browsers differ on is optional, and nothing in it is ever fetched.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

/// Largest HAR file accepted (bytes).
pub const MAX_HAR_BYTES: usize = 50 * 1024 * 1024;

/// Most entries accepted in one HAR (a login is a few dozen; a long session a few thousand).
pub const MAX_ENTRIES: usize = 20_000;

/// Why a file could not be read as a HAR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HarError {
    /// Over [`MAX_HAR_BYTES`].
    TooLarge {
        /// The file's size in bytes.
        bytes: usize,
    },
    /// Over [`MAX_ENTRIES`].
    TooManyEntries,
    /// Not JSON, or not shaped like a HAR (`log.entries`).
    NotHar(String),
}

impl std::fmt::Display for HarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HarError::TooLarge { bytes } => write!(
                f,
                "The file is {} MB; HAR files over {} MB are not read. Export only the login \
                 (clear the network log, log in, then save the HAR).",
                bytes / (1024 * 1024),
                MAX_HAR_BYTES / (1024 * 1024)
            ),
            HarError::TooManyEntries => write!(
                f,
                "The HAR has more than {MAX_ENTRIES} entries. Export only the login (clear the \
                 network log, log in, then save the HAR)."
            ),
            HarError::NotHar(why) => write!(
                f,
                "This is not a HAR file ({why}). Save it from the developer tools' Network tab \
                 with \"Save all as HAR\"."
            ),
        }
    }
}

/// The whole file.
#[derive(Debug, Deserialize)]
pub struct Har {
    /// The one `log` object.
    pub log: Log,
}

/// `log`: who wrote the file and its entries.
#[derive(Debug, Deserialize)]
pub struct Log {
    /// The tool that wrote the file.
    #[serde(default)]
    pub creator: Option<Creator>,
    /// The requests, capped at [`MAX_ENTRIES`].
    #[serde(deserialize_with = "capped_entries")]
    pub entries: Vec<Entry>,
}

/// `log.creator`.
#[derive(Debug, Default, Deserialize)]
pub struct Creator {
    /// `Chromium`, `Firefox`, `WebInspector`, `OAuth Flow Lab`, ...
    #[serde(default)]
    pub name: String,
}

/// One request and its response.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// ISO 8601 start time (`Z` or an offset: Firefox writes local time with an offset).
    #[serde(default)]
    pub started_date_time: String,
    /// Total time in milliseconds (Firefox writes integers, Chromium fractions, some -1).
    #[serde(default)]
    pub time: Option<f64>,
    /// The request.
    pub request: Request,
    /// The response (Firefox writes a status 0 for blocked or unfinished requests).
    #[serde(default)]
    pub response: Response,
    /// Chromium's resource type (`document`, `fetch`, `xhr`, `preflight`, `image`, ...).
    #[serde(rename = "_resourceType", default)]
    pub resource_type: Option<String>,
}

/// A `{name, value}` pair (headers, query, form parameters).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct NameValue {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Value (Firefox omits it for a parameter without one).
    #[serde(default)]
    pub value: Option<String>,
}

/// `request`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// `GET`, `POST`, `OPTIONS`, ...
    #[serde(default)]
    pub method: String,
    /// The full URL (for a navigation that followed a redirect, the redirect's target).
    #[serde(default)]
    pub url: String,
    /// Headers as sent (Chromium lower-cases HTTP/2 names; Firefox keeps their case).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub headers: Vec<NameValue>,
    /// The body, if any.
    #[serde(default)]
    pub post_data: Option<PostData>,
}

/// `request.postData`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostData {
    /// The body's media type.
    #[serde(default)]
    pub mime_type: Option<String>,
    /// The body as text (Firefox may leave it out and give `params` only, or the reverse).
    #[serde(default)]
    pub text: Option<String>,
    /// Form parameters, when the tool parsed them.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub params: Vec<NameValue>,
}

/// `response`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// HTTP status; 0 when the browser got none.
    #[serde(default)]
    pub status: f64,
    /// Headers as received.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub headers: Vec<NameValue>,
    /// The body.
    #[serde(default)]
    pub content: Content,
    /// The `Location` target of a redirect (Firefox fills it, Chromium too; may be relative).
    #[serde(rename = "redirectURL", default)]
    pub redirect_url: Option<String>,
}

/// `response.content`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    /// The body's media type.
    #[serde(default)]
    pub mime_type: Option<String>,
    /// The body; absent when the export was "sanitized" or the body was not kept.
    #[serde(default)]
    pub text: Option<String>,
    /// `base64` when `text` is base64-encoded.
    #[serde(default)]
    pub encoding: Option<String>,
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<NameValue>, D::Error> {
    Ok(Option::<Vec<NameValue>>::deserialize(d)?.unwrap_or_default())
}

/// Reads `entries` one at a time and stops at [`MAX_ENTRIES`], so a hostile file cannot make
/// the page build an unbounded list first.
fn capped_entries<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Entry>, D::Error> {
    struct Capped;
    impl<'de> Visitor<'de> for Capped {
        type Value = Vec<Entry>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of entries")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Entry>, A::Error> {
            let mut entries = Vec::new();
            while let Some(entry) = seq.next_element()? {
                if entries.len() == MAX_ENTRIES {
                    return Err(serde::de::Error::custom(TOO_MANY));
                }
                entries.push(entry);
            }
            Ok(entries)
        }
    }
    d.deserialize_seq(Capped)
}

/// The marker the entry cap's serde error carries, turned back into [`HarError::TooManyEntries`].
const TOO_MANY: &str = "har: too many entries";

/// Parses a HAR file's text, capped in size and entries.
pub fn parse_har(text: &str) -> Result<Har, HarError> {
    if text.len() > MAX_HAR_BYTES {
        return Err(HarError::TooLarge { bytes: text.len() });
    }
    serde_json::from_str::<Har>(text).map_err(|error| {
        let message = error.to_string();
        if message.contains(TOO_MANY) {
            HarError::TooManyEntries
        } else if error.is_eof() {
            HarError::NotHar("the JSON ends too early: the file is truncated".into())
        } else if error.is_syntax() {
            HarError::NotHar(format!("invalid JSON at line {}", error.line()))
        } else {
            HarError::NotHar("no log.entries list".into())
        }
    })
}

impl Entry {
    /// The start time in epoch milliseconds (0 when the field cannot be read).
    pub fn started_ms(&self) -> u64 {
        parse_iso8601_ms(&self.started_date_time).unwrap_or(0)
    }

    /// The duration in milliseconds (0 when unknown or negative).
    pub fn duration_ms(&self) -> f64 {
        self.time
            .filter(|t| t.is_finite() && *t > 0.0)
            .unwrap_or(0.0)
    }

    /// The HTTP status as a number (0 when absent or not a status).
    pub fn status(&self) -> u16 {
        let s = self.response.status;
        if s.is_finite() && (0.0..1000.0).contains(&s) {
            s as u16
        } else {
            0
        }
    }
}

/// The first header called `name` (case-insensitive).
pub fn header<'a>(headers: &'a [NameValue], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .and_then(|h| h.value.as_deref())
}

impl Request {
    /// The form body as pairs: parsed from `postData.text` when present, else from
    /// `postData.params` (Firefox may give only one of the two).
    pub fn form(&self) -> Vec<(String, String)> {
        let Some(post) = &self.post_data else {
            return Vec::new();
        };
        match &post.text {
            Some(text) if !text.is_empty() => crate::protocol::uri::parse_query(text),
            _ => post
                .params
                .iter()
                .map(|p| (p.name.clone(), p.value.clone().unwrap_or_default()))
                .collect(),
        }
    }

    /// The request body as text, if the HAR kept one.
    pub fn body_text(&self) -> Option<String> {
        let post = self.post_data.as_ref()?;
        match &post.text {
            Some(text) => Some(text.clone()),
            None if !post.params.is_empty() => Some(
                form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(
                        post.params
                            .iter()
                            .map(|p| (p.name.as_str(), p.value.as_deref().unwrap_or(""))),
                    )
                    .finish(),
            ),
            None => None,
        }
    }
}

impl Response {
    /// The body as text: base64 decoded when so encoded (invalid UTF-8 replaced); `None` when
    /// the HAR did not keep it.
    pub fn body_text(&self) -> Option<String> {
        let text = self.content.text.as_ref()?;
        if self.content.encoding.as_deref() == Some("base64") {
            let bytes = STANDARD.decode(text.trim()).ok()?;
            return Some(String::from_utf8_lossy(&bytes).into_owned());
        }
        Some(text.clone())
    }
}

/// Epoch milliseconds of an ISO 8601 date-time (`2026-11-29T22:52:10.123Z`,
/// `2026-11-29T23:52:10.123+01:00`); `None` when it is not one.
pub fn parse_iso8601_ms(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let s = text.get(from..from + len)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    if b.len() < 19 || b.get(4) != Some(&b'-') || b.get(10) != Some(&b'T') {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let digits = text.get(start..(start + 3).min(i))?;
        millis = format!("{digits:0<3}").parse().ok()?;
    }
    let offset_min = match b.get(i) {
        None | Some(b'Z') | Some(b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let h = num(i + 1, 2)?;
            let m = if b.get(i + 3) == Some(&b':') {
                num(i + 4, 2)?
            } else {
                num(i + 3, 2).unwrap_or(0)
            };
            if *sign == b'+' {
                h * 60 + m
            } else {
                -(h * 60 + m)
            }
        }
        _ => return None,
    };
    // Howard Hinnant's days-from-civil (the inverse of the exporter's `iso8601`).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60;
    u64::try_from(secs * 1000 + millis).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn har_dates_in_utc_and_with_firefox_offsets_read_to_the_same_instant() {
        let utc = parse_iso8601_ms("2026-11-29T22:52:10.123Z").unwrap();
        assert_eq!(
            crate::diagram::export::iso8601(utc),
            "2026-11-29T22:52:10.123Z"
        );
        assert_eq!(parse_iso8601_ms("2026-11-29T23:52:10.123+01:00"), Some(utc));
        assert_eq!(parse_iso8601_ms("2026-11-29T22:52:10.1234567Z"), Some(utc));
        assert_eq!(parse_iso8601_ms("yesterday"), None);
        assert_eq!(parse_iso8601_ms("2026-13-29T22:52:10Z"), None);
    }

    #[test]
    fn har_truncated_json_is_refused_with_a_message_saying_so() {
        let error = parse_har(r#"{"log":{"entries":[{"request":{"url":"https://a"#).unwrap_err();
        assert!(error.to_string().contains("truncated"), "{error}");
        let error = parse_har(r#"{"foo":1}"#).unwrap_err();
        assert!(error.to_string().contains("not a HAR"), "{error}");
    }

    #[test]
    fn har_over_the_entry_cap_is_refused_and_100k_entries_do_not_hang() {
        let entry = r#"{"request":{"method":"GET","url":"https://a.example/x.png"}},"#;
        let text = format!(
            r#"{{"log":{{"entries":[{}{{"request":{{}}}}]}}}}"#,
            entry.repeat(100_000)
        );
        assert_eq!(parse_har(&text).unwrap_err(), HarError::TooManyEntries);
        let text = format!(
            r#"{{"log":{{"entries":[{}{{"request":{{}}}}]}}}}"#,
            entry.repeat(MAX_ENTRIES - 1)
        );
        assert_eq!(parse_har(&text).unwrap().log.entries.len(), MAX_ENTRIES);
    }

    #[test]
    fn har_over_50_mb_is_refused_before_parsing() {
        let text = " ".repeat(MAX_HAR_BYTES + 1);
        let error = parse_har(&text).unwrap_err();
        assert!(matches!(error, HarError::TooLarge { .. }));
        assert!(error.to_string().contains("50 MB"), "{error}");
    }

    #[test]
    fn har_firefox_shapes_params_only_base64_bodies_and_nulls_are_read() {
        let text = r#"{"log":{"creator":{"name":"Firefox"},"entries":[{
            "startedDateTime":"2026-11-29T23:00:00.000+01:00","time":12,
            "request":{"method":"POST","url":"https://as.example/token","headers":null,
              "postData":{"mimeType":"application/x-www-form-urlencoded","params":[
                {"name":"grant_type","value":"authorization_code"},{"name":"code"}]}},
            "response":{"status":200,"headers":[{"name":"Cache-Control","value":"no-store"}],
              "content":{"mimeType":"application/json","encoding":"base64","text":"eyJhIjoxfQ=="},
              "redirectURL":""}}]}}"#;
        let har = parse_har(text).unwrap();
        let entry = &har.log.entries[0];
        assert_eq!(
            Some(entry.started_ms()),
            parse_iso8601_ms("2026-11-29T22:00:00Z")
        );
        assert_eq!(
            entry.request.form(),
            vec![
                ("grant_type".to_owned(), "authorization_code".to_owned()),
                ("code".to_owned(), String::new())
            ]
        );
        assert_eq!(entry.response.body_text().as_deref(), Some(r#"{"a":1}"#));
        assert_eq!(
            header(&entry.response.headers, "cache-control"),
            Some("no-store")
        );
    }
}
