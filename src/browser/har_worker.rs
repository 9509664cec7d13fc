//! The HAR import's Web Worker, both ends of it (issue 16, first-load size in issue 14).
//!
//! The importer (the HAR reader and every check it replays) is its own wasm binary,
//! `src/bin/har_worker.rs`, which trunk builds next to the app (index.html, `data-type="worker"`)
//! and which the page starts only when the person imports a file: the first load carries none
//! of it. It is also the safer place for a stranger's file: it is read and parsed off the page's
//! thread and outside the page's heap (a panic or an exhausted heap ends the worker, not the
//! page), and the worker can touch no DOM. The page posts the picked `File` itself, so its text
//! is never held by the page; the worker answers with the report as JSON (masks only) and the
//! revealable values apart, as plain strings that go straight into the page's memory-only
//! secret store (`flow::har_import::wire`). One worker per import, ended when it has answered.

use super::worker;
use crate::flow::har_import::wire::{self, Revealable};
use crate::flow::har_import::{import_har, signature_verified};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The worker's loader (public/har-worker-loader.js), next to the app's files.
const LOADER: &str = "har-worker-loader.js";

/// The page's side: starts a worker, hands it `file` and waits for its answer: the report's
/// JSON and the revealable values, or a message saying what went wrong and what to do.
pub async fn import(file: &web_sys::File) -> Result<wire::Report, String> {
    let answer = worker::ask(LOADER, file).await.map_err(failed)?;
    read_answer(&answer)
}

/// What to tell the person when the worker gave no answer.
fn failed(failed: worker::Failed) -> String {
    match failed {
        worker::Failed::Start(message) => message,
        worker::Failed::Stopped => "The import stopped on this file (its worker failed: too \
                                    big for memory, or a bug). Export only the login and try \
                                    again."
            .to_owned(),
    }
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

/// The worker's side (its `main`): answers each posted `File` with its import.
pub fn serve() {
    worker::serve(answer);
}

/// Reads, imports and grades one file; the ID token's signature with WebCrypto when the HAR
/// holds the keys.
async fn answer(data: JsValue) -> JsValue {
    let error = |message: String| worker::error(&message);
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
