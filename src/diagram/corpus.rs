//! Every kind of timeline the app draws, built by the flow's own functions (the live engine
//! with scripted answers, explain mode's scripts, each attack experiment), so layout and export
//! tests run over what users actually see.

use crate::flow::attack;
use crate::flow::engine::{self, LoginEntropy};
use crate::flow::explain::{script, Variant};
use crate::flow::settings::ProviderSettings;
use crate::flow::timeline::{Param, Timeline};
use crate::protocol::http::HttpResponse;
use crate::protocol::probe::{read_probe_return, ProbeKind};
use crate::protocol::token::attacker_code_request;

const ISSUER: &str = "http://127.0.0.1:9000";
const REDIRECT: &str = "http://127.0.0.1:8080/";
const TOKENS: &str = r#"{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"Bearer",
    "expires_in":3600,"scope":"openid profile read:profile read:files",
    "refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA"}"#;

fn metadata_json() -> String {
    format!(
        r#"{{"issuer":"{ISSUER}","authorization_endpoint":"{ISSUER}/auth",
           "token_endpoint":"{ISSUER}/token","response_types_supported":["code"],
           "code_challenge_methods_supported":["S256"],"jwks_uri":"{ISSUER}/jwks",
           "authorization_response_iss_parameter_supported":true}}"#
    )
}

/// A live login up to the checked callback; returns the timeline and the authorized callback.
fn logged_in_until_callback(
    settings: &ProviderSettings,
) -> (Timeline, crate::protocol::callback::AuthorizedCallback) {
    let mut t = Timeline::new();
    let url = engine::discovery_urls(ISSUER).expect("issuer")[0].clone();
    let step = engine::discovery_started(&mut t, &url, 0, 1);
    let metadata = engine::discovery_finished(
        &mut t,
        step,
        ISSUER,
        Ok(HttpResponse::json(200, metadata_json())),
        true,
        40,
    )
    .expect("metadata");
    let entropy = LoginEntropy {
        verifier: [7; 32],
        state: [9; 32],
        nonce: [11; 32],
    };
    let plan =
        engine::plan_login(&mut t, settings, &metadata, REDIRECT, entropy, 50).expect("a plan");
    let state = plan.pending.state.secret().to_owned();
    let query = format!("code=SplxlOBeZQQYbYS6WxSbIA&state={state}&iss={ISSUER}");
    let params = engine::callback_received(&mut t, &query, "", 4_000)
        .expect("a callback")
        .expect("params");
    let authorized =
        engine::check_callback(&mut t, params, Some(plan.pending), 4_001).expect("checked");
    (t, authorized)
}

/// A live run: discovery, PKCE, the trip to the provider, the exchange (answered by `token`),
/// and an API call answered by `api`.
pub fn live(token: HttpResponse, api: HttpResponse) -> Timeline {
    let (mut t, authorized) = logged_in_until_callback(&ProviderSettings::default());
    let call = engine::token_request_started(&mut t, authorized, None, 4_010).expect("request");
    if let Ok(tokens) = engine::token_response_received(&mut t, &call, Ok(token), 4_050) {
        let url = "http://127.0.0.1:9001/api/profile";
        let (step, _) = engine::resource_request_started(&mut t, url, &tokens.access_token, 4_060);
        let _ = engine::resource_response_received(&mut t, step, Ok(api), 4_080);
        engine::logged_out(&mut t, 5_000);
    }
    t
}

/// A live run that succeeds from end to end.
pub fn live_ok() -> Timeline {
    live(
        HttpResponse::json(200, TOKENS),
        HttpResponse::json(200, r#"{"sub":"alice"}"#),
    )
}

/// A live run whose code is refused (a wrong verifier): the server's note fails.
pub fn live_refused() -> Timeline {
    live(
        HttpResponse::json(
            400,
            r#"{"error":"invalid_grant","error_description":"PKCE verification failed"}"#,
        ),
        HttpResponse::json(200, "{}"),
    )
}

/// The stolen-code and replay experiments on one login, as the lab runs them.
pub fn stolen_code_and_replay() -> Timeline {
    let (mut t, authorized) = logged_in_until_callback(&ProviderSettings::default());
    let code = authorized.code.clone();
    let pending = &authorized.pending;
    let chip = Param::secret("code", code.masked(), code.secret());
    attack::leaked(
        &mut t,
        "your code from the address bar",
        vec![chip.clone()],
        4_002,
    );
    let refused = || {
        HttpResponse::json(
            400,
            r#"{"error":"invalid_grant","error_description":"PKCE verification failed"}"#,
        )
    };
    for (verifier, label, defence) in [
        (
            None,
            "Redeem the stolen code without a verifier",
            "PKCE: no verifier, no tokens",
        ),
        (
            Some("wrongwrongwrongwrongwrongwrongwrongwrongwro"),
            "Redeem it with a guessed verifier",
            "PKCE: the guess does not hash to the challenge",
        ),
    ] {
        let request = attacker_code_request(
            &pending.token_endpoint,
            &code,
            &pending.redirect_uri,
            &pending.client_id,
            verifier,
        )
        .expect("request");
        let step = attack::attack_request(&mut t, label, &request, vec![chip.clone()], 4_003);
        attack::attack_answer(&mut t, step, Ok(refused()), defence, 4_004);
    }
    let call = engine::token_request_started(&mut t, authorized, None, 4_010).expect("request");
    let replay = call.request.replay_copy();
    engine::token_response_received(&mut t, &call, Ok(HttpResponse::json(200, TOKENS)), 4_050)
        .expect("tokens");
    let step = attack::attack_request(
        &mut t,
        "Replay the same token request (code and right verifier)",
        &replay,
        vec![chip],
        4_100,
    );
    let used = HttpResponse::json(
        400,
        r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#,
    );
    attack::attack_answer(&mut t, step, Ok(used), "single-use code", 4_110);
    attack::replay_revoked_the_tokens(&mut t);
    t
}

/// The forged callback: the victim opens the attacker's link; `state` stops it.
pub fn forged_callback() -> Timeline {
    let (mut t, _) = logged_in_until_callback(&ProviderSettings::default());
    let link = format!("{REDIRECT}?code=attackers-code&state=not-this-tabs-state-value");
    attack::forged_link(&mut t, &link, 5_000);
    let params = engine::callback_received(
        &mut t,
        "code=attackers-code&state=not-this-tabs-state-value",
        "",
        5_010,
    )
    .expect("a callback")
    .expect("params");
    let _ = engine::check_callback(&mut t, params, None, 5_011);
    attack::forged_link_stopped(&mut t, 5_012);
    t
}

/// The downgrade and implicit probes, answered as a strict provider answers them.
pub fn probes() -> Timeline {
    let mut t = Timeline::new();
    for (kind, query, fragment) in [
        (
            ProbeKind::NoChallenge,
            "error=invalid_request&error_description=PKCE%20required&state=s",
            "",
        ),
        (
            ProbeKind::PlainChallenge,
            "error=invalid_request&error_description=plain%20not%20allowed&state=s",
            "",
        ),
        (
            ProbeKind::Implicit,
            "error=unsupported_response_type&state=s",
            "",
        ),
    ] {
        attack::probe_request(
            &mut t,
            kind,
            &format!("{ISSUER}/auth?response_type=x"),
            6_000,
        );
        let answer = read_probe_return(kind, query, fragment);
        attack::probe_answer(&mut t, kind, &answer, &format!("{REDIRECT}?{query}"), 6_010);
    }
    t
}

/// Every timeline above, named, plus each explain variant.
pub fn all() -> Vec<(&'static str, Timeline)> {
    vec![
        ("live", live_ok()),
        ("live refused", live_refused()),
        ("explain pkce", script(Variant::PkcePublic)),
        ("explain confidential", script(Variant::Confidential)),
        ("explain implicit", script(Variant::Implicit)),
        ("attack stolen code + replay", stolen_code_and_replay()),
        ("attack forged callback", forged_callback()),
        ("attack probes", probes()),
    ]
}
