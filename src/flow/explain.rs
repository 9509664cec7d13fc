//! Explain mode: scripted timelines of the three variants, with no provider at all. They are
//! the same `Step`s the live engine appends, so the diagram draws them the same way.

use crate::flow::server_check::{self, Proof};
use crate::flow::timeline::{Actor, Channel, HttpExchange, Param, Step, StepKind, Timeline};
use crate::protocol::token::HttpResponse;

/// Which client variant to explain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Public client with PKCE (this app's live flow).
    PkcePublic,
    /// The older confidential client: no PKCE, a backend redeems the code with a secret.
    Confidential,
    /// The deprecated Implicit grant: the token arrives in the URL fragment.
    Implicit,
}

impl Variant {
    /// Name shown on the switch.
    pub fn label(self) -> &'static str {
        match self {
            Variant::PkcePublic => "PKCE public client",
            Variant::Confidential => "Confidential client (PKCE off)",
            Variant::Implicit => "Implicit (deprecated)",
        }
    }
}

// RFC 7636 Appendix B values, so a reader can check the hash by hand.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const STATE: &str = "af0ifjsldkj-example-state";
const CODE: &str = "SplxlOBeZQQYbYS6WxSbIA";
const AS: &str = "https://as.example";
const REDIRECT: &str = "https://app.example/";

fn step(kind: StepKind, from: Actor, to: Actor, channel: Channel, label: &str) -> Step {
    Step::new(kind, from, to, channel, label, 0)
}

fn masked(value: &str) -> String {
    crate::protocol::secret::mask(value)
}

/// The scripted timeline for a variant; every step is finished, with example values.
pub fn script(variant: Variant) -> Timeline {
    use Actor::*;
    use Channel::*;
    use StepKind::*;
    let mut steps = Vec::new();
    let pkce = variant == Variant::PkcePublic;
    if pkce {
        steps.push(
            step(GenerateVerifier, ClientApp, ClientApp, Local, "Generate a random code_verifier")
                .with_params(vec![Param::secret("code_verifier", masked(VERIFIER), VERIFIER)])
                .with_note("32 random bytes, base64url: a one-time secret that never leaves this tab until the token request."),
        );
        steps.push(
            step(DeriveChallenge, ClientApp, ClientApp, Local,
                "Hash it: code_challenge = BASE64URL(SHA-256(verifier))")
                .with_params(vec![Param::public("code_challenge", CHALLENGE)])
                .with_note("Only the hash goes through the address bar; it cannot be turned back into the verifier."),
        );
    }
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
    let (response_type, extra): (&str, Vec<Param>) = match variant {
        Variant::PkcePublic => (
            "code",
            vec![
                Param::public("code_challenge", CHALLENGE),
                Param::public("code_challenge_method", "S256"),
            ],
        ),
        Variant::Confidential => ("code", Vec::new()),
        Variant::Implicit => ("token", Vec::new()),
    };
    let mut params = vec![
        Param::public("response_type", response_type),
        Param::public("client_id", "demo-app"),
        Param::public("redirect_uri", REDIRECT),
        Param::public("scope", "openid read:profile"),
        Param::secret("state", masked(STATE), STATE),
    ];
    params.extend(extra);
    let mut redirect = step(
        RedirectToAuthorize,
        ClientApp,
        AuthorizationServer,
        Front,
        "Send the browser to the authorization endpoint",
    )
    .with_params(params)
    .with_exchange(HttpExchange {
        method: "NAVIGATE".into(),
        url: format!("{AS}/authorize?response_type={response_type}&client_id=demo-app&state=…"),
        ..HttpExchange::default()
    })
    .with_note("A navigation: everything here is visible in the URL, history and logs.");
    redirect = match variant {
        Variant::PkcePublic => redirect,
        Variant::Confidential => redirect.with_difference(
            "No code_challenge: nothing ties the code to this client instance. Whoever steals \
             the code can redeem it if they also have the client secret.",
        ),
        Variant::Implicit => redirect.with_difference(
            "response_type=token asks for the access token itself to come back in the URL.",
        ),
    };
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
    if variant == Variant::Implicit {
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
        return finish(steps);
    }
    steps.push(
        step(
            RedirectBack,
            AuthorizationServer,
            ClientApp,
            Front,
            "Redirect back with ?code=…&state=…",
        )
        .with_params(vec![
            Param::secret("code", masked(CODE), CODE),
            Param::secret("state", masked(STATE), STATE),
            Param::public("iss", AS),
        ])
        .with_note("Only a short-lived, single-use code travels in the URL."),
    );
    steps.push(
        step(
            CheckCallback,
            ClientApp,
            ClientApp,
            Local,
            "Check state and iss",
        )
        .with_callout("Pitfall: skip this and a forged link logs the victim in as the attacker."),
    );
    let mut token = step(
        TokenRequest,
        ClientApp,
        AuthorizationServer,
        Back,
        "Exchange the code for tokens (POST /token)",
    );
    token = if pkce {
        token
            .with_params(vec![
                Param::secret("code", masked(CODE), CODE),
                Param::secret("code_verifier", masked(VERIFIER), VERIFIER),
                Param::public("client_id", "demo-app"),
            ])
            .with_note("The server hashes the verifier and compares it with the challenge: a stolen code alone gets invalid_grant.")
    } else {
        let secret = "s3cr3t-in-the-bundle";
        token
            .with_params(vec![
                Param::secret("code", masked(CODE), CODE),
                Param::secret("client_secret", masked(secret), secret),
                Param::public("client_id", "demo-app"),
            ])
            .with_difference("client_secret instead of code_verifier. A backend must hold it: \
                shipped in a browser bundle, any visitor can read it in the developer tools.")
            .with_note("The secret authenticates the client, but only if it stays secret — which needs a server.")
    };
    steps.push(token);
    steps.push(scripted(&steps, |t| {
        let proof = if pkce {
            Proof::Verifier(VERIFIER)
        } else {
            Proof::Secret
        };
        let id = server_check::code_checks(t, proof, 0);
        let tokens = r#"{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"Bearer"}"#;
        server_check::settle_code_checks(t, id, Some(&HttpResponse::json(200, tokens)), 0);
        id
    }));
    steps.push(
        step(TokenResponse, AuthorizationServer, ClientApp, Back, "Tokens come back in the response body")
            .with_params(vec![Param::secret("access_token", masked("2YotnFZFEjr1zCsicMWpAA"), "2YotnFZFEjr1zCsicMWpAA")])
            .with_callout("Pitfall: an access token is not identity — use the OpenID Connect ID token to know who logged in."),
    );
    steps.push(
        step(
            ResourceRequest,
            ClientApp,
            ResourceServer,
            Back,
            "Call the API with Authorization: Bearer",
        )
        .with_params(vec![Param::public("Authorization", "Bearer 2Yot…pAA")]),
    );
    steps.push(api_check(&steps));
    steps.push(step(
        ResourceResponse,
        ResourceServer,
        ClientApp,
        Back,
        "API answers 200",
    ));
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
