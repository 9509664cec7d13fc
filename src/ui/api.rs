//! The last answer of the demo resource API.

use super::driver::Lab;
use leptos::prelude::*;

/// Shows the last API answer as pretty-printed JSON text.
#[component]
pub fn ApiPanel(
    /// The app state.
    lab: RwSignal<Lab>,
) -> impl IntoView {
    move || {
        lab.with(|l| l.api_answer().cloned()).map(|answer| {
            view! {
                <section class="panel api" aria-labelledby="api-title">
                    <h2 id="api-title">"API answer: " <code>{answer.path}</code></h2>
                    <pre id="api-result">{answer.body}</pre>
                </section>
            }
        })
    }
}
