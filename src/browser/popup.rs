//! The probe window (issue 15): the attack lab's front-channel probes run in a popup so a
//! provider that answers with a page of its own can never strand the lab's tab. The opener
//! keeps the window's handle and reuses it for every probe of a run (opening another later,
//! without the click's user activation, would be blocked); the popup's page load hands its URL
//! back by `postMessage` with an exact origin and source check.

use std::cell::{Cell, RefCell};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The window name (one probe window per lab tab).
const NAME: &str = "oauth-flow-lab-probe";
/// Marks the lab's own messages (anything else posted to the window is ignored).
const PREFIX: &str = "oauth-flow-lab:probe-return ";

thread_local! {
    static POPUP: RefCell<Option<web_sys::Window>> = const { RefCell::new(None) };
    static LISTENING: Cell<bool> = const { Cell::new(false) };
}

/// The probe window, while it is open.
fn current() -> Option<web_sys::Window> {
    POPUP
        .with(|p| p.borrow().clone())
        .filter(|w| !w.closed().unwrap_or(true))
}

/// Opens the probe window (blank) unless it is open already. Call it in the synchronous part of
/// a click handler: browsers allow popups only with the click's user activation. `false`:
/// the browser blocked it.
pub fn open_from_click() -> bool {
    if current().is_some() {
        return true;
    }
    let Some(window) = web_sys::window() else {
        return false;
    };
    match window.open_with_url_and_target_and_features(
        "about:blank",
        NAME,
        "popup,width=560,height=700",
    ) {
        Ok(Some(popup)) => {
            POPUP.with(|p| *p.borrow_mut() = Some(popup));
            true
        }
        _ => false,
    }
}

/// Loads `url` in the probe window; `false` when there is no open window to load it in.
pub fn load(url: &str) -> bool {
    current().is_some_and(|w| w.location().set_href(url).is_ok())
}

/// Closes the probe window (the opener may close a window it opened, whatever it shows).
pub fn close() {
    if let Some(w) = POPUP.with(|p| p.borrow_mut().take()) {
        let _ = w.close();
    }
}

/// The probe window's address when it is on a page of this origin with a query or fragment:
/// the provider redirected back (to any path), even if the app has not loaded there (yet). A
/// window on the provider's page is cross-origin and its address unreadable: `None`.
pub fn landed_here() -> Option<String> {
    let origin = web_sys::window()?.location().origin().ok()?;
    let href = current()?.location().href().ok()?;
    let rest = href.strip_prefix(&origin)?;
    (rest.starts_with('/') && (rest.contains('?') || rest.contains('#'))).then_some(href)
}

/// Calls `f` once after `ms` milliseconds.
pub fn after(ms: u32, f: impl FnOnce() + 'static) {
    if let Some(window) = web_sys::window() {
        let callback = Closure::once_into_js(f);
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            callback.unchecked_ref(),
            ms.min(i32::MAX as u32) as i32,
        );
    }
}

/// Whether the probe window was closed (by the user) or is gone.
pub fn closed() -> bool {
    current().is_none()
}

/// Calls `on_return(url)` for every URL the probe window hands back: only messages from this
/// exact origin, from the probe window itself, with the lab's marker. Installed once.
pub fn listen(on_return: impl Fn(String) + 'static) {
    if LISTENING.with(|l| l.replace(true)) {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(origin) = window.location().origin() else {
        return;
    };
    let handler = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
        if e.origin() != origin {
            return;
        }
        let from_popup = match (e.source(), current()) {
            (Some(source), Some(popup)) => js_sys::Object::is(&source, popup.as_ref()),
            _ => false,
        };
        if !from_popup {
            return;
        }
        if let Some(url) = e
            .data()
            .as_string()
            .and_then(|d| d.strip_prefix(PREFIX).map(str::to_owned))
        {
            on_return(url);
        }
    });
    let _ = window.add_event_listener_with_callback("message", handler.as_ref().unchecked_ref());
    // Lives as long as the page.
    handler.forget();
}

/// In a probe window that came back to the redirect URI: hands the URL to the lab that opened
/// it (same origin only) and returns `true`; the caller then never mounts the app, so the
/// popup never runs a login. The code or token leaves this window's address bar at once.
pub fn hand_back_if_probe_window() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let location = window.location();
    let (Ok(origin), Ok(href)) = (location.origin(), location.href()) else {
        return false;
    };
    if location.search().unwrap_or_default().is_empty()
        && location.hash().unwrap_or_default().is_empty()
    {
        return false;
    }
    let Some(opener) = window
        .opener()
        .ok()
        .filter(|o| !o.is_null() && !o.is_undefined())
        .map(JsCast::unchecked_into::<web_sys::Window>)
    else {
        return false;
    };
    // Reading a cross-origin opener's origin throws: only this app's own tab qualifies.
    if opener.location().origin().ok().as_deref() != Some(origin.as_str()) {
        return false;
    }
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some("/"));
    }
    let message = JsValue::from_str(&format!("{PREFIX}{href}"));
    if opener.post_message(&message, &origin).is_err() {
        return false;
    }
    if let Some(body) = window.document().and_then(|d| d.body()) {
        body.set_text_content(Some(
            "The provider's answer went back to the attack lab. This window closes by itself.",
        ));
    }
    true
}
