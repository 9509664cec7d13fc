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

/// Scrolls step `step` of the diagram `svg` into view (the diagram follows the active step):
/// smoothly, or at once when the user asked for reduced motion.
pub fn scroll_step_into_view(svg: &web_sys::Element, step: usize, smooth: bool) {
    let Ok(Some(row)) = svg.query_selector(&format!("[data-step=\"{step}\"]")) else {
        return;
    };
    let options = web_sys::ScrollIntoViewOptions::new();
    options.set_block(web_sys::ScrollLogicalPosition::Nearest);
    options.set_inline(web_sys::ScrollLogicalPosition::Nearest);
    options.set_behavior(if smooth {
        web_sys::ScrollBehavior::Smooth
    } else {
        web_sys::ScrollBehavior::Instant
    });
    row.scroll_into_view_with_scroll_into_view_options(&options);
}
