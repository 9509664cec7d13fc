//! Attack lab only: deliberately weak authorization requests (no PKCE, `plain`, implicit) that
//! ask a provider whether it would accept a downgrade, and the reading of its answer. Never used
//! for a login: every probe carries `prompt=none`, so the provider answers at once: an accepted
//! request comes back as `login_required` (or a code when a session exists), a refused one as
//! `invalid_request`, `unsupported_response_type` or `unauthorized_client`.

use crate::protocol::authorize::build_url;
use crate::protocol::callback::{MAX_CODE_LEN, MAX_DESCRIPTION_CHARS, MAX_ISS_LEN, MAX_QUERY_LEN};
use crate::protocol::error::sanitize_for_display;
use crate::protocol::pkce::CodeVerifier;
use crate::protocol::secret::{AccessToken, AuthorizationCode};
use crate::protocol::state::{State, MAX_STATE_LEN};
use crate::protocol::uri::{parse_query, UriError};
use serde::{Deserialize, Serialize};

/// Which weakness a probe tries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProbeKind {
    /// `response_type=code` without `code_challenge`: is PKCE enforced? (RFC 9700 §2.1.1)
    NoChallenge,
    /// `code_challenge_method=plain`: the challenge is the verifier itself (RFC 7636 §4.2).
    PlainChallenge,
    /// `response_type=token`: the implicit grant (RFC 9700 §2.1.2).
    Implicit,
    /// The control of the redirect-URI probes: a valid S256 code request to the registered
    /// redirect URI. Only when it comes back does silence on the altered URIs mean "refused".
    RedirectRegistered,
    /// The registered redirect URI with a path segment appended (RFC 9700 §4.1.3).
    RedirectPathSuffix,
    /// The registered redirect URI with an extra query parameter.
    RedirectExtraQuery,
    /// The registered redirect URI with its trailing slash added or removed.
    RedirectTrailingSlash,
    /// The registered redirect URI with a letter case changed.
    RedirectCase,
}

impl ProbeKind {
    /// Every probe, in the order the checkup runs them.
    pub const ALL: [ProbeKind; 3] = [Self::NoChallenge, Self::PlainChallenge, Self::Implicit];

    /// The redirect-URI strictness probes, control first, in the order the checkup runs them.
    pub const REDIRECT: [ProbeKind; 5] = [
        Self::RedirectRegistered,
        Self::RedirectPathSuffix,
        Self::RedirectExtraQuery,
        Self::RedirectTrailingSlash,
        Self::RedirectCase,
    ];

    /// Every probe of the provider checkup, in its order: the implicit one last, since it is
    /// the one a provider most often keeps on a page of its own (closing the window there ends
    /// the run instead of blocking the probes after it).
    pub const CHECKUP: [ProbeKind; 8] = [
        Self::NoChallenge,
        Self::PlainChallenge,
        Self::RedirectRegistered,
        Self::RedirectPathSuffix,
        Self::RedirectExtraQuery,
        Self::RedirectTrailingSlash,
        Self::RedirectCase,
        Self::Implicit,
    ];

    /// Whether this probe tests the redirect URI matching (control included).
    pub fn is_redirect(self) -> bool {
        Self::REDIRECT.contains(&self)
    }

    /// Whether this probe sends an altered redirect URI (the four, not the control).
    pub fn alters_redirect(self) -> bool {
        self.is_redirect() && self != Self::RedirectRegistered
    }

    /// Short label: what is weak about the request.
    pub fn label(self) -> &'static str {
        match self {
            Self::NoChallenge => "no code_challenge",
            Self::PlainChallenge => "code_challenge_method=plain",
            Self::Implicit => "response_type=token",
            Self::RedirectRegistered => "registered redirect_uri (control)",
            Self::RedirectPathSuffix => "redirect_uri + path suffix",
            Self::RedirectExtraQuery => "redirect_uri + extra query parameter",
            Self::RedirectTrailingSlash => "redirect_uri with the trailing slash changed",
            Self::RedirectCase => "redirect_uri with a letter case changed",
        }
    }

    /// One sentence: what accepting it would mean.
    pub fn description(self) -> &'static str {
        match self {
            Self::NoChallenge => {
                "A code request without PKCE: if accepted, a stolen code can be redeemed by anyone."
            }
            Self::PlainChallenge => {
                "A plain challenge is the verifier itself: whoever sees the URL can redeem the code."
            }
            Self::Implicit => {
                "The implicit grant puts the access token in the URL fragment, history and logs."
            }
            Self::RedirectRegistered => {
                "A valid request to the registered redirect URI: shows whether this provider \
                 answers by redirecting back at all."
            }
            _ => {
                "A code sent to a redirect URI that is not byte-identical to the registered one \
                 can be sent to a page the attacker controls (RFC 9700 §4.1.3)."
            }
        }
    }
}

/// The redirect URI a redirect probe sends: the registered one altered as `kind` says, and
/// whether the alteration only respells the same URI (RFC 3986 §6.2.2: scheme and host are
/// case-insensitive, an empty path is `/`), so accepting it is not exact matching but not
/// exploitable either. `None` for the other probes and for a URI that is not `scheme://…`.
pub fn altered_redirect_uri(kind: ProbeKind, registered: &str) -> Option<(String, bool)> {
    let (scheme, rest) = registered.split_once("://")?;
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (path, query) = match tail.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (tail, None),
    };
    let query_part = query.map(|q| format!("?{q}")).unwrap_or_default();
    let join = |path: &str, query: &str| format!("{scheme}://{authority}{path}{query}");
    match kind {
        ProbeKind::RedirectPathSuffix => {
            let path = if path.ends_with('/') {
                format!("{path}flow-lab-probe")
            } else {
                format!("{path}/flow-lab-probe")
            };
            Some((join(&path, &query_part), false))
        }
        ProbeKind::RedirectExtraQuery => {
            let query = match query {
                Some(q) if !q.is_empty() => format!("?{q}&flow_lab_probe=1"),
                _ => "?flow_lab_probe=1".to_owned(),
            };
            Some((join(path, &query), false))
        }
        ProbeKind::RedirectTrailingSlash => match path.strip_suffix('/') {
            // `http://host/` and `http://host` are the same URI (RFC 3986 §6.2.3).
            Some(shorter) => Some((join(shorter, &query_part), shorter.is_empty())),
            None => Some((join(&format!("{path}/"), &query_part), path.is_empty())),
        },
        ProbeKind::RedirectCase => {
            let swap = |text: &str| -> String {
                text.chars()
                    .map(|c| {
                        if c.is_ascii_lowercase() {
                            c.to_ascii_uppercase()
                        } else {
                            c.to_ascii_lowercase()
                        }
                    })
                    .collect()
            };
            // The path is case-sensitive: the meaningful change when it has letters; else the
            // host, else the scheme (both case-insensitive: only a respelling).
            if path.chars().any(|c| c.is_ascii_alphabetic()) {
                Some((join(&swap(path), &query_part), false))
            } else if authority.chars().any(|c| c.is_ascii_alphabetic()) {
                let upper = format!("{scheme}://{}{path}{query_part}", swap(authority));
                Some((upper, true))
            } else {
                let upper = format!("{}://{rest}", scheme.to_ascii_uppercase());
                Some((upper, true))
            }
        }
        _ => None,
    }
}

/// A deliberately weak authorization request (attack lab only).
pub struct ProbeRequest<'a> {
    /// The provider's `authorization_endpoint` (may already have a query, D-9).
    pub authorization_endpoint: &'a str,
    /// The registered public client id.
    pub client_id: &'a str,
    /// The exact registered redirect URI.
    pub redirect_uri: &'a str,
    /// Space-separated scopes, sent as given; omitted when empty.
    pub scope: &'a str,
    /// This probe's `state`.
    pub state: &'a State,
    /// The weakness tried.
    pub kind: ProbeKind,
    /// A fresh verifier-shaped value (43..=128 unreserved characters): a `PlainChallenge`
    /// probe sends it as the challenge, a redirect probe its S256 challenge (so that nothing
    /// but the redirect URI can make the provider refuse); ignored by the other kinds.
    pub plain_challenge: Option<&'a str>,
}

impl ProbeRequest<'_> {
    /// The query parameters in the order they are sent, ending with `prompt=none`.
    pub fn parameters(&self) -> Vec<(&'static str, String)> {
        let response_type = match self.kind {
            ProbeKind::Implicit => "token",
            _ => "code",
        };
        let redirect_uri = altered_redirect_uri(self.kind, self.redirect_uri)
            .map(|(uri, _)| uri)
            .unwrap_or_else(|| self.redirect_uri.to_owned());
        let mut params = vec![
            ("response_type", response_type.to_owned()),
            ("client_id", self.client_id.to_owned()),
            ("redirect_uri", redirect_uri),
        ];
        if !self.scope.is_empty() {
            params.push(("scope", self.scope.to_owned()));
        }
        params.push(("state", self.state.secret().to_owned()));
        if let (ProbeKind::PlainChallenge, Some(challenge)) = (self.kind, self.plain_challenge) {
            params.push(("code_challenge", challenge.to_owned()));
            params.push(("code_challenge_method", "plain".to_owned()));
        }
        if let (true, Some(verifier)) = (
            self.kind.is_redirect(),
            self.plain_challenge
                .and_then(|v| CodeVerifier::parse(v).ok()),
        ) {
            // A request valid in every other way: a refusal can only be about the URI. The
            // nonce is for providers that require one with `openid` (Glewlwyd).
            params.push(("code_challenge", verifier.challenge().as_str().to_owned()));
            params.push(("code_challenge_method", "S256".to_owned()));
            params.push(("nonce", self.state.secret().to_owned()));
        }
        params.push(("prompt", "none".to_owned()));
        params
    }

    /// The same request without `prompt=none`, for a provider that shows its own page to a
    /// silent request: the user signs in or consents in the probe window, and the answer grades
    /// the probe all the same (an accepted request then comes back with a code).
    pub fn to_interactive_url(&self) -> Result<String, UriError> {
        let url = self.to_url()?;
        Ok(url.strip_suffix("&prompt=none").unwrap_or(&url).to_owned())
    }

    /// The URL to navigate to, with the same endpoint and redirect URI rules as
    /// `AuthorizationRequest::to_url`. A `PlainChallenge` probe without a verifier-shaped
    /// `plain_challenge` is refused as `UriError::Empty` (it would silently test no PKCE).
    pub fn to_url(&self) -> Result<String, UriError> {
        if (self.kind == ProbeKind::PlainChallenge || self.kind.is_redirect())
            && self
                .plain_challenge
                .is_none_or(|c| CodeVerifier::parse(c).is_err())
        {
            return Err(UriError::Empty);
        }
        build_url(
            self.authorization_endpoint,
            self.redirect_uri,
            &self.parameters(),
        )
    }
}

/// What the provider did with a probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeAnswer {
    /// Refused with an OAuth error (`invalid_request`, `unsupported_response_type`, ...).
    Refused {
        /// The `error` code, sanitized.
        error: String,
        /// `error_description`, sanitized and truncated (untrusted text).
        description: Option<String>,
    },
    /// Accepted as far as the login check: `login_required` and friends (OIDC Core §3.1.2.6).
    AcceptedNeedsLogin {
        /// The `error` code.
        error: String,
    },
    /// Accepted: a code came back (a session existed at the provider).
    AcceptedCode {
        /// The code (redacted in `Debug`).
        code: AuthorizationCode,
    },
    /// An access token came back in the URL.
    AcceptedToken {
        /// The token (redacted in `Debug`).
        access_token: AccessToken,
        /// Whether it was in the `#fragment` (else in the query).
        in_fragment: bool,
    },
    /// Nothing that can be graded: duplicates, oversized values, a server error, no answer.
    Unclear {
        /// What was wrong, safe to show.
        what: String,
    },
}

/// The redirect back from a probe, read without any pending-login lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeReturn {
    /// The `state` returned, if well-formed (the caller matches it to the probe it sent).
    pub state: Option<State>,
    /// The `iss` returned (RFC 9207), sanitized.
    pub iss: Option<String>,
    /// What the provider did.
    pub answer: ProbeAnswer,
}

/// Errors meaning "accepted, but a person must sign in, consent or choose an account".
const NEEDS_LOGIN: [&str; 4] = [
    "login_required",
    "consent_required",
    "interaction_required",
    "account_selection_required",
];

/// Errors that say nothing about the weakness tried: the request failed for another reason.
const INCONCLUSIVE: [&str; 3] = ["server_error", "temporarily_unavailable", "invalid_scope"];

/// Reads the page's query and fragment after a probe. Both are read: implicit answers (and
/// often its errors) come in the fragment, code-flow answers in the query. Hostile input is
/// handled as in `callback`: size caps, duplicates (across both parts) and malformed `state`
/// give `Unclear`, untrusted text is sanitized. A token anywhere wins over everything else.
pub fn read_probe_return(kind: ProbeKind, query: &str, fragment: &str) -> ProbeReturn {
    let unclear = |what: String| ProbeReturn {
        state: None,
        iss: None,
        answer: ProbeAnswer::Unclear { what },
    };
    let query = query.strip_prefix('?').unwrap_or(query);
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    if query.len() > MAX_QUERY_LEN || fragment.len() > MAX_QUERY_LEN {
        return unclear("the answer is larger than any real provider sends".into());
    }
    let mut pairs = parse_query(query);
    let from_fragment = pairs.len();
    pairs.extend(parse_query(fragment));
    let mut seen = std::collections::HashSet::new();
    for (name, _) in &pairs {
        if !seen.insert(name.as_str()) {
            return unclear(format!(
                "the parameter {} came back twice",
                sanitize_for_display(name, 64)
            ));
        }
    }
    // RFC 6749 §3.1: a parameter without a value counts as omitted.
    let find = |wanted: &str| {
        pairs
            .iter()
            .position(|(name, value)| name == wanted && !value.is_empty())
            .map(|i| (i, pairs[i].1.as_str()))
    };
    let get = |wanted: &str| find(wanted).map(|(_, value)| value);
    for (name, cap) in [
        ("state", MAX_STATE_LEN),
        ("iss", MAX_ISS_LEN),
        ("code", MAX_CODE_LEN),
    ] {
        if get(name).is_some_and(|v| v.len() > cap) {
            return unclear(format!("the {name} returned is too large"));
        }
    }
    let state = match get("state").map(State::parse) {
        Some(Err(_)) => return unclear("the state returned is malformed".into()),
        other => other.and_then(Result::ok),
    };
    let answer = if let Some((i, token)) = find("access_token") {
        ProbeAnswer::AcceptedToken {
            access_token: AccessToken::new(token.to_owned()),
            in_fragment: i >= from_fragment,
        }
    } else if let Some(raw) = get("error") {
        // Compared raw, sanitized only for display.
        let error = sanitize_for_display(raw, 100);
        if NEEDS_LOGIN.contains(&raw) {
            ProbeAnswer::AcceptedNeedsLogin { error }
        } else if INCONCLUSIVE.contains(&raw) {
            ProbeAnswer::Unclear {
                what: format!("the provider answered {error}, which does not grade the probe"),
            }
        } else {
            ProbeAnswer::Refused {
                error,
                description: get("error_description")
                    .map(|d| sanitize_for_display(d, MAX_DESCRIPTION_CHARS)),
            }
        }
    } else if let Some(code) = get("code") {
        ProbeAnswer::AcceptedCode {
            code: AuthorizationCode::new(code.to_owned()),
        }
    } else {
        let part = match kind {
            ProbeKind::Implicit => "fragment",
            _ => "query",
        };
        ProbeAnswer::Unclear {
            what: format!("no error, code or access_token came back (expected in the {part})"),
        }
    };
    ProbeReturn {
        state,
        iss: get("iss").map(|iss| sanitize_for_display(iss, MAX_ISS_LEN)),
        answer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const ISS: &str = "iss=http%3A%2F%2F127.0.0.1%3A9000";
    const AS: &str = "https://as.example/auth";

    fn probe_url(kind: ProbeKind, endpoint: &str, plain: Option<&str>) -> Result<String, UriError> {
        let state = State::parse("abc").unwrap();
        ProbeRequest {
            authorization_endpoint: endpoint,
            client_id: "flow-lab",
            redirect_uri: "http://127.0.0.1:8080/",
            scope: "openid read:profile",
            state: &state,
            kind,
            plain_challenge: plain,
        }
        .to_url()
    }

    fn names(url: &str) -> Vec<String> {
        parse_query(url.split_once('?').unwrap().1)
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    }

    fn answer(kind: ProbeKind, query: &str, fragment: &str) -> ProbeAnswer {
        read_probe_return(kind, query, fragment).answer
    }

    #[test]
    fn no_challenge_probe_sends_code_without_challenge_and_prompt_none() {
        let url = probe_url(ProbeKind::NoChallenge, "http://127.0.0.1:9000/auth", None).unwrap();
        assert_eq!(
            url,
            "http://127.0.0.1:9000/auth?response_type=code&client_id=flow-lab\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2F&scope=openid+read%3Aprofile\
             &state=abc&prompt=none"
        );
        // A plain value handed to another kind is never sent.
        let with = probe_url(ProbeKind::NoChallenge, AS, Some(PLAIN)).unwrap();
        assert!(!with.contains("code_challenge") && !with.contains(PLAIN));
    }

    #[test]
    fn p4_plain_probe_sends_the_verifier_shaped_value_as_challenge() {
        let url = probe_url(ProbeKind::PlainChallenge, AS, Some(PLAIN)).unwrap();
        assert!(url.contains(&format!(
            "&state=abc&code_challenge={PLAIN}&code_challenge_method=plain&prompt=none"
        )));
        assert!(url.starts_with("https://as.example/auth?response_type=code&"));
        // Without a verifier-shaped value it would test "no PKCE" instead: refused.
        for plain in [
            None,
            Some("short"),
            Some("has space and is long enough to pass 43 c"),
        ] {
            let refused = probe_url(ProbeKind::PlainChallenge, AS, plain);
            assert_eq!(refused, Err(UriError::Empty), "{plain:?}");
        }
    }

    #[test]
    fn r9700_9_implicit_probe_asks_for_a_token_and_never_sends_a_verifier() {
        let url = probe_url(ProbeKind::Implicit, AS, Some(PLAIN)).unwrap();
        assert_eq!(
            names(&url),
            [
                "response_type",
                "client_id",
                "redirect_uri",
                "scope",
                "state",
                "prompt"
            ]
        );
        assert!(url.contains("response_type=token&"));
        assert!(!url.contains("code_challenge") && !url.contains(PLAIN));
    }

    #[test]
    fn d09_probe_keeps_the_endpoint_query_and_refuses_reserved_ones() {
        let url = probe_url(
            ProbeKind::NoChallenge,
            "https://as.example/auth?tenant=x",
            None,
        )
        .unwrap();
        assert!(url.starts_with("https://as.example/auth?tenant=x&response_type=code&"));
        assert_eq!(
            probe_url(
                ProbeKind::Implicit,
                "https://as.example/auth?prompt=login",
                None
            ),
            Err(UriError::ReservedParameter("prompt".into()))
        );
        assert!(matches!(
            probe_url(ProbeKind::Implicit, "http://as.example/auth", None),
            Err(UriError::InsecureEndpoint(_))
        ));
        assert_eq!(
            probe_url(ProbeKind::Implicit, "https://as.example/auth#x", None),
            Err(UriError::FragmentNotAllowed)
        );
    }

    #[test]
    fn oidc_provider_refusals_are_read_with_state_and_iss() {
        let r = read_probe_return(
            ProbeKind::NoChallenge,
            &format!(
                "?error=invalid_request&error_description=code_challenge+is+required&state=abc&{ISS}"
            ),
            "",
        );
        assert_eq!(r.state.unwrap().secret(), "abc");
        assert_eq!(r.iss.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(
            r.answer,
            ProbeAnswer::Refused {
                error: "invalid_request".into(),
                description: Some("code_challenge is required".into()),
            }
        );
        let r = read_probe_return(
            ProbeKind::Implicit,
            "",
            "#error=unsupported_response_type&state=abc",
        );
        assert_eq!(r.state.unwrap().secret(), "abc");
        assert_eq!(r.iss, None);
        assert!(
            matches!(r.answer, ProbeAnswer::Refused { ref error, description: None }
            if error == "unsupported_response_type")
        );
    }

    #[test]
    fn oidcc_login_required_means_the_weak_request_was_accepted() {
        for error in NEEDS_LOGIN {
            let query = format!("error={error}&state=abc&{ISS}");
            assert_eq!(
                answer(ProbeKind::NoChallenge, &query, ""),
                ProbeAnswer::AcceptedNeedsLogin {
                    error: error.into()
                }
            );
        }
    }

    #[test]
    fn r9700_9_token_in_the_fragment_is_accepted_and_redacted() {
        let r = read_probe_return(
            ProbeKind::Implicit,
            "",
            "#access_token=SECRETTOKEN&token_type=Bearer&state=abc&expires_in=3600",
        );
        assert_eq!(r.state.as_ref().unwrap().secret(), "abc");
        let ProbeAnswer::AcceptedToken {
            ref access_token,
            in_fragment: true,
        } = r.answer
        else {
            panic!("{r:?}");
        };
        assert_eq!(access_token.secret(), "SECRETTOKEN");
        assert!(!format!("{r:?}").contains("SECRETTOKEN"));
        assert!(!format!("{r:?}").contains("abc"));
        // A token in the query of a code probe is noteworthy too.
        assert!(matches!(
            answer(
                ProbeKind::NoChallenge,
                "access_token=t&error=x&state=abc",
                ""
            ),
            ProbeAnswer::AcceptedToken {
                in_fragment: false,
                ..
            }
        ));
    }

    #[test]
    fn code_back_without_pkce_is_accepted_and_redacted() {
        let r = read_probe_return(ProbeKind::NoChallenge, "code=THECODE&state=abc", "");
        assert!(
            matches!(r.answer, ProbeAnswer::AcceptedCode { ref code } if code.secret() == "THECODE")
        );
        assert!(!format!("{r:?}").contains("THECODE"));
        // An error wins over a code sent alongside it (C-9).
        assert!(matches!(
            answer(ProbeKind::NoChallenge, "code=c&error=invalid_request", ""),
            ProbeAnswer::Refused { .. }
        ));
    }

    #[test]
    fn server_errors_and_no_answer_are_unclear_not_refused() {
        for query in [
            "error=server_error&state=abc",
            "error=temporarily_unavailable",
            "error=invalid_scope",
            "state=abc",
            "",
            "error=&code=",
        ] {
            assert!(
                matches!(
                    answer(ProbeKind::PlainChallenge, query, ""),
                    ProbeAnswer::Unclear { .. }
                ),
                "{query}"
            );
        }
        let ProbeAnswer::Unclear { what } = answer(ProbeKind::Implicit, "", "") else {
            unreachable!()
        };
        assert!(what.contains("fragment"));
    }

    #[test]
    fn c05_duplicates_in_either_part_or_across_are_unclear() {
        for (query, fragment) in [
            ("error=invalid_request&error=login_required&state=abc", ""),
            ("", "access_token=a&access_token=b"),
            ("state=abc&error=login_required", "state=evil"),
        ] {
            let r = read_probe_return(ProbeKind::Implicit, query, fragment);
            assert!(
                matches!(r.answer, ProbeAnswer::Unclear { .. }),
                "{query}#{fragment}"
            );
            assert_eq!(r.state, None);
        }
    }

    #[test]
    fn c24_oversized_answers_are_unclear() {
        let huge = "x".repeat(MAX_QUERY_LEN + 1);
        for (query, fragment) in [
            (format!("error=login_required&pad={huge}"), String::new()),
            (String::new(), format!("access_token={huge}")),
            (
                format!("error=login_required&state={}", "s".repeat(513)),
                String::new(),
            ),
            (
                format!("code={}", "c".repeat(MAX_CODE_LEN + 1)),
                String::new(),
            ),
            (
                format!("error=x&iss={}", "i".repeat(MAX_ISS_LEN + 1)),
                String::new(),
            ),
        ] {
            assert!(
                matches!(
                    answer(ProbeKind::NoChallenge, &query, &fragment),
                    ProbeAnswer::Unclear { .. }
                ),
                "{}",
                &query[..20.min(query.len())]
            );
        }
        assert!(matches!(
            answer(
                ProbeKind::NoChallenge,
                "error=login_required&state=%C3%A9",
                ""
            ),
            ProbeAnswer::Unclear { .. }
        ));
    }

    #[test]
    fn x06_hostile_error_text_is_sanitized_and_truncated() {
        let query = format!(
            "error=%3Cb%3Ex%E2%80%AE&error_description={}%0A%3Cscript%3E&state=abc",
            "d".repeat(5_000)
        );
        let ProbeAnswer::Refused { error, description } =
            answer(ProbeKind::NoChallenge, &query, "")
        else {
            panic!()
        };
        assert_eq!(error, "<b>x\\u{202E}");
        let description = description.unwrap();
        assert_eq!(description.chars().count(), MAX_DESCRIPTION_CHARS + 1);
        assert!(description.ends_with('…'));
        let ProbeAnswer::Unclear { what } =
            answer(ProbeKind::NoChallenge, "a%E2%80%AE=1&a%E2%80%AE=2", "")
        else {
            panic!()
        };
        assert!(what.contains("\\u{202E}") && !what.contains('\u{202E}'));
        let r = read_probe_return(ProbeKind::NoChallenge, "error=x&iss=a%0Ab", "");
        assert_eq!(r.iss.as_deref(), Some("a\\u{A}b"));
    }

    #[test]
    fn rfc9700_4_1_3_redirect_probes_alter_the_registered_uri_four_ways() {
        let alter = |kind, uri| altered_redirect_uri(kind, uri).unwrap();
        let app = "http://127.0.0.1:8080/";
        assert_eq!(
            alter(ProbeKind::RedirectPathSuffix, app),
            ("http://127.0.0.1:8080/flow-lab-probe".into(), false)
        );
        assert_eq!(
            alter(ProbeKind::RedirectExtraQuery, app),
            ("http://127.0.0.1:8080/?flow_lab_probe=1".into(), false)
        );
        // Root path: `http://host` is the same URI as `http://host/` (a respelling).
        assert_eq!(
            alter(ProbeKind::RedirectTrailingSlash, app),
            ("http://127.0.0.1:8080".into(), true)
        );
        // No letter in the path or host: only the scheme can change case (a respelling).
        assert_eq!(
            alter(ProbeKind::RedirectCase, app),
            ("HTTP://127.0.0.1:8080/".into(), true)
        );
        let cb = "https://app.example/Cb?x=1";
        assert_eq!(
            alter(ProbeKind::RedirectPathSuffix, cb),
            ("https://app.example/Cb/flow-lab-probe?x=1".into(), false)
        );
        assert_eq!(
            alter(ProbeKind::RedirectExtraQuery, cb),
            ("https://app.example/Cb?x=1&flow_lab_probe=1".into(), false)
        );
        assert_eq!(
            alter(ProbeKind::RedirectTrailingSlash, cb),
            ("https://app.example/Cb/?x=1".into(), false)
        );
        // A path with letters: the path's case changes, which names another resource.
        assert_eq!(
            alter(ProbeKind::RedirectCase, cb),
            ("https://app.example/cB?x=1".into(), false)
        );
        assert_eq!(
            alter(ProbeKind::RedirectCase, "http://localhost:8080/"),
            ("http://LOCALHOST:8080/".into(), true)
        );
        for kind in [
            ProbeKind::RedirectRegistered,
            ProbeKind::NoChallenge,
            ProbeKind::Implicit,
        ] {
            assert_eq!(altered_redirect_uri(kind, app), None, "{kind:?}");
        }
    }

    #[test]
    fn rfc9700_4_1_3_a_redirect_probe_is_a_valid_s256_request_but_for_its_redirect_uri() {
        for kind in ProbeKind::REDIRECT {
            let url = probe_url(kind, AS, Some(PLAIN)).unwrap();
            let pairs: std::collections::HashMap<_, _> =
                parse_query(url.split_once('?').unwrap().1)
                    .into_iter()
                    .collect();
            assert_eq!(pairs["response_type"], "code");
            assert_eq!(pairs["code_challenge_method"], "S256");
            let challenge = CodeVerifier::parse(PLAIN).unwrap().challenge();
            assert_eq!(pairs["code_challenge"], challenge.as_str());
            assert!(pairs.contains_key("nonce") && pairs["prompt"] == "none");
            let expected = altered_redirect_uri(kind, "http://127.0.0.1:8080/")
                .map(|(u, _)| u)
                .unwrap_or_else(|| "http://127.0.0.1:8080/".into());
            assert_eq!(pairs["redirect_uri"], expected, "{kind:?}");
            // Without a verifier-shaped value it would test nothing: refused.
            assert_eq!(probe_url(kind, AS, None), Err(UriError::Empty));
        }
    }
}
