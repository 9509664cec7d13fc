//! The teaching text as data (issue 14, "Size, restated"): the long notes, pitfalls, hints and
//! preset instructions live in `public/teaching.txt`, which the page fetches after its first
//! paint, not in the wasm. The code refers to an entry with [`t!`](crate::t), which stands for
//! it inside any ordinary string: a reference is `U+E000 key (U+E001 name=value)* U+E002`, so
//! every field that held text (a step's note, callout, a preset's caveat) keeps its `String` /
//! `&'static str` type, timelines stored by an older page still read, and inline text
//! (`Step::with_note("…")`) still works beside references. What shows text calls [`resolve`]
//! with the catalog once it has arrived, a short placeholder until then. Pure: no browser.

use std::borrow::Cow;

/// Starts a reference to a catalog entry inside a text.
pub const OPEN: char = '\u{E000}';
/// Separates a reference's key and its `name=value` arguments.
pub const SEP: char = '\u{E001}';
/// Ends a reference.
pub const CLOSE: char = '\u{E002}';

/// The data file's name, as the page fetches it (same origin, copied by trunk).
pub const FILE: &str = "teaching.txt";

/// What a reference shows while the catalog is on its way.
pub const LOADING: &str = "…";

/// A reference to the catalog entry `key`, with `{name}` placeholders filled from the named
/// arguments: `t!("engine.pkce")` is a `&'static str` (usable in consts), `t!("k", issuer = x)`
/// a `String`.
#[macro_export]
macro_rules! t {
    ($key:literal) => {
        concat!("\u{E000}", $key, "\u{E002}")
    };
    ($key:literal, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::text::refer($key, &[$((stringify!($name), ::std::string::ToString::to_string(&$value))),+])
    };
}

/// A reference with arguments (what `t!` with arguments expands to). The values are plain
/// text: a marker character inside one is dropped, so a value (say, a provider's message)
/// cannot open a reference of its own.
pub fn refer(key: &str, args: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(key.len() + 2 + args.len() * 16);
    out.push(OPEN);
    out.push_str(key);
    for (name, value) in args {
        out.push(SEP);
        out.push_str(name);
        out.push('=');
        out.extend(value.chars().filter(|c| !is_marker(*c)));
    }
    out.push(CLOSE);
    out
}

fn is_marker(c: char) -> bool {
    matches!(c, OPEN | SEP | CLOSE)
}

/// The loaded catalog: key → text with `{name}` placeholders.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalog(Vec<(String, String)>);

impl Catalog {
    /// Reads the data file: one entry a line, `key<TAB>text` (the texts hold no tab or line
    /// break), so reading it needs no parser at all; a clear message when a line is not one.
    pub fn parse(file: &str) -> Result<Self, String> {
        file.lines()
            .enumerate()
            .filter(|(_, line)| !line.is_empty())
            .map(|(n, line)| match line.split_once('\t') {
                Some((key, text)) if !key.is_empty() => Ok((key.to_owned(), text.to_owned())),
                _ => Err(format!("{FILE} line {} is not `key<TAB>text`", n + 1)),
            })
            .collect::<Result<_, _>>()
            .map(Catalog)
    }

    /// The entry's text, placeholders unfilled (a few hundred entries: a scan is enough).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, text)| text.as_str())
    }

    /// Every key, in file order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }
}

/// Whether the text holds a reference (so it needs the catalog to be shown).
pub fn has_refs(text: &str) -> bool {
    text.contains(OPEN)
}

/// The text with every reference replaced by its entry, placeholders filled; without a catalog
/// (not arrived yet, or failed) each reference shows as [`LOADING`]; an unknown key shows as
/// `[missing text: key]`. Text without references is returned as it is.
pub fn resolve<'a>(text: &'a str, catalog: Option<&Catalog>) -> Cow<'a, str> {
    resolve_or(text, catalog, LOADING)
}

/// [`resolve`], with `pending` in place of each reference when there is no catalog.
pub fn resolve_or<'a>(text: &'a str, catalog: Option<&Catalog>, pending: &str) -> Cow<'a, str> {
    if !has_refs(text) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() * 4);
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len_utf8()..];
        let end = after.find(CLOSE).unwrap_or(after.len());
        let reference = &after[..end];
        rest = after.get(end + CLOSE.len_utf8()..).unwrap_or("");
        let mut parts = reference.split(SEP);
        let key = parts.next().unwrap_or_default();
        match catalog.map(|c| c.get(key)) {
            None => out.push_str(pending),
            Some(None) => {
                out.push_str("[missing text: ");
                out.push_str(key);
                out.push(']');
            }
            Some(Some(entry)) => fill(&mut out, entry, parts),
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn fill<'a>(out: &mut String, entry: &str, args: impl Iterator<Item = &'a str>) {
    let args: Vec<(&str, &str)> = args.map(|a| a.split_once('=').unwrap_or((a, ""))).collect();
    let mut rest = entry;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        let name = &rest[open + 1..close];
        out.push_str(&rest[..open]);
        match args.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => out.push_str(value),
            None => out.push_str(&rest[open..=close]),
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
}

/// The references in a text: each key with its argument names (for the catalog's tests).
pub fn references(text: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len_utf8()..];
        let end = after.find(CLOSE).unwrap_or(after.len());
        let mut parts = after[..end].split(SEP);
        let key = parts.next().unwrap_or_default().to_owned();
        let names = parts
            .map(|a| a.split_once('=').map_or(a, |(n, _)| n).to_owned())
            .collect();
        found.push((key, names));
        rest = after.get(end + CLOSE.len_utf8()..).unwrap_or("");
    }
    found
}

/// The `{name}` placeholders of a catalog entry.
pub fn placeholders(entry: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = entry;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        names.push(rest[open + 1..close].to_owned());
        rest = &rest[close + 1..];
    }
    names
}

/// The catalog as the host (tests, tools) reads it: the same file, built in (never in the wasm).
#[cfg(any(test, not(target_arch = "wasm32")))]
pub fn host_catalog() -> &'static Catalog {
    static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    CATALOG.get_or_init(|| {
        Catalog::parse(include_str!("../public/teaching.txt")).expect("public/teaching.txt")
    })
}

/// The text as a person reads it, resolved with the built-in catalog (host only: tests).
#[cfg(any(test, not(target_arch = "wasm32")))]
pub fn plain(text: &str) -> String {
    resolve(text, Some(host_catalog())).into_owned()
}

/// A cache-busting version of the data file: a hash of its bytes computed at compile time (the
/// bytes themselves are not in the wasm), so a changed file is fetched afresh.
pub const VERSION: u32 = fnv1a(include_bytes!("../public/teaching.txt"));

const fn fnv1a(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u32;
        hash = hash.wrapping_mul(0x0100_0193);
        i += 1;
    }
    hash
}

#[cfg(test)]
mod tests;
