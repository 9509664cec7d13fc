//! The scorecard as a Markdown report for a security review. Provider-controlled text is
//! escaped or code-spanned, so it cannot add links, HTML, rows or headings.

use super::Scorecard;
use crate::flow::timeline::Step;
use crate::protocol::error::sanitize_for_display;
use std::fmt::Write as _;

impl Scorecard {
    /// The scorecard as Markdown for a security review: a table, then the evidence per check.
    /// Provider-controlled text is escaped (table cells) or put in code spans (evidence), so it
    /// cannot add links, HTML, rows or headings; secrets appear only as the Steps' masks.
    pub fn to_markdown(&self, generated_at: &str) -> String {
        let mut md = String::from("# OAuth provider checkup\n\n- Issuer: ");
        code(&mut md, &self.issuer);
        md.push_str("\n- Client id: ");
        code(&mut md, &self.client_id);
        md.push_str("\n- App origin: ");
        code(&mut md, &self.origin);
        md.push_str("\n- Preset: ");
        code(&mut md, &self.preset);
        md.push_str("\n- Generated: ");
        esc(&mut md, generated_at);
        let (pass, warn, fail, unknown) = self.counts();
        let _ = write!(
            md,
            "\n- Result: {pass} pass, {warn} warn, {fail} fail, {unknown} unknown\n\n\
             | Check | Verdict | What the provider did | Fix |\n|---|---|---|---|\n"
        );
        for f in &self.findings {
            let _ = write!(
                md,
                "| {} ({}) | {} {} | ",
                f.check.title(),
                f.check.rule(),
                f.verdict.symbol(),
                f.verdict.label()
            );
            esc(&mut md, &f.detail);
            md.push_str(" | ");
            esc(&mut md, f.hint.as_deref().unwrap_or(""));
            md.push_str(" |\n");
        }
        md.push_str("\n## Evidence\n");
        if self.findings.iter().all(|f| f.evidence.is_empty()) {
            md.push_str("\nNo HTTP exchange recorded yet.\n");
        }
        for f in self.findings.iter().filter(|f| !f.evidence.is_empty()) {
            let _ = write!(md, "\n### {}\n\n", f.check.title());
            for step in &f.evidence {
                evidence(&mut md, step);
            }
        }
        md
    }
}

/// Longest provider-controlled text copied into the report, per item.
const MAX_MD_CHARS: usize = 600;

/// One evidence item: `METHOD URL → status`, then what was sent and answered.
fn evidence(md: &mut String, step: &Step) {
    let Some(x) = &step.exchange else {
        md.push_str("- (");
        md.push_str(step.status.css());
        md.push_str(") ");
        esc(md, &step.label);
        md.push('\n');
        return;
    };
    md.push_str("- ");
    code(md, &format!("{} {}", x.method, x.url));
    match x.status {
        Some(0) => md.push_str(" → no readable answer (CORS, network or redirect)"),
        Some(status) => {
            let _ = write!(md, " → {status}");
        }
        None => md.push_str(" → no answer"),
    }
    md.push_str(" — ");
    esc(md, &step.label);
    md.push('\n');
    if let Some(body) = &x.request_body {
        md.push_str("  - sent: ");
        code(md, body);
        md.push('\n');
    }
    for (name, value) in &x.response_headers {
        md.push_str("  - ");
        code(md, &format!("{name}: {value}"));
        md.push('\n');
    }
    if let Some(body) = &x.response_body {
        md.push_str("  - answer: ");
        code(md, body);
        md.push('\n');
    }
    if let crate::flow::timeline::StepStatus::Failed { reason } = &step.status {
        md.push_str("  - failed: ");
        esc(md, reason);
        md.push('\n');
    }
}

/// Appends untrusted text as Markdown text: controls and bidi escaped, newlines gone, and every
/// character with an inline meaning (emphasis, code, links, HTML, entities, table pipes)
/// backslash-escaped.
pub(crate) fn esc(md: &mut String, text: &str) {
    for c in sanitize_for_display(text, MAX_MD_CHARS).chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '~' | '#'
        ) {
            md.push('\\');
        }
        md.push(c);
    }
}

/// Appends untrusted text as an inline code span (CommonMark §6.1): a fence longer than any
/// backtick run inside, padded when the text starts or ends with a backtick or space.
pub(crate) fn code(md: &mut String, text: &str) {
    let text = sanitize_for_display(text, MAX_MD_CHARS);
    if text.is_empty() {
        md.push_str("(empty)");
        return;
    }
    let (mut run, mut longest) = (0, 0);
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let edge = |c: Option<char>| matches!(c, Some('`' | ' '));
    let pad = if edge(text.chars().next()) || edge(text.chars().last()) {
        " "
    } else {
        ""
    };
    let _ = write!(md, "{fence}{pad}{text}{pad}{fence}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::checkup::tests::step;
    use crate::flow::checkup::{judge_probe, judge_single_use, Check};
    use crate::flow::presets::BUNDLED;
    use crate::flow::timeline::HttpExchange;
    use crate::protocol::probe::ProbeAnswer;

    #[test]
    fn markdown_has_a_row_per_check_and_the_evidence() {
        let mut card = Scorecard::new(
            "http://127.0.0.1:9000",
            "flow-lab",
            "http://127.0.0.1:8080",
            BUNDLED,
        );
        let evidence = vec![step(HttpExchange {
            method: "POST".into(),
            url: "http://127.0.0.1:9000/token".into(),
            request_body: Some("grant_type=authorization_code&code=%E2%80%A2%E2%80%A2".into()),
            status: Some(400),
            response_headers: vec![("cache-control".into(), "no-store".into())],
            response_body: Some(r#"{"error":"invalid_grant"}"#.into()),
            ..Default::default()
        })];
        let (v, d) = judge_single_use(Some(false));
        card.record(Check::CodeSingleUse, v, d, evidence);
        let (v, d) = judge_probe(
            Check::PkceEnforced,
            &ProbeAnswer::AcceptedNeedsLogin {
                error: "login_required".into(),
            },
        );
        card.record(Check::PkceEnforced, v, d, vec![]);
        let md = card
            .with_text_resolved(Some(crate::text::host_catalog()), "")
            .to_markdown("2026-05-01 10:00 UTC");
        assert!(md.contains("- Issuer: `http://127.0.0.1:9000`\n"));
        assert!(md.contains("- Result: 1 pass, 0 warn, 1 fail, 12 unknown\n"));
        assert!(!md.contains("No HTTP exchange recorded yet."));
        let empty = Scorecard::new("i", "c", "o", "p").to_markdown("t");
        assert!(empty.ends_with("## Evidence\n\nNo HTTP exchange recorded yet.\n"));
        assert!(
            md.contains("| Check | Verdict | What the provider did | Fix |\n|---|---|---|---|\n")
        );
        assert_eq!(md.lines().filter(|l| l.starts_with("| ")).count(), 15);
        assert!(
            md.contains(
                "| PKCE required (RFC 9700 §2.1.1) | ✕ fail | Accepted the no code\\_challenge \
             request: it answered login\\_required, so it would have shown the login page. | \
             Restart provider/server.mjs without pkce\\_optional in LAB\\_WEAK. |\n"
            ),
            "{md}"
        );
        assert!(md.contains("| Code is single-use (RFC 6749 §4.1.2) | ✓ pass | "));
        assert!(
            md.contains(
                "\n### Code is single-use\n\n- `POST http://127.0.0.1:9000/token` → 400 — Redeem \
             the code again\n  - sent: `grant_type=authorization_code&code=%E2%80%A2%E2%80%A2`\n  \
             - `cache-control: no-store`\n  - answer: `{\"error\":\"invalid_grant\"}`\n"
            ),
            "{md}"
        );
        assert!(!md.contains("REALCODE"));
    }

    #[test]
    fn markdown_escapes_provider_controlled_text() {
        let hostile = "x` <script>alert(1)</script> [a](javascript:alert(1)) | *b* &#x202E;\n# h";
        let mut card = Scorecard::new(hostile, "c`", "o", "p");
        let (v, d) = judge_probe(
            Check::PlainRefused,
            &ProbeAnswer::Refused {
                error: "invalid_request".into(),
                description: Some(hostile.into()),
            },
        );
        let evidence = vec![step(HttpExchange {
            method: "GET".into(),
            url: "https://as.example/auth?x=``".into(),
            status: Some(0),
            response_body: Some(hostile.into()),
            ..Default::default()
        })];
        card.record(Check::PlainRefused, v, d, evidence);
        let md = card.to_markdown("now <b>");
        // Table cell: every inline-active character escaped, no new row, no raw HTML or link.
        let row = md
            .lines()
            .find(|l| l.starts_with("| plain challenge"))
            .unwrap();
        assert!(
            row.contains(
                "x\\` \\<script\\>alert(1)\\</script\\> \\[a\\](javascript:alert(1)) \\| \\*b\\* \
             \\&\\#x202E;\\\\u{A}\\# h"
            ),
            "{row}"
        );
        let unescaped_pipes = row
            .match_indices('|')
            .filter(|(i, _)| *i == 0 || row.as_bytes()[i - 1] != b'\\');
        assert_eq!(unescaped_pipes.count(), 5, "{row}");
        // Code spans: a fence longer than any backtick run inside, padded at a backtick edge.
        assert!(md.contains("- Issuer: ``x` <script>"), "{md}");
        assert!(md.contains("- Client id: `` c` ``\n"), "{md}");
        assert!(md.contains("- ``` GET https://as.example/auth?x=`` ``` →"));
        assert!(md.contains("→ no readable answer (CORS, network or redirect)"));
        assert!(md.contains("  - answer: ``x` <script>alert(1)</script>"));
        assert!(md.contains("- Generated: now \\<b\\>\n"));
        // Nothing provider-controlled starts a line.
        for line in md.lines() {
            assert!(!line.starts_with("# h") && !line.starts_with("<"), "{line}");
        }
        assert!(!md.contains('\u{202E}'));
    }
}
