//! Explain mode: scripted runs of the PKCE client, the confidential client and the deprecated
//! implicit grant, drawn by the same diagram, with the differences highlighted.

use super::diagram_panel::diagram_with_controls;
use crate::flow::explain::{script, Variant};
use leptos::prelude::*;

/// The PKCE switch, the greyed implicit variant, and the scripted diagram.
#[component]
pub fn ExplainPanel() -> impl IntoView {
    let variant = RwSignal::new(Variant::PkcePublic);
    let timeline = Signal::derive(move || super::notes::resolved_timeline(&script(variant.get())));
    let summary = move || match variant.get() {
        Variant::PkcePublic => {
            t!("explain.pkce_on_the")
        }
        Variant::Confidential => {
            t!("explain.pkce_off_no")
        }
        Variant::Implicit => {
            t!("explain.implicit_deprecated_the")
        }
        Variant::Dpop => {
            t!("explain.dpop_every_back")
        }
    };
    view! {
        <div class="explain-controls" role="group" aria-label="Variant">
            <label class="switch">
                <input id="explain-pkce" type="checkbox"
                    prop:checked=move || variant.get() == Variant::PkcePublic
                    on:change=move |ev| variant.set(if event_target_checked(&ev) {
                        Variant::PkcePublic
                    } else {
                        Variant::Confidential
                    }) />
                " PKCE"
            </label>
            <button id="explain-implicit" class="greyed"
                aria-pressed=move || super::aria(variant.get() == Variant::Implicit)
                on:click=move |_| variant.set(Variant::Implicit)>
                "Implicit (deprecated)"
            </button>
            <button id="explain-dpop"
                aria-pressed=move || super::aria(variant.get() == Variant::Dpop)
                on:click=move |_| variant.set(Variant::Dpop)>
                "DPoP"
            </button>
            <span id="explain-variant" class="variant">{move || variant.get().label()}</span>
        </div>
        <p class="explain-summary">{move || super::notes::tr(summary())}</p>
        {diagram_with_controls(timeline)}
    }
}
