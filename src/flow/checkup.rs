//! The provider checkup: a scorecard grading a real provider for browser (public) clients, one
//! line per check with its verdict, what the provider did, the HTTP exchanges as evidence and a
//! fix for the provider preset in use. PURE: the judges take what the browser glue observed;
//! the scorecard is stored (in the lab record) so it survives the probes' redirects in
//! sessionStorage.
//!
//! The graders are in `grade`, the Markdown report in `report`, the fix hints in `hint` (the
//! per-preset ones are typed data on each `Preset`: `presets::Fixes`).

use crate::flow::timeline::Step;
use crate::protocol::document::{stored, unit_variant, FromStored, Map, Value};
use crate::protocol::probe::ProbeKind;
use serde::{Deserialize, Serialize};

mod grade;
mod hint;
pub(crate) mod report;

pub use grade::*;
pub use hint::{hint, preset_fix};

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
    /// Only the registered redirect URI, byte for byte, gets an answer.
    RedirectUriExact,
    /// The token response carries `Cache-Control: no-store`.
    NoStore,
    /// DPoP (RFC 9449) is advertised with ES256; whether this client must use it.
    Dpop,
}

impl Check {
    /// Every check, in display order.
    pub const ALL: [Check; 14] = [
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
        Self::RedirectUriExact,
        Self::NoStore,
        Self::Dpop,
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
            Self::RedirectUriExact => "Redirect URI matched exactly",
            Self::NoStore => "Token response not cached",
            Self::Dpop => "DPoP supported / required for this client",
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
            Self::RedirectUriExact => "RFC 9700 §4.1.3, RFC 6749 §4.1.2.1",
            Self::NoStore => "RFC 6749 §5.1",
            Self::Dpop => "RFC 9449 §5.1, RFC 9700 §2.2.1",
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
#[derive(Clone, Debug, PartialEq, Serialize)]
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
#[serde(try_from = "Map<String, Value>")]
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
struct SavedScorecard {
    issuer: String,
    client_id: String,
    origin: String,
    preset: String,
    findings: Vec<Finding>,
}

// The stored scorecard (in the lab record, and sent to the export worker) is read from the
// parsed object with the rules serde's derive had, pinned by `attack/tests.rs::lab_record_*`:
// every member required but a finding's `hint` (missing: `None`), unknown members ignored, a
// member of another type or a check / verdict this app does not know makes the text unreadable.
// A plain match per member instead of derived visitors (issue 14's size goal).
impl TryFrom<Map<String, Value>> for Scorecard {
    type Error = &'static str;

    fn try_from(mut o: Map<String, Value>) -> Result<Self, Self::Error> {
        let mut read = || {
            Some(SavedScorecard {
                issuer: stored(&mut o, "issuer")?,
                client_id: stored(&mut o, "client_id")?,
                origin: stored(&mut o, "origin")?,
                preset: stored(&mut o, "preset")?,
                findings: stored(&mut o, "findings")?,
            })
        };
        read().map(Scorecard::from).ok_or("not a stored scorecard")
    }
}

impl FromStored for Scorecard {
    fn from_stored(value: Value) -> Option<Self> {
        match value {
            Value::Object(o) => Scorecard::try_from(o).ok(),
            _ => None,
        }
    }
}

impl FromStored for Finding {
    fn from_stored(value: Value) -> Option<Self> {
        let Value::Object(mut o) = value else {
            return None;
        };
        Some(Finding {
            check: stored(&mut o, "check")?,
            verdict: stored(&mut o, "verdict")?,
            detail: stored(&mut o, "detail")?,
            evidence: stored(&mut o, "evidence")?,
            hint: stored(&mut o, "hint")?,
        })
    }
}

impl FromStored for Check {
    fn from_stored(value: Value) -> Option<Self> {
        unit_variant(value)
    }
}

impl FromStored for Verdict {
    fn from_stored(value: Value) -> Option<Self> {
        unit_variant(value)
    }
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
    /// A copy whose details and fixes are resolved from the teaching text catalog
    /// (`crate::text`), `pending` for each reference without one: the Markdown export escapes
    /// the text itself, so it must be resolved first.
    pub fn with_text_resolved(
        &self,
        catalog: Option<&crate::text::Catalog>,
        pending: &str,
    ) -> Self {
        let mut copy = self.clone();
        for finding in &mut copy.findings {
            let fix = |text: &mut String| {
                *text = crate::text::resolve_or(text, catalog, pending).into_owned();
            };
            fix(&mut finding.detail);
            finding.hint.iter_mut().for_each(fix);
        }
        copy
    }

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
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::flow::timeline::{Actor, Channel, HttpExchange, Param, StepKind};

    pub(crate) fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    pub(crate) fn step(exchange: HttpExchange) -> Step {
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
    fn record_fills_the_hint_only_for_warn_and_fail() {
        let mut card = Scorecard::new("https://as.example", "app", "https://app.example", "okta");
        assert_eq!(card.counts(), (0, 0, 0, 14));
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
        assert_eq!(card.counts(), (1, 1, 1, 11));
        assert_eq!(card.finding(Check::CodeSingleUse).hint, None);
        assert_eq!(card.finding(Check::NoStore).hint, None);
        assert!(card.finding(Check::ReplayRevokes).hint.is_some());
        let hint = crate::text::plain(&card.finding(Check::PkceEnforced).hint.clone().unwrap());
        assert!(hint.contains("Require PKCE"), "{hint}");
        // Recording again replaces the line (and drops a stale hint).
        card.record(Check::PkceEnforced, Verdict::Pass, "refused".into(), vec![]);
        assert_eq!(card.finding(Check::PkceEnforced).hint, None);
        assert_eq!(card.counts(), (2, 1, 0, 11));
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
            back.finding(Check::CodeSingleUse).evidence[0].params[0].carried(),
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
}
