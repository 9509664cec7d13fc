//! The exports' Web Worker, both ends of it (issue 14: first-load size): the run as a
//! standalone SVG, Mermaid text or a HAR is pure code used only after a click, so it is its own
//! wasm binary, `src/bin/export_worker.rs`, which trunk builds next to the app (index.html,
//! `data-type="worker"`) and which the page starts only when the person asks for an export.
//!
//! The page posts the timeline in its stored form (`Timeline::to_json`: masks only; the secret
//! store is never serialised), so an export still holds no secret by construction. A worker of
//! its own rather than the HAR import's: each loads only what it needs (an export fetches
//! about 70 KB gzip instead of the importer's 180 KB; docs/performance.md).

use super::worker;
use crate::diagram::export::{to_har, to_mermaid};
use crate::diagram::svg::to_svg;
use crate::flow::timeline::Timeline;
use wasm_bindgen::prelude::*;

/// The worker's loader (public/export-worker-loader.js), next to the app's files.
const LOADER: &str = "export-worker-loader.js";

/// The page's side: starts a worker, hands it the format (`svg`, `mermaid` or `har`) and the
/// timeline's stored JSON, and waits for the exported text or a message saying what failed.
pub async fn export(format: &str, timeline_json: &str) -> Result<String, String> {
    let request = js_sys::Array::of2(
        &JsValue::from_str(format),
        &JsValue::from_str(timeline_json),
    );
    let answer = worker::ask(LOADER, &request).await.map_err(|_| {
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

/// The worker's side (its `main`): answers each `[format, timeline JSON]` with the export.
pub fn serve() {
    worker::serve(|data| async move { answer(&data) });
}

/// `["ok", text]`, or `["error", message]` for a request it cannot read.
fn answer(data: &JsValue) -> JsValue {
    let request = js_sys::Array::from(data);
    let (Some(format), Some(json)) = (request.get(0).as_string(), request.get(1).as_string())
    else {
        return worker::error("The export worker was given no run.");
    };
    match exported(&format, &json) {
        Some(text) => {
            js_sys::Array::of2(&JsValue::from_str("ok"), &JsValue::from_str(&text)).into()
        }
        None => worker::error(&format!("The export worker knows no format {format:?}.")),
    }
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
