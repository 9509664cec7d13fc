//! The problem banner: what happened, whose side, what to do. Always text nodes.

use super::driver::StatusView;
use leptos::prelude::*;

/// Shows the last problem (or a neutral notice) in plain words.
#[component]
pub fn ProblemBanner() -> impl IntoView {
    let StatusView(status) = expect_context();
    view! {
        {move || status.with(|s| s.notice.clone()).map(|notice| view! {
            <p id="notice" class="panel notice" role="status">{notice}</p>
        })}
        {move || status.with(|s| s.problem.clone()).map(|problem| view! {
            <section id="problem" class="panel problem" role="alert">
                <h2>"What went wrong"</h2>
                <p id="problem-what"><bdi>{problem.what_happened}</bdi></p>
                <p class="side">"Whose side: "
                    <strong id="problem-side">{problem.whose_side.label()}</strong></p>
                <p id="problem-todo" class="todo">"What to do: " {problem.what_to_do}</p>
            </section>
        })}
    }
}
