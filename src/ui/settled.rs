//! When the page's first work is done. On a page that lands back from the provider, the parts
//! no first screen needs (the step list below the diagram, the teaching text) wait for the
//! login's work, so the callback page builds, lays out and fetches only what shows the login
//! (issue 12). On any other page that is one frame after the first drawing.

use super::driver::StatusView;
use leptos::prelude::*;
use std::time::Duration;

/// True once the session is not busy and the frame drawing its work has been painted; at the
/// latest [`AT_LATEST`] after the page started (a busy phase can last: a late replay waits
/// out the API's `iat` window).
#[derive(Clone, Copy)]
pub struct Settled(Signal<bool>);

/// The longest the parts below the first screen wait.
const AT_LATEST: Duration = Duration::from_secs(1);

/// Creates the page's [`Settled`] signal and puts it in context.
pub fn provide() {
    let settled = RwSignal::new(false);
    let settle = move || {
        if settled.try_get_untracked() == Some(false) {
            settled.set(true);
        }
    };
    let StatusView(status) = expect_context();
    crate::diagram::view::effect(Box::new(move || {
        let idle = !status.with(|s| s.phase.is_busy());
        if idle && !settled.get_untracked() {
            // After the frame that draws what the session just did (the tokens, on a callback).
            request_animation_frame(move || set_timeout(settle, Duration::ZERO));
        }
    }));
    set_timeout(settle, AT_LATEST);
    provide_context(Settled(settled.into()));
}

/// The page's [`Settled`] signal; always true where none was provided (a view mounted alone,
/// as the in-browser tests do).
pub fn settled() -> Signal<bool> {
    use_context::<Settled>().map_or_else(|| Signal::stored(true), |Settled(s)| s)
}
