//! Provider settings: issuer, client id, scopes, API base, and the redirect URI to register.

use super::session::{self, Lab};
use crate::browser::location;
use leptos::prelude::*;

/// The settings form. Every field is non-secret and saved in localStorage as it is typed.
#[component]
pub fn SettingsPanel(
    /// The app state.
    lab: RwSignal<Lab>,
) -> impl IntoView {
    let redirect_uri = location::redirect_uri();
    let field = move |read: fn(&Lab) -> String| move || lab.with(read);
    view! {
        <section class="panel settings" aria-labelledby="settings-title">
            <h2 id="settings-title">"Provider"</h2>
            <label for="issuer">"Issuer"</label>
            <input id="issuer" type="url" spellcheck="false"
                prop:value=field(|l| l.settings.issuer.clone())
                on:change:target=move |ev| {
                    let v = ev.target().value();
                    session::update_settings(lab, |s| s.issuer = v)
                } />
            <label for="client-id">"Client id"</label>
            <input id="client-id" type="text" spellcheck="false"
                prop:value=field(|l| l.settings.client_id.clone())
                on:change:target=move |ev| {
                    let v = ev.target().value();
                    session::update_settings(lab, |s| s.client_id = v)
                } />
            <label for="scope">"Scopes"</label>
            <input id="scope" type="text" spellcheck="false"
                prop:value=field(|l| l.settings.scope.clone())
                on:change:target=move |ev| {
                    let v = ev.target().value();
                    session::update_settings(lab, |s| s.scope = v)
                } />
            <label for="api-base">"Resource API"</label>
            <input id="api-base" type="url" spellcheck="false"
                prop:value=field(|l| l.settings.api_base.clone())
                on:change:target=move |ev| {
                    let v = ev.target().value();
                    session::update_settings(lab, |s| s.api_base = v)
                } />
            <p class="hint">
                "Redirect URI to register at the provider (exactly, byte for byte): "
                <code id="redirect-uri">{redirect_uri}</code>
            </p>
        </section>
    }
}
