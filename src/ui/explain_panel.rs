//! Explain mode: scripted runs of the PKCE client, the confidential client and the deprecated
//! implicit grant, drawn by the same diagram, with the differences highlighted.

use super::diagram_panel::diagram_with_controls;
use crate::flow::explain::{script, Variant};
use leptos::prelude::*;

/// The PKCE switch, the greyed implicit variant, and the scripted diagram.
#[component]
pub fn ExplainPanel() -> impl IntoView {
    let variant = RwSignal::new(Variant::PkcePublic);
    let timeline = Signal::derive(move || script(variant.get()));
    let summary = move || match variant.get() {
        Variant::PkcePublic => {
            "PKCE on: the page invents a verifier, sends only its hash through the address bar, \
             and proves possession on the back channel. A stolen code is worthless."
        }
        Variant::Confidential => {
            "PKCE off: no challenge and no verifier; a client_secret redeems the code instead. \
             That needs a backend — a secret in a browser bundle is readable by every visitor. \
             Highlighted rows differ from the PKCE run."
        }
        Variant::Implicit => {
            "Implicit (deprecated): the access token itself comes back in the URL fragment, \
             where history, extensions and logs can read it. RFC 9700 forbids it."
        }
        Variant::Dpop => {
            "DPoP: every back-channel request carries a proof signed by a key that never leaves \
             the tab, and the tokens are bound to it. Shown with RFC 9449's example key and a \
             placeholder signature (not a real signature: explain mode has no private key)."
        }
    };
    view! {
        <div class="explain-controls" role="group" aria-label="Variant">
            <label class="switch">
                <input id="explain-pkce" type="checkbox"
                    prop:checked=move || variant.get() == Variant::PkcePublic
                    on:change:target=move |ev| variant.set(if ev.target().checked() {
                        Variant::PkcePublic
                    } else {
                        Variant::Confidential
                    }) />
                " PKCE"
            </label>
            <button id="explain-implicit" class="greyed"
                aria-pressed=move || (variant.get() == Variant::Implicit).to_string()
                on:click=move |_| variant.set(Variant::Implicit)>
                "Implicit (deprecated)"
            </button>
            <button id="explain-dpop"
                aria-pressed=move || (variant.get() == Variant::Dpop).to_string()
                on:click=move |_| variant.set(Variant::Dpop)>
                "DPoP"
            </button>
            <span id="explain-variant" class="variant">{move || variant.get().label()}</span>
        </div>
        <p class="explain-summary">{summary}</p>
        {diagram_with_controls(timeline)}
    }
}
