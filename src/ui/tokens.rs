//! The token panel: masked values, reveal on demand, expiry, requested vs granted scope.

use super::driver::{SessionShown, SessionView};
use crate::browser::{clock, webcrypto};
use crate::flow::oidc;
use crate::protocol::access_jwt::{self, AccessJwt};
use crate::protocol::error::sanitize_for_display;
use crate::protocol::error::Explain;
use crate::protocol::jwt::Jwks;
use crate::protocol::scope;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Shows the tokens held in memory, masked until the user reveals one.
#[component]
pub fn TokenPanel() -> impl IntoView {
    let shown: SessionView = expect_context();
    // Which value each Reveal shows, kept here and not in the `Secret`s: every change of the
    // session draws the panel below again (the ID token's checks finishing, an API call),
    // which would reset a Reveal held inside it.
    let reveals = Reveals {
        access: RwSignal::new(String::new()),
        refresh: RwSignal::new(String::new()),
        replaced: RwSignal::new(String::new()),
    };
    move || {
        let SessionShown {
            tokens,
            received_at,
            requested,
            replaced,
            revoked,
            issuer,
            needed,
            jwks,
            ..
        } = shown.with(SessionShown::clone);
        tokens.map(|tokens| {
            let expiry = match tokens.expires_in {
                Some(seconds) => format!(
                    "in {seconds} s, at {}",
                    clock::local_time(received_at + seconds * 1000)
                ),
                None => "not stated by the provider".to_owned(),
            };
            let trace = scope::trace(&requested, &tokens.granted_scope);
            let access_jwt = access_jwt::inspect(tokens.access_token.secret());
            let issuer_now = issuer.clone().unwrap_or_default();
            let access = SecretValue {
                masked: tokens.access_token.masked(),
                real: tokens.access_token.secret().to_owned(),
            };
            let refresh = tokens.refresh_token.as_ref().map(|r| SecretValue {
                masked: r.masked(),
                real: r.secret().to_owned(),
            });
            view! {
                <section id="tokens" class="panel tokens" aria-labelledby="tokens-title">
                    <h2 id="tokens-title">"Tokens (in memory only)"</h2>
                    <dl>
                        <dt>"Access token"</dt>
                        <dd><Secret id="access-token" value=access revealed=reveals.access />
                            {revoked.access.then(|| view! { <span id="access-revoked" class="chip revoked">"revoked"</span> })}</dd>
                        <dt>"Type"</dt>
                        <dd id="token-type">{tokens.token_type.clone()}</dd>
                        <dt>"Expires"</dt>
                        <dd id="token-expiry">{expiry}</dd>
                        <dt>"Scope asked"</dt>
                        <dd id="scope-requested"><code>{requested.clone()}</code></dd>
                        <dt>"Scope granted"</dt>
                        <dd id="scope-granted"><code>{sanitize_for_display(&tokens.granted_scope, 4096)}</code></dd>
                        <dt>"Per scope"</dt>
                        <dd><ul id="scope-trace" class="chips">{trace.entries.iter().map(|(name, mark)| view! {
                            <li class="chip" data-mark=mark.word()><code>{sanitize_for_display(name, 256)}</code>" "{mark.word()}</li>
                        }).collect_view()}</ul>
                        {needed.map(|n| trace.missing_for(&n)).filter(|m| !m.is_empty()).map(|m| view! {
                            <p id="scope-missing" class="hint">"The API answered 403: this grant lacks "<code>{sanitize_for_display(&m.join(" "), 1024)}</code>"."</p>
                        })}
                        {trace.note().map(|n| view! { <p id="scope-note" class="hint">{sanitize_for_display(&n, 4096)}</p> })}</dd>
                        {refresh.map(|value| view! {
                            <dt>"Refresh token"</dt>
                            <dd><Secret id="refresh-token" value=value revealed=reveals.refresh />
                                {revoked.refresh.then(|| view! { <span id="refresh-revoked" class="chip revoked">"revoked"</span> })}</dd>
                        })}
                        {replaced.map(|old| view! {
                            <dt>"Replaced refresh token"</dt>
                            <dd><Secret id="replaced-refresh-token" value=SecretValue {
                                masked: old.masked(), real: old.secret().to_owned() }
                                revealed=reveals.replaced />
                                <span class="chip">"rotated out: no longer valid"</span></dd>
                        })}
                        {issuer.map(|issuer| view! {
                            <dt>"Issued by"</dt>
                            <dd id="token-issuer"><code>{issuer}</code></dd>
                        })}
                    </dl>
                    {(tokens.token_type == "DPoP").then(|| dpop_binding(access_jwt.as_ref()))}
                    {access_jwt.map(|at| access_jwt_view(jwks.clone(), at, issuer_now.clone()))}
                    <p class="hint">
                        "The access token is opaque to this app: it only forwards it as "
                        <code id="token-sent-as">{if tokens.token_type == "DPoP" {
                            "Authorization: DPoP <token> + DPoP: <proof of this tab's key>"
                        } else {
                            "Authorization: Bearer <token>"
                        }}</code>
                        ". It is not proof of who you are — that is what OpenID Connect's ID token is for."
                    </p>
                </section>
            }
        })
    }
}

/// The demo API's read-only view of the presented token (`cnf` from introspection).
const TOKEN_INFO: &str = "/api/token-info";

/// A DPoP-bound token: `cnf.jkt` (from a JWT access token, or the demo API's
/// `/api/token-info`, since the bundled provider's tokens are opaque and a public client
/// cannot call introspection) beside this tab's key thumbprint.
fn dpop_binding(at: Option<&AccessJwt>) -> impl IntoView {
    // Reads the key's thumbprint and the demo API's answer from the session itself.
    let dispatch: super::driver::Dispatch = expect_context();
    let lab = dispatch.0;
    let from_jwt = at.and_then(|at| {
        let claims: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&at.jwt.claims_json()).ok()?;
        crate::protocol::dpop::cnf_jkt(&claims).map(str::to_owned)
    });
    let view_of = move || {
        let (thumbprint, answer) = lab.with(|l| {
            (
                l.dpop_thumbprint().map(str::to_owned),
                l.api_answer().filter(|a| a.path == TOKEN_INFO).cloned(),
            )
        });
        let from_api = answer.and_then(|a| {
            let claims: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&a.body).ok()?;
            crate::protocol::dpop::cnf_jkt(&claims).map(str::to_owned)
        });
        let (jkt, source) = match (&from_jwt, from_api) {
            (Some(jkt), _) => (Some(jkt.clone()), "the JWT access token's claims"),
            (None, Some(jkt)) => (
                Some(jkt),
                "the demo API's GET /api/token-info (introspection)",
            ),
            (None, None) => (None, ""),
        };
        let verdict = match (&jkt, &thumbprint) {
            (Some(jkt), Some(own)) if jkt == own => {
                "✔ equal: the token is bound to this tab's key, and only proofs signed by it open the API."
            }
            (Some(_), Some(_)) => "✘ different: this token is bound to another key.",
            _ => "",
        };
        view! {
            <dt>"Key thumbprint (jkt)"</dt>
            <dd><code id="dpop-thumbprint">{thumbprint.unwrap_or_else(|| "no key in this tab".into())}</code></dd>
            <dt>"cnf.jkt"</dt>
            <dd>{match jkt {
                Some(jkt) => view! {
                    <code id="cnf-jkt">{sanitize_for_display(&jkt, 100)}</code>
                    <span class="hint">" from " {source}</span>
                }.into_any(),
                None => view! {
                    <span class="hint">"opaque token: ask the API what the provider bound it to "</span>
                    <button id="token-info" on:click=move |_| {
                        dispatch.action(crate::flow::session::Action::CallApi(TOKEN_INFO))
                    }>"GET /api/token-info"</button>
                }.into_any(),
            }}
            // Inside the same cell: a third grid item would widen the label column.
            <p id="dpop-binding-verdict">{verdict}</p></dd>
        }
    };
    view! {
        <div id="dpop-binding">
            <h3>"Bound to this tab's key (DPoP)"</h3>
            <dl>{view_of}</dl>
            <p class="hint">"The private key is non-extractable: the browser signs with it but nobody, \
                not even this app, can read it out. A copy of the token without the key is refused."</p>
        </div>
    }
}

/// A secret with its mask and its real value.
#[derive(Clone)]
struct SecretValue {
    masked: String,
    real: String,
}

/// The panel's Reveal state, one per secret it shows: the mask of the value shown in clear
/// (empty when masked). Keyed by the mask, so a new value (a refresh) comes back masked.
#[derive(Clone, Copy)]
struct Reveals {
    access: RwSignal<String>,
    refresh: RwSignal<String>,
    replaced: RwSignal<String>,
}

/// A masked value with a Reveal / Hide toggle.
#[component]
fn Secret(
    /// Element id of the value.
    id: &'static str,
    /// The secret.
    value: SecretValue,
    /// The mask of the value shown in clear, kept by the panel across its redraws.
    revealed: RwSignal<String>,
) -> impl IntoView {
    let SecretValue { masked, real } = value;
    let key = masked.clone();
    let on = move || revealed.with(|shown| *shown == key);
    let (on_class, on_text, on_pressed) = (on.clone(), on.clone(), on.clone());
    let toggle = masked.clone();
    view! {
        <code id=id class="secret" class:revealed=move || on_class()>
            {move || if on_text() { real.clone() } else { masked.clone() }}
        </code>
        <button class="reveal" aria-pressed=move || super::aria(on_pressed())
            on:click=move |_| revealed.update(|shown| {
                *shown = if *shown == toggle { String::new() } else { toggle.clone() }
            })>
            {move || if on() { "Hide" } else { "Reveal" }}
        </button>
    }
}

/// A JWT access token decoded (RFC 9068), with what an API would check; `issuer` is this
/// login's, `jwks` the key set its provider published (when fetched).
fn access_jwt_view(jwks: Option<Jwks>, at: AccessJwt, issuer: String) -> impl IntoView {
    let objections = at.api_objections(&issuer, clock::now_ms() / 1000);
    // Verify as the API would, only with this issuer's keys (already fetched for the ID token).
    let verdict = RwSignal::new("not checked: no key set from this issuer yet".to_owned());
    if !at.names_issuer(&issuer) {
        verdict.set("not checked: iss is not this provider".into());
    } else if let Some(jwks) = jwks {
        match oidc::access_token_signature_check(&at.jwt, &jwks) {
            Err(e) => verdict.set(format!("not checked: {}", e.what_happened())),
            Ok(check) => spawn_local(async move {
                let said = match webcrypto::verify(&check).await {
                    Ok(true) => "valid (JWKS key)".to_owned(),
                    Ok(false) => "INVALID".to_owned(),
                    Err(e) => format!("not checked: {e}"),
                };
                verdict.set(said);
            }),
        }
    }
    let exp = at
        .exp
        .map_or_else(|| "none".to_owned(), |e| clock::local_time(e * 1000));
    view! {
        <div id="access-jwt">
            <h3>"The access token is a JWT"</h3>
            <p class="hint">"Decoded for you only: the client must not rely on it. Only the API validates it."</p>
            <dl>
                <dt>"typ"</dt><dd id="at-typ">{at.typ.clone().unwrap_or_else(|| "none".into())}</dd>
                <dt>"aud"</dt><dd id="at-aud">{at.aud.join(", ")}</dd>
                <dt>"scope"</dt><dd id="at-scope">{at.scope.clone().unwrap_or_default()}</dd>
                <dt>"exp"</dt><dd id="at-exp">{exp}</dd>
                <dt>"Signature"</dt><dd id="at-signature">{move || verdict.get()}</dd>
            </dl>
            <p id="at-objections">{if objections.is_empty() {
                "An API would accept these claims.".to_owned()
            } else {
                objections.join(" ")
            }}</p>
            <pre id="at-header">{at.jwt.header_json()}</pre>
            <pre id="at-claims">{at.jwt.claims_json()}</pre>
        </div>
    }
}
