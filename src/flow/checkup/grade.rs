//! The graders: one pure function per check, from what the browser glue observed to a verdict
//! and one sentence saying what the provider did.

use super::{Check, Verdict};
use crate::protocol::error::sanitize_for_display;
use crate::protocol::probe::{ProbeAnswer, ProbeKind};

/// Provider text quoted inside a detail sentence: sanitized and short.
fn quote(text: &str) -> String {
    sanitize_for_display(text, 200)
}

/// RFC 8414 §3.3 / OIDC Discovery §4.3: the discovered issuer must equal the configured one,
/// byte for byte (a trailing slash makes another issuer).
pub fn judge_issuer(configured: &str, discovered: Option<&str>) -> (Verdict, String) {
    match discovered {
        None => (Verdict::Unknown, t!("grade.no_discovery_document").into()),
        Some(d) if d == configured => (Verdict::Pass, t!("grade.the_discovery_document").into()),
        Some(d) => {
            let why = if d.trim_end_matches('/') == configured.trim_end_matches('/') {
                t!("grade.differs_only_by")
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
        None => (Verdict::Warn, t!("grade.code_challenge_methods").into()),
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

/// RFC 9449 §5.1: `dpop_signing_alg_values_supported` with an algorithm this app's keys sign
/// with (ES256, EdDSA, Ed25519, PS256, RS256) → pass; not published → warn (its tokens are
/// bearer tokens: a copy works anywhere, and RFC 9700 §2.2.1 says they SHOULD be
/// sender-constrained); published with none of them → warn. Whether DPoP is *required* for this client is in no metadata a public client
/// can read (oidc-provider refuses a proof-less request with a bare `invalid_grant`), so the
/// line says it is unknown until a token request.
pub fn judge_dpop(algs: Option<&[String]>) -> (Verdict, String) {
    const REQUIRED: &str = t!("grade.whether_this_client");
    match algs.filter(|a| !a.is_empty()) {
        None => (
            Verdict::Warn,
            format!(
                "dpop_signing_alg_values_supported is not published: tokens are bearer \
                 tokens, and a copy works for whoever holds it.{REQUIRED}"
            ),
        ),
        Some(a) => match crate::protocol::dpop::allowed_algs(a, None, None).first() {
            Some(alg) => (
                Verdict::Pass,
                format!(
                    "DPoP is supported ({}); proofs use {} by default.{REQUIRED}",
                    quote(&a.join(", ")),
                    alg.name()
                ),
            ),
            None => (
                Verdict::Warn,
                format!(
                    "DPoP is advertised only with algorithms this app does not sign with \
                     ({}).{REQUIRED}",
                    quote(&a.join(", "))
                ),
            ),
        },
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
        (Some(true), _) => (Verdict::Pass, t!("grade.a_code_was").into()),
        (Some(false), _) => (Verdict::Fail, t!("grade.redeeming_a_code").into()),
        (None, true) => (Verdict::Pass, t!("grade.token_endpoint_auth").into()),
        (None, false) => (Verdict::Warn, t!("grade.token_endpoint_auth_2").into()),
    }
}

/// A browser client must read the token endpoint's answer cross-origin (CORS).
pub fn judge_token_cors(answer_readable: bool) -> (Verdict, String) {
    if answer_readable {
        (Verdict::Pass, t!("grade.the_token_endpoint").into())
    } else {
        (Verdict::Fail, t!("grade.the_token_endpoint_2").into())
    }
}

/// RFC 9207: `iss` on the authorization response (and advertised) is the mix-up defence.
/// `returned`: whether a probe or login answer carried `iss` (`None`: none seen yet).
pub fn judge_iss(advertised: bool, returned: Option<bool>) -> (Verdict, String) {
    const MIX_UP: &str = t!("grade.a_client_talking");
    match (advertised, returned) {
        (true, Some(true)) => (Verdict::Pass, t!("grade.iss_came_back_2").into()),
        (true, None) => (Verdict::Pass, t!("grade.authorization_response_iss").into()),
        (false, Some(true)) => (Verdict::Warn, t!("grade.iss_came_back").into()),
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
        Some(false) => (Verdict::Pass, t!("grade.a_second_redemption").into()),
        Some(true) => (Verdict::Fail, t!("grade.the_same_code").into()),
    }
}

/// RFC 6749 §4.1.2: after a replayed code the provider SHOULD revoke the tokens issued from
/// it. `status_after_replay`: the API's status for the first access token after the replay.
pub fn judge_replay_revocation(status_after_replay: Option<u16>) -> (Verdict, String) {
    match status_after_replay {
        None => (Verdict::Unknown, t!("grade.the_first_access").into()),
        Some(401) => (Verdict::Pass, t!("grade.after_the_replay").into()),
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
        (None, _) => (Verdict::Unknown, t!("grade.no_refresh_token").into()),
        (Some(old), Some(new)) if old != new => {
            (Verdict::Pass, t!("grade.the_refresh_answer").into())
        }
        (Some(_), new) => (
            Verdict::Fail,
            format!(
                "The refresh answer {}: a stolen refresh token stays usable.",
                if new.is_some() {
                    "returned the same refresh token"
                } else {
                    t!("grade.carried_no_new")
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
        _ if no_store => (Verdict::Pass, t!("grade.the_token_response").into()),
        Some(v) => (
            Verdict::Fail,
            format!(
                "The token response's Cache-Control (\"{}\") lacks no-store, so tokens may be \
                 cached.",
                quote(v)
            ),
        ),
        None => (Verdict::Fail, t!("grade.the_token_response_2").into()),
    }
}

/// What the provider did with one altered redirect URI (or why it is not known).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RedirectAnswer {
    /// No redirect back within the time limit: the provider kept the window on a page of its
    /// own (its error page). What exact matching does.
    Held,
    /// A code (or token) was sent to the altered URI.
    Code,
    /// `login_required` and friends sent to the altered URI: accepted, only a login missing.
    NeedsLogin(String),
    /// Another OAuth error redirected to the altered URI: refused, but RFC 6749 §4.1.2.1 says
    /// the provider MUST NOT redirect to an invalid redirect URI at all.
    ErrorRedirect(String),
    /// Came back with something that does not grade it.
    Unclear(String),
    /// Not sent: the control (the registered URI) did not come back, so silence proves nothing.
    Skipped,
}

/// One altered redirect URI's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedirectResult {
    /// Which alteration (`ProbeKind::label` names it).
    pub kind: ProbeKind,
    /// The URI sent.
    pub uri: String,
    /// Whether it only respells the registered URI (RFC 3986 §6.2.2: scheme or host case, an
    /// empty path): accepting it is not exact matching, but not exploitable.
    pub equivalent: bool,
    /// What the provider did.
    pub answer: RedirectAnswer,
}

/// RFC 9700 §4.1.3 (exact redirect URI matching) and RFC 6749 §4.1.2.1 (never redirect to an
/// invalid redirect URI), from the control (`control_back`: whether the valid request to the
/// registered URI came back) and the altered URIs. A code or `login_required` at an altered
/// URI fails the line (a respelling of the same URI only warns); an error redirected there
/// warns; silence passes only when the control proved the provider does redirect.
pub fn judge_redirect_uri(control_back: bool, results: &[RedirectResult]) -> (Verdict, String) {
    if !control_back {
        return (Verdict::Unknown, t!("grade.the_valid_request").into());
    }
    let mut verdict = Verdict::Pass;
    let worse = |now: Verdict, new: Verdict| {
        let rank = |v| match v {
            Verdict::Pass => 0,
            Verdict::Unknown => 1,
            Verdict::Warn => 2,
            Verdict::Fail => 3,
        };
        if rank(new) > rank(now) {
            new
        } else {
            now
        }
    };
    let mut parts = Vec::new();
    for r in results {
        let accepted = |what: &str| {
            if r.equivalent {
                (
                    Verdict::Warn,
                    format!("{what} (the same URI respelled: not exact matching, not exploitable)"),
                )
            } else {
                (Verdict::Fail, what.to_owned())
            }
        };
        let (v, said) = match &r.answer {
            RedirectAnswer::Held => (Verdict::Pass, "its own page, no redirect".to_owned()),
            RedirectAnswer::Code => accepted("a code was sent there"),
            RedirectAnswer::NeedsLogin(e) => accepted(&format!(
                "{} was sent there, so a code would follow a login",
                quote(e)
            )),
            RedirectAnswer::ErrorRedirect(e) => (
                Verdict::Warn,
                format!(
                    "refused, but the error {} was redirected there (RFC 6749 §4.1.2.1: MUST \
                     NOT redirect to an invalid redirect URI)",
                    quote(e)
                ),
            ),
            RedirectAnswer::Unclear(what) => (Verdict::Unknown, quote(what)),
            RedirectAnswer::Skipped => (Verdict::Unknown, "not sent".to_owned()),
        };
        verdict = worse(verdict, v);
        parts.push(format!("{} ({}): {said}", r.kind.label(), quote(&r.uri)));
    }
    let lead = match verdict {
        Verdict::Pass => t!("grade.every_altered_redirect"),
        Verdict::Fail => {
            t!("grade.an_altered_redirect")
        }
        Verdict::Warn => {
            t!("grade.no_code_went")
        }
        Verdict::Unknown => t!("grade.not_every_altered"),
    };
    (verdict, format!("{lead}. {}.", parts.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::checkup::tests::s;
    use crate::protocol::secret::{AccessToken, AuthorizationCode};

    #[test]
    fn rfc8414_3_3_issuer_must_match_byte_for_byte() {
        let iss = "https://as.example";
        assert_eq!(judge_issuer(iss, Some(iss)).0, Verdict::Pass);
        let (v, d) = judge_issuer(iss, Some("https://as.example/"));
        let d = crate::text::plain(&d);
        assert_eq!(v, Verdict::Fail);
        assert!(d.contains("trailing slash"), "{d}");
        let (v, d) = judge_issuer(iss, Some("https://evil.example\u{202E}"));
        let d = crate::text::plain(&d);
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
    fn r9449_5_1_dpop_line_passes_with_es256_and_says_required_is_unknown() {
        let (v, d) = judge_dpop(Some(&["ES256".to_owned(), "EdDSA".to_owned()]));
        let d = crate::text::plain(&d);
        assert_eq!(v, Verdict::Pass);
        assert!(d.contains("unknown until a token request"), "{d}");
        assert_eq!(judge_dpop(None).0, Verdict::Warn);
        assert_eq!(judge_dpop(Some(&[])).0, Verdict::Warn);
        let (v, d) = judge_dpop(Some(&["EdDSA".to_owned()]));
        assert_eq!(v, Verdict::Pass, "an Ed25519 key signs EdDSA");
        assert!(d.contains("use EdDSA"), "{d}");
        let (v, d) = judge_dpop(Some(&["ES384".to_owned()]));
        let d = crate::text::plain(&d);
        assert_eq!(v, Verdict::Warn);
        assert!(d.contains("does not sign with"), "{d}");
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
        let d = crate::text::plain(&d);
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
                let d = crate::text::plain(&d);
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
        let d = crate::text::plain(&d);
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
        let d = crate::text::plain(&d);
        assert_eq!(v, Verdict::Fail);
        assert!(d.contains("CORS"));
    }

    #[test]
    fn rfc9207_missing_iss_fails() {
        for (advertised, returned) in [(false, None), (false, Some(false)), (true, Some(false))] {
            let (v, d) = judge_iss(advertised, returned);
            let d = crate::text::plain(&d);
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
        let d = crate::text::plain(&d);
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
        let d = crate::text::plain(&d);
        assert_eq!(v, Verdict::Unknown);
        assert!(d.contains("No refresh token was issued"));
        assert_eq!(
            judge_rotation(Some("RT-OLD-1"), Some("RT-NEW-2")).0,
            Verdict::Pass
        );
        for new in [Some("RT-OLD-1"), None] {
            let (v, d) = judge_rotation(Some("RT-OLD-1"), new);
            let d = crate::text::plain(&d);
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
    fn rfc9700_4_1_3_redirect_uri_line_grades_each_alteration() {
        let r = |kind, equivalent, answer| RedirectResult {
            kind,
            uri: "http://127.0.0.1:8080/x".into(),
            equivalent,
            answer,
        };
        let held = |kind| r(kind, false, RedirectAnswer::Held);
        let all_held: Vec<_> = ProbeKind::REDIRECT[1..].iter().map(|&k| held(k)).collect();
        assert_eq!(judge_redirect_uri(true, &all_held).0, Verdict::Pass);
        // Silence proves nothing when the registered URI did not come back either.
        assert_eq!(judge_redirect_uri(false, &all_held).0, Verdict::Unknown);
        let mut lax = all_held.clone();
        lax[0] = r(ProbeKind::RedirectPathSuffix, false, RedirectAnswer::Code);
        assert_eq!(judge_redirect_uri(true, &lax).0, Verdict::Fail);
        lax[0] = r(
            ProbeKind::RedirectPathSuffix,
            false,
            RedirectAnswer::NeedsLogin("login_required".into()),
        );
        let (v, d) = judge_redirect_uri(true, &lax);
        let d = crate::text::plain(&d);
        assert!(
            v == Verdict::Fail && d.contains("a code would follow a login"),
            "{d}"
        );
        // A respelling of the same URI (scheme case, empty path) accepted: a warning only.
        let mut respelled = all_held.clone();
        respelled[3] = r(ProbeKind::RedirectCase, true, RedirectAnswer::Code);
        let (v, d) = judge_redirect_uri(true, &respelled);
        let d = crate::text::plain(&d);
        assert!(v == Verdict::Warn && d.contains("respelled"), "{d}");
        // An error redirected to an unregistered URI: RFC 6749 §4.1.2.1 forbids the redirect.
        let mut error = all_held.clone();
        error[1] = r(
            ProbeKind::RedirectExtraQuery,
            false,
            RedirectAnswer::ErrorRedirect("invalid_request".into()),
        );
        let (v, d) = judge_redirect_uri(true, &error);
        let d = crate::text::plain(&d);
        assert!(v == Verdict::Warn && d.contains("MUST NOT redirect"), "{d}");
        let mut unclear = all_held;
        unclear[2] = r(
            ProbeKind::RedirectTrailingSlash,
            false,
            RedirectAnswer::Unclear("server_error".into()),
        );
        assert_eq!(judge_redirect_uri(true, &unclear).0, Verdict::Unknown);
    }
}
