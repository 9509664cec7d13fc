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

/// Every attribute write and node change under an element from its start, each described by
/// `describe` (which says where it landed).
pub struct Watch {
    observer: web_sys::MutationObserver,
    touched: std::rc::Rc<std::cell::RefCell<Vec<String>>>,
    describe: fn(&web_sys::MutationRecord) -> String,
    _callback: wasm_bindgen::closure::Closure<dyn FnMut(js_sys::Array)>,
}

impl Watch {
    /// Starts watching `host` and everything under it.
    pub fn start(host: &Element, describe: fn(&web_sys::MutationRecord) -> String) -> Self {
        let touched: std::rc::Rc<std::cell::RefCell<Vec<String>>> = Default::default();
        let seen = touched.clone();
        let callback = wasm_bindgen::closure::Closure::<dyn FnMut(js_sys::Array)>::new(
            move |records: js_sys::Array| {
                for record in records.iter() {
                    seen.borrow_mut().push(describe(&record.unchecked_into()));
                }
            },
        );
        let observer = web_sys::MutationObserver::new(callback.as_ref().unchecked_ref()).unwrap();
        let init = web_sys::MutationObserverInit::new();
        init.set_subtree(true);
        init.set_child_list(true);
        init.set_attributes(true);
        init.set_character_data(true);
        observer.observe_with_options(host, &init).unwrap();
        Watch {
            observer,
            touched,
            describe,
            _callback: callback,
        }
    }

    /// Stops watching; what was touched, the changes still queued included.
    pub fn stop(self) -> Vec<String> {
        let queued = self.observer.take_records();
        self.observer.disconnect();
        let mut touched = self.touched.take();
        for record in queued.iter() {
            touched.push((self.describe)(&record.unchecked_into()));
        }
        touched
    }
}
