//! The tools Web Worker, both ends of it (issues 16 and 14: first-load size): the HAR import
//! and the run's exports (SVG, Mermaid, HAR), pure code used only after a click.
//!
//! The importer (the HAR reader and every check it replays) and the exporters are their own
//! wasm binary, `src/bin/tools_worker.rs`, which trunk builds next to the app (index.html,
//! `data-type="worker"`) and which the page starts only when the person imports a file or asks
//! for an export: the first load carries none of it. It is also the safer place for a
//! stranger's file: it is read and parsed off the page's thread and outside the page's heap (a
//! panic or an exhausted heap ends the worker, not the page), and the worker can touch no DOM.
//! For an import the page posts the picked `File` itself, so its text is never held by the
//! page; the worker answers with the report as JSON (masks only) and the revealable values
//! apart, as plain strings that go straight into the page's memory-only secret store
//! (`flow::har_import::wire`). For an export the page posts the timeline's stored JSON
//! (`Timeline::to_json`: masks only, the secret store is never serialised), so an export still
//! holds no secret by construction. One worker per request, ended when it has answered.

use crate::diagram::export::{to_har, to_mermaid};
use crate::diagram::svg::to_svg;
use crate::flow::har_import::wire::{self, Revealable};
use crate::flow::har_import::{import_har, signature_verified};
use crate::flow::timeline::Timeline;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The worker's first message: its wasm is running and it listens (a message posted before
/// that would be lost while the wasm loads).
const READY: &str = "ready";

/// The worker's loader (public/tools-worker-loader.js), next to the app's files.
const LOADER: &str = "tools-worker-loader.js";

type Listeners = (
    Closure<dyn FnMut(web_sys::MessageEvent)>,
    Closure<dyn FnMut(web_sys::Event)>,
);

/// The page's side of an import: starts a worker, hands it `file` and waits for its answer: the
/// report's JSON and the revealable values, or a message saying what went wrong and what to do.
pub async fn import(file: &web_sys::File) -> Result<wire::Report, String> {
    let answer = ask(file).await.map_err(|_| {
        "The import stopped on this file (its worker failed: too big for memory, or a bug). \
         Export only the login and try again."
            .to_owned()
    })?;
    read_answer(&answer)
}

/// The page's side of an export: starts a worker, hands it the format (`svg`, `mermaid` or
/// `har`) and the timeline's stored JSON (masks only), and waits for the exported text.
pub async fn export(format: &str, timeline_json: &str) -> Result<String, String> {
    let request = js_sys::Array::of2(
        &JsValue::from_str(format),
        &JsValue::from_str(timeline_json),
    );
    let answer = ask(&request).await.map_err(|_| {
        "The export stopped (its worker failed to load or ran out of memory); try again.".to_owned()
    })?;
    let parts = js_sys::Array::from(&answer);
    let text = |i: u32| parts.get(i).as_string().unwrap_or_default();
    match text(0).as_str() {
        "ok" => Ok(text(1)),
        "error" => Err(text(1)),
        _ => Err("The export worker gave no answer; reload the page and try again.".into()),
    }
}

/// Starts a worker, posts it `request` once it says it is ready, and waits for its one answer
/// (`Err` when it cannot start, fails to load or traps). The worker is ended after it.
async fn ask(request: &JsValue) -> Result<JsValue, JsValue> {
    let worker = web_sys::Worker::new(&loader_url().map_err(|e| JsValue::from_str(&e))?)?;
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
    answer
}

/// `["ok", json, [step, name, value, ...]]` or `["error", message]`.
fn read_answer(answer: &JsValue) -> Result<wire::Report, String> {
    let parts = js_sys::Array::from(answer);
    let text = |i: u32| parts.get(i).as_string().unwrap_or_default();
    match text(0).as_str() {
        "ok" => {
            let flat = js_sys::Array::from(&parts.get(2));
            let mut revealable: Vec<Revealable> = Vec::new();
            let mut i = 0;
            while i + 2 < flat.length() {
                let step = flat.get(i).as_f64().unwrap_or(-1.0);
                if let (Some(name), Some(value)) =
                    (flat.get(i + 1).as_string(), flat.get(i + 2).as_string())
                {
                    if step >= 0.0 {
                        revealable.push((step as usize, name, value));
                    }
                }
                i += 3;
            }
            wire::received(&text(1), revealable)
        }
        "error" => Err(text(1)),
        _ => Err("The import worker gave no answer; reload the page and try again.".into()),
    }
}

/// The worker loader's address, next to the app's own script (whatever path the app is served
/// from).
fn loader_url() -> Result<String, String> {
    let fail = || "The import worker's address could not be found.".to_owned();
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
    let loader = web_sys::Url::new_with_base(LOADER, &script.href()).map_err(|_| fail())?;
    Ok(loader.href())
}

/// The worker's side (its `main`): answers each posted `File` with its import and each
/// `[format, timeline JSON]` with the export, after saying it is ready.
pub fn serve() {
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply = scope.clone();
    let onmessage =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let reply = reply.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let answer = answer(event.data()).await;
                let _ = reply.post_message(&answer);
            });
        });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    // Lives as long as the worker, which the page ends after one answer.
    onmessage.forget();
    let _ = scope.post_message(&JsValue::from_str(READY));
}

/// `["error", message]`.
fn error(message: String) -> JsValue {
    js_sys::Array::of2(&JsValue::from_str("error"), &JsValue::from_str(&message)).into()
}

/// One request: an export when the page posted `[format, timeline JSON]`, else an import.
async fn answer(data: JsValue) -> JsValue {
    if js_sys::Array::is_array(&data) {
        let request = js_sys::Array::from(&data);
        let (format, json) = (request.get(0).as_string(), request.get(1).as_string());
        return match (format, json) {
            (Some(format), Some(json)) => match exported(&format, &json) {
                Some(text) => {
                    js_sys::Array::of2(&JsValue::from_str("ok"), &JsValue::from_str(&text)).into()
                }
                None => error(format!("The export worker knows no format {format:?}.")),
            },
            _ => error("The export worker was given no run.".into()),
        };
    }
    import_answer(data).await
}

/// The run in `timeline_json` (its stored form, masks only) exported as `format`.
fn exported(format: &str, timeline_json: &str) -> Option<String> {
    let timeline = Timeline::from_json(timeline_json);
    Some(match format {
        "svg" => to_svg(&timeline),
        "mermaid" => to_mermaid(&timeline),
        "har" => to_har(&timeline),
        _ => return None,
    })
}

/// Reads, imports and grades one file; the ID token's signature with WebCrypto when the HAR
/// holds the keys.
async fn import_answer(data: JsValue) -> JsValue {
    let Ok(file) = data.dyn_into::<web_sys::File>() else {
        return error("The import worker was given no file.".into());
    };
    let text = match super::files::read_text(&file).await {
        Ok(text) => text,
        Err(e) => return error(e),
    };
    let mut imported = match import_har(&text) {
        Ok(imported) => imported,
        Err(e) => return error(e.to_string()),
    };
    drop(text);
    if let Some((_, key)) = &imported.signature {
        let verdict = super::webcrypto::verify(key).await;
        signature_verified(&mut imported, verdict);
    }
    let (report, revealable) = wire::report(imported, &file.name());
    let Ok(json) = serde_json::to_string(&report) else {
        return error("The import could not be written for the page.".into());
    };
    let flat = js_sys::Array::new();
    for (step, name, value) in revealable {
        flat.push(&JsValue::from_f64(step as f64));
        flat.push(&JsValue::from_str(&name));
        flat.push(&JsValue::from_str(&value));
    }
    js_sys::Array::of3(&JsValue::from_str("ok"), &JsValue::from_str(&json), &flat).into()
}
