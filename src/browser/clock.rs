//! Wall-clock and high-resolution time.

/// Milliseconds since the Unix epoch (survives the round trip to the provider, unlike
/// `performance.now()`, which restarts on every page load).
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// The mark of the page mounted and drawn (scripts/bench: load → ready ends there).
pub const READY_MARK: &str = "oauth-flow-lab:ready";

/// The mark of the diagram drawn on a page back from the provider, after the tokens
/// (scripts/bench: tokens → diagram).
pub const DIAGRAM_MARK: &str = "oauth-flow-lab:diagram";

/// Sets a `performance.mark` now, for scripts/bench.
pub fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}

/// Sets a `performance.mark` once the views have applied the change just made: Leptos runs the
/// effects a state write woke as queued tasks, in order, and this task is queued after them. So
/// the mark means "in the page", as the baseline's ready mark does, and not "at the next
/// animation frame", which would add a wait for the display (up to 16.7 ms) to the app's own
/// time (scripts/bench sets its own "painted" mark a frame later).
pub fn mark_when_applied(name: &'static str) {
    wasm_bindgen_futures::spawn_local(async move { mark(name) });
}

/// A wall-clock time in the user's time zone, 24-hour, e.g. "14:03:27".
///
/// Built from the `Date` getters, not `toLocaleTimeString`: the first locale-aware call loads
/// the browser's ICU data, 20 ms on the callback page's critical path (scripts/bench profile).
pub fn local_time(epoch_ms: u64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(epoch_ms as f64));
    format!(
        "{:02}:{:02}:{:02}",
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds()
    )
}

/// The current time as ISO 8601 in UTC, e.g. "2026-11-25T14:03:27.000Z" (for reports).
pub fn iso_now() -> String {
    js_sys::Date::new_0().to_iso_string().into()
}

/// Resolves after `ms` milliseconds (a `setTimeout` as a future).
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
