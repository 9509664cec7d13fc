//! The page's Content-Security-Policy: as index.html states it, as the app server sends it,
//! and the violations a watcher records in every document (checklist X-10).

use super::*;

/// sessionStorage key (on each origin) where [`Lab::watch_csp_violations`] records violations.
/// Test-only; the storage audit ignores keys starting with `e2e.`.
pub const CSP_LOG_KEY: &str = "e2e.csp-violations";

/// Registered through CDP, so it runs in every new document before any of the page's scripts and
/// is not itself subject to the page's CSP.
pub(crate) const CSP_WATCHER: &str = r#"
document.addEventListener('securitypolicyviolation', (e) => {
  const entry = `${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} in ${location.origin} `
    + `at ${e.sourceFile || '?'}:${e.lineNumber} sample=${JSON.stringify(e.sample || '')}`;
  try {
    const list = JSON.parse(sessionStorage.getItem('e2e.csp-violations') || '[]');
    list.push(entry);
    sessionStorage.setItem('e2e.csp-violations', JSON.stringify(list));
  } catch (_) { /* storage refused: the console line below still reports it */ }
  console.error('e2e CSP violation: ' + entry);
}, true);
"#;

/// The page's Content-Security-Policy as index.html's `<meta http-equiv>` states it, read from
/// `dir`'s index.html: the source, or a build (which may be minified: unquoted attributes, any
/// order) (checklist X-10).
pub fn page_csp(dir: &Path) -> String {
    let html = std::fs::read_to_string(dir.join("index.html")).expect("index.html is readable");
    html.split('<')
        .filter_map(|tag| tag.strip_prefix("meta"))
        .map(|tag| html_attributes(&tag[..tag.find('>').unwrap_or(tag.len())]))
        .find(|attrs| {
            attrs.iter().any(|(name, value)| {
                name.eq_ignore_ascii_case("http-equiv")
                    && value.eq_ignore_ascii_case("content-security-policy")
            })
        })
        .and_then(|attrs| {
            attrs
                .into_iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("content"))
        })
        .map(|(_, policy)| policy.trim().trim_end_matches(';').to_owned())
        .expect("index.html has a Content-Security-Policy meta tag with content (checklist X-10)")
}

/// The attributes of one HTML start tag (without `<name` and `>`): `name`, `name=value`,
/// `name="value"`, `name='value'`.
pub(crate) fn html_attributes(tag: &str) -> Vec<(String, String)> {
    let mut attrs = Vec::new();
    let mut rest = tag;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            return attrs;
        }
        let name_end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_owned();
        rest = rest[name_end..].trim_start();
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (raw, tail) = match after.chars().next() {
                Some(quote @ ('"' | '\'')) => {
                    let inner = &after[1..];
                    let end = inner.find(quote).unwrap_or(inner.len());
                    (&inner[..end], inner.get(end + 1..).unwrap_or_default())
                }
                _ => {
                    let end = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..end], &after[end..])
                }
            };
            value = raw
                .replace("&#39;", "'")
                .replace("&quot;", "\"")
                .replace("&amp;", "&");
            rest = tail;
        }
        attrs.push((name, value));
    }
}

/// The policy the app server sends as a header: the page's policy plus `frame-ancestors 'none'`,
/// which only works in a header (RFC 9700 §4.16, clickjacking).
pub fn header_csp(dist: &Path) -> String {
    format!("{}; frame-ancestors 'none'", page_csp(dist))
}

impl Lab {
    /// From now on, every document this window loads records its `securitypolicyviolation`
    /// events in its origin's sessionStorage ([`CSP_LOG_KEY`]) and on the console. Load the
    /// page again afterwards to watch it from its first byte.
    pub async fn watch_csp_violations(&self) {
        self.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": CSP_WATCHER }),
        )
        .await;
    }

    /// The CSP violations recorded on the current page's origin in this tab.
    pub async fn csp_violations(&self) -> Vec<String> {
        let list = self
            .js(
                "return JSON.parse(sessionStorage.getItem(arguments[0]) || '[]');",
                vec![json!(CSP_LOG_KEY)],
            )
            .await;
        serde_json::from_value(list).unwrap_or_default()
    }
}
