//! Provider settings: issuer, client id, scopes, API base, and the redirect URI to register.

use super::session::{self, Lab};
use crate::browser::location;
use crate::flow::settings::{ClientType, BUNDLED_CONFIDENTIAL_CLIENT};
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
            <fieldset class="client-type">
                <legend>"Client type"</legend>
                <label>
                    <input id="client-public" type="radio" name="client-type"
                        prop:checked=move || lab.with(|l| l.settings.client_type == ClientType::Public)
                        on:change=move |_| switch_client_type(lab, ClientType::Public) />
                    " Public client with PKCE (no secret)"
                </label>
                <label>
                    <input id="client-confidential" type="radio" name="client-type"
                        prop:checked=move || lab.with(|l| l.settings.client_type == ClientType::Confidential)
                        on:change=move |_| switch_client_type(lab, ClientType::Confidential) />
                    " Confidential, PKCE off (teaching only: needs a secret)"
                </label>
            </fieldset>
            <p class="hint">
                "Redirect URI to register at the provider (exactly, byte for byte): "
                <code id="redirect-uri">{redirect_uri}</code>
            </p>
        </section>
    }
}

/// Switches the client type; with the bundled provider's ids, swaps to the matching demo client.
fn switch_client_type(lab: RwSignal<Lab>, client_type: ClientType) {
    session::update_settings(lab, |s| {
        s.client_type = client_type;
        match client_type {
            ClientType::Confidential if s.client_id == "flow-lab" => {
                s.client_id = BUNDLED_CONFIDENTIAL_CLIENT.to_owned();
            }
            ClientType::Public if s.client_id == BUNDLED_CONFIDENTIAL_CLIENT => {
                s.client_id = "flow-lab".to_owned();
            }
            _ => {}
        }
    });
}
