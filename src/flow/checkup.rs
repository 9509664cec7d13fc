//! The provider checkup: a scorecard grading a real provider for browser (public) clients, one
//! line per check with its verdict, what the provider did, the HTTP exchanges as evidence and a
//! fix for the provider preset in use. PURE: the judges take what the browser glue observed;
//! the scorecard is [`Stored`] so it survives the probes' redirects in sessionStorage.

use crate::flow::presets::{cors_setting_for, BUNDLED};
use crate::flow::timeline::Step;
use crate::protocol::error::sanitize_for_display;
use crate::protocol::probe::{ProbeAnswer, ProbeKind};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// The provider does what a browser client needs.
    Pass,
    /// Works, but weaker than the RFCs recommend.
    Warn,
    /// Unsafe or unusable for a browser client.
    Fail,
    /// Not run, or the answer could not be graded.
    Unknown,
}

impl Verdict {
    /// `pass`, `warn`, `fail` or `unknown`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
            Self::Unknown => "unknown",
        }
    }

    /// `✓`, `!`, `✕` or `?`.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Pass => "✓",
            Self::Warn => "!",
            Self::Fail => "✕",
            Self::Unknown => "?",
        }
    }
}

/// One line of the scorecard, in display order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Check {
    /// The discovery document's `issuer` equals the configured one, byte for byte.
    IssuerExact,
    /// `code_challenge_methods_supported` lists `S256`.
    S256Advertised,
    /// A code request without `code_challenge` is refused.
    PkceEnforced,
    /// `code_challenge_method=plain` is refused.
    PlainRefused,
    /// A code can be redeemed without a client secret.
    PublicClients,
    /// The token endpoint's answer is readable from this app's origin.
    TokenCors,
    /// The authorization response carries `iss`.
    IssInResponse,
    /// A code cannot be redeemed twice.
    CodeSingleUse,
    /// Replaying a code revokes the tokens issued from it.
    ReplayRevokes,
    /// A refresh returns a new refresh token.
    RefreshRotates,
    /// `response_type=token` is refused.
    ImplicitRefused,
    /// The token response carries `Cache-Control: no-store`.
    NoStore,
}

impl Check {
    /// Every check, in display order.
    pub const ALL: [Check; 12] = [
        Self::IssuerExact,
        Self::S256Advertised,
        Self::PkceEnforced,
        Self::PlainRefused,
        Self::PublicClients,
        Self::TokenCors,
        Self::IssInResponse,
        Self::CodeSingleUse,
        Self::ReplayRevokes,
        Self::RefreshRotates,
        Self::ImplicitRefused,
        Self::NoStore,
    ];

    /// Short title.
    pub fn title(self) -> &'static str {
        match self {
            Self::IssuerExact => "Issuer matches exactly",
            Self::S256Advertised => "PKCE S256 advertised",
            Self::PkceEnforced => "PKCE required",
            Self::PlainRefused => "plain challenge refused",
            Self::PublicClients => "Public clients without a secret",
            Self::TokenCors => "Token endpoint readable cross-origin",
            Self::IssInResponse => "iss in the authorization response",
            Self::CodeSingleUse => "Code is single-use",
            Self::ReplayRevokes => "Code replay revokes tokens",
            Self::RefreshRotates => "Refresh tokens rotate",
            Self::ImplicitRefused => "Implicit grant refused",
            Self::NoStore => "Token response not cached",
        }
    }

    /// The rule the check proves.
    pub fn rule(self) -> &'static str {
        match self {
            Self::IssuerExact => "RFC 8414 §3.3, OIDC Discovery §4.3",
            Self::S256Advertised => "RFC 8414 §2, RFC 7636 §4.2",
            Self::PkceEnforced => "RFC 9700 §2.1.1",
            Self::PlainRefused => "RFC 9700 §2.1.1, RFC 7636 §7.2",
            Self::PublicClients => "RFC 6749 §2.1, RFC 8414 §2",
            Self::TokenCors => "RFC 9700 §2.6",
            Self::IssInResponse => "RFC 9207",
            Self::CodeSingleUse => "RFC 6749 §4.1.2",
            Self::ReplayRevokes => "RFC 6749 §4.1.2, a SHOULD",
            Self::RefreshRotates => "RFC 9700 §4.14.2",
            Self::ImplicitRefused => "RFC 9700 §2.1.2",
            Self::NoStore => "RFC 6749 §5.1",
        }
    }

    /// Whether the check needs a completed login (a code redeemed).
    pub fn needs_login(self) -> bool {
        matches!(
            self,
            Self::CodeSingleUse | Self::ReplayRevokes | Self::RefreshRotates | Self::NoStore
        )
    }

    /// The probe that grades this check, if it is one of the probe checks.
    pub fn probe(self) -> Option<ProbeKind> {
        match self {
            Self::PkceEnforced => Some(ProbeKind::NoChallenge),
            Self::PlainRefused => Some(ProbeKind::PlainChallenge),
            Self::ImplicitRefused => Some(ProbeKind::Implicit),
            _ => None,
        }
    }
}

/// One graded line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Which check.
    pub check: Check,
    /// Its verdict.
    pub verdict: Verdict,
    /// One sentence saying what the provider did.
    pub detail: String,
    /// The HTTP exchanges that prove it (secrets already masked).
    pub evidence: Vec<Step>,
    /// How to fix it with this provider: only for warn and fail.
    pub hint: Option<String>,
}

impl Finding {
    fn unknown(check: Check) -> Self {
        Finding {
            check,
            verdict: Verdict::Unknown,
            detail: "Not run yet.".to_owned(),
            evidence: Vec::new(),
            hint: None,
        }
    }
}

/// The whole checkup of one provider and client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "SavedScorecard")]
pub struct Scorecard {
    /// The configured issuer.
    pub issuer: String,
    /// The client id probed.
    pub client_id: String,
    /// This app's origin (the one CORS must allow).
    pub origin: String,
    /// The provider preset id (picks the fix hints).
    pub preset: String,
    /// One finding per check, in `Check::ALL` order (restored so when loaded from storage);
    /// `record` and `finding` index it by `Check`, so do not remove lines by hand.
    pub findings: Vec<Finding>,
}

/// A scorecard as stored; read back through [`Scorecard::from`] so that every check has its
/// line, in display order, whatever an older build saved.
#[derive(Deserialize)]
struct SavedScorecard {
    issuer: String,
    client_id: String,
    origin: String,
    preset: String,
    findings: Vec<Finding>,
}

impl From<SavedScorecard> for Scorecard {
    fn from(saved: SavedScorecard) -> Self {
        let mut findings = saved.findings;
        let mut card = Scorecard::new(
            &saved.issuer,
            &saved.client_id,
            &saved.origin,
            &saved.preset,
        );
        for line in &mut card.findings {
            if let Some(i) = findings.iter().position(|f| f.check == line.check) {
                *line = findings.swap_remove(i);
            }
        }
        card
    }
}

impl Scorecard {
    /// A scorecard with every check unknown ("not run yet").
    pub fn new(issuer: &str, client_id: &str, origin: &str, preset: &str) -> Self {
        Scorecard {
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            origin: origin.to_owned(),
            preset: preset.to_owned(),
            findings: Check::ALL.iter().map(|&c| Finding::unknown(c)).collect(),
        }
    }

    /// Records a result; a warn or fail gets the preset's fix hint.
    pub fn record(&mut self, check: Check, verdict: Verdict, detail: String, evidence: Vec<Step>) {
        let hint =
            matches!(verdict, Verdict::Warn | Verdict::Fail).then(|| hint(check, &self.preset));
        self.findings[check as usize] = Finding {
            check,
            verdict,
            detail,
            evidence,
            hint,
        };
    }

    /// The finding of one check.
    pub fn finding(&self, check: Check) -> &Finding {
        &self.findings[check as usize]
    }

    /// How many checks are (pass, warn, fail, unknown).
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let n = |v| self.findings.iter().filter(|f| f.verdict == v).count();
        (
            n(Verdict::Pass),
            n(Verdict::Warn),
            n(Verdict::Fail),
            n(Verdict::Unknown),
        )
    }

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

/// Provider text quoted inside a detail sentence: sanitized and short.
fn quote(text: &str) -> String {
    sanitize_for_display(text, 200)
}

/// RFC 8414 §3.3 / OIDC Discovery §4.3: the discovered issuer must equal the configured one,
/// byte for byte (a trailing slash makes another issuer).
pub fn judge_issuer(configured: &str, discovered: Option<&str>) -> (Verdict, String) {
    match discovered {
        None => (
            Verdict::Unknown,
            "No discovery document was read, so the issuer was not compared.".into(),
        ),
        Some(d) if d == configured => (
            Verdict::Pass,
            "The discovery document's issuer is byte-identical to the configured one.".into(),
        ),
        Some(d) => {
            let why = if d.trim_end_matches('/') == configured.trim_end_matches('/') {
                "differs only by a trailing slash, which still makes it another issuer"
            } else {
                "names another server"
            };
            (
                Verdict::Fail,
                format!(
                    "The discovery document's issuer \"{}\" {why}: a client must refuse it.",
                    quote(d)
                ),
            )
        }
    }
}

/// RFC 8414 §2 / RFC 7636: `code_challenge_methods_supported` should list S256; absent or
/// empty → warn (a client cannot tell that PKCE is supported, RFC 9700 §2.1.1).
pub fn judge_s256(methods: Option<&[String]>) -> (Verdict, String) {
    match methods.filter(|m| !m.is_empty()) {
        None => (
            Verdict::Warn,
            "code_challenge_methods_supported is not published, so clients cannot tell that \
             PKCE is supported."
                .into(),
        ),
        Some(m) if m.iter().any(|x| x == "S256") => (
            Verdict::Pass,
            format!(
                "S256 is advertised{}.",
                if m.iter().any(|x| x == "plain") {
                    " (plain too)"
                } else {
                    ""
                }
            ),
        ),
        Some(m) => (
            Verdict::Fail,
            format!(
                "code_challenge_methods_supported lists no S256 ({}).",
                quote(&m.join(", "))
            ),
        ),
    }
}

/// The probe checks (PkceEnforced, PlainRefused, ImplicitRefused): refused → pass, accepted
/// in any way (login_required, a code, a token) → fail, unclear → unknown.
pub fn judge_probe(check: Check, answer: &ProbeAnswer) -> (Verdict, String) {
    let Some(kind) = check.probe() else {
        return (Verdict::Unknown, "Not a probe check.".into());
    };
    let request = kind.label();
    match answer {
        ProbeAnswer::Refused { error, description } => (
            Verdict::Pass,
            format!(
                "Refused the {request} request with {}{}.",
                quote(error),
                description
                    .as_deref()
                    .map(|d| format!(" (\"{}\")", quote(d)))
                    .unwrap_or_default()
            ),
        ),
        ProbeAnswer::AcceptedNeedsLogin { error } => (
            Verdict::Fail,
            format!(
                "Accepted the {request} request: it answered {}, so it would have shown the \
                 login page.",
                quote(error)
            ),
        ),
        ProbeAnswer::AcceptedCode { .. } => (
            Verdict::Fail,
            format!("Accepted the {request} request and sent a code back."),
        ),
        ProbeAnswer::AcceptedToken { in_fragment, .. } => (
            Verdict::Fail,
            format!(
                "Accepted the {request} request and put an access token in the URL {}.",
                if *in_fragment { "fragment" } else { "query" }
            ),
        ),
        ProbeAnswer::Unclear { what } => (
            Verdict::Unknown,
            format!(
                "The {request} request could not be graded: {}.",
                quote(what)
            ),
        ),
    }
}

/// A browser client has no secret: `none` in `token_endpoint_auth_methods_supported`, and/or a
/// code redeemed without a secret. A redemption, when made, decides.
pub fn judge_public_clients(
    auth_methods: Option<&[String]>,
    redeemed_without_secret: Option<bool>,
) -> (Verdict, String) {
    let none_advertised = auth_methods.is_some_and(|m| m.iter().any(|x| x == "none"));
    match (redeemed_without_secret, none_advertised) {
        (Some(true), _) => (
            Verdict::Pass,
            "A code was redeemed without a client secret.".into(),
        ),
        (Some(false), _) => (
            Verdict::Fail,
            "Redeeming a code without a client secret was refused: the client is treated as \
             confidential, and a browser cannot keep a secret."
                .into(),
        ),
        (None, true) => (
            Verdict::Pass,
            "token_endpoint_auth_methods_supported includes none (a login confirms it for \
             this client)."
                .into(),
        ),
        (None, false) => (
            Verdict::Warn,
            "token_endpoint_auth_methods_supported does not include none (absent means \
             client_secret_basic): public clients may not be supported."
                .into(),
        ),
    }
}

/// A browser client must read the token endpoint's answer cross-origin (CORS).
pub fn judge_token_cors(answer_readable: bool) -> (Verdict, String) {
    if answer_readable {
        (
            Verdict::Pass,
            "The token endpoint's answer was readable from this app's origin.".into(),
        )
    } else {
        (
            Verdict::Fail,
            "The token endpoint's answer could not be read from this app's origin (no CORS, or \
             a network failure: the browser does not tell them apart), so codes cannot be \
             redeemed from the page."
                .into(),
        )
    }
}

/// RFC 9207: `iss` on the authorization response (and advertised) is the mix-up defence.
/// `returned`: whether a probe or login answer carried `iss` (`None`: none seen yet).
pub fn judge_iss(advertised: bool, returned: Option<bool>) -> (Verdict, String) {
    const MIX_UP: &str = ": a client talking to several providers cannot detect a mix-up \
        attack, where a code meant for this provider is sent to an attacker's (RFC 9700 §4.4).";
    match (advertised, returned) {
        (true, Some(true)) => (
            Verdict::Pass,
            "iss came back on the authorization response, as advertised.".into(),
        ),
        (true, None) => (
            Verdict::Pass,
            "authorization_response_iss_parameter_supported is true (not yet seen on a \
             response)."
                .into(),
        ),
        (false, Some(true)) => (
            Verdict::Warn,
            "iss came back but is not advertised, so clients cannot insist on it.".into(),
        ),
        (true, Some(false)) => (
            Verdict::Fail,
            format!("iss is advertised but was missing on the response{MIX_UP}"),
        ),
        (false, _) => (
            Verdict::Fail,
            format!("No iss on the authorization response{MIX_UP}"),
        ),
    }
}

/// RFC 6749 §4.1.2: a code MUST NOT be redeemable twice.
pub fn judge_single_use(second_redemption_ok: Option<bool>) -> (Verdict, String) {
    match second_redemption_ok {
        None => (Verdict::Unknown, "No code was redeemed twice.".into()),
        Some(false) => (
            Verdict::Pass,
            "A second redemption of the same code was refused.".into(),
        ),
        Some(true) => (
            Verdict::Fail,
            "The same code was redeemed twice: a code leaked from history or logs stays \
             usable."
                .into(),
        ),
    }
}

/// RFC 6749 §4.1.2: after a replayed code the provider SHOULD revoke the tokens issued from
/// it. `status_after_replay`: the API's status for the first access token after the replay.
pub fn judge_replay_revocation(status_after_replay: Option<u16>) -> (Verdict, String) {
    match status_after_replay {
        None => (
            Verdict::Unknown,
            "The first access token was not tried after a replay.".into(),
        ),
        Some(401) => (
            Verdict::Pass,
            "After the replay the first access token was rejected (401): it was revoked.".into(),
        ),
        Some(s @ 200..=299) => (
            Verdict::Warn,
            format!(
                "After the replay the first access token still worked ({s}); RFC 6749 §4.1.2 \
                 says the provider SHOULD revoke it."
            ),
        ),
        Some(s) => (
            Verdict::Unknown,
            format!("After the replay the API answered {s}, which does not tell."),
        ),
    }
}

/// RFC 9700 §4.14.2: a public client's refresh token must rotate (or be sender-constrained).
/// `old` is the refresh token before a refresh, `new` the one in the refresh answer. The values
/// are compared, never shown.
pub fn judge_rotation(old: Option<&str>, new: Option<&str>) -> (Verdict, String) {
    match (old, new) {
        (None, _) => (
            Verdict::Unknown,
            "No refresh token was issued (ask for offline_access; some providers also need \
             prompt=consent)."
                .into(),
        ),
        (Some(old), Some(new)) if old != new => (
            Verdict::Pass,
            "The refresh answer carried a new refresh token (rotation).".into(),
        ),
        (Some(_), new) => (
            Verdict::Fail,
            format!(
                "The refresh answer {}: a stolen refresh token stays usable.",
                if new.is_some() {
                    "returned the same refresh token"
                } else {
                    "carried no new refresh token, so the old one stays valid"
                }
            ),
        ),
    }
}

/// RFC 6749 §5.1: the token response MUST carry `Cache-Control: no-store` (directives are
/// case-insensitive).
pub fn judge_no_store(cache_control: Option<&str>) -> (Verdict, String) {
    let no_store = cache_control.is_some_and(|v| {
        v.split(',').any(|d| {
            d.split('=')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("no-store")
        })
    });
    match cache_control {
        _ if no_store => (
            Verdict::Pass,
            "The token response carried Cache-Control: no-store.".into(),
        ),
        Some(v) => (
            Verdict::Fail,
            format!(
                "The token response's Cache-Control (\"{}\") lacks no-store, so tokens may be \
                 cached.",
                quote(v)
            ),
        ),
        None => (
            Verdict::Fail,
            "The token response had no Cache-Control header, so tokens may be cached.".into(),
        ),
    }
}

/// Appended to a provider-specific hint that comes from the vendor's documentation only.
const FROM_DOCS: &str = " (from the vendor's documentation)";

/// The fix for a failed or weak check with this provider preset: the preset's own setting when
/// known (for the bundled provider, the `LAB_WEAK` switch to drop), else a generic fix.
pub fn hint(check: Check, preset_id: &str) -> String {
    use Check::*;
    if preset_id == BUNDLED {
        let switch = match check {
            PkceEnforced => "pkce_optional",
            PlainRefused => "plain",
            ImplicitRefused => "implicit",
            TokenCors => "no_cors (and LAB_NO_CORS; this origin in LAB_APP_ORIGINS)",
            IssInResponse => "no_iss (and the callback_iss fault)",
            _ => {
                return "oidc-provider does this by default: restart provider/server.mjs \
                    without LAB_WEAK, reset /__lab/faults, and use its issuer exactly."
                    .into()
            }
        };
        return format!("Restart provider/server.mjs without {switch} in LAB_WEAK.");
    }
    let specific = match (check, preset_id) {
        (IssuerExact, "keycloak") => {
            "Use https://<host>/realms/<realm> exactly (/auth before \
            /realms before Keycloak 17)."
        }
        (PkceEnforced | PlainRefused | S256Advertised, "keycloak") => {
            "Client → Advanced → \
            Proof Key for Code Exchange Code Challenge Method = S256."
        }
        (PublicClients, "keycloak") => "Client → Capability config: Client authentication OFF.",
        (ImplicitRefused, "keycloak") => "Client → Capability config: Implicit flow OFF.",
        (RefreshRotates, "keycloak") => {
            "Realm settings → Tokens: Revoke Refresh Token ON, \
            Refresh Token Max Reuse 0."
        }
        (IssInResponse, "keycloak") => {
            "Client → Advanced → OpenID Connect Compatibility \
            Modes: Exclude Issuer From Authentication Response OFF."
        }
        (IssuerExact, "auth0") => {
            "The issuer is https://<tenant>.<region>.auth0.com/ with \
            its trailing slash (or your custom domain)."
        }
        (PublicClients, "auth0") => {
            "Application type Single Page Application; Credentials → \
            Authentication Method None."
        }
        (ImplicitRefused, "auth0") => {
            "Application → Advanced Settings → Grant Types: untick \
            Implicit."
        }
        (RefreshRotates, "auth0") => {
            "Application → Refresh Token Rotation: Allow Refresh \
            Token Rotation ON."
        }
        (PkceEnforced, "okta") => {
            "Application → General → Client Credentials: Require PKCE \
            as additional verification."
        }
        (PublicClients, "okta") => {
            "Use the Single-Page Application integration type \
            (client authentication none)."
        }
        (ImplicitRefused, "okta") => {
            "Application → General Settings → Grant type: untick \
            Implicit (hybrid)."
        }
        (RefreshRotates, "okta") => "Grant type Refresh Token: Rotate token after every use.",
        (IssuerExact, "entra") => {
            "Use https://login.microsoftonline.com/<tenant-id>/v2.0 (the \
            common endpoint's issuer holds a {tenantid} placeholder)."
        }
        (PkceEnforced | PublicClients, "entra") => {
            "Register the redirect URI under the \
            Single-page application platform, not Web."
        }
        (ImplicitRefused, "entra") => {
            "Authentication → Implicit grant and hybrid flows: \
            untick Access tokens and ID tokens."
        }
        (PkceEnforced, "gitlab") => {
            "GitLab 18.0 and later require PKCE for public \
            applications: upgrade."
        }
        (PublicClients, "gitlab") => "Edit the application and untick Confidential.",
        (PublicClients, "cognito") => {
            "Create an app client without a client secret (a secret \
            cannot be removed from an existing one)."
        }
        (ImplicitRefused, "cognito") => {
            "App client → OAuth grant types: untick Implicit \
            grant."
        }
        (PkceEnforced | PublicClients | ImplicitRefused, "zitadel") => {
            "Application type User \
            Agent with authentication method PKCE (not Implicit)."
        }
        (PkceEnforced, "authentik") => {
            "authentik cannot require PKCE (it checks one only when \
            sent): rely on state, and watch for an upgrade that adds it."
        }
        (PublicClients, "authentik") => "Provider → Client type: Public.",
        (PublicClients, "dex") => "In staticClients: public: true, without a secret.",
        (ImplicitRefused, "dex") => "Set oauth2.responseTypes: [\"code\"].",
        (PkceEnforced, "hydra") => {
            "Set oauth2.pkce.enforced_for_public_clients: true (or \
            oauth2.pkce.enforced)."
        }
        (PublicClients, "hydra") => "Client token_endpoint_auth_method: none.",
        (ImplicitRefused, "hydra") => {
            "Client response_types: [code], grant_types without \
            implicit."
        }
        _ => "",
    };
    if !specific.is_empty() {
        return format!("{specific}{FROM_DOCS}");
    }
    match check {
        IssuerExact => "Configure the exact issuer of the discovery document (scheme, host, \
            path, trailing slash), or fix the provider's public URL."
            .into(),
        S256Advertised => "Enable PKCE with S256 and publish code_challenge_methods_supported \
            in the metadata."
            .into(),
        PkceEnforced => "Make PKCE mandatory for this client, so a request without \
            code_challenge is refused."
            .into(),
        PlainRefused => "Allow S256 only: turn the plain method off.".into(),
        PublicClients => "Register the app as a public client (token endpoint auth method \
            none): a secret shipped to a browser is not a secret."
            .into(),
        TokenCors => format!(
            "Allow this app's origin for CORS at the token endpoint{}.",
            cors_setting_for(preset_id)
                .map(|(_, s)| format!(" (where: {s})"))
                .unwrap_or_default()
        ),
        IssInResponse => "Turn on RFC 9207 iss in authorization responses; if the provider \
            cannot, give it a redirect URI of its own (RFC 9700 §4.4.2.2)."
            .into(),
        CodeSingleUse => "The provider must refuse a second redemption: upgrade it or report \
            the bug to the vendor."
            .into(),
        ReplayRevokes => "Revocation on replay is a SHOULD: if the provider cannot do it, keep \
            access tokens short-lived."
            .into(),
        RefreshRotates => "Turn on refresh token rotation (one-time refresh tokens) for public \
            clients, or shorten their lifetime."
            .into(),
        ImplicitRefused => {
            "Turn the implicit grant (response_type=token) off for this client.".into()
        }
        NoStore => "Token responses must carry Cache-Control: no-store: upgrade the provider \
            or add the header at its proxy."
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::timeline::{Actor, Channel, HttpExchange, Param, StepKind};
    use crate::protocol::secret::{AccessToken, AuthorizationCode};

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn step(exchange: HttpExchange) -> Step {
        Step::new(
            StepKind::TokenRequest,
            Actor::ClientApp,
            Actor::AuthorizationServer,
            Channel::Back,
            "Redeem the code again",
            0,
        )
        .with_params(vec![Param::secret("code", "•••• (7)".into(), "REALCODE")])
        .with_exchange(exchange)
    }

    #[test]
    fn verdicts_have_labels_and_symbols() {
        let v = [
            Verdict::Pass,
            Verdict::Warn,
            Verdict::Fail,
            Verdict::Unknown,
        ];
        let labels: Vec<_> = v.iter().map(|v| v.label()).collect();
        let symbols: Vec<_> = v.iter().map(|v| v.symbol()).collect();
        assert_eq!(labels, ["pass", "warn", "fail", "unknown"]);
        assert_eq!(symbols, ["✓", "!", "✕", "?"]);
    }

    #[test]
    fn checks_are_listed_in_display_order_with_their_rule() {
        for (i, c) in Check::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i, "ALL must follow the declaration order");
            assert!(
                !c.title().is_empty() && c.rule().starts_with("RFC"),
                "{c:?}"
            );
        }
        let login: Vec<_> = Check::ALL.into_iter().filter(|c| c.needs_login()).collect();
        assert_eq!(
            login,
            [
                Check::CodeSingleUse,
                Check::ReplayRevokes,
                Check::RefreshRotates,
                Check::NoStore
            ]
        );
        assert_eq!(Check::PlainRefused.probe(), Some(ProbeKind::PlainChallenge));
        assert_eq!(Check::NoStore.probe(), None);
    }

    #[test]
    fn rfc8414_3_3_issuer_must_match_byte_for_byte() {
        let iss = "https://as.example";
        assert_eq!(judge_issuer(iss, Some(iss)).0, Verdict::Pass);
        let (v, d) = judge_issuer(iss, Some("https://as.example/"));
        assert_eq!(v, Verdict::Fail);
        assert!(d.contains("trailing slash"), "{d}");
        let (v, d) = judge_issuer(iss, Some("https://evil.example\u{202E}"));
        assert_eq!(v, Verdict::Fail);
        assert!(
            d.contains("another server") && d.contains("\\u{202E}"),
            "{d}"
        );
        assert_eq!(
            judge_issuer(iss, Some("https://AS.example")).0,
            Verdict::Fail
        );
        assert_eq!(judge_issuer(iss, None).0, Verdict::Unknown);
    }

    #[test]
    fn rfc8414_s256_not_advertised_is_a_warning() {
        assert_eq!(judge_s256(None).0, Verdict::Warn);
        assert_eq!(judge_s256(Some(&s(&["S256"]))).0, Verdict::Pass);
        let (v, d) = judge_s256(Some(&s(&["S256", "plain"])));
        assert_eq!(v, Verdict::Pass);
        assert!(d.contains("plain"));
        let (v, d) = judge_s256(Some(&s(&["plain"])));
        assert_eq!(v, Verdict::Fail);
        assert!(d.contains("(plain)"));
        // An empty list is what a parser leaves for an absent member: nothing advertised.
        assert_eq!(judge_s256(Some(&[])).0, Verdict::Warn);
    }

    #[test]
    fn rfc9700_2_1_1_refused_probes_pass_and_accepted_ones_fail() {
        let refused = ProbeAnswer::Refused {
            error: "invalid_request".into(),
            description: Some("code_challenge is required".into()),
        };
        let (v, d) = judge_probe(Check::PkceEnforced, &refused);
        assert_eq!(v, Verdict::Pass);
        assert!(d.contains("invalid_request") && d.contains("code_challenge is required"));
        let accepted = [
            ProbeAnswer::AcceptedNeedsLogin {
                error: "login_required".into(),
            },
            ProbeAnswer::AcceptedCode {
                code: AuthorizationCode::new("SECRETCODE".into()),
            },
            ProbeAnswer::AcceptedToken {
                access_token: AccessToken::new("SECRETTOKEN".into()),
                in_fragment: true,
            },
        ];
        for check in [
            Check::PkceEnforced,
            Check::PlainRefused,
            Check::ImplicitRefused,
        ] {
            assert_eq!(judge_probe(check, &refused).0, Verdict::Pass);
            for answer in &accepted {
                let (v, d) = judge_probe(check, answer);
                assert_eq!(v, Verdict::Fail, "{check:?} {answer:?}");
                assert!(!d.contains("SECRET"), "{d}");
                assert!(d.contains(check.probe().unwrap().label()), "{d}");
            }
        }
        let unclear = ProbeAnswer::Unclear {
            what: "the parameter state came back twice".into(),
        };
        assert_eq!(
            judge_probe(Check::ImplicitRefused, &unclear).0,
            Verdict::Unknown
        );
        assert_eq!(judge_probe(Check::NoStore, &refused).0, Verdict::Unknown);
    }

    #[test]
    fn rfc9700_2_1_2_implicit_token_in_the_fragment_fails() {
        let (v, d) = judge_probe(
            Check::ImplicitRefused,
            &ProbeAnswer::AcceptedToken {
                access_token: AccessToken::new("t".into()),
                in_fragment: true,
            },
        );
        assert_eq!(v, Verdict::Fail);
        assert!(d.contains("URL fragment"), "{d}");
    }

    #[test]
    fn bba_public_client_redemption_decides_over_metadata() {
        let with_none = s(&["none", "client_secret_basic"]);
        let without = s(&["client_secret_basic"]);
        assert_eq!(
            judge_public_clients(Some(&without), Some(true)).0,
            Verdict::Pass
        );
        assert_eq!(
            judge_public_clients(Some(&with_none), Some(false)).0,
            Verdict::Fail
        );
        assert_eq!(
            judge_public_clients(Some(&with_none), None).0,
            Verdict::Pass
        );
        assert_eq!(judge_public_clients(Some(&without), None).0, Verdict::Warn);
        assert_eq!(judge_public_clients(None, None).0, Verdict::Warn);
    }

    #[test]
    fn rfc9700_2_6_unreadable_token_answer_fails() {
        assert_eq!(judge_token_cors(true).0, Verdict::Pass);
        let (v, d) = judge_token_cors(false);
        assert_eq!(v, Verdict::Fail);
        assert!(d.contains("CORS"));
    }

    #[test]
    fn rfc9207_missing_iss_fails() {
        for (advertised, returned) in [(false, None), (false, Some(false)), (true, Some(false))] {
            let (v, d) = judge_iss(advertised, returned);
            assert_eq!(v, Verdict::Fail, "{advertised} {returned:?}");
            assert!(d.contains("mix-up"), "{d}");
        }
        assert_eq!(judge_iss(true, Some(true)).0, Verdict::Pass);
        assert_eq!(judge_iss(true, None).0, Verdict::Pass);
        assert_eq!(judge_iss(false, Some(true)).0, Verdict::Warn);
    }

    #[test]
    fn rfc6749_4_1_2_second_redemption_fails() {
        assert_eq!(judge_single_use(Some(true)).0, Verdict::Fail);
        assert_eq!(judge_single_use(Some(false)).0, Verdict::Pass);
        assert_eq!(judge_single_use(None).0, Verdict::Unknown);
    }

    #[test]
    fn rfc6749_4_1_2_replay_tokens_still_valid_is_a_warning() {
        let (v, d) = judge_replay_revocation(Some(200));
        assert_eq!(v, Verdict::Warn);
        assert!(d.contains("RFC 6749 §4.1.2") && d.contains("SHOULD"), "{d}");
        assert_eq!(judge_replay_revocation(Some(204)).0, Verdict::Warn);
        assert_eq!(judge_replay_revocation(Some(401)).0, Verdict::Pass);
        assert_eq!(judge_replay_revocation(Some(403)).0, Verdict::Unknown);
        assert_eq!(judge_replay_revocation(Some(0)).0, Verdict::Unknown);
        assert_eq!(judge_replay_revocation(None).0, Verdict::Unknown);
    }

    #[test]
    fn rfc9700_4_14_2_refresh_token_must_rotate() {
        let (v, d) = judge_rotation(None, None);
        assert_eq!(v, Verdict::Unknown);
        assert!(d.contains("No refresh token was issued"));
        assert_eq!(
            judge_rotation(Some("RT-OLD-1"), Some("RT-NEW-2")).0,
            Verdict::Pass
        );
        for new in [Some("RT-OLD-1"), None] {
            let (v, d) = judge_rotation(Some("RT-OLD-1"), new);
            assert_eq!(v, Verdict::Fail);
            assert!(!d.contains("RT-"), "token value in {d}");
        }
    }

    #[test]
    fn rfc6749_5_1_no_store_directive_is_parsed_case_insensitively() {
        for pass in [
            "no-store",
            "private, No-Store",
            "max-age=0,NO-STORE ",
            " no-store=1",
        ] {
            assert_eq!(judge_no_store(Some(pass)).0, Verdict::Pass, "{pass}");
        }
        for fail in [
            "no-cache",
            "private, max-age=0",
            "xno-store",
            "",
            "no_store",
        ] {
            assert_eq!(judge_no_store(Some(fail)).0, Verdict::Fail, "{fail}");
        }
        assert_eq!(judge_no_store(None).0, Verdict::Fail);
    }

    #[test]
    fn record_fills_the_hint_only_for_warn_and_fail() {
        let mut card = Scorecard::new("https://as.example", "app", "https://app.example", "okta");
        assert_eq!(card.counts(), (0, 0, 0, 12));
        assert!(card
            .findings
            .iter()
            .all(|f| f.verdict == Verdict::Unknown && f.detail == "Not run yet."));
        let (v, d) = judge_single_use(Some(false));
        card.record(Check::CodeSingleUse, v, d, vec![]);
        card.record(
            Check::ReplayRevokes,
            Verdict::Warn,
            "still valid".into(),
            vec![],
        );
        card.record(
            Check::PkceEnforced,
            Verdict::Fail,
            "accepted".into(),
            vec![],
        );
        card.record(Check::NoStore, Verdict::Unknown, "not run".into(), vec![]);
        assert_eq!(card.counts(), (1, 1, 1, 9));
        assert_eq!(card.finding(Check::CodeSingleUse).hint, None);
        assert_eq!(card.finding(Check::NoStore).hint, None);
        assert!(card.finding(Check::ReplayRevokes).hint.is_some());
        let hint = card.finding(Check::PkceEnforced).hint.clone().unwrap();
        assert!(hint.contains("Require PKCE"), "{hint}");
        // Recording again replaces the line (and drops a stale hint).
        card.record(Check::PkceEnforced, Verdict::Pass, "refused".into(), vec![]);
        assert_eq!(card.finding(Check::PkceEnforced).hint, None);
        assert_eq!(card.counts(), (2, 1, 0, 9));
    }

    #[test]
    fn bundled_hints_name_the_lab_weak_switch_to_drop() {
        for (check, switch) in [
            (Check::PkceEnforced, "pkce_optional"),
            (Check::PlainRefused, "without plain"),
            (Check::ImplicitRefused, "implicit"),
            (Check::TokenCors, "no_cors"),
            (Check::IssInResponse, "no_iss"),
        ] {
            let h = hint(check, BUNDLED);
            assert!(h.contains(switch) && h.contains("LAB_WEAK"), "{h}");
        }
        assert!(hint(Check::CodeSingleUse, BUNDLED).contains("by default"));
    }

    #[test]
    fn hints_are_preset_specific_short_and_fall_back() {
        let keycloak = hint(Check::PkceEnforced, "keycloak");
        assert!(keycloak.contains("Code Challenge Method = S256") && keycloak.contains(FROM_DOCS));
        assert!(hint(Check::PkceEnforced, "hydra").contains("enforced_for_public_clients"));
        assert!(hint(Check::TokenCors, "dex").contains("web.allowedOrigins"));
        let generic = hint(Check::PkceEnforced, "no-such-preset");
        assert!(generic.contains("mandatory") && !generic.contains(FROM_DOCS));
        for preset in crate::flow::presets::PRESETS {
            for check in Check::ALL {
                let h = hint(check, preset.id);
                assert!(
                    (20..=260).contains(&h.chars().count()),
                    "{check:?} {}: {h}",
                    preset.id
                );
            }
        }
    }

    #[test]
    fn scorecard_round_trips_through_session_storage_without_secrets() {
        let mut card = Scorecard::new("https://as.example", "app", "https://app.example", "auth0");
        let evidence = vec![step(HttpExchange {
            method: "POST".into(),
            url: "https://as.example/token".into(),
            status: Some(400),
            ..Default::default()
        })];
        card.record(
            Check::CodeSingleUse,
            Verdict::Pass,
            "refused".into(),
            evidence,
        );
        let json = serde_json::to_string(&card).unwrap();
        assert!(!json.contains("REALCODE"));
        let back: Scorecard = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.finding(Check::CodeSingleUse).evidence[0].params[0].revealable,
            None
        );
        assert_eq!(back.finding(Check::CodeSingleUse).verdict, Verdict::Pass);
        assert_eq!(back.counts(), card.counts());
        // Saved by an older build: missing and reordered lines are put back in display order.
        let mut old = card.clone();
        old.findings.retain(|f| f.check != Check::NoStore);
        old.findings.reverse();
        let back: Scorecard = serde_json::from_str(&serde_json::to_string(&old).unwrap()).unwrap();
        let order: Vec<Check> = back.findings.iter().map(|f| f.check).collect();
        assert_eq!(order, Check::ALL);
        assert_eq!(back.finding(Check::NoStore).verdict, Verdict::Unknown);
        assert_eq!(back.finding(Check::CodeSingleUse).verdict, Verdict::Pass);
    }

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
        let md = card.to_markdown("2026-05-01 10:00 UTC");
        assert!(md.contains("- Issuer: `http://127.0.0.1:9000`\n"));
        assert!(md.contains("- Result: 1 pass, 0 warn, 1 fail, 10 unknown\n"));
        assert!(!md.contains("No HTTP exchange recorded yet."));
        let empty = Scorecard::new("i", "c", "o", "p").to_markdown("t");
        assert!(empty.ends_with("## Evidence\n\nNo HTTP exchange recorded yet.\n"));
        assert!(
            md.contains("| Check | Verdict | What the provider did | Fix |\n|---|---|---|---|\n")
        );
        assert_eq!(md.lines().filter(|l| l.starts_with("| ")).count(), 13);
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
