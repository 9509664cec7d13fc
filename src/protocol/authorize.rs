//! Building the authorization request URL (RFC 6749 §4.1.1 + RFC 7636 §4.3): the front-channel
//! navigation that carries only public values: the challenge, never the verifier.

use crate::protocol::error::sanitize_for_display;
use crate::protocol::pkce::{CodeChallenge, S256};
use crate::protocol::state::State;
use crate::protocol::uri::{reserved_in_query, url_with_query, HttpUrl, UriError};

/// Every name the authorization endpoint's own query must not carry: the parameters the request
/// sets (RFC 6749 §3.1 forbids sending one twice, and a provider or tampered metadata that
/// pre-sets `response_type=token` or `code_challenge_method=plain` would change the flow or
/// downgrade PKCE at a server that reads the first value: A-1, P-5), and the ones that would
/// replace or redirect the whole request at a server that honours them: `response_mode`
/// (where the answer goes), `request` and `request_uri` (JAR, RFC 9101).
pub const RESERVED_PARAMETERS: [&str; 12] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "prompt",
    "response_mode",
    "request",
    "request_uri",
];

/// Refuses an authorization endpoint whose query already carries one of
/// [`RESERVED_PARAMETERS`] (after `&` or `;`); other query parameters (`?tenant=x`) are kept
/// (D-9).
pub fn check_endpoint_query(authorization_endpoint: &str) -> Result<(), UriError> {
    let Some((_, query)) = authorization_endpoint.split_once('?') else {
        return Ok(());
    };
    match reserved_in_query(query, &RESERVED_PARAMETERS) {
        Some(name) => Err(UriError::ReservedParameter(sanitize_for_display(&name, 64))),
        None => Ok(()),
    }
}

/// Everything the authorization URL is made of.
pub struct AuthorizationRequest<'a> {
    /// The provider's `authorization_endpoint` (may already have a query, D-9).
    pub authorization_endpoint: &'a str,
    /// The registered public client id.
    pub client_id: &'a str,
    /// The exact registered redirect URI (compared byte for byte by the AS).
    pub redirect_uri: &'a str,
    /// Space-separated scopes; omitted when empty (RFC 6749 §3.1).
    pub scope: &'a str,
    /// This login's `state`.
    pub state: &'a State,
    /// The S256 challenge; `None` only for the "PKCE off" confidential-client comparison.
    pub code_challenge: Option<&'a CodeChallenge>,
    /// The OpenID Connect `nonce`, when `openid` is requested.
    pub nonce: Option<&'a str>,
    /// The OpenID Connect `prompt` (e.g. `consent`, needed by some providers for refresh tokens).
    pub prompt: Option<&'a str>,
    /// Extra parameters from the settings (`audience`, `resource`, `login_hint`, …), sent last;
    /// none may be in [`RESERVED_PARAMETERS`].
    pub extra: &'a [(String, String)],
}

impl AuthorizationRequest<'_> {
    /// The query parameters in the order they are sent: `response_type=code`, `client_id`,
    /// `redirect_uri`, `scope`, `state`, `code_challenge`, `code_challenge_method=S256`, `nonce`,
    /// `prompt`, then the extra ones. Never `plain`, never `response_type=token`, never a secret.
    pub fn parameters(&self) -> Vec<(&str, String)> {
        let mut params = vec![
            ("response_type", "code".to_owned()),
            ("client_id", self.client_id.to_owned()),
            ("redirect_uri", self.redirect_uri.to_owned()),
        ];
        if !self.scope.is_empty() {
            params.push(("scope", self.scope.to_owned()));
        }
        params.push(("state", self.state.secret().to_owned()));
        if let Some(challenge) = self.code_challenge {
            params.push(("code_challenge", challenge.as_str().to_owned()));
            // Always explicit: an omitted method means `plain` (RFC 7636 §4.3, P-4).
            params.push(("code_challenge_method", S256.to_owned()));
        }
        if let Some(nonce) = self.nonce.filter(|n| !n.is_empty()) {
            params.push(("nonce", nonce.to_owned()));
        }
        if let Some(prompt) = self.prompt.filter(|p| !p.is_empty()) {
            params.push(("prompt", prompt.to_owned()));
        }
        params.extend(self.extra.iter().map(|(n, v)| (n.as_str(), v.clone())));
        params
    }

    /// The URL to navigate to. The endpoint must be an https (or loopback http) URL without a
    /// fragment; an existing query on it is kept and our parameters appended (RFC 6749 §3.1).
    pub fn to_url(&self) -> Result<String, UriError> {
        // D-9: an extra parameter must not replace one of ours (checked in the settings too).
        if let Some((name, _)) = self
            .extra
            .iter()
            .find(|(name, _)| RESERVED_PARAMETERS.contains(&name.as_str()))
        {
            return Err(UriError::ReservedParameter(sanitize_for_display(name, 64)));
        }
        build_url(
            self.authorization_endpoint,
            self.redirect_uri,
            &self.parameters(),
        )
    }
}

/// Checks the endpoint and redirect URI, then appends `params` to the endpoint's query: shared
/// by the login request and the attack lab's probes (`protocol::probe`).
pub(crate) fn build_url(
    endpoint: &str,
    redirect_uri: &str,
    params: &[(&str, String)],
) -> Result<String, UriError> {
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let url = url_with_query(endpoint, &RESERVED_PARAMETERS, &pairs)?;
    // The redirect URI is absolute, without fragment (RFC 6749 §3.1.2), and the response
    // must not travel unencrypted (RFC 9700 §2.6).
    HttpUrl::parse(redirect_uri)?.require_secure()?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::error::Explain;
    use crate::protocol::pkce::CodeVerifier;
    use crate::protocol::uri::parse_query;

    fn state() -> State {
        State::parse("st-_ate").unwrap()
    }

    fn challenge() -> CodeChallenge {
        CodeVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
            .unwrap()
            .challenge()
    }

    #[test]
    fn a01_url_has_exactly_the_code_flow_parameters() {
        let state = state();
        let challenge = challenge();
        let request = AuthorizationRequest {
            authorization_endpoint: "https://as.example/authorize",
            client_id: "flow-lab",
            redirect_uri: "https://app.example/cb",
            scope: "read:profile",
            state: &state,
            code_challenge: Some(&challenge),
            nonce: None,
            prompt: None,
            extra: &[],
        };
        let url = request.to_url().unwrap();
        assert_eq!(
            url,
            "https://as.example/authorize?response_type=code&client_id=flow-lab\
             &redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=read%3Aprofile&state=st-_ate\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
             &code_challenge_method=S256"
        );
        assert!(!url.contains("client_secret"));
        assert!(!url.contains("plain"));
        assert!(!url.contains("response_type=token"));
        assert!(!url.contains("code_verifier"));
        assert!(!url.contains("dBjftJeZ"));
    }

    #[test]
    fn a01_optional_parameters_keep_their_order() {
        let state = state();
        let challenge = challenge();
        let request = AuthorizationRequest {
            authorization_endpoint: "https://as.example/authorize",
            client_id: "c",
            redirect_uri: "https://app.example/",
            scope: "openid",
            state: &state,
            code_challenge: Some(&challenge),
            nonce: Some("n-1"),
            prompt: Some("consent"),
            extra: &[],
        };
        let names: Vec<&str> = request.parameters().iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            [
                "response_type",
                "client_id",
                "redirect_uri",
                "scope",
                "state",
                "code_challenge",
                "code_challenge_method",
                "nonce",
                "prompt"
            ]
        );
    }

    #[test]
    fn rfc8707_oidc_extra_parameters_are_sent_after_ours_and_never_replace_one() {
        let state = state();
        let challenge = challenge();
        let extra = [
            ("resource".to_owned(), "https://api.example/".to_owned()),
            ("login_hint".to_owned(), "alice@example.com".to_owned()),
        ];
        let mut request = AuthorizationRequest {
            authorization_endpoint: "https://as.example/authorize",
            client_id: "c",
            redirect_uri: "https://app.example/",
            scope: "openid",
            state: &state,
            code_challenge: Some(&challenge),
            nonce: None,
            prompt: Some("login"),
            extra: &extra,
        };
        let url = request.to_url().unwrap();
        assert!(
            url.ends_with(
                "&code_challenge_method=S256&prompt=login\
                 &resource=https%3A%2F%2Fapi.example%2F&login_hint=alice%40example.com"
            ),
            "{url}"
        );
        // D-9: even past the settings' check, an extra one never replaces one of ours.
        let sneaky = [("code_challenge_method".to_owned(), "plain".to_owned())];
        request.extra = &sneaky;
        assert_eq!(
            request.to_url(),
            Err(UriError::ReservedParameter("code_challenge_method".into()))
        );
    }

    #[test]
    fn a01_pkce_off_sends_no_challenge_and_no_method() {
        let state = state();
        let request = AuthorizationRequest {
            authorization_endpoint: "https://as.example/authorize",
            client_id: "c",
            redirect_uri: "https://app.example/",
            scope: "",
            state: &state,
            code_challenge: None,
            nonce: None,
            prompt: None,
            extra: &[],
        };
        let url = request.to_url().unwrap();
        assert!(!url.contains("code_challenge"));
        assert!(!url.contains("scope="));
        assert!(url.contains("state=st-_ate"));
    }

    #[test]
    fn a06_scope_and_redirect_uri_are_encoded_and_round_trip() {
        let state = state();
        let challenge = challenge();
        let request = AuthorizationRequest {
            authorization_endpoint: "https://as.example/authorize",
            client_id: "c",
            redirect_uri: "https://app.example/cb?x=1&y=2",
            scope: "openid profile",
            state: &state,
            code_challenge: Some(&challenge),
            nonce: None,
            prompt: None,
            extra: &[],
        };
        let url = request.to_url().unwrap();
        assert!(url.contains("scope=openid+profile"));
        assert!(url.contains("redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1%26y%3D2"));
        let (_, query) = url.split_once('?').unwrap();
        let pairs = parse_query(query);
        assert!(pairs.contains(&("scope".into(), "openid profile".into())));
        assert!(pairs.contains(&(
            "redirect_uri".into(),
            "https://app.example/cb?x=1&y=2".into()
        )));
    }

    #[test]
    fn d09_pf_existing_query_is_kept() {
        for (endpoint, prefix) in [
            (
                "https://as.example/authorize?tenant=x",
                "https://as.example/authorize?tenant=x&response_type=code&",
            ),
            (
                "https://as.example/authorize?",
                "https://as.example/authorize?response_type=code&",
            ),
            (
                "https://as.example/authorize?tenant=x&",
                "https://as.example/authorize?tenant=x&response_type=code&",
            ),
        ] {
            assert!(
                request_at(endpoint).unwrap().starts_with(prefix),
                "{endpoint}"
            );
        }
    }

    #[test]
    fn d09_endpoint_query_carrying_our_parameters_is_refused() {
        let state = state();
        let challenge = challenge();
        let mut request = AuthorizationRequest {
            authorization_endpoint: "",
            client_id: "c",
            redirect_uri: "https://app.example/",
            scope: "s",
            state: &state,
            code_challenge: Some(&challenge),
            nonce: None,
            prompt: None,
            extra: &[],
        };
        // Found by the discovery fuzz target: each of these went out twice.
        for endpoint in [
            "https://as.example/auth?response_type=token",
            "https://as.example/auth?tenant=x&code_challenge_method=plain",
            "https://as.example/auth?state=attacker",
            "https://as.example/auth?redirect%5Furi=https%3A%2F%2Fevil.example",
            "https://as.example/auth?client_id=other&",
            "https://as.example/auth?prompt=none",
        ] {
            request.authorization_endpoint = endpoint;
            assert!(
                matches!(request.to_url(), Err(UriError::ReservedParameter(_))),
                "{endpoint}"
            );
        }
        assert_eq!(
            check_endpoint_query("https://as.example/auth?response_type=token"),
            Err(UriError::ReservedParameter("response_type".into()))
        );
        // Other parameters stay, and names that merely contain ours are not ours.
        for endpoint in [
            "https://as.example/auth?tenant=x",
            "https://as.example/auth?my_state=1&scoped=2",
            "https://as.example/auth?",
        ] {
            request.authorization_endpoint = endpoint;
            let url = request.to_url().unwrap();
            let names: Vec<String> = parse_query(url.split_once('?').unwrap().1)
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            for ours in ["response_type", "state", "code_challenge_method"] {
                assert_eq!(names.iter().filter(|n| *n == ours).count(), 1, "{url}");
            }
        }
    }

    fn request_at(endpoint: &str) -> Result<String, UriError> {
        let state = state();
        let challenge = challenge();
        AuthorizationRequest {
            authorization_endpoint: endpoint,
            client_id: "c",
            redirect_uri: "https://app.example/",
            scope: "s",
            state: &state,
            code_challenge: Some(&challenge),
            nonce: None,
            prompt: None,
            extra: &[],
        }
        .to_url()
    }

    #[test]
    fn d09_p05_jar_parameters_response_mode_and_semicolon_separated_ones_are_refused() {
        // RFC 9101: request / request_uri replace the whole request at a server that honours
        // them; response_mode moves the answer (fragment, form_post); some servers split the
        // query on `;` too, so `x=1;response_type=token` pre-sets response_type there.
        for (endpoint, name) in [
            (
                "https://as.example/auth?response_mode=fragment",
                "response_mode",
            ),
            (
                "https://as.example/auth?request=eyJhbGciOiJub25lIn0.e30.",
                "request",
            ),
            (
                "https://as.example/auth?request_uri=urn%3Aevil%3A1",
                "request_uri",
            ),
            (
                "https://as.example/auth?x=1;response_type=token",
                "response_type",
            ),
            (
                "https://as.example/auth?x=1;code_challenge_method=plain",
                "code_challenge_method",
            ),
            (
                "https://as.example/auth?tenant=x&y=2;request_uri=https://evil",
                "request_uri",
            ),
        ] {
            let expected = UriError::ReservedParameter(name.into());
            assert_eq!(request_at(endpoint), Err(expected.clone()), "{endpoint}");
            assert_eq!(check_endpoint_query(endpoint), Err(expected), "{endpoint}");
        }
        // The same message as for response_type.
        let message = |e: &str| check_endpoint_query(e).unwrap_err().what_happened();
        assert_eq!(
            message("https://as.example/auth?request_uri=x"),
            message("https://as.example/auth?response_type=x").replacen(
                "\"response_type\"",
                "\"request_uri\"",
                1
            )
        );
    }

    // proptest is a host-only dev-dependency (Cargo.toml).
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        /// D-9 / P-5 as a rule: an endpoint query that carries any parameter of the request (or
        /// of JAR), after `&` or `;`, with any value and any harmless neighbours, is refused;
        /// a query without one is kept and each of our parameters is sent exactly once.
        #[test]
        fn d09_p05_any_reserved_parameter_in_the_endpoint_query_is_refused(
            reserved in proptest::sample::select(RESERVED_PARAMETERS.to_vec()),
            before in "[a-z]{1,8}=[a-z0-9]{0,8}",
            separator in proptest::sample::select(vec!["&", ";"]),
            value in "[A-Za-z0-9._~-]{0,16}",
        ) {
            let endpoint = format!("https://as.example/auth?{before}{separator}{reserved}={value}");
            proptest::prop_assert_eq!(
                request_at(&endpoint),
                Err(UriError::ReservedParameter(reserved.to_owned()))
            );
        }

        #[test]
        fn d09_pf_any_other_endpoint_query_is_kept_and_ours_sent_once(
            name in "[a-z_]{1,12}",
            value in "[a-z0-9]{0,8}",
            tail in proptest::sample::select(vec!["", "&", "?"]),
        ) {
            proptest::prop_assume!(!RESERVED_PARAMETERS.contains(&name.as_str()));
            let endpoint = format!("https://as.example/auth?{name}={value}{tail}");
            let url = request_at(&endpoint).unwrap();
            let params = parse_query(url.split_once('?').unwrap().1);
            proptest::prop_assert_eq!(&params[0].0, &name);
            for ours in ["response_type", "client_id", "state", "code_challenge_method"] {
                proptest::prop_assert_eq!(params.iter().filter(|(k, _)| k == ours).count(), 1);
            }
        }
    }

    #[test]
    fn d09_query_ending_in_a_question_mark_still_gets_a_separator() {
        // Found by the discovery fuzz target: `?x=1?` ends with `?`, which was taken for an
        // empty query, so `response_type=code` was glued to the value of `x`.
        let state = state();
        let challenge = challenge();
        let request = AuthorizationRequest {
            authorization_endpoint: "https://as.example/auth?x=1?",
            client_id: "c",
            redirect_uri: "https://app.example/",
            scope: "s",
            state: &state,
            code_challenge: Some(&challenge),
            nonce: None,
            prompt: None,
            extra: &[],
        };
        let url = request.to_url().unwrap();
        assert!(
            url.starts_with("https://as.example/auth?x=1?&response_type=code&"),
            "{url}"
        );
        let params = parse_query(url.split_once('?').unwrap().1);
        assert_eq!(params[0], ("x".to_owned(), "1?".to_owned()));
        assert_eq!(params[1], ("response_type".to_owned(), "code".to_owned()));
    }

    #[test]
    fn d08_endpoint_with_fragment_is_rejected() {
        let state = state();
        let request = AuthorizationRequest {
            authorization_endpoint: "https://as.example/authorize#frag",
            client_id: "c",
            redirect_uri: "https://app.example/",
            scope: "s",
            state: &state,
            code_challenge: None,
            nonce: None,
            prompt: None,
            extra: &[],
        };
        assert_eq!(request.to_url(), Err(UriError::FragmentNotAllowed));
    }

    #[test]
    fn d06_insecure_or_forbidden_endpoints_are_rejected() {
        let state = state();
        let mut request = AuthorizationRequest {
            authorization_endpoint: "http://as.example/authorize",
            client_id: "c",
            redirect_uri: "https://app.example/",
            scope: "s",
            state: &state,
            code_challenge: None,
            nonce: None,
            prompt: None,
            extra: &[],
        };
        assert_eq!(
            request.to_url(),
            Err(UriError::InsecureEndpoint("http://as.example".into()))
        );
        request.authorization_endpoint = "javascript:alert(1)";
        assert_eq!(
            request.to_url(),
            Err(UriError::ForbiddenScheme("javascript".into()))
        );
        request.authorization_endpoint = "http://127.0.0.1:9000/auth";
        request.redirect_uri = "http://127.0.0.1:8080/";
        assert!(request.to_url().is_ok());
        request.redirect_uri = "https://app.example/#cb";
        assert_eq!(request.to_url(), Err(UriError::FragmentNotAllowed));
    }
}
