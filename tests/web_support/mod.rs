//! Shared helpers of the in-browser tests: mount a view in its own host element, click, read
//! text, let the reactive system settle.
#![allow(dead_code)] // each test file uses its own subset

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Element;

/// Mounts `view` in a fresh host element; dropping the guard unmounts it and removes the host,
/// so tests do not see each other's DOM.
pub fn mount<F, N>(view: F) -> (Element, impl Drop)
where
    F: FnOnce() -> N + 'static,
    N: IntoView,
{
    // The app's teaching text, as the page would fetch it (this test server does not serve it).
    oauth_flow_lab::ui::notes::preload(
        oauth_flow_lab::text::Catalog::parse(include_str!("../../public/teaching.txt"))
            .expect("public/teaching.txt"),
    );
    let document = web_sys::window().unwrap().document().unwrap();
    let host = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone().unchecked_into(), view);
    (host.clone(), Unmount(Some(handle), host))
}

struct Unmount<T>(Option<T>, Element);

impl<T> Drop for Unmount<T> {
    fn drop(&mut self) {
        drop(self.0.take());
        self.1.remove();
    }
}

/// Clicks the first element matching `css` (panics when there is none).
pub fn click(host: &Element, css: &str) {
    host.query_selector(css)
        .unwrap()
        .unwrap_or_else(|| panic!("no {css}"))
        .dispatch_event(&web_sys::MouseEvent::new("click").unwrap())
        .unwrap();
}

/// The text of the first element matching `css` ("" when there is none).
pub fn text(host: &Element, css: &str) -> String {
    host.query_selector(css)
        .unwrap()
        .map(|e| e.text_content().unwrap_or_default())
        .unwrap_or_default()
}

/// Lets effects and renders scheduled so far run.
pub async fn settle() {
    leptos::task::tick().await;
}
