//! Scope trace (RFC 6749 §3.3): requested → granted, scope by scope. A scope string is a
//! space-delimited, case-sensitive set; order and repeats carry no meaning.

/// What became of one scope between the request and the token response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeMark {
    /// Requested and granted.
    Granted,
    /// Requested, not granted: the provider narrowed the grant.
    NotGranted,
    /// Granted without being requested: the provider widened the grant.
    Added,
}

impl ScopeMark {
    /// The short word shown next to the scope.
    pub fn word(self) -> &'static str {
        match self {
            Self::Granted => "granted",
            Self::NotGranted => "not granted",
            Self::Added => "added",
        }
    }
}

/// Each scope of the request and of the grant, marked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeTrace {
    /// Requested scopes in request order, then added ones in grant order.
    pub entries: Vec<(String, ScopeMark)>,
}

/// Splits a scope string into its distinct scopes, first occurrence first (RFC 6749 §3.3).
pub fn scopes(value: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for scope in value.split(' ').filter(|s| !s.is_empty()) {
        if !out.contains(&scope) {
            out.push(scope);
        }
    }
    out
}

/// Compares the requested scope with the granted one as sets (case-sensitive).
pub fn trace(requested: &str, granted: &str) -> ScopeTrace {
    let asked = scopes(requested);
    let got = scopes(granted);
    let mut entries: Vec<(String, ScopeMark)> = asked
        .iter()
        .map(|s| {
            let mark = if got.contains(s) {
                ScopeMark::Granted
            } else {
                ScopeMark::NotGranted
            };
            ((*s).to_owned(), mark)
        })
        .collect();
    entries.extend(
        got.iter()
            .filter(|s| !asked.contains(s))
            .map(|s| ((*s).to_owned(), ScopeMark::Added)),
    );
    ScopeTrace { entries }
}

impl ScopeTrace {
    /// The scopes with `mark`.
    pub fn with(&self, mark: ScopeMark) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|(_, m)| *m == mark)
            .map(|(s, _)| s.as_str())
            .collect()
    }

    /// A plain sentence when the grant differs from the request; `None` when it is the same set.
    pub fn note(&self) -> Option<String> {
        let missing = self.with(ScopeMark::NotGranted);
        let added = self.with(ScopeMark::Added);
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!(
                "The provider narrowed the grant: not granted {}. API calls needing it may get 403.",
                missing.join(", ")
            ));
        }
        if !added.is_empty() {
            parts.push(format!(
                "The provider widened the grant: added {} (not asked for).",
                added.join(", ")
            ));
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// The scopes an API asked for (a 403's `scope` attribute, RFC 6750 §3) that this grant
    /// lacks.
    pub fn missing_for(&self, needed: &str) -> Vec<String> {
        let held: Vec<&str> = self
            .entries
            .iter()
            .filter(|(_, m)| *m != ScopeMark::NotGranted)
            .map(|(s, _)| s.as_str())
            .collect();
        scopes(needed)
            .into_iter()
            .filter(|s| !held.contains(s))
            .map(str::to_owned)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::resource::parse_www_authenticate;

    #[test]
    fn rfc6749_3_3_scope_order_and_repeats_are_irrelevant() {
        let t = trace(
            "openid read:profile read:files",
            "read:files  openid read:profile openid",
        );
        assert!(t.entries.iter().all(|(_, m)| *m == ScopeMark::Granted));
        assert_eq!(t.entries.len(), 3);
        assert_eq!(t.note(), None);
    }

    #[test]
    fn rfc6749_3_3_scope_is_case_sensitive() {
        let t = trace("openid Read", "openid read");
        assert_eq!(t.with(ScopeMark::NotGranted), vec!["Read"]);
        assert_eq!(t.with(ScopeMark::Added), vec!["read"]);
    }

    #[test]
    fn rfc6749_3_3_narrowed_grant_marks_each_missing_scope() {
        let t = trace("openid read:profile read:files", "openid read:profile");
        assert_eq!(
            t.entries,
            vec![
                ("openid".to_owned(), ScopeMark::Granted),
                ("read:profile".to_owned(), ScopeMark::Granted),
                ("read:files".to_owned(), ScopeMark::NotGranted),
            ]
        );
        let note = t.note().unwrap();
        assert!(
            note.contains("narrowed") && note.contains("read:files"),
            "{note}"
        );
    }

    #[test]
    fn rfc6749_3_3_widened_grant_marks_added_scope() {
        let t = trace("openid", "openid offline_access");
        assert_eq!(t.with(ScopeMark::Added), vec!["offline_access"]);
        let note = t.note().unwrap();
        assert!(
            note.contains("widened") && note.contains("offline_access"),
            "{note}"
        );
    }

    #[test]
    fn rfc6750_3_1_insufficient_scope_names_the_scope_the_grant_lacks() {
        let t = trace("openid read:profile read:files", "openid read:profile");
        let challenge = parse_www_authenticate(
            r#"Bearer error="insufficient_scope", scope="read:files read:profile""#,
        );
        let needed = challenge
            .iter()
            .find(|(k, _)| k == "scope")
            .map(|(_, v)| v.as_str())
            .unwrap();
        assert_eq!(t.missing_for(needed), vec!["read:files".to_owned()]);
        // An added scope counts as held.
        assert!(trace("openid", "openid x").missing_for("x").is_empty());
    }
}
