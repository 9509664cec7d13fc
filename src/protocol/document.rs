//! JSON documents through serde_json, with the checklist's rules on top: a repeated member name
//! is refused at every depth (T-28; serde's derive only refuses a repeated *known* field, and
//! `serde_json::Map` keeps the last of two), a top-level object is required, and a member of the
//! wrong type is kept as such ([`Member`]) so a parser can say which member was wrong.
//!
//! Everything else is serde_json's: the grammar, strict strings (no raw control characters, no
//! lone surrogates), numbers that do not fit an `f64` refused, nesting limited to 128 levels.

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
pub use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;

/// Why a body is not the JSON object expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum JsonProblem {
    /// Not JSON at all (or truncated, or nested too deeply).
    NotJson,
    /// JSON, but not an object at the top level.
    NotAnObject,
    /// The named member appears twice in one object (at any depth).
    Duplicate(String),
    /// An object without repeated members, but not the shape expected (a stored format only:
    /// the provider documents are read with [`Member`] fields, which take any shape).
    Shape,
}

/// Walks a whole document, checking that no object repeats a member name. The walk goes on
/// after the first repeat so that a syntax error later in the text still wins (NotJson).
struct Walk<'a> {
    duplicate: &'a RefCell<Option<String>>,
}

/// What the walk saw at the top: whether it was an object.
struct IsObject(bool);

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = IsObject;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<IsObject, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = IsObject;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<IsObject, E> {
        Ok(IsObject(false))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<IsObject, E> {
        Ok(IsObject(false))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<IsObject, E> {
        Ok(IsObject(false))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<IsObject, E> {
        Ok(IsObject(false))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<IsObject, E> {
        Ok(IsObject(false))
    }
    fn visit_unit<E: de::Error>(self) -> Result<IsObject, E> {
        Ok(IsObject(false))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<IsObject, A::Error> {
        while seq
            .next_element_seed(Walk {
                duplicate: self.duplicate,
            })?
            .is_some()
        {}
        Ok(IsObject(false))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<IsObject, A::Error> {
        let mut seen = BTreeSet::new();
        // Keys are compared after unescaping: "\u0061" and "a" are the same member.
        while let Some(key) = map.next_key::<String>()? {
            map.next_value_seed(Walk {
                duplicate: self.duplicate,
            })?;
            if !seen.insert(key.clone()) {
                self.duplicate.borrow_mut().get_or_insert(key);
            }
        }
        Ok(IsObject(true))
    }
}

/// Checks a text against the rules above without building anything.
fn check(text: &str) -> Result<(), JsonProblem> {
    let duplicate = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let top = Walk {
        duplicate: &duplicate,
    }
    .deserialize(&mut deserializer)
    .and_then(|top| deserializer.end().map(|()| top))
    .map_err(|_| JsonProblem::NotJson)?;
    if let Some(name) = duplicate.into_inner() {
        return Err(JsonProblem::Duplicate(name));
    }
    if !top.0 {
        return Err(JsonProblem::NotAnObject);
    }
    Ok(())
}

/// Reads a body that must be a JSON object without a repeated member name at any depth, as `T`
/// (a typed document, or [`Map`] where the app shows every member). A syntax error anywhere wins
/// over a repeated name.
pub(crate) fn parse_document<T: DeserializeOwned>(body: &str) -> Result<T, JsonProblem> {
    check(body)?;
    serde_json::from_str(body).map_err(|_| JsonProblem::Shape)
}

/// Parses a body that must be a JSON object with unique members at every depth.
pub(crate) fn parse_object(body: &str) -> Result<Map<String, Value>, JsonProblem> {
    parse_document(body)
}

/// Reads this app's own stored JSON; `None` if it is not exactly a `T` (a repeated member at any
/// level means it was edited by hand or tampered with).
pub fn load_stored<T: DeserializeOwned>(text: &str) -> Option<T> {
    parse_document(text).ok()
}

/// A member of a provider's document read as a `T` when it has that type; any other JSON value
/// (`null` included) is kept as it came, so the parser can name the member in its error and
/// tell `null` from missing. Needs `#[serde(default)]` on the struct for a missing member.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Member<T> {
    /// Not in the document.
    #[default]
    Absent,
    /// Present, of the expected type.
    Is(T),
    /// Present, of another type.
    Other(Value),
}

impl<T> Member<T> {
    /// The value, if present and of the expected type.
    pub fn ok(&self) -> Option<&T> {
        match self {
            Member::Is(value) => Some(value),
            _ => None,
        }
    }

    /// Whether the member is missing or `null`.
    pub fn is_absent_or_null(&self) -> bool {
        matches!(self, Member::Absent | Member::Other(Value::Null))
    }
}

impl<'de, T: FromValue> Deserialize<'de> for Member<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Member::from_value(Value::deserialize(deserializer)?))
    }
}

impl<T: FromValue> Member<T> {
    /// The member for a value that was present: `Is` when it has `T`'s type, else `Other`.
    pub(crate) fn from_value(value: Value) -> Self {
        match T::from_value(value) {
            Ok(typed) => Member::Is(typed),
            Err(value) => Member::Other(value),
        }
    }
}

/// A type a [`Member`] can hold, read from the JSON value by a plain match rather than through
/// serde's `&Value` deserializer: one small function per type instead of a deserializer instance
/// per type and element type (issue 14's size goal). The rules are serde's: the same values are
/// accepted and refused.
pub trait FromValue: Sized {
    /// `Ok` when the value has this type; else the value back, kept as [`Member::Other`].
    fn from_value(value: Value) -> Result<Self, Value>;
}

impl FromValue for String {
    fn from_value(value: Value) -> Result<Self, Value> {
        match value {
            Value::String(s) => Ok(s),
            other => Err(other),
        }
    }
}

impl FromValue for bool {
    fn from_value(value: Value) -> Result<Self, Value> {
        value.as_bool().ok_or(value)
    }
}

impl FromValue for u64 {
    fn from_value(value: Value) -> Result<Self, Value> {
        // As serde's: a whole number that fits; a float (even `7.0`) or a negative one does not.
        value.as_u64().ok_or(value)
    }
}

impl FromValue for Value {
    fn from_value(value: Value) -> Result<Self, Value> {
        Ok(value)
    }
}

impl<T: FromValue> FromValue for Vec<Member<T>> {
    fn from_value(value: Value) -> Result<Self, Value> {
        match value {
            Value::Array(items) => Ok(items.into_iter().map(Member::from_value).collect()),
            other => Err(other),
        }
    }
}

/// Takes the member `name` out of a parsed object, for a document type's
/// `From<Map<String, Value>>`. The provider documents derive `Deserialize` with
/// `#[serde(from = "Map<String, Value>")]`: serde reads the object with the one `Map`
/// deserializer the app has anyway, and each member is a map lookup plus a [`FromValue`] match,
/// not a derived visitor per document with a `Value` parser inlined in it per member type (issue
/// 14's size goal: the metadata's visitor alone was most of `parse_metadata`'s 13 KB). The rules
/// are unchanged: repeats were refused by the check before (T-28), a missing member is
/// [`Member::Absent`], an unknown one is ignored (T-20), one of another type is kept.
pub(crate) fn take<T: FromValue>(object: &mut Map<String, Value>, name: &str) -> Member<T> {
    object
        .remove(name)
        .map_or(Member::Absent, Member::from_value)
}

/// A type of one of this app's own stored formats (settings, timeline, checkup and lab
/// records), read from its parsed JSON value with the rules serde's derive had, so text stored
/// by an earlier release reads the same: `None` when the value is not one. The stored types
/// derive `Serialize` (the text written is unchanged) and read through
/// `#[serde(try_from = "Map<String, Value>")]` and these functions: one `Map` deserializer the
/// app has anyway and a plain match per member, instead of a derived visitor per struct and a
/// sequence reader per list type (issue 14's size goal, as [`take`] for the provider documents).
pub(crate) trait FromStored: Sized {
    /// The value read, when it has this type.
    fn from_stored(value: Value) -> Option<Self>;

    /// What a missing member without `#[serde(default)]` reads as: serde's derive refuses it,
    /// except for an `Option`, which is `None`.
    fn missing() -> Option<Self> {
        None
    }
}

/// Takes the member `name` of a stored object, as serde's derive reads a field without
/// `#[serde(default)]` (see [`FromStored::missing`]). Unknown members are never taken (ignored);
/// repeats were refused by the check before.
pub(crate) fn stored<T: FromStored>(object: &mut Map<String, Value>, name: &str) -> Option<T> {
    object.remove(name).map_or_else(T::missing, T::from_stored)
}

/// [`stored`] for a field under `#[serde(default)]`: a missing member takes its default.
pub(crate) fn stored_or_default<T: FromStored + Default>(
    object: &mut Map<String, Value>,
    name: &str,
) -> Option<T> {
    object
        .remove(name)
        .map_or_else(|| Some(T::default()), T::from_stored)
}

/// A unit variant of an enum deriving `Deserialize`, by the derive's own names (no second list
/// to keep in step with the enum): a string, or serde_json's other spelling, an object with the
/// name as its one member and `null` as its value.
pub(crate) fn unit_variant<T: DeserializeOwned>(value: Value) -> Option<T> {
    let name = match value {
        Value::String(name) => name,
        Value::Object(object) if object.len() == 1 => match object.into_iter().next() {
            Some((name, Value::Null)) => name,
            _ => return None,
        },
        _ => return None,
    };
    T::deserialize(de::value::StrDeserializer::<de::value::Error>::new(&name)).ok()
}

impl FromStored for String {
    fn from_stored(value: Value) -> Option<Self> {
        match value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

impl FromStored for bool {
    fn from_stored(value: Value) -> Option<Self> {
        value.as_bool()
    }
}

impl FromStored for u64 {
    fn from_stored(value: Value) -> Option<Self> {
        // As serde's: a whole number that fits; a float (even `7.0`) or a negative one does not.
        value.as_u64()
    }
}

impl FromStored for u16 {
    fn from_stored(value: Value) -> Option<Self> {
        value.as_u64().and_then(|n| u16::try_from(n).ok())
    }
}

impl FromStored for f64 {
    fn from_stored(value: Value) -> Option<Self> {
        // As serde's: any number (a whole one too).
        value.as_f64()
    }
}

impl<T: FromStored> FromStored for Option<T> {
    fn from_stored(value: Value) -> Option<Self> {
        match value {
            Value::Null => Some(None),
            other => T::from_stored(other).map(Some),
        }
    }

    fn missing() -> Option<Self> {
        Some(None)
    }
}

impl<T: FromStored> FromStored for Vec<T> {
    fn from_stored(value: Value) -> Option<Self> {
        match value {
            Value::Array(items) => items.into_iter().map(T::from_stored).collect(),
            _ => None,
        }
    }
}

impl<A: FromStored, B: FromStored> FromStored for (A, B) {
    fn from_stored(value: Value) -> Option<Self> {
        // As serde's: an array of exactly two.
        let Value::Array(items) = value else {
            return None;
        };
        let [a, b]: [Value; 2] = items.try_into().ok()?;
        Some((A::from_stored(a)?, B::from_stored(b)?))
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

/// Pretty JSON for display (two-space indent, keys sorted).
pub fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// For the stored formats' tests: `text` with the object at `at` (a path such as
/// `steps/0/exchange`, numbers indexing arrays) edited by `edit`.
#[cfg(test)]
pub(crate) fn edited_at(
    text: &str,
    at: &str,
    edit: impl FnOnce(&mut Map<String, Value>),
) -> String {
    let mut value: Value = serde_json::from_str(text).unwrap();
    let mut object = &mut value;
    for part in at.split('/').filter(|p| !p.is_empty()) {
        object = match part.parse::<usize>() {
            Ok(i) => &mut object[i],
            Err(_) => &mut object[part],
        };
    }
    edit(object.as_object_mut().unwrap());
    value.to_string()
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

    /// Issue 13 defect 9: a repeated member inside a nested object (a JWKS key's `use`) or an
    /// object inside an array is refused like a top-level one.
    #[test]
    fn t28_duplicate_keys_are_refused_at_every_depth() {
        for (body, name) in [
            (r#"{"keys":[{"kty":"RSA","use":"enc","use":"sig"}]}"#, "use"),
            (r#"{"a":{"b":{"c":1,"c":2}}}"#, "c"),
            (r#"{"a":[1,[2,{"x":1,"y":2,"x":3}]]}"#, "x"),
        ] {
            assert_eq!(
                parse_object(body),
                Err(JsonProblem::Duplicate(name.into())),
                "{body}"
            );
        }
        // The same name in two different objects is not a repeat.
        assert!(parse_object(r#"{"a":{"x":1},"b":{"x":2},"x":[{"x":3},{"x":4}]}"#).is_ok());
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
        for body in [
            "",
            "<html>",
            "{",
            "{\"a\":1",
            "{} x",
            "{\"a\":1,\"a\":",
            "1e400",
        ] {
            assert_eq!(parse_object(body), Err(JsonProblem::NotJson), "{body}");
        }
    }

    #[test]
    fn a_syntax_error_wins_over_a_duplicate() {
        assert_eq!(
            parse_object(r#"{"a":1,"a":2,"b":}"#),
            Err(JsonProblem::NotJson)
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse_object(&deep), Err(JsonProblem::NotJson));
    }

    #[test]
    fn t12_media_type_is_case_insensitive_and_ignores_parameters() {
        for ct in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            " application/json ;charset=UTF-8",
        ] {
            assert!(is_json_media_type(Some(ct)), "{ct}");
        }
        for ct in [
            "text/plain",
            "application/jsonx",
            "application/jwk-set+json",
            "",
        ] {
            assert!(!is_json_media_type(Some(ct)), "{ct}");
        }
        assert!(!is_json_media_type(None));
    }

    #[derive(Deserialize, Debug, PartialEq, Default)]
    #[serde(default)]
    struct Doc {
        n: Member<u64>,
        s: Member<String>,
    }

    #[test]
    fn t20_member_keeps_wrong_types_and_ignores_unknown_members() {
        let doc: Doc = parse_document(r#"{"n":-1,"s":null,"extra":{"deep":[1]}}"#).unwrap();
        assert_eq!(doc.n, Member::Other(serde_json::json!(-1)));
        assert!(doc.s.is_absent_or_null());
        let doc: Doc = parse_document(r#"{"n":18446744073709551616}"#).unwrap();
        assert!(
            matches!(doc.n, Member::Other(_)),
            "a number too big for u64"
        );
        assert_eq!(doc.s, Member::Absent);
        let doc: Doc = parse_document(r#"{"n":7,"s":"x"}"#).unwrap();
        assert_eq!(
            (doc.n.ok(), doc.s.ok().map(String::as_str)),
            (Some(&7), Some("x"))
        );
    }

    /// A JSON text with `inner` at a generated depth, inside alternating objects and arrays.
    #[cfg(not(target_arch = "wasm32"))]
    fn nested(depth: usize, inner: &str) -> String {
        let mut text = inner.to_owned();
        for level in 0..depth {
            text = if level % 2 == 0 {
                format!(r#"{{"k{level}":{text},"other":1}}"#)
            } else {
                format!("[0,{text}]")
            };
        }
        // The outermost level built was an array: put it in an object.
        if depth % 2 == 0 && depth > 0 {
            format!(r#"{{"top":{text}}}"#)
        } else {
            text
        }
    }

    // proptest is a host-only dev-dependency (Cargo.toml).
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        /// T-28 as a rule: a repeated member at any depth, under any (escaped) name, is refused;
        /// the same document without the repeat is read.
        #[test]
        fn t28_repeated_member_at_any_depth_is_refused(
            depth in 0usize..40,
            name in "\\PC{0,12}",
            first in proptest::num::i64::ANY,
            second in "\\PC{0,8}",
        ) {
            // "z" is the filler member between the two; a name equal to it would repeat it too.
            proptest::prop_assume!(name != "z");
            let key = serde_json::to_string(&name).unwrap();
            let value = serde_json::to_string(&second).unwrap();
            let twice = format!("{{{key}:{first},\"z\":null,{key}:{value}}}");
            proptest::prop_assert_eq!(
                parse_object(&nested(depth, &twice)),
                Err(JsonProblem::Duplicate(name.clone()))
            );
            let once = format!("{{{key}:{first},\"z\":null}}");
            let read = parse_object(&nested(depth, &once));
            proptest::prop_assert!(read.is_ok(), "{:?}", read);
        }

        /// The check never disagrees with serde_json on what is JSON.
        #[test]
        fn agrees_with_serde_json_on_junk(text in "[\\[\\]{}:,\"\\\\ 0-9a-fnrtuel.+\\-Ee]{0,40}") {
            let serde_says = serde_json::from_str::<Value>(&text).is_ok();
            let ours = parse_object(&text);
            proptest::prop_assert_eq!(serde_says, ours != Err(JsonProblem::NotJson), "{:?}", ours);
        }
    }
}
