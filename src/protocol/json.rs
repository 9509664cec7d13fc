//! JSON without serde: a strict RFC 8259 value parser and writer, small enough for the wasm
//! (serde_json and the serde derives were about 60 KB of it; see README, Performance).
//!
//! The API mirrors the part of `serde_json` this crate used (`Value`, `Map`, `Number`,
//! `from_str`, `to_string_pretty`, compact `Display`), with the same behaviour: objects are
//! `BTreeMap`s (keys sorted, a repeated key keeps the last value), nesting deeper than 127 levels
//! is an error, strings must be valid (no raw control characters, no lone surrogates), numbers
//! follow the JSON grammar and must be finite. Differences: a non-integer number keeps the text
//! it was written as and is written back the same way (serde_json would re-format it), and its
//! `as_f64` is exact for up to 15 significant digits and within an ulp or so beyond.
//!
//! Also: a top-level object reader that refuses duplicate keys (T-28) and a media-type check.

use std::collections::BTreeMap;
use std::fmt;

/// A JSON object: keys sorted, like serde_json's default `Map`.
pub type Map<K, V> = BTreeMap<K, V>;

/// Nesting deeper than this many arrays and objects is refused (serde_json's limit).
const MAX_DEPTH: usize = 127;

/// A JSON value.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Map<String, Value>),
}

/// A JSON number: an integer when it is one and fits 64 bits, otherwise its text.
#[derive(Clone, Debug, PartialEq)]
pub struct Number(N);

#[derive(Clone, Debug, PartialEq)]
enum N {
    PosInt(u64),
    NegInt(i64),
    /// A number with a fraction or exponent (or too big for 64 bits): its value and its text.
    Float(f64, String),
}

impl Number {
    /// The value as a `u64` if it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self.0 {
            N::PosInt(u) => Some(u),
            _ => None,
        }
    }

    /// The value as an `i64` if it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        match self.0 {
            N::PosInt(u) => i64::try_from(u).ok(),
            N::NegInt(i) => Some(i),
            N::Float(..) => None,
        }
    }

    /// The value as an `f64` (always `Some`, like serde_json's).
    pub fn as_f64(&self) -> Option<f64> {
        Some(match self.0 {
            N::PosInt(u) => u as f64,
            N::NegInt(i) => i as f64,
            N::Float(f, _) => f,
        })
    }

    /// A float as serde_json writes whole numbers (`38.0`); other values with up to three
    /// decimals. Only durations are written this way.
    pub fn from_f64(f: f64) -> Option<Number> {
        if !f.is_finite() {
            return None;
        }
        let thousandths = (f.abs() * 1000.0).round();
        if thousandths >= 9.0e15 {
            return None;
        }
        let t = thousandths as u64;
        let mut text = String::new();
        if f < 0.0 && t != 0 {
            text.push('-');
        }
        text.push_str(&(t / 1000).to_string());
        text.push('.');
        let frac = t % 1000;
        if frac == 0 {
            text.push('0');
        } else {
            let digits = [frac / 100, frac / 10 % 10, frac % 10];
            let keep = if frac % 100 == 0 {
                1
            } else if frac % 10 == 0 {
                2
            } else {
                3
            };
            for d in &digits[..keep] {
                text.push(char::from(b'0' + *d as u8));
            }
        }
        Some(Number(N::Float(f, text)))
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            N::PosInt(u) => write!(f, "{u}"),
            N::NegInt(i) => write!(f, "{i}"),
            N::Float(_, text) => f.write_str(text),
        }
    }
}

impl From<u64> for Number {
    fn from(u: u64) -> Self {
        Number(N::PosInt(u))
    }
}

impl From<i64> for Number {
    fn from(i: i64) -> Self {
        if i < 0 {
            Number(N::NegInt(i))
        } else {
            Number(N::PosInt(i as u64))
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<u64> for Value {
    fn from(u: u64) -> Self {
        Value::Number(u.into())
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Number(i.into())
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Number(i64::from(i).into())
    }
}

impl From<u32> for Value {
    fn from(u: u32) -> Self {
        Value::Number(u64::from(u).into())
    }
}

impl From<u16> for Value {
    fn from(u: u16) -> Self {
        Value::Number(u64::from(u).into())
    }
}

impl From<f64> for Value {
    /// Whole numbers as `38.0`; not finite gives `null` (as serde_json).
    fn from(f: f64) -> Self {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map_or(Value::Null, Into::into)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::Array(items)
    }
}

impl From<Vec<String>> for Value {
    fn from(items: Vec<String>) -> Self {
        Value::Array(items.into_iter().map(Value::String).collect())
    }
}

impl From<Map<String, Value>> for Value {
    fn from(map: Map<String, Value>) -> Self {
        Value::Object(map)
    }
}

/// An object from `(name, value)` pairs (what `json!({...})` was used for); a repeated name
/// keeps the last value.
pub fn object<const LEN: usize>(pairs: [(&str, Value); LEN]) -> Value {
    object_of(&mut pairs.into_iter())
}

/// The one body of every [`object`] (inserting one by one: `collect` into a `BTreeMap` would
/// instantiate a sort for every array length).
fn object_of(pairs: &mut dyn Iterator<Item = (&str, Value)>) -> Value {
    let mut map = Map::new();
    for (name, value) in pairs {
        map.insert(name.to_owned(), value);
    }
    Value::Object(map)
}

static NULL: Value = Value::Null;

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Map<String, Value>> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut Map<String, Value>> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A member of an object (`None` for a missing one or a non-object).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.as_object().and_then(|map| map.get(name))
    }
}

impl std::ops::Index<&str> for Value {
    type Output = Value;
    /// A member of an object, or `null`.
    fn index(&self, name: &str) -> &Value {
        self.get(name).unwrap_or(&NULL)
    }
}

impl std::ops::IndexMut<&str> for Value {
    /// A member of an object, inserted as `null` if missing; `null` itself becomes an object
    /// (as serde_json). Panics on other values, as serde_json does.
    fn index_mut(&mut self, name: &str) -> &mut Value {
        if self.is_null() {
            *self = Value::Object(Map::new());
        }
        match self {
            Value::Object(map) => map.entry(name.to_owned()).or_insert(Value::Null),
            _ => panic!("cannot index a non-object JSON value with a string"),
        }
    }
}

impl std::ops::Index<usize> for Value {
    type Output = Value;
    fn index(&self, index: usize) -> &Value {
        self.as_array().and_then(|a| a.get(index)).unwrap_or(&NULL)
    }
}

impl std::ops::IndexMut<usize> for Value {
    fn index_mut(&mut self, index: usize) -> &mut Value {
        match self {
            Value::Array(items) => &mut items[index],
            _ => panic!("cannot index a non-array JSON value with a number"),
        }
    }
}

impl PartialEq<str> for Value {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl PartialEq<u64> for Value {
    fn eq(&self, other: &u64) -> bool {
        self.as_u64() == Some(*other)
    }
}

impl PartialEq<i32> for Value {
    fn eq(&self, other: &i32) -> bool {
        matches!(self, Value::Number(n) if n.as_i64() == Some(i64::from(*other)))
    }
}

impl PartialEq<bool> for Value {
    fn eq(&self, other: &bool) -> bool {
        self.as_bool() == Some(*other)
    }
}

/// Tests write JSON with `serde_json::json!` (a host-only dev-dependency) through this macro,
/// which converts the result.
#[cfg(test)]
#[macro_export]
macro_rules! json {
    ($($t:tt)+) => {
        $crate::protocol::json::Value::from(::serde_json::json!($($t)+))
    };
}

#[cfg(test)]
impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        from_str(&v.to_string()).expect("serde_json writes valid JSON")
    }
}

#[cfg(test)]
impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_json::from_str::<serde_json::Value>(&self.to_string())
            .expect("valid JSON")
            .serialize(s)
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Writes `value`; `indent` is `Some(level)` for pretty output (two spaces a level).
fn write_value(out: &mut String, value: &Value, indent: Option<usize>) {
    fn newline(out: &mut String, level: usize) {
        out.push('\n');
        for _ in 0..level {
            out.push_str("  ");
        }
    }
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(level) = indent {
                    newline(out, level + 1);
                }
                write_value(out, item, indent.map(|l| l + 1));
            }
            if let (Some(level), false) = (indent, items.is_empty()) {
                newline(out, level);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (name, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(level) = indent {
                    newline(out, level + 1);
                }
                write_string(out, name);
                out.push_str(if indent.is_some() { ": " } else { ":" });
                write_value(out, item, indent.map(|l| l + 1));
            }
            if let (Some(level), false) = (indent, map.is_empty()) {
                newline(out, level);
            }
            out.push('}');
        }
    }
}

impl fmt::Display for Value {
    /// Compact JSON, as serde_json's `to_string`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        write_value(&mut out, self, None);
        f.write_str(&out)
    }
}

/// Pretty JSON with two-space indentation, as serde_json's `to_string_pretty`.
pub fn to_string_pretty(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, Some(0));
    out
}

/// Pretty JSON of an object.
pub fn object_to_string_pretty(map: &Map<String, Value>) -> String {
    // Written directly rather than cloned into a `Value`.
    let mut out = String::new();
    if map.is_empty() {
        return "{}".to_owned();
    }
    out.push('{');
    for (i, (name, item)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("\n  ");
        write_string(&mut out, name);
        out.push_str(": ");
        write_value(&mut out, item, Some(1));
    }
    out.push_str("\n}");
    out
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// Why text is not JSON (the parsers here only need to know that it is not).
#[derive(Debug, PartialEq, Eq)]
pub struct SyntaxError;

struct Parser<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
    depth: usize,
    /// Refuse a repeated key in any object (the storage formats, as serde's derives did).
    unique_keys: bool,
}

type Parsed<T> = Result<T, SyntaxError>;

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            bytes: text.as_bytes(),
            text,
            pos: 0,
            depth: 0,
            unique_keys: false,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_word(&mut self, word: &str) -> Parsed<()> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(SyntaxError)
        }
    }

    fn end(&mut self) -> Parsed<()> {
        self.skip_ws();
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(SyntaxError)
        }
    }

    fn value(&mut self) -> Parsed<Value> {
        self.skip_ws();
        match self.peek().ok_or(SyntaxError)? {
            b'n' => self.expect_word("null").map(|()| Value::Null),
            b't' => self.expect_word("true").map(|()| Value::Bool(true)),
            b'f' => self.expect_word("false").map(|()| Value::Bool(false)),
            b'"' => self.string().map(Value::String),
            b'[' => {
                self.nest()?;
                let mut items = Vec::new();
                self.skip_ws();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value()?);
                        self.skip_ws();
                        if self.eat(b']') {
                            break;
                        }
                        if !self.eat(b',') {
                            return Err(SyntaxError);
                        }
                    }
                }
                self.depth -= 1;
                Ok(Value::Array(items))
            }
            b'{' => {
                let mut map = Map::new();
                let mut repeated = false;
                self.members(|name, value| {
                    // A repeated key keeps the last value, as serde_json's `Map`.
                    repeated |= map.insert(name, value).is_some();
                })?;
                if repeated && self.unique_keys {
                    return Err(SyntaxError);
                }
                Ok(Value::Object(map))
            }
            b'-' | b'0'..=b'9' => self.number().map(Value::Number),
            _ => Err(SyntaxError),
        }
    }

    fn nest(&mut self) -> Parsed<()> {
        self.pos += 1;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(SyntaxError)
        } else {
            Ok(())
        }
    }

    /// Reads an object whose `{` is next, handing each member to `member` in order.
    fn members(&mut self, mut member: impl FnMut(String, Value)) -> Parsed<()> {
        self.nest()?;
        self.skip_ws();
        if !self.eat(b'}') {
            loop {
                self.skip_ws();
                if self.peek() != Some(b'"') {
                    return Err(SyntaxError);
                }
                let name = self.string()?;
                self.skip_ws();
                if !self.eat(b':') {
                    return Err(SyntaxError);
                }
                let value = self.value()?;
                member(name, value);
                self.skip_ws();
                if self.eat(b'}') {
                    break;
                }
                if !self.eat(b',') {
                    return Err(SyntaxError);
                }
            }
        }
        self.depth -= 1;
        Ok(())
    }

    fn hex4(&mut self) -> Parsed<u32> {
        let digits = self.bytes.get(self.pos..self.pos + 4).ok_or(SyntaxError)?;
        let mut n = 0;
        for &d in digits {
            n = n * 16 + char::from(d).to_digit(16).ok_or(SyntaxError)?;
        }
        self.pos += 4;
        Ok(n)
    }

    /// Reads a string whose `"` is next.
    fn string(&mut self) -> Parsed<String> {
        self.pos += 1;
        let mut out = String::new();
        let mut start = self.pos;
        loop {
            let b = self.peek().ok_or(SyntaxError)?;
            match b {
                b'"' => {
                    out.push_str(&self.text[start..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    out.push_str(&self.text[start..self.pos]);
                    self.pos += 1;
                    let e = self.peek().ok_or(SyntaxError)?;
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let first = self.hex4()?;
                            let code = match first {
                                0xD800..=0xDBFF => {
                                    if !(self.eat(b'\\') && self.eat(b'u')) {
                                        return Err(SyntaxError);
                                    }
                                    let second = self.hex4()?;
                                    if !(0xDC00..=0xDFFF).contains(&second) {
                                        return Err(SyntaxError);
                                    }
                                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                                }
                                0xDC00..=0xDFFF => return Err(SyntaxError),
                                _ => first,
                            };
                            out.push(char::from_u32(code).ok_or(SyntaxError)?);
                        }
                        _ => return Err(SyntaxError),
                    }
                    start = self.pos;
                }
                0..=0x1f => return Err(SyntaxError),
                _ => self.pos += 1,
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Parsed<Number> {
        let start = self.pos;
        let negative = self.eat(b'-');
        let int_start = self.pos;
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(SyntaxError),
        }
        let int_end = self.pos;
        let mut integer = true;
        if self.eat(b'.') {
            integer = false;
            if self.digits() == 0 {
                return Err(SyntaxError);
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            integer = false;
            self.pos += 1;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if self.digits() == 0 {
                return Err(SyntaxError);
            }
        }
        let text = &self.text[start..self.pos];
        if integer {
            let digits = &self.text[int_start..int_end];
            if let Ok(u) = digits.parse::<u64>() {
                if !negative {
                    return Ok(Number(N::PosInt(u)));
                }
                // `-0` is a float for serde_json (negative zero).
                if let (false, Ok(i)) = (u == 0, text.parse::<i64>()) {
                    return Ok(Number(N::NegInt(i)));
                }
            }
        }
        let f = decimal_to_f64(text).ok_or(SyntaxError)?;
        Ok(Number(N::Float(f, text.to_owned())))
    }
}

/// The value of a JSON number's text, without core's float parser (whose tables cost about
/// 10 KB of wasm). Exact when the significant digits fit 2^53 and the decimal exponent is
/// within ±22 (Clinger's fast path); otherwise within a few ulps. `None` when not finite.
fn decimal_to_f64(text: &str) -> Option<f64> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa_text, exponent_text) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let mut significand: u64 = 0;
    let mut exponent: i64 = 0;
    let mut seen_point = false;
    let mut significant = 0;
    for b in mantissa_text.bytes() {
        match b {
            b'.' => seen_point = true,
            b'0'..=b'9' => {
                if significand == 0 && b == b'0' {
                    if seen_point {
                        exponent -= 1;
                    }
                } else if significant < 19 {
                    significand = significand * 10 + u64::from(b - b'0');
                    significant += 1;
                    if seen_point {
                        exponent -= 1;
                    }
                } else if !seen_point {
                    exponent += 1;
                }
            }
            _ => return None,
        }
    }
    if let Some(e) = exponent_text {
        let (sign, digits) = match e.as_bytes().first() {
            Some(b'-') => (-1, &e[1..]),
            Some(b'+') => (1, &e[1..]),
            _ => (1, e),
        };
        let mut value: i64 = 0;
        for b in digits.bytes() {
            value = (value * 10 + i64::from(b - b'0')).min(100_000);
        }
        exponent += sign * value;
    }
    let mut f = significand as f64;
    if significand != 0 {
        if significand < (1 << 53) && (-22..=22).contains(&exponent) {
            let power = POWERS_OF_TEN[exponent.unsigned_abs() as usize];
            f = if exponent < 0 { f / power } else { f * power };
        } else if exponent < -330 {
            f = 0.0;
        } else if exponent > 330 {
            return None;
        } else {
            // Scale in steps that keep the intermediate value finite and normal.
            let mut e = exponent;
            while e > 0 {
                let step = e.min(22);
                f *= POWERS_OF_TEN[step as usize];
                e -= step;
            }
            while e < 0 {
                let step = (-e).min(22);
                f /= POWERS_OF_TEN[step as usize];
                e += step;
            }
        }
    }
    if !f.is_finite() {
        return None;
    }
    Some(if negative { -f } else { f })
}

const POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Parses a whole JSON text (serde_json's `from_str::<Value>`).
pub fn from_str(text: &str) -> Result<Value, SyntaxError> {
    let mut parser = Parser::new(text);
    let value = parser.value()?;
    parser.end()?;
    Ok(value)
}

/// Parses a JSON text that must be an object (anything else is an error).
pub fn object_from_str(text: &str) -> Result<Map<String, Value>, SyntaxError> {
    match from_str(text)? {
        Value::Object(map) => Ok(map),
        _ => Err(SyntaxError),
    }
}

/// Parses this app's own stored JSON, which must be an object and has no repeated key at any
/// level (a repeated key means it was edited by hand or tampered with).
pub fn strict_object_from_str(text: &str) -> Result<Map<String, Value>, SyntaxError> {
    let mut parser = Parser::new(text);
    parser.unique_keys = true;
    let value = parser.value()?;
    parser.end()?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(SyntaxError),
    }
}

// ---------------------------------------------------------------------------------------------
// Typed storage formats (the timeline and the attack lab's record in sessionStorage): what the
// serde derives did, as one small trait and two macros.

/// A type kept in this app's own storage formats.
pub trait Stored: Sized {
    /// The value written.
    fn store(&self) -> Value;
    /// Reads a value written by [`Stored::store`]; `None` for anything else.
    fn load(value: &Value) -> Option<Self>;
}

/// The stored text of `item` (compact JSON).
pub fn store_text(item: &impl Stored) -> String {
    item.store().to_string()
}

/// Reads a stored text: an object without repeated keys at any level, then a `T`.
pub fn load_text<T: Stored>(text: &str) -> Option<T> {
    T::load(&Value::Object(strict_object_from_str(text).ok()?))
}

/// A member that may be missing (or `null`): it reads as the default (`#[serde(default)]`).
pub fn or_default<T: Stored + Default>(value: &Value) -> Option<T> {
    if value.is_null() {
        Some(T::default())
    } else {
        T::load(value)
    }
}

impl Stored for String {
    fn store(&self) -> Value {
        self.as_str().into()
    }
    fn load(value: &Value) -> Option<Self> {
        value.as_str().map(str::to_owned)
    }
}

impl Stored for bool {
    fn store(&self) -> Value {
        (*self).into()
    }
    fn load(value: &Value) -> Option<Self> {
        value.as_bool()
    }
}

impl Stored for u64 {
    fn store(&self) -> Value {
        (*self).into()
    }
    fn load(value: &Value) -> Option<Self> {
        value.as_u64()
    }
}

impl Stored for u16 {
    fn store(&self) -> Value {
        (*self).into()
    }
    fn load(value: &Value) -> Option<Self> {
        value.as_u64()?.try_into().ok()
    }
}

impl Stored for f64 {
    fn store(&self) -> Value {
        (*self).into()
    }
    fn load(value: &Value) -> Option<Self> {
        match value {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }
}

impl<T: Stored> Stored for Option<T> {
    /// `None` is `null`; a missing member reads as `None` too.
    fn store(&self) -> Value {
        self.as_ref().map_or(Value::Null, T::store)
    }
    fn load(value: &Value) -> Option<Self> {
        if value.is_null() {
            Some(None)
        } else {
            T::load(value).map(Some)
        }
    }
}

impl<T: Stored> Stored for Vec<T> {
    fn store(&self) -> Value {
        Value::Array(self.iter().map(T::store).collect())
    }
    fn load(value: &Value) -> Option<Self> {
        value.as_array()?.iter().map(T::load).collect()
    }
}

impl<A: Stored, B: Stored> Stored for (A, B) {
    /// A two-element array.
    fn store(&self) -> Value {
        Value::Array(vec![self.0.store(), self.1.store()])
    }
    fn load(value: &Value) -> Option<Self> {
        match value.as_array()?.as_slice() {
            [a, b] => Some((A::load(a)?, B::load(b)?)),
            _ => None,
        }
    }
}

/// [`Stored`] for a struct, as an object of its fields by name: `stored_struct!(Type { a, b }
/// default { c } skip { d })`. `default` fields may be missing (they read as the default);
/// `skip` fields are never written and read as the default.
macro_rules! stored_struct {
    ($ty:ident { $($f:ident),+ $(,)? } $(default { $($d:ident),+ $(,)? })? $(skip { $($s:ident),+ $(,)? })?) => {
        impl $crate::protocol::json::Stored for $ty {
            fn store(&self) -> $crate::protocol::json::Value {
                $crate::protocol::json::object([
                    $((stringify!($f), $crate::protocol::json::Stored::store(&self.$f)),)+
                    $($((stringify!($d), $crate::protocol::json::Stored::store(&self.$d)),)+)?
                ])
            }
            fn load(value: &$crate::protocol::json::Value) -> Option<Self> {
                value.as_object()?;
                Some($ty {
                    $($f: $crate::protocol::json::Stored::load(&value[stringify!($f)])?,)+
                    $($($d: $crate::protocol::json::or_default(&value[stringify!($d)])?,)+)?
                    $($($s: Default::default(),)+)?
                })
            }
        }
    };
}
pub(crate) use stored_struct;

/// Declares a fieldless enum that is [`Stored`] as its variant's name: wrap the whole
/// definition (attributes and doc comments included) in `stored_enum! { ... }`.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $vis:vis enum $ty:ident { $($(#[$vmeta:meta])* $v:ident),+ $(,)? }) => {
        $(#[$meta])*
        $vis enum $ty {
            $($(#[$vmeta])* $v,)+
        }

        impl $crate::protocol::json::Stored for $ty {
            fn store(&self) -> $crate::protocol::json::Value {
                match self {
                    $($ty::$v => stringify!($v),)+
                }
                .into()
            }
            fn load(value: &$crate::protocol::json::Value) -> Option<Self> {
                match value.as_str()? {
                    $(stringify!($v) => Some($ty::$v),)+
                    _ => None,
                }
            }
        }
    };
}
pub(crate) use stored_enum;

// ---------------------------------------------------------------------------------------------
// Reading typed data out of values (for the sessionStorage and localStorage formats).

/// A string member.
pub fn str_field(map: &Map<String, Value>, name: &str) -> Option<String> {
    map.get(name)?.as_str().map(str::to_owned)
}

/// An optional string member: missing or `null` is `Some(None)`, a non-string is `None`.
pub fn opt_str_field(map: &Map<String, Value>, name: &str) -> Option<Option<String>> {
    match map.get(name) {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(_) => None,
    }
}

/// An optional string as a value.
pub fn opt_str(value: &Option<String>) -> Value {
    value.as_deref().map_or(Value::Null, Value::from)
}

// ---------------------------------------------------------------------------------------------
// The protocol parsers' view

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

/// Parses a body that must be a JSON object with unique top-level keys (serde_json's `Map`
/// would silently keep the last one, T-28). A syntax error anywhere wins over a duplicate.
pub(crate) fn parse_object(body: &str) -> Result<Map<String, Value>, JsonProblem> {
    let mut parser = Parser::new(body);
    parser.skip_ws();
    if parser.peek() != Some(b'{') {
        return match parser.value().and_then(|_| parser.end()) {
            Ok(()) => Err(JsonProblem::NotAnObject),
            Err(SyntaxError) => Err(JsonProblem::NotJson),
        };
    }
    let mut object = Map::new();
    let mut duplicate = None;
    parser
        .members(|name, value| {
            if duplicate.is_none() {
                match object.entry(name) {
                    std::collections::btree_map::Entry::Occupied(taken) => {
                        duplicate = Some(taken.key().clone());
                    }
                    std::collections::btree_map::Entry::Vacant(free) => {
                        free.insert(value);
                    }
                }
            }
        })
        .and_then(|()| parser.end())
        .map_err(|SyntaxError| JsonProblem::NotJson)?;
    match duplicate {
        Some(name) => Err(JsonProblem::Duplicate(name)),
        None => Ok(object),
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

    /// What serde_json (the parser this module replaced) makes of a text: `None` when it is not
    /// JSON, else its compact form.
    fn serde_json_says(text: &str) -> Option<String> {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .map(|v| v.to_string())
    }

    #[test]
    fn accepts_and_refuses_what_serde_json_did() {
        for text in [
            "null",
            "true",
            "false",
            "0",
            "1",
            "-1",
            "18446744073709551615",
            "-9223372036854775808",
            "\"\"",
            "\"a\\u00e9\\ud83d\\ude00\\n\\/\"",
            "[]",
            "{}",
            " [1, {\"a\": [true, null]}] ",
            "{\"b\":1,\"a\":2}",
            "{\"a\":1,\"a\":2}",
            "[\"\\u0000\\u001f\\u007f\"]",
            "\"\u{7f}é€😀\"",
            // Refused by both:
            "",
            " ",
            "nul",
            "tru",
            "[1,]",
            "{\"a\":1,}",
            "[01]",
            "-",
            "1.",
            ".5",
            "1e",
            "1e+",
            "+1",
            "0x10",
            "NaN",
            "Infinity",
            "[1 2]",
            "{\"a\" 1}",
            "{a:1}",
            "'a'",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"\\u12\"",
            "\"\t\"",
            "\"\n\"",
            "[1]x",
            "{}{}",
            "1e400",
            "-1e400",
            "\"abc",
        ] {
            let ours = from_str(text).ok().map(|v| v.to_string());
            assert_eq!(ours, serde_json_says(text), "{text:?}");
        }
    }

    #[test]
    fn numbers_keep_their_values() {
        for (text, u, f) in [
            ("0", Some(0), 0.0_f64),
            ("-0", None, -0.0),
            ("3600", Some(3600), 3600.0),
            ("18446744073709551616", None, 18446744073709551616.0),
            ("1e20", None, 1e20),
            ("3600.5", None, 3600.5),
            ("-0.5", None, -0.5),
            ("1.5E3", None, 1500.0),
            ("1764000000.25", None, 1764000000.25),
            ("2.5e-3", None, 0.0025),
            ("1e-400", None, 0.0),
            (
                "123456789012345678901234567890",
                None,
                1.2345678901234568e29,
            ),
        ] {
            let Value::Number(n) = from_str(text).unwrap() else {
                panic!("{text}")
            };
            assert_eq!(n.as_u64(), u, "{text}");
            let got = n.as_f64().unwrap();
            assert_eq!(got.is_sign_negative(), f.is_sign_negative(), "{text}");
            assert!((got - f).abs() <= f.abs() * 1e-15, "{text}: {got} != {f}");
        }
        assert_eq!(from_str("-42").unwrap().to_string(), "-42");
        assert_eq!(from_str("1.50e1").unwrap().to_string(), "1.50e1");
    }

    #[test]
    fn writes_like_serde_json() {
        let text = r#"{"z":[1,{"y":"a\"b\\c\u0001\n\u001f"}],"a":{},"m":[],"t":true,"n":null,"é":"😀\u007f"}"#;
        let ours = from_str(text).unwrap();
        let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(ours.to_string(), theirs.to_string());
        assert_eq!(
            to_string_pretty(&ours),
            serde_json::to_string_pretty(&theirs).unwrap()
        );
        let Value::Object(map) = &ours else { panic!() };
        assert_eq!(
            object_to_string_pretty(map),
            serde_json::to_string_pretty(&theirs).unwrap()
        );
        assert_eq!(object_to_string_pretty(&Map::new()), "{}");
        for f in [0.0, 38.0, 12.5, 2.25, 0.125, 1764000000000.0] {
            assert_eq!(
                Value::from(f).to_string(),
                serde_json::Value::from(f).to_string(),
                "{f}"
            );
        }
        assert_eq!(Value::from(f64::NAN), Value::Null);
    }

    #[test]
    fn nesting_up_to_serde_jsons_limit_is_read() {
        for depth in [1, 126, 127, 128, 129] {
            let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            assert_eq!(
                from_str(&text).is_ok(),
                serde_json_says(&text).is_some(),
                "{depth}"
            );
        }
    }

    #[test]
    fn storage_texts_refuse_repeated_keys_at_any_level() {
        assert!(strict_object_from_str(r#"{"a":{"b":1}}"#).is_ok());
        assert!(strict_object_from_str(r#"{"a":{"b":1,"b":2}}"#).is_err());
        assert!(strict_object_from_str(r#"{"a":1,"a":1}"#).is_err());
        assert!(strict_object_from_str("[]").is_err());
        // The lenient reader keeps the last value, as serde_json's Map.
        assert_eq!(from_str(r#"{"a":{"b":1,"b":2}}"#).unwrap()["a"]["b"], 2);
    }

    // proptest is a host-only dev-dependency (Cargo.toml).
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn agrees_with_serde_json_on_junk(text in "[\\[\\]{}:,\"\\\\ 0-9a-fnrtuel.+\\-Ee]{0,40}") {
            let ours = from_str(&text).ok().map(|v| v.to_string());
            let theirs = serde_json_says(&text);
            proptest::prop_assert_eq!(ours.is_some(), theirs.is_some());
            // Non-integers are written back as they were read; serde_json re-formats them.
            if !text.contains(['.', 'e', 'E']) && !text.contains("-0") {
                proptest::prop_assert_eq!(ours, theirs);
            }
        }

        #[test]
        fn agrees_with_serde_json_on_generated_values(
            keys in proptest::collection::vec("[a-c\\\\\"\\u{0}-\\u{1f}é😀]{0,3}", 0..4),
            numbers in proptest::collection::vec(proptest::num::i64::ANY, 0..4),
        ) {
            let value = serde_json::json!({
                "keys": keys.clone(),
                "numbers": numbers,
                "nested": keys.iter().map(|k| serde_json::json!({ k.as_str(): [k, null, true] })).collect::<Vec<_>>(),
            });
            let text = value.to_string();
            let ours = from_str(&text).unwrap();
            proptest::prop_assert_eq!(ours.to_string(), text);
            proptest::prop_assert_eq!(to_string_pretty(&ours), serde_json::to_string_pretty(&value).unwrap());
        }
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
