//! The catalog's own rules: every reference in the code names an entry of
//! `public/teaching.txt`, every entry is referred to, and the `{placeholders}` of an entry are
//! the arguments its references give.

use super::*;

#[test]
fn resolve_fills_named_placeholders_and_keeps_inline_text() {
    let catalog = Catalog::parse("a.b\tHello {who}, {what}.\n").unwrap();
    let text = format!(
        "Before. {}",
        refer("a.b", &[("who", "you".into()), ("what", "x".into())])
    );
    assert_eq!(resolve(&text, Some(&catalog)), "Before. Hello you, x.");
    assert_eq!(resolve(&text, None), format!("Before. {LOADING}"));
    assert_eq!(resolve("plain", None), "plain");
    assert_eq!(
        resolve(crate::t!("no.such"), Some(&catalog)),
        "[missing text: no.such]"
    );
}

#[test]
fn an_argument_cannot_open_a_reference_of_its_own() {
    let catalog = Catalog::parse("a\t[{v}]\nsecret\tS\n").unwrap();
    let hostile = format!("{OPEN}secret{CLOSE}");
    assert_eq!(
        resolve(&refer("a", &[("v", hostile)]), Some(&catalog)),
        "[secret]"
    );
}

/// Every `t!("key", name = …)` in the sources: the key and the argument names it gives.
fn uses_in_sources() -> Vec<(String, String, Vec<String>)> {
    let mut found = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("text/tests.rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            let mut from = 0;
            while let Some(hit) = source[from..].find("t!(\"") {
                let at = from + hit;
                from = at + 4;
                // Not a longer macro name ending in t (`format!`, `assert!`), not a comment.
                let word_before = source[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_');
                let line_start = source[..at].rfind('\n').map_or(0, |n| n + 1);
                let in_comment = source[line_start..at].trim_start().starts_with("//");
                if word_before || in_comment {
                    continue;
                }
                let call = &source[at + 4..];
                let key_end = call.find('"').unwrap();
                let key = call[..key_end].to_owned();
                let mut depth = 1;
                let end = call
                    .char_indices()
                    .find(|&(_, c)| {
                        depth += match c {
                            '(' => 1,
                            ')' => -1,
                            _ => 0,
                        };
                        depth == 0
                    })
                    .map_or(call.len(), |(i, _)| i);
                let names = call[key_end + 1..end]
                    .split(',')
                    .filter_map(|arg| arg.split_once('=').map(|(n, _)| n.trim().to_owned()))
                    .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || c == '_'))
                    .collect();
                found.push((path.display().to_string(), key, names));
            }
        }
    }
    found
}

#[test]
fn catalog_every_key_used_in_the_code_is_in_teaching_txt() {
    let catalog = host_catalog();
    let uses = uses_in_sources();
    assert!(
        uses.len() > 100,
        "the scan found only {} uses of t!",
        uses.len()
    );
    let missing: Vec<_> = uses
        .iter()
        .filter(|(_, key, _)| catalog.get(key).is_none())
        .collect();
    assert!(missing.is_empty(), "keys not in public/{FILE}: {missing:?}");
}

#[test]
fn catalog_every_entry_of_teaching_txt_is_used() {
    let uses = uses_in_sources();
    let unused: Vec<&str> = host_catalog()
        .keys()
        .filter(|key| !uses.iter().any(|(_, used, _)| used == key))
        .collect();
    assert!(
        unused.is_empty(),
        "entries of public/{FILE} no code refers to: {unused:?}"
    );
}

#[test]
fn catalog_placeholders_are_the_arguments_each_use_gives() {
    let catalog = host_catalog();
    for (file, key, names) in uses_in_sources() {
        let Some(entry) = catalog.get(&key) else {
            continue;
        };
        let mut wanted = placeholders(entry);
        // Preset setup steps carry this page's values, filled by `presets::fill` after resolving.
        if key.starts_with("presets.") {
            wanted.retain(|p| p != "redirect_uri" && p != "origin");
        }
        wanted.sort();
        wanted.dedup();
        let mut given = names.clone();
        given.sort();
        assert_eq!(
            wanted, given,
            "{file}: t!(\"{key}\") gives {names:?}, the entry needs {wanted:?}"
        );
    }
}

#[test]
fn catalog_file_is_one_entry_a_line_unique_keys_no_marker_characters() {
    for key in host_catalog().keys() {
        let entry = host_catalog().get(key).unwrap();
        assert!(!entry.trim().is_empty(), "{key} is empty");
        assert!(
            !entry.contains([OPEN, SEP, CLOSE]),
            "{key} holds a marker character"
        );
        assert!(
            key.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.'),
            "{key}"
        );
    }
    assert!(Catalog::parse("a\tA\nno tab\n")
        .unwrap_err()
        .contains("line 2"));
    let keys: Vec<&str> = host_catalog().keys().collect();
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        keys.len(),
        unique.len(),
        "a key appears twice in public/{FILE}"
    );
}

/// Issue 14 (a stale cached catalog after an upgrade): the file's URL carries [`VERSION`], which
/// is the hash of the file as shipped, so any edit to `public/teaching.txt` gives a new URL and
/// an old cache entry is never read for it. A page that still meets an old catalog (a key it
/// lacks) shows `[missing text: key]`, never a blank (`resolve_fills_…` above).
#[test]
fn catalog_version_is_the_hash_of_the_shipped_file_and_changes_with_it() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/public/teaching.txt");
    let mut file = std::fs::read(path).expect("public/teaching.txt");
    assert_eq!(
        VERSION,
        fnv1a(&file),
        "VERSION is not the shipped file's hash"
    );
    let last = file.len() - 2;
    file[last] ^= 1;
    assert_ne!(VERSION, fnv1a(&file), "a one-bit edit must change the URL");
    file.truncate(file.len() / 2);
    assert_ne!(VERSION, fnv1a(&file), "a shorter file must change the URL");
}
