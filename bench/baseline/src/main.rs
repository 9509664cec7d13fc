//! A minimal Leptos CSR page: a counter, an SVG, and a "replay" that advances one step every
//! 175 ms (the app's step interval at 4×) so the benchmark can watch frames on both pages.

use leptos::prelude::*;
use std::time::Duration;

const STEPS: u32 = 12;
const STEP_MS: u64 = 175;

#[component]
fn Baseline() -> impl IntoView {
    let count = RwSignal::new(0u32);
    let step = RwSignal::new(0u32);
    let playing = RwSignal::new(false);
    Effect::new(move |_| {
        let (now, on) = (step.get(), playing.get());
        if on {
            set_timeout(
                move || {
                    if now + 1 >= STEPS {
                        playing.set(false);
                    }
                    step.set(now + 1);
                },
                Duration::from_millis(STEP_MS),
            );
        }
    });
    view! {
        <main id="lab" data-phase="ready">
            <h1>"Baseline"</h1>
            <button id="inc" on:click=move |_| count.update(|c| *c += 1)>"+1"</button>
            <p id="count">{move || format!("Count: {}", count.get())}</p>
            <button id="replay-play" on:click=move |_| {
                step.set(0);
                playing.set(true);
            }>{move || if playing.get() { "Pause" } else { "Play" }}</button>
            <svg width="200" height="200" viewBox="0 0 200 200">
                <circle cx="100" cy="100" r=move || (10 + step.get() * 7).to_string() fill="teal" />
            </svg>
        </main>
    }
}

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(Baseline);
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark("baseline:ready");
    }
}
