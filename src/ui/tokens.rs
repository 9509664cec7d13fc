//! The token panel: masked values, reveal on demand, expiry, requested vs granted scope.

use super::session::Lab;
use crate::browser::clock;
use crate::protocol::error::sanitize_for_display;
use leptos::prelude::*;

/// Shows the tokens held in memory, masked until the user reveals one.
#[component]
pub fn TokenPanel(
    /// The app state.
    lab: RwSignal<Lab>,
) -> impl IntoView {
    move || {
        let (tokens, received_at, requested, replaced, revoked, issuer) = lab.with(|l| {
            (
                l.tokens.clone(),
                l.tokens_received_at_ms,
                l.settings.normalized().scope,
                l.replaced_refresh.clone(),
                l.revoked,
                l.session.as_ref().map(|s| s.issuer.clone()),
            )
        });
        tokens.map(|tokens| {
            let expiry = match tokens.expires_in {
                Some(seconds) => format!(
                    "in {seconds} s, at {}",
                    clock::local_time(received_at + seconds * 1000)
                ),
                None => "not stated by the provider".to_owned(),
            };
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
                        <dd><Secret id="access-token" value=access />
                            {revoked.access.then(|| view! { <span id="access-revoked" class="chip revoked">"revoked"</span> })}</dd>
                        <dt>"Type"</dt>
                        <dd id="token-type">{tokens.token_type.clone()}</dd>
                        <dt>"Expires"</dt>
                        <dd id="token-expiry">{expiry}</dd>
                        <dt>"Scope asked"</dt>
                        <dd id="scope-requested"><code>{requested}</code></dd>
                        <dt>"Scope granted"</dt>
                        <dd id="scope-granted"><code>{sanitize_for_display(&tokens.granted_scope, 4096)}</code></dd>
                        {refresh.map(|value| view! {
                            <dt>"Refresh token"</dt>
                            <dd><Secret id="refresh-token" value=value />
                                {revoked.refresh.then(|| view! { <span id="refresh-revoked" class="chip revoked">"revoked"</span> })}</dd>
                        })}
                        {replaced.map(|old| view! {
                            <dt>"Replaced refresh token"</dt>
                            <dd><Secret id="replaced-refresh-token" value=SecretValue {
                                masked: old.masked(), real: old.secret().to_owned() } />
                                <span class="chip">"rotated out: no longer valid"</span></dd>
                        })}
                        {issuer.map(|issuer| view! {
                            <dt>"Issued by"</dt>
                            <dd id="token-issuer"><code>{issuer}</code></dd>
                        })}
                    </dl>
                    <p class="hint">
                        "The access token is opaque to this app: it only forwards it as "
                        <code>"Authorization: Bearer"</code>
                        ". It is not proof of who you are — that is what OpenID Connect's ID token is for."
                    </p>
                </section>
            }
        })
    }
}

/// A secret with its mask and its real value.
#[derive(Clone)]
struct SecretValue {
    masked: String,
    real: String,
}

/// A masked value with a Reveal / Hide toggle.
#[component]
fn Secret(
    /// Element id of the value.
    id: &'static str,
    /// The secret.
    value: SecretValue,
) -> impl IntoView {
    let revealed = RwSignal::new(false);
    let SecretValue { masked, real } = value;
    view! {
        <code id=id class="secret" class:revealed=move || revealed.get()>
            {move || if revealed.get() { real.clone() } else { masked.clone() }}
        </code>
        <button class="reveal" aria-pressed=move || revealed.get().to_string()
            on:click=move |_| revealed.update(|r| *r = !*r)>
            {move || if revealed.get() { "Hide" } else { "Reveal" }}
        </button>
    }
}
