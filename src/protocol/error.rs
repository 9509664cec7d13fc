//! How errors talk to people: every error says what happened, whose side it is on and what to
//! do, and untrusted text from a provider is made safe to show before it reaches a message.

/// Who has to act for the problem to go away.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// A bug or a setting in this app (or in how it is configured).
    ThisApp,
    /// The authorization server or resource server.
    Provider,
    /// Something the user did or can decide (denied consent, waited too long, reloaded).
    User,
    /// The connection between the browser and a server.
    Network,
    /// The input looks forged or tampered with.
    Attacker,
}

impl Side {
    /// A short label for the "whose side" line of the problem banner.
    pub fn label(&self) -> &'static str {
        match self {
            Side::ThisApp => "this app (or its settings)",
            Side::Provider => "the provider",
            Side::User => "you (the user)",
            Side::Network => "the network",
            Side::Attacker => "possibly an attacker",
        }
    }
}

/// Plain-language explanation of an error, rendered in three sentences by the UI.
pub trait Explain {
    /// What went wrong, in words a user understands.
    fn what_happened(&self) -> String;
    /// Whose side the problem is on.
    fn whose_side(&self) -> Side;
    /// What the user can do next.
    fn what_to_do(&self) -> String;
}

/// Characters that reorder or hide text: the Unicode Default_Ignorable_Code_Point and format
/// (Cf) sets (bidi controls, zero-width and tag characters, fillers, variation selectors) and
/// the line/paragraph separators, from a table generated from Unicode data
/// (`tools/invisible-table.pl`). Shown escaped so that a provider cannot make one string look
/// like another.
pub fn is_invisible_or_bidi(c: char) -> bool {
    crate::protocol::invisible::is_invisible(c)
}

/// Makes untrusted text safe to show as text: at most `max_chars` characters of input (then
/// "…", X-5), and control, bidi-override and zero-width characters replaced by visible escapes
/// such as `\u{202E}`.
pub fn sanitize_for_display(untrusted: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(untrusted.len().min(max_chars.saturating_mul(4)) + 3);
    for (taken, c) in untrusted.chars().enumerate() {
        if taken == max_chars {
            out.push('…');
            break;
        }
        push_visible(&mut out, c);
    }
    out
}

/// Appends `c`, or its visible escape when it is a control or invisible character.
pub(crate) fn push_visible(out: &mut String, c: char) {
    if c.is_control() || is_invisible_or_bidi(c) {
        out.push_str(&format!("\\u{{{:X}}}", c as u32));
    } else {
        out.push(c);
    }
}

/// Whether `text` stays within the RFC 6749 §4.1.2.1 charset for `error` and
/// `error_description` (`%x20-21 / %x23-5B / %x5D-7E`); outside it the AS does not conform.
pub fn is_rfc6749_error_text(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

/// The independent X-6 reference the fuzz targets use (tools/invisible-reference.py).
#[cfg(test)]
#[path = "../../fuzz/src/reference_invisible.rs"]
mod reference_invisible;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x05_long_description_is_truncated() {
        let huge = "a".repeat(100_000);
        let shown = sanitize_for_display(&huge, 500);
        assert_eq!(shown.chars().count(), 501);
        assert!(shown.ends_with('…'));
        assert_eq!(sanitize_for_display("short", 500), "short");
        assert_eq!(sanitize_for_display("exactly", 7), "exactly");
    }

    #[test]
    fn x05_truncation_is_char_safe() {
        let shown = sanitize_for_display("ééééé", 2);
        assert_eq!(shown, "éé…");
    }

    #[test]
    fn x06_control_bidi_and_zero_width_are_escaped() {
        let shown = sanitize_for_display("a\u{202E}b\nc\u{200B}d\u{0}e\u{2066}f\u{7F}\tg", 100);
        assert_eq!(
            shown,
            "a\\u{202E}b\\u{A}c\\u{200B}d\\u{0}e\\u{2066}f\\u{7F}\\u{9}g"
        );
        for c in shown.chars() {
            assert!(!c.is_control() && !is_invisible_or_bidi(c), "{c:?} left in");
        }
    }

    #[test]
    fn x06_default_ignorable_and_format_characters_are_escaped() {
        // The example: a tag character makes a foreign issuer look like ours.
        let shown = sanitize_for_display("https://as.example\u{E0041}", 200);
        assert_eq!(shown, "https://as.example\\u{E0041}");
        for c in [
            '\u{AD}',
            '\u{34F}',
            '\u{180E}',
            '\u{3164}',
            '\u{FE0F}',
            '\u{E0001}',
            '\u{E007F}',
            '\u{115F}',
            '\u{1D173}',
            '\u{FFF0}',
            '\u{E01EF}',
        ] {
            assert_eq!(
                sanitize_for_display(&format!("a{c}b"), 10),
                format!("a\\u{{{:X}}}b", c as u32)
            );
        }
        // Every code point of the independent reference (Python's unicodedata Cc/Cf/Zl/Zp and
        // the Default_Ignorable_Code_Point lines of the Unicode data), one by one.
        for &(first, last) in reference_invisible::REFERENCE_INVISIBLE {
            for c in (first..=last).filter_map(char::from_u32) {
                assert_eq!(
                    sanitize_for_display(&c.to_string(), 10),
                    format!("\\u{{{:X}}}", c as u32),
                    "U+{:04X} is shown raw",
                    c as u32
                );
            }
        }
    }

    #[test]
    fn x06_the_escaped_set_is_exactly_the_unicode_one_nothing_visible_is_escaped() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let escaped = sanitize_for_display(&c.to_string(), 10) != c.to_string();
            assert_eq!(
                escaped,
                reference_invisible::is_reference_invisible(c),
                "U+{:04X}",
                c as u32
            );
        }
    }

    #[test]
    fn x06_markup_stays_verbatim_text() {
        // Escaping for HTML is the renderer's job (text nodes); here markup is just characters.
        let payload = "<img src=x onerror=alert(1)>";
        assert_eq!(sanitize_for_display(payload, 500), payload);
    }

    #[test]
    fn x06_nonconforming_error_text_is_detected() {
        assert!(is_rfc6749_error_text("User denied access"));
        assert!(!is_rfc6749_error_text("say \"hi\""));
        assert!(!is_rfc6749_error_text("back\\slash"));
        assert!(!is_rfc6749_error_text("é"));
        assert!(!is_rfc6749_error_text("line\nbreak"));
    }

    #[test]
    fn side_labels_are_distinct() {
        let all = [
            Side::ThisApp,
            Side::Provider,
            Side::User,
            Side::Network,
            Side::Attacker,
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a.label(), b.label());
            }
        }
    }
}
