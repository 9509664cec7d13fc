//! JSON helpers shared by the token, discovery and resource parsers: a top-level object reader
//! that refuses duplicate keys (serde_json's `Map` silently keeps the last one, T-28) and a
//! media-type check.

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why a body is not the JSON object expected.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum JsonProblem {
    /// Not JSON at all (or truncated, or nested too deeply).
    NotJson,
    /// JSON, but not an object at the top level.
    NotAnObject,
    /// The named top-level key appears more than once.
    Duplicate(String),
}

/// The top level of a JSON document, as far as these parsers care.
enum TopLevel {
    Object(Map<String, Value>),
    NotObject,
    Duplicate(String),
}

struct TopLevelVisitor;

impl<'de> Visitor<'de> for TopLevelVisitor {
    type Value = TopLevel;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
        let mut object = Map::new();
        let mut duplicate = None;
        while let Some(key) = map.next_key::<String>()? {
            if duplicate.is_some() {
                // Keep reading so that syntax errors later in the body still surface.
                map.next_value::<IgnoredAny>()?;
            } else if object.contains_key(&key) {
                map.next_value::<IgnoredAny>()?;
                duplicate = Some(key);
            } else {
                let value = map.next_value::<Value>()?;
                object.insert(key, value);
            }
        }
        Ok(match duplicate {
            Some(key) => TopLevel::Duplicate(key),
            None => TopLevel::Object(object),
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TopLevel, A::Error> {
        // The whole array must be consumed, or serde_json reports a syntax error instead.
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(TopLevel::NotObject)
    }

    fn visit_bool<E>(self, _: bool) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }

    fn visit_i64<E>(self, _: i64) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }

    fn visit_u64<E>(self, _: u64) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }

    fn visit_f64<E>(self, _: f64) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }

    fn visit_str<E>(self, _: &str) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }

    fn visit_unit<E>(self) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }

    fn visit_none<E>(self) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }
}

impl<'de> Deserialize<'de> for TopLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TopLevel, D::Error> {
        deserializer.deserialize_any(TopLevelVisitor)
    }
}

/// Parses a body that must be a JSON object with unique top-level keys.
pub(crate) fn parse_object(body: &str) -> Result<Map<String, Value>, JsonProblem> {
    match serde_json::from_str::<TopLevel>(body) {
        Ok(TopLevel::Object(object)) => Ok(object),
        Ok(TopLevel::NotObject) => Err(JsonProblem::NotAnObject),
        Ok(TopLevel::Duplicate(key)) => Err(JsonProblem::Duplicate(key)),
        Err(_) => Err(JsonProblem::NotJson),
    }
}

/// Whether a `Content-Type` names `application/json`, case-insensitively and ignoring
/// parameters such as `charset` (RFC 9110 §8.3.1; T-12).
pub(crate) fn is_json_media_type(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("application/json")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t28_duplicate_keys_are_detected() {
        assert_eq!(
            parse_object(r#"{"access_token":"a","access_token":"b"}"#),
            Err(JsonProblem::Duplicate("access_token".into()))
        );
        // Escaped spellings of the same key are the same key.
        assert_eq!(
            parse_object(r#"{"a":1,"\u0061":2}"#),
            Err(JsonProblem::Duplicate("a".into()))
        );
    }

    #[test]
    fn t13_non_objects_are_told_apart_from_non_json() {
        for body in [
            "null",
            "[]",
            "[1,[2,{}]]",
            "\"x\"",
            "42",
            "-1",
            "1.5",
            "true",
        ] {
            assert_eq!(parse_object(body), Err(JsonProblem::NotAnObject), "{body}");
        }
        for body in ["", "<html>", "{", "{\"a\":1", "{} x", "{\"a\":1,\"a\":"] {
            assert_eq!(parse_object(body), Err(JsonProblem::NotJson), "{body}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse_object(&deep), Err(JsonProblem::NotJson));
    }

    #[test]
    fn t12_media_type_is_case_insensitive_and_ignores_parameters() {
        assert!(is_json_media_type(Some("application/json")));
        assert!(is_json_media_type(Some("Application/JSON")));
        assert!(is_json_media_type(Some("application/json; charset=utf-8")));
        assert!(is_json_media_type(Some("application/json;charset=UTF-8")));
        assert!(!is_json_media_type(Some("text/plain")));
        assert!(!is_json_media_type(Some("application/jsonx")));
        assert!(!is_json_media_type(None));
    }
}
