//! PKCE off: ask for the client secret at redeem time, because a browser has nowhere safe to
//! keep it across the redirect. The value is used once and dropped; it is never stored.

use super::driver::{Dispatch, Phase, StatusView};
use leptos::prelude::*;

/// The prompt shown while a confidential-variant code waits for its secret.
#[component]
pub fn SecretPrompt() -> impl IntoView {
    let (StatusView(status), dispatch) = (expect_context(), expect_context::<Dispatch>());
    let secret = RwSignal::new(String::new());
    let acknowledged = RwSignal::new(false);
    let waiting = move || status.with(|s| s.phase == Phase::AwaitingSecret);
    crate::diagram::view::effect(Box::new(move || {
        if let Some(demo) = status.with(|s| s.demo_secret) {
            secret.set(demo.to_owned());
        }
    }));
    let prompt = move || {
        view! {
            <section id="secret-prompt" class="panel secret-prompt" aria-labelledby="secret-title">
                <h2 id="secret-title">"Client secret needed (PKCE off)"</h2>
                <p>
                    "This login ran as a confidential client: no code_verifier, so the code can "
                    "only be redeemed with the client secret. It was not stored anywhere while you "
                    "were at the provider — a browser has no safe place for it."
                </p>
                <p class="callout">
                    "Anything a browser holds, every visitor can read: a secret shipped in a web "
                    "page is not a secret. The bundled demo client's secret is printed in this "
                    "repository on purpose."
                </p>
                <label for="client-secret">"Client secret"</label>
                <input id="client-secret" type="password" autocomplete="off"
                    prop:value=move || secret.get()
                    on:input=move |ev| secret.set(event_target_value(&ev)) />
                <label class="ack">
                    <input id="secret-ack" type="checkbox" prop:checked=move || acknowledged.get()
                        on:change=move |ev| acknowledged.set(event_target_checked(&ev)) />
                    " I understand this secret is exposed to this page and is used once, never stored."
                </label>
                <button id="redeem" class="primary"
                    disabled=move || !acknowledged.get() || secret.with(|s| s.trim().is_empty())
                    on:click=move |_| {
                        let value = secret.get_untracked();
                        secret.set(String::new());
                        dispatch.secret(value);
                    }>
                    "Redeem the code with the secret"
                </button>
            </section>
        }
        .into_any()
    };
    super::show_when(Box::new(waiting), Box::new(prompt), super::nothing())
}
