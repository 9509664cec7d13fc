//! The last answer of the demo resource API.

use super::driver::StatusView;
use leptos::prelude::*;

/// Shows the last API answer as pretty-printed JSON text.
#[component]
pub fn ApiPanel() -> impl IntoView {
    let StatusView(status) = expect_context();
    move || {
        status.with(|s| s.api_answer.clone()).map(|answer| {
            view! {
                <section class="panel api" aria-labelledby="api-title">
                    <h2 id="api-title">"API answer: " <code>{answer.path}</code></h2>
                    <pre id="api-result">{answer.body}</pre>
                </section>
            }
        })
    }
}
