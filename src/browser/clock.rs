//! Wall-clock and high-resolution time.

/// Milliseconds since the Unix epoch (survives the round trip to the provider, unlike
/// `performance.now()`, which restarts on every page load).
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Sets a `performance.mark` so benchmarks can measure load-to-ready.
pub fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}

/// A wall-clock time as the user's locale shows it, e.g. "14:03:27".
pub fn local_time(epoch_ms: u64) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(epoch_ms as f64))
        .to_locale_time_string("default")
        .as_string()
        .unwrap_or_default()
}

/// The current time as ISO 8601 in UTC, e.g. "2026-11-25T14:03:27.000Z" (for reports).
pub fn iso_now() -> String {
    js_sys::Date::new_0().to_iso_string().into()
}
