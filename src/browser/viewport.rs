//! What the screen and the user's preferences allow.

/// Whether the user asked the system for reduced motion.
pub fn prefers_reduced_motion() -> bool {
    web_sys::window()
        .and_then(|w| {
            w.match_media("(prefers-reduced-motion: reduce)")
                .ok()
                .flatten()
        })
        .is_some_and(|m| m.matches())
}

/// The viewport's width in CSS pixels.
pub fn width() -> f64 {
    web_sys::window()
        .and_then(|w| w.inner_width().ok())
        .and_then(|v| v.as_f64())
        .unwrap_or(1280.0)
}

/// Scrolls step `step` of the diagram into view if it is not (the diagram follows the active
/// step). The scroll is instant: no motion, whatever the user's motion preference.
pub fn scroll_step_into_view(step: usize) {
    if let Some(row) = web_sys::window().and_then(|w| w.document()).and_then(|d| {
        d.query_selector(&format!("#diagram [data-step=\"{step}\"]"))
            .ok()
            .flatten()
    }) {
        let options = web_sys::ScrollIntoViewOptions::new();
        options.set_block(web_sys::ScrollLogicalPosition::Nearest);
        row.scroll_into_view_with_scroll_into_view_options(&options);
    }
}
