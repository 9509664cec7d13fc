//! Starting a Web Worker of the app's own (a wasm built by the same `trunk build`, loaded only
//! when its feature is used) and asking it one thing: the page's side shared by the HAR import
//! (`har_worker`) and the exports (`export_worker`), which keep their code off the first load.
//!
//! A worker is a same-origin classic script (`public/*-worker-loader.js`), which the page's CSP
//! `script-src 'self'` allows (`worker-src` falls back to it): no `blob:` URL, no
//! `'unsafe-eval'`. One worker per request, ended when it has answered, with its heap.

use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// A worker's first message: its wasm is running and it listens (a message posted before
/// that would be lost while the wasm loads).
pub const READY: &str = "ready";

/// Why a worker gave no answer.
pub enum Failed {
    /// It could not be started (its address not found, or the browser refused it): a message
    /// saying so and what to do.
    Start(String),
    /// It started, then failed to load or trapped on the request (panic, out of memory).
    Stopped,
}

type Listeners = (
    Closure<dyn FnMut(web_sys::MessageEvent)>,
    Closure<dyn FnMut(web_sys::Event)>,
);

/// Starts the worker whose loader is `loader` (next to the app's files), posts it `request`
/// once it says it is ready, and waits for its one answer. The worker is ended after it.
pub async fn ask(loader: &str, request: &JsValue) -> Result<JsValue, Failed> {
    let refused = || {
        Failed::Start(format!(
            "The browser could not start a worker ({loader}); reload the page and try again."
        ))
    };
    let url = loader_url(loader).map_err(Failed::Start)?;
    let worker = web_sys::Worker::new(&url).map_err(|_| refused())?;
    let listeners: Rc<RefCell<Option<Listeners>>> = Rc::default();
    let promise =
        js_sys::Promise::new(&mut |resolve: js_sys::Function, reject: js_sys::Function| {
            let to_worker = worker.clone();
            let request = request.clone();
            let onmessage = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |event: web_sys::MessageEvent| {
                    let data = event.data();
                    if data.as_string().as_deref() == Some(READY) {
                        if to_worker.post_message(&request).is_err() {
                            let _ = resolve.call1(&JsValue::NULL, &JsValue::NULL);
                        }
                    } else {
                        let _ = resolve.call1(&JsValue::NULL, &data);
                    }
                },
            );
            // A worker that cannot load, or that traps on the request (panic, out of memory).
            let onerror =
                Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
                    event.prevent_default();
                    let _ = reject.call0(&JsValue::NULL);
                });
            worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
            worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
            *listeners.borrow_mut() = Some((onmessage, onerror));
        });
    let answer = wasm_bindgen_futures::JsFuture::from(promise).await;
    // The worker, its heap and what it was given go away here; the listeners after it.
    worker.terminate();
    drop(listeners);
    answer.map_err(|_| Failed::Stopped)
}

/// A worker loader's address, next to the app's own script (whatever path the app is served
/// from).
fn loader_url(loader: &str) -> Result<String, String> {
    let fail = || "The worker's address could not be found.".to_owned();
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(fail)?;
    let base = document.url().map_err(|_| fail())?;
    let script = document
        .query_selector("script[data-trunk-js]")
        .ok()
        .flatten()
        .and_then(|s| s.get_attribute("data-trunk-js"))
        .unwrap_or_else(|| "/".into());
    let script = web_sys::Url::new_with_base(&script, &base).map_err(|_| fail())?;
    let loader = web_sys::Url::new_with_base(loader, &script.href()).map_err(|_| fail())?;
    Ok(loader.href())
}

/// The worker's side (its `main`): calls `answer` on each posted message and posts back what
/// it gives, after saying it is ready.
pub fn serve<F, Fut>(answer: F)
where
    F: Fn(JsValue) -> Fut + 'static,
    Fut: std::future::Future<Output = JsValue> + 'static,
{
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply = scope.clone();
    let onmessage =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let reply = reply.clone();
            let answer = answer(event.data());
            wasm_bindgen_futures::spawn_local(async move {
                let _ = reply.post_message(&answer.await);
            });
        });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    // Lives as long as the worker, which the page ends after one answer.
    onmessage.forget();
    let _ = scope.post_message(&JsValue::from_str(READY));
}

/// `["error", message]`: a worker's answer when it could not do what was asked.
pub fn error(message: &str) -> JsValue {
    js_sys::Array::of2(&JsValue::from_str("error"), &JsValue::from_str(message)).into()
}
