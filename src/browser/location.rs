//! The address bar: reading the callback once, cleaning it, and leaving for the provider.

/// The page's query (without `?`) and fragment (without `#`).
pub fn query_and_fragment() -> (String, String) {
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return (String::new(), String::new());
    };
    let query = location.search().unwrap_or_default();
    let fragment = location.hash().unwrap_or_default();
    (
        query.trim_start_matches('?').to_owned(),
        fragment.trim_start_matches('#').to_owned(),
    )
}

/// The redirect URI to register and to send: this page's origin plus `/`.
pub fn redirect_uri() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .map(|origin| format!("{origin}/"))
        .unwrap_or_else(|| "http://127.0.0.1:8080/".to_owned())
}

/// This page's origin, e.g. `http://127.0.0.1:8080`.
pub fn origin() -> String {
    redirect_uri().trim_end_matches('/').to_owned()
}

/// Removes query and fragment from the address bar and the current history entry, so the code
/// and state are not left in history (RFC 9700 §4.3.1; browser-based-apps §7.2.1).
pub fn clean_url() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let path = window
        .location()
        .pathname()
        .unwrap_or_else(|_| "/".to_owned());
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
    }
}

/// Leaves the page for `url` (a front-channel navigation).
pub fn navigate(url: &str) -> Result<(), String> {
    web_sys::window()
        .ok_or_else(|| "no window".to_owned())?
        .location()
        .assign(url)
        .map_err(|_| format!("the browser refused to navigate to {url}"))
}

/// Calls `f` when this page is being left (reload, navigation, tab closed): `pagehide`, the
/// one such event browsers fire reliably, also for the back/forward cache.
pub fn on_page_hide(f: impl Fn() + 'static) {
    use wasm_bindgen::JsCast;
    let Some(window) = web_sys::window() else {
        return;
    };
    let listener = wasm_bindgen::closure::Closure::<dyn Fn()>::new(f);
    let _ = window.add_event_listener_with_callback("pagehide", listener.as_ref().unchecked_ref());
    // Lives as long as the page.
    listener.forget();
}
