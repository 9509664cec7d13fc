//! End to end, any real provider (issue 5): discovery by issuer only, OpenID Connect (ID token
//! verified with WebCrypto, its claims shown, UserInfo), a tampered ID token refused, refresh
//! rotation, revocation, RP-initiated logout, a second provider whose issuer has a path (found
//! by RFC 8414 insertion), a provider on another site than the app, switching providers with
//! logins pending at both, and the CORS diagnosis. Each test drives the trunk-built app in
//! headless Chromium against bundled providers (`tests/common`).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::Lab;
use serde_json::json;

const OFFLINE: &str = "openid profile offline_access read:profile read:files";

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_only_login_verifies_the_id_token_and_shows_its_claims() {
    let lab = Lab::start().await;
    // Nothing but the issuer is configured: no manual endpoints.
    let settings = lab
        .js(
            "return localStorage.getItem('oauth-flow-lab.settings');",
            vec![],
        )
        .await;
    assert!(!settings
        .as_str()
        .unwrap_or_default()
        .contains("\"manual\":true"));
    lab.login_through_provider("alice", "wonderland").await;
    assert_eq!(lab.wait_phase(&["logged-in"]).await, "logged-in");
    assert_eq!(lab.failed_steps().await, Vec::<String>::new());
    let discover = lab.step_texts("Discover").await;
    assert_eq!(discover.len(), 1, "discovered once, at the OpenID location");
    assert!(
        discover[0].contains(&format!(
            "GET {}/.well-known/openid-configuration",
            lab.issuer
        )),
        "{}",
        discover[0]
    );
    let kinds = lab.step_kinds().await;
    let tail: Vec<&str> = kinds
        .iter()
        .rev()
        .take(3)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        ["TokenResponse", "VerifyIdToken", "CheckIdTokenClaims"]
    );
    // The key set was asked for while the code was redeemed, before the answer came.
    let keys = kinds.iter().position(|k| k == "FetchJwks");
    let request = kinds.iter().position(|k| k == "TokenRequest");
    assert!(keys > request && request.is_some(), "{kinds:?}");
    let verify = &lab.step_texts("VerifyIdToken").await[0];
    assert!(verify.contains("RS256"), "{verify}");
    let claims = &lab.step_texts("CheckIdTokenClaims").await[0];
    assert!(
        claims.contains("nonce") && claims.contains("matches ✓"),
        "{claims}"
    );
    // The claims panel: decoded, verified, with the audience = this client.
    assert!(lab.text("#id-claims").await.contains("Alice Liddell"));
    assert!(lab.text("#id-header").await.contains("RS256"));
    assert!(lab.text("#id-aud").await.contains("flow-lab"));
    assert!(lab.text("#id-proves").await.contains(&lab.issuer));
    assert!(lab.text("#token-issuer").await.contains(&lab.issuer));
    // UserInfo: a step pair, and the same subject as the ID token.
    lab.click("#call-userinfo").await;
    let userinfo = lab.text("#userinfo-result").await;
    let sub = lab.text("#id-sub").await;
    assert!(
        userinfo.contains(&sub) && userinfo.contains("Alice Liddell"),
        "{userinfo}"
    );
    assert_eq!(
        lab.count("#timeline > li[data-kind=UserInfoResponse][data-status=ok]")
            .await,
        1
    );
    lab.js(
        "document.querySelector('#identity').scrollIntoView();",
        vec![],
    )
    .await;
    lab.screenshot("p01-oidc-claims").await;
    let tokens: Vec<String> = lab.revealed_access_token().await.into_iter().collect();
    lab.audit_storage(&tokens, &[]).await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tampered_or_unsigned_id_token_is_rejected_with_a_red_step() {
    let lab = Lab::start().await;
    lab.set_fault(json!({ "id_token": "bad_signature" })).await;
    lab.login_through_provider("alice", "wonderland").await;
    assert_eq!(lab.wait_phase(&["failed", "logged-in"]).await, "failed");
    assert_eq!(lab.failed_steps().await, ["VerifyIdToken"]);
    let problem = lab.problem().await;
    assert!(
        problem.what.contains("signature does not match"),
        "{}",
        problem.what
    );
    assert_eq!(problem.side, "possibly an attacker");
    assert_eq!(lab.count("#tokens").await, 0, "the tokens were discarded");
    assert!(lab.text("#rejected-id-token").await.contains("Mallory"));
    assert_eq!(
        lab.count("#timeline > li[data-kind=CheckIdTokenClaims]")
            .await,
        0
    );
    lab.screenshot("p02-tampered-id-token").await;

    lab.set_fault(json!({ "id_token": "alg_none" })).await;
    lab.login_through_provider("alice", "wonderland").await;
    assert_eq!(lab.wait_phase(&["failed", "logged-in"]).await, "failed");
    assert_eq!(lab.failed_steps().await, ["VerifyIdToken"]);
    assert!(lab.problem().await.what.contains("alg \"none\""));
    // Refused from its header alone: no key set was fetched for it (the one fetch is the one
    // asked for with the token request, before the ID token arrived).
    let kinds = lab.step_kinds().await;
    let keys: Vec<usize> = (0..kinds.len())
        .filter(|&i| kinds[i] == "FetchJwks")
        .collect();
    let answer = kinds.iter().position(|k| k == "TokenResponse");
    assert!(
        keys.len() <= 1 && keys.iter().all(|&i| Some(i) < answer),
        "{kinds:?}"
    );
    assert_eq!(lab.count("#tokens").await, 0);

    lab.reset_faults().await;
    lab.login_through_provider("alice", "wonderland").await;
    assert_eq!(lab.wait_phase(&["logged-in"]).await, "logged-in");
    assert_eq!(lab.count("#rejected-id-token").await, 0);
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_rotates_and_a_revoked_token_gets_401_at_the_api() {
    let lab = Lab::start().await;
    lab.configure(OFFLINE).await;
    lab.login_through_provider("alice", "wonderland").await;
    assert_eq!(lab.wait_phase(&["logged-in"]).await, "logged-in");
    let first_refresh = lab.revealed("refresh-token").await;
    let first_access = lab.revealed("access-token").await;

    lab.click("#refresh").await;
    lab.wait_css("#timeline > li[data-kind=RefreshResponse]")
        .await;
    assert_eq!(lab.wait_phase(&["logged-in", "failed"]).await, "logged-in");
    let second_refresh = lab.revealed("refresh-token").await;
    assert_ne!(first_refresh, second_refresh, "the refresh token rotated");
    assert_ne!(first_access, lab.revealed("access-token").await);
    assert_eq!(lab.revealed("replaced-refresh-token").await, first_refresh);
    let response = &lab.step_texts("RefreshResponse").await[0];
    assert!(
        response.contains("rotated")
            && response.contains("refresh_token (sent)")
            && response.contains("refresh_token (new)"),
        "{response}"
    );
    assert!(!response.contains(&second_refresh), "masked on the step");
    // The refreshed ID token was verified too.
    assert_eq!(
        lab.count("#timeline > li[data-kind=VerifyIdToken][data-status=ok]")
            .await,
        2
    );
    lab.click("#call-profile").await;
    assert!(lab.text("#api-result").await.contains("Alice Liddell"));

    // RFC 7009: revoke the access token, then the API refuses it.
    lab.click("#revoke-access").await;
    lab.wait_css("#access-revoked").await;
    assert_eq!(
        lab.count("#timeline > li[data-kind=Revoke][data-status=ok]")
            .await,
        1
    );
    lab.click("#call-profile").await;
    lab.wait_css("#timeline > li[data-kind=ResourceResponse][data-status=failed]")
        .await;
    let answer = lab.step_texts("ResourceResponse").await;
    assert!(answer.last().unwrap().contains("401"), "{answer:?}");
    let problem = lab.problem().await;
    assert!(
        problem.what.contains("expired or revoked") || problem.what.contains("401"),
        "{}",
        problem.what
    );

    // Revoking the refresh token ends the grant: a refresh is now refused.
    lab.click("#revoke-refresh").await;
    lab.wait_css("#refresh-revoked").await;
    lab.click("#refresh").await;
    lab.wait_css("#timeline > li[data-kind=RefreshResponse][data-status=failed]")
        .await;
    assert!(lab.problem().await.what.contains("invalid_grant"));
    lab.screenshot("p03-refresh-revoke").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn path_issuer_is_found_by_rfc8414_insertion_and_logs_in() {
    let lab = Lab::start().await;
    let second = lab
        .start_provider("/realms/lab", &[("LAB_DISCOVERY", "rfc8414")])
        .await;
    lab.configure_provider(&second.issuer, &second.api, "openid profile read:profile")
        .await;
    lab.login_through_provider("bob", "builder").await;
    assert_eq!(lab.wait_phase(&["logged-in", "failed"]).await, "logged-in");
    // The OpenID location (appended) is not there: a red step that says what comes next, then
    // the RFC 8414 location (inserted before the path) has the metadata.
    assert_eq!(lab.failed_steps().await, ["Discover"]);
    let discover = lab.step_texts("Discover").await;
    assert_eq!(discover.len(), 2);
    assert!(
        discover[0].contains(&format!(
            "{}/.well-known/openid-configuration",
            second.issuer
        )) && discover[0].contains("404")
            && discover[0].contains("Trying the RFC 8414 location next"),
        "{}",
        discover[0]
    );
    let origin = second.issuer.trim_end_matches("/realms/lab");
    assert!(
        discover[1].contains(&format!(
            "GET {origin}/.well-known/oauth-authorization-server/realms/lab"
        )),
        "{}",
        discover[1]
    );
    let token = &lab.step_texts("TokenRequest").await[0];
    assert!(
        token.contains(&format!("{}/token", second.issuer)),
        "{token}"
    );
    assert!(lab.text("#id-claims").await.contains(&second.issuer));
    assert!(lab.text("#id-proves").await.contains("Bob Builder"));
    lab.click("#call-profile").await;
    assert!(lab.text("#api-result").await.contains("Bob Builder"));
    lab.screenshot("p04-rfc8414-path-issuer").await;
    lab.finish().await;
}

/// A provider on another site than the app (`localhost` against `127.0.0.1`), as every real
/// one is: the browser runs the callback page in a new renderer process, which must find the
/// pending login in the tab's sessionStorage, redeem the code across sites with CORS,
/// verify the ID token (OIDC Core §3.1.3.7) and call the API with a DPoP-bound token (RFC 9449
/// §7.1, its preflight across sites).
#[tokio::test(flavor = "multi_thread")]
async fn a05_the_pending_login_survives_a_round_trip_to_a_provider_on_another_site() {
    let lab = Lab::start().await;
    let other_site = lab.start_provider_on("localhost", "", &[]).await;
    assert!(other_site.issuer.starts_with("http://localhost:"));
    // DPoP left to the provider's metadata (on: it lists ES256).
    lab.save_settings(json!({
        "issuer": other_site.issuer, "client_id": "flow-lab",
        "scope": "openid profile read:profile", "api_base": other_site.api,
    }))
    .await;
    lab.login_through_provider("alice", "wonderland").await;
    assert_eq!(lab.wait_phase(&["logged-in", "failed"]).await, "logged-in");
    assert_eq!(lab.failed_steps().await, Vec::<String>::new());
    assert_eq!(
        lab.token_requests_to(&other_site.issuer).await,
        1,
        "one token request, across sites"
    );
    let redirect = &lab.step_texts("RedirectToAuthorize").await[0];
    assert!(
        redirect.contains(&format!("{}/auth", other_site.issuer)),
        "{redirect}"
    );
    assert!(lab.text("#id-claims").await.contains(&other_site.issuer));
    assert!(lab.text("#id-proves").await.contains("Alice Liddell"));
    assert_eq!(lab.text("#token-type").await, "DPoP");
    lab.click("#call-profile").await;
    assert!(lab.text("#api-result").await.contains("Alice Liddell"));
    lab.screenshot("p08-provider-on-another-site").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn switching_providers_never_confuses_pending_logins() {
    let lab = Lab::start().await;
    let b = lab.start_provider("/realms/lab", &[]).await;
    // A login is started at provider A (the bundled default) and left at its login page.
    let at_a = lab.start_login_at_provider().await;
    assert!(at_a.starts_with(&lab.issuer), "{at_a}");
    // The settings are switched to provider B, and a login is started there too.
    lab.configure_provider(&b.issuer, &b.api, "openid profile read:profile")
        .await;
    let at_b = lab.start_login_at_provider().await;
    assert!(at_b.starts_with(&b.issuer), "{at_b}");

    // Back at A's login page: A's answer completes against A, its own pending login, although
    // the settings now name B. The mix-up defence compares iss with that login's issuer.
    lab.client
        .goto(&at_a)
        .await
        .expect("back to A's login page");
    lab.login_through_provider_page("alice", "wonderland").await;
    assert_eq!(lab.wait_phase(&["logged-in", "failed"]).await, "logged-in");
    assert_eq!(lab.failed_steps().await, Vec::<String>::new());
    assert_eq!(lab.text("#token-issuer").await, lab.issuer);
    assert!(lab.text("#id-claims").await.contains(&lab.issuer));
    assert!(lab.text("#id-proves").await.contains("Alice Liddell"));
    let token = &lab.step_texts("TokenRequest").await[0];
    assert!(
        token.contains(&format!("POST {}/token", lab.issuer)),
        "{token}"
    );
    // Its own run continues: A's discovery and redirect, not B's.
    let redirect = &lab.step_texts("RedirectToAuthorize").await[0];
    assert!(
        redirect.contains(&format!("{}/auth", lab.issuer)),
        "{redirect}"
    );
    lab.open_settings().await;
    let settings_issuer = lab
        .js("return document.querySelector('#issuer').value;", vec![])
        .await;
    assert_eq!(
        settings_issuer,
        json!(b.issuer),
        "the settings still name B"
    );

    // B's login is still pending in this tab and completes against B.
    lab.client
        .goto(&at_b)
        .await
        .expect("back to B's login page");
    lab.login_through_provider_page("bob", "builder").await;
    assert_eq!(lab.wait_phase(&["logged-in", "failed"]).await, "logged-in");
    assert_eq!(lab.failed_steps().await, Vec::<String>::new());
    assert_eq!(lab.text("#token-issuer").await, b.issuer);
    assert!(lab.text("#id-proves").await.contains("Bob Builder"));
    let token = &lab.step_texts("TokenRequest").await[0];
    assert!(
        token.contains(&format!("POST {}/token", b.issuer)),
        "{token}"
    );
    assert!(!lab
        .session_storage()
        .await
        .contains("oauth-flow-lab.pending"));
    lab.screenshot("p05-two-providers").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn iss_of_another_provider_is_refused_as_a_mix_up() {
    let lab = Lab::start().await;
    let b = lab.start_provider("/realms/lab", &[]).await;
    // Provider A's redirect back claims to come from B (as a mix-up attacker would make it).
    lab.set_fault(json!({ "callback_iss": b.issuer })).await;
    lab.login_through_provider("alice", "wonderland").await;
    assert_eq!(lab.wait_phase(&["failed"]).await, "failed");
    assert_eq!(lab.failed_steps().await, ["CheckCallback"]);
    let what = lab.problem().await.what;
    assert!(
        what.contains(&b.issuer) && what.contains(&lab.issuer),
        "{what}"
    );
    assert_eq!(lab.token_requests().await, 0);
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_without_cors_for_this_origin_gets_the_cors_diagnosis() {
    let lab = Lab::start().await;
    let closed = lab.start_provider("", &[("LAB_NO_CORS", "1")]).await;
    lab.configure_provider(&closed.issuer, &closed.api, "openid read:profile")
        .await;
    lab.click("#login").await;
    assert_eq!(lab.wait_phase(&["failed"]).await, "failed");
    // Both discovery locations were tried; neither answer could be read.
    assert_eq!(lab.failed_steps().await, ["Discover", "Discover"]);
    let origin = lab.app_origin();
    let problem = lab.problem().await;
    assert!(
        problem.what.contains("does not allow this page's origin")
            && problem.what.contains(&origin)
            && problem.what.contains("discovery"),
        "{}",
        problem.what
    );
    assert_eq!(problem.side, "the network");
    assert!(
        problem
            .todo
            .contains(&format!("register exactly {origin} (scheme, host and port"))
            && problem.todo.contains("LAB_APP_ORIGINS"),
        "{}",
        problem.todo
    );
    lab.screenshot("p06-cors-discovery").await;

    // The same diagnosis at the token endpoint of a provider that allows discovery only.
    lab.configure(OFFLINE).await;
    lab.set_fault(json!({ "token": "no_cors", "times": 1 }))
        .await;
    lab.login_through_provider("alice", "wonderland").await;
    assert_eq!(lab.wait_phase(&["failed"]).await, "failed");
    assert_eq!(lab.failed_steps().await, ["TokenRequest"]);
    let problem = lab.problem().await;
    assert!(
        problem.what.contains("token endpoint") && problem.what.contains(&origin),
        "{}",
        problem.what
    );
    assert!(problem.todo.contains(&format!("register exactly {origin}")));
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rp_initiated_logout_ends_the_provider_session() {
    let lab = Lab::start().await;
    lab.login_through_provider("alice", "wonderland").await;
    assert_eq!(lab.wait_phase(&["logged-in"]).await, "logged-in");
    lab.click("#logout-provider").await;
    lab.click("#logout-yes").await;
    lab.wait_css("#timeline > li[data-kind=EndSession]").await;
    let kinds = lab.step_kinds().await;
    assert_eq!(
        &kinds[kinds.len() - 2..],
        ["EndSession", "Logout"],
        "{kinds:?}"
    );
    let end = &lab.step_texts("EndSession").await[0];
    assert!(
        end.contains("id_token_hint") && end.contains("post_logout_redirect_uri"),
        "{end}"
    );
    assert!(lab
        .text("#timeline > li:last-child")
        .await
        .contains("its session has ended"));
    assert_eq!(lab.count("#tokens").await, 0);
    // The provider's session is gone: the next login asks for the password again.
    lab.click("#login").await;
    lab.wait_css("input[name=login]").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn share_link_prefills_settings_once_and_presets_show_setup_hints() {
    let lab = Lab::start().await;
    let link = format!(
        "{}?issuer={}&client_id=shared-client&scope={}&preset=keycloak",
        lab.app,
        encode("https://sso.example.com/realms/demo"),
        encode("openid email")
    );
    lab.client.goto(&link).await.expect("open the shared link");
    lab.wait_css("#notice").await;
    assert!(lab.text("#notice").await.contains("pre-filled"));
    assert_eq!(lab.url().await, lab.app, "the link's query is cleaned");
    let value = |id: &'static str| {
        let lab = &lab;
        async move {
            lab.js(
                &format!("return document.querySelector('#{id}').value;"),
                vec![],
            )
            .await
        }
    };
    assert_eq!(
        value("issuer").await,
        json!("https://sso.example.com/realms/demo")
    );
    assert_eq!(value("client-id").await, json!("shared-client"));
    assert_eq!(value("preset").await, json!("keycloak"));
    let steps = lab.text("#setup-steps").await;
    assert!(
        steps.contains(&format!("Valid redirect URIs = {}", lab.app)),
        "{steps}"
    );
    assert!(lab.text("#cors-setting").await.contains("Web origins"));
    // The share link the page offers carries the same non-secret settings.
    let share = lab.text("#share-link").await;
    assert!(share.contains("client_id=shared-client") && share.contains("preset=keycloak"));

    // Picking a provider that cannot be a browser client explains why.
    lab.js(
        "const s = document.querySelector('#preset'); s.value = 'github'; \
         s.dispatchEvent(new Event('change'));",
        vec![],
    )
    .await;
    let why = lab.text("#preset-cannot").await;
    assert!(
        why.contains("CORS") && why.contains("client_secret"),
        "{why}"
    );
    // A template issuer is refused before anything is sent.
    lab.js(
        "const s = document.querySelector('#preset'); s.value = 'keycloak'; \
         s.dispatchEvent(new Event('change'));",
        vec![],
    )
    .await;
    lab.click("#login").await;
    assert!(lab.problem().await.what.contains("placeholder"));
    lab.js(
        "document.querySelector('#preset').scrollIntoView();",
        vec![],
    )
    .await;
    lab.screenshot("p07-presets").await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn oidc_3_1_2_1_extra_parameters_ride_on_the_login_and_the_share_link() {
    let lab = Lab::start().await;
    let set = |id: &'static str, value: &'static str| {
        let lab = &lab;
        async move {
            lab.js(
                "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
                 e.dispatchEvent(new Event('change'));",
                vec![json!(id), json!(value)],
            )
            .await;
        }
    };
    let value = |id: &'static str| {
        let lab = &lab;
        async move {
            lab.js(
                "return document.querySelector(arguments[0]).value;",
                vec![json!(id)],
            )
            .await
        }
    };
    set("#ap-login_hint", "alice").await;
    set("#ap-custom", "tenant=acme-lab").await;
    // The provider got login_hint: its form is pre-filled with alice, so no user is typed.
    lab.login_through_provider("", "wonderland").await;
    assert_eq!(lab.wait_phase(&["logged-in"]).await, "logged-in");
    assert_eq!(lab.failed_steps().await, Vec::<String>::new());
    // Drawn as chips of the authorization arrow and sent on the real request, after ours.
    let redirect = &lab.step_texts("RedirectToAuthorize").await[0];
    assert!(
        redirect.contains("login_hint=alice&tenant=acme-lab"),
        "{redirect}"
    );
    let chips = lab
        .js(
            "return [...document.querySelectorAll('#timeline > li[data-kind=RedirectToAuthorize] \
             .params li, #diagram g.row[data-kind=RedirectToAuthorize] .chips')]\
             .map(e => e.textContent).join(' | ');",
            vec![],
        )
        .await;
    let chips = chips.as_str().unwrap_or_default().to_owned();
    assert!(
        chips.contains("login_hint = alice") && chips.contains("tenant = acme-lab"),
        "{chips}"
    );
    // The share link carries them, and opening it restores them (the callback page folds
    // the settings: issue 12).
    lab.open_settings().await;
    let share = lab.text("#share-link").await;
    assert!(
        share.contains("p.login_hint=alice") && share.contains("p.tenant=acme-lab"),
        "{share}"
    );
    set("#ap-login_hint", "").await;
    set("#ap-custom", "").await;
    lab.client.goto(&share).await.expect("open the shared link");
    lab.wait_css("#notice").await;
    assert_eq!(value("#ap-login_hint").await, json!("alice"));
    assert_eq!(value("#ap-custom").await, json!("tenant=acme-lab"));
    // A reserved name is refused before anything is sent.
    set("#ap-custom", "response_type=token").await;
    lab.click("#login").await;
    let problem = lab.problem().await.what;
    assert!(
        problem.contains("\"response_type\" is refused"),
        "{problem}"
    );
    // Typing another server's issuer leaves the bundled preset and its hints.
    set("#issuer", "https://sso.example.org").await;
    assert_eq!(value("#preset").await, json!("other"));
    assert_eq!(lab.count("#preset-hints").await, 0);
    lab.finish().await;
}
