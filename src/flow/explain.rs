//! Explain mode: scripted runs with no provider at all. The PKCE and the confidential variants
//! are the live session engine itself (`flow::session`), run by the pure scripted driver with
//! the RFC 7636 Appendix B verifier and a scripted provider, so explain mode and a live run
//! cannot disagree in steps or wording. The Implicit grant is drawn by hand: the live client
//! refuses implicit responses by design (C-17), so there is no live run to replay.

use crate::flow::scripted::{self, ScriptedDriver};
use crate::flow::server_check;
use crate::flow::session::{Action, Event};
use crate::flow::settings::ClientType;
use crate::flow::timeline::{Actor, Channel, HttpExchange, Param, Step, StepKind, Timeline};
use crate::protocol::http::HttpResponse;

/// Which client variant to explain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Public client with PKCE (this app's live flow).
    PkcePublic,
    /// The older confidential client: no PKCE, a backend redeems the code with a secret.
    Confidential,
    /// The deprecated Implicit grant: the token arrives in the URL fragment.
    Implicit,
    /// The PKCE public client with DPoP (RFC 9449): RFC 9449's example key, a placeholder
    /// signature (marked as such), the preflight and the proofs.
    Dpop,
}

impl Variant {
    /// Name shown on the switch.
    pub fn label(self) -> &'static str {
        match self {
            Variant::PkcePublic => "PKCE public client",
            Variant::Confidential => "Confidential client (PKCE off)",
            Variant::Implicit => "Implicit (deprecated)",
            Variant::Dpop => "PKCE public client with DPoP",
        }
    }
}

// RFC 7636 Appendix B values, so a reader can check the hash by hand.
#[cfg(test)]
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
#[cfg(test)]
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const STATE: &str = "af0ifjsldkj-example-state";
const REDIRECT: &str = scripted::REDIRECT;
const AS: &str = scripted::ISSUER;

fn step(kind: StepKind, from: Actor, to: Actor, channel: Channel, label: &str) -> Step {
    Step::new(kind, from, to, channel, label, 0)
}

fn masked(value: &str) -> String {
    crate::protocol::secret::mask(value)
}

/// The scripted timeline for a variant; every step is finished, with example values.
pub fn script(variant: Variant) -> Timeline {
    match variant {
        Variant::PkcePublic => live_run(ClientType::Public),
        Variant::Confidential => live_run(ClientType::Confidential),
        Variant::Implicit => implicit(),
        Variant::Dpop => dpop_run(),
    }
}

/// The PKCE run with the DPoP switch on: the same engine, RFC 9449's example key.
fn dpop_run() -> Timeline {
    let mut settings = scripted::settings(ClientType::Public);
    settings.dpop = Some(true);
    let mut driver = ScriptedDriver::new(settings);
    driver.login();
    driver.come_back();
    let now = driver.now + 5;
    driver.play(Event::Action {
        action: Action::CallApi("/api/profile"),
        redirect_uri: scripted::REDIRECT.to_owned(),
        now,
    });
    driver.session.timeline
}

/// A whole live run under the scripted driver: login, the provider's answer, the code
/// redeemed (with the typed secret for the confidential client), the ID token checked, one
/// API call.
pub fn live_run(client_type: ClientType) -> Timeline {
    let mut driver = ScriptedDriver::new(scripted::settings(client_type));
    driver.login();
    driver.come_back();
    if client_type == ClientType::Confidential {
        let now = driver.now + 5;
        driver.play(Event::SecretTyped {
            secret: scripted::CLIENT_SECRET.to_owned(),
            now,
        });
    }
    let now = driver.now + 5;
    driver.play(Event::Action {
        action: Action::CallApi("/api/profile"),
        redirect_uri: scripted::REDIRECT.to_owned(),
        now,
    });
    driver.session.timeline
}

/// The deprecated Implicit grant, drawn by hand.
fn implicit() -> Timeline {
    use Actor::*;
    use Channel::*;
    use StepKind::*;
    let mut steps = Vec::new();
    steps.push(
        step(
            GenerateState,
            ClientApp,
            ClientApp,
            Local,
            "Generate a random state",
        )
        .with_params(vec![Param::secret("state", masked(STATE), STATE)])
        .with_note("Binds the answer to this tab's request (CSRF defence)."),
    );
    let params = vec![
        Param::public("response_type", "token"),
        Param::public("client_id", "demo-app"),
        Param::public("redirect_uri", REDIRECT),
        Param::public("scope", "openid read:profile"),
        Param::secret("state", masked(STATE), STATE),
    ];
    let redirect = step(
        RedirectToAuthorize,
        ClientApp,
        AuthorizationServer,
        Front,
        "Send the browser to the authorization endpoint",
    )
    .with_params(params)
    .with_exchange(HttpExchange {
        method: "NAVIGATE".into(),
        url: format!("{AS}/authorize?response_type=token&client_id=demo-app&state=…"),
        ..HttpExchange::default()
    })
    .with_note("A navigation: everything here is visible in the URL, history and logs.")
    .with_difference(
        "response_type=token asks for the access token itself to come back in the URL.",
    );
    let consent = server_check::consent_scopes(&redirect);
    steps.push(redirect);
    steps.push(
        step(
            UserAtProvider,
            User,
            AuthorizationServer,
            UserAction,
            "Sign in and consent at the provider",
        )
        .with_params(consent)
        .with_note("The password is typed on the provider's page, never in the app."),
    );
    steps.push(
        step(RedirectBack, AuthorizationServer, ClientApp, Front,
            "Redirect back with #access_token=… in the URL fragment")
            .with_params(vec![Param::secret("access_token", masked("2YotnFZFEjr1zCsicMWpAA"), "2YotnFZFEjr1zCsicMWpAA")])
            .with_exchange(HttpExchange {
                method: "NAVIGATE".into(),
                url: format!("{REDIRECT}#access_token=2Yot…pAA&token_type=Bearer&state=…"),
                ..HttpExchange::default()
            })
            .with_difference("The token itself travels in the address bar: it lands in history, can leak through extensions, logs and Referer, and nothing proves it was issued to this app.")
            .with_callout("Deprecated: RFC 9700 §2.1.2 says clients must not use the implicit grant. Use the code flow with PKCE."),
    );
    steps.push(
        step(ResourceRequest, ClientApp, ResourceServer, Back, "Call the API with the leaked-prone token")
            .with_params(vec![Param::public("Authorization", "Bearer 2Yot…pAA")])
            .with_note("It works — which is why the implicit grant survived so long. The problem is where the token has been."),
    );
    steps.push(api_check(&steps));
    finish(steps)
}

/// A server's check note drawn by the live engine's own functions over the script so far,
/// settled by a scripted answer.
fn scripted(steps: &[Step], draw: impl FnOnce(&mut Timeline) -> usize) -> Step {
    let mut so_far = finish(steps.to_vec());
    let id = draw(&mut so_far);
    so_far.steps()[id].clone()
}

fn api_check(steps: &[Step]) -> Step {
    scripted(steps, |t| {
        let id = server_check::api_checks(t, "GET /api/profile", 0);
        server_check::settle_api_checks(t, id, Some(&HttpResponse::json(200, "{}")), 0);
        id
    })
}

fn finish(steps: Vec<Step>) -> Timeline {
    let mut timeline = Timeline::new();
    for step in steps {
        timeline.push_done(step, 0.0);
    }
    timeline
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_request_params(variant: Variant) -> Vec<String> {
        let timeline = script(variant);
        let (_, step) = timeline
            .last_of(StepKind::TokenRequest)
            .expect("a token request");
        step.params.iter().map(|p| p.name.clone()).collect()
    }

    #[test]
    fn pkce_token_request_carries_the_verifier_and_no_secret() {
        let names = token_request_params(Variant::PkcePublic);
        assert!(names.contains(&"code_verifier".to_owned()));
        assert!(!names.contains(&"client_secret".to_owned()));
    }

    #[test]
    fn confidential_token_request_carries_a_secret_and_no_verifier() {
        let names = token_request_params(Variant::Confidential);
        assert!(names.contains(&"client_secret".to_owned()));
        assert!(!names.contains(&"code_verifier".to_owned()));
        let timeline = script(Variant::Confidential);
        assert!(timeline.last_of(StepKind::GenerateVerifier).is_none());
        assert!(timeline.steps().iter().any(|s| s.difference.is_some()));
    }

    #[test]
    fn dpop_explain_run_shows_the_preflight_the_proofs_and_a_marked_placeholder_signature() {
        let timeline = script(Variant::Dpop);
        let kinds: Vec<StepKind> = timeline.steps().iter().map(|s| s.kind).collect();
        let post = kinds
            .iter()
            .position(|k| *k == StepKind::TokenRequest)
            .unwrap();
        assert_eq!(kinds[post - 2], StepKind::Preflight);
        let names = token_request_params(Variant::Dpop);
        assert!(names.contains(&"DPoP".to_owned()), "{names:?}");
        assert!(names.contains(&"signature".to_owned()), "{names:?}");
        let (_, api) = timeline.last_of(StepKind::ResourceRequest).unwrap();
        let headers = &api.exchange.as_ref().unwrap().request_headers;
        assert!(headers
            .iter()
            .any(|(n, v)| n == "Authorization" && v.starts_with("DPoP ")));
        assert!(headers
            .iter()
            .any(|(n, v)| n == "DPoP" && v.ends_with("[signature hidden]")));
    }

    #[test]
    fn implicit_puts_the_token_on_the_front_channel_and_never_redeems_a_code() {
        let timeline = script(Variant::Implicit);
        let (_, back) = timeline
            .last_of(StepKind::RedirectBack)
            .expect("redirect back");
        assert_eq!(back.channel, Channel::Front);
        assert!(back.params.iter().any(|p| p.name == "access_token"));
        assert!(timeline.last_of(StepKind::TokenRequest).is_none());
    }

    #[test]
    fn pkce_script_uses_the_rfc7636_appendix_b_pair() {
        use crate::protocol::pkce::CodeVerifier;
        let verifier = CodeVerifier::parse(VERIFIER).expect("valid");
        assert_eq!(verifier.challenge().as_str(), CHALLENGE);
    }
}
