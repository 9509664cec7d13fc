//! The exports' Web Worker, both ends of it (issue 14: first-load size): the run as a
//! standalone SVG, Mermaid text or a HAR is pure code used only after a click, so it is its own
//! wasm binary, `src/bin/export_worker.rs`, which trunk builds next to the app (index.html,
//! `data-type="worker"`) and which the page starts only when the person asks for an export.
//!
//! The provider checkup's Markdown report (`Scorecard::to_markdown`) is made here too, from
//! the scorecard in its stored form.
//!
//! The page posts the timeline in its stored form (`Timeline::to_json`: masks only; the secret
//! store is never serialised), so an export still holds no secret by construction. A worker of
//! its own rather than the HAR import's: each loads only what it needs (an export fetches
//! about 70 KB gzip instead of the importer's 180 KB; docs/performance.md).

use super::worker;
use crate::diagram::export::{to_har, to_mermaid};
use crate::diagram::svg::to_svg;
use crate::flow::checkup::Scorecard;
use crate::flow::timeline::Timeline;
use crate::protocol::document::load_stored;
use wasm_bindgen::prelude::*;

/// The worker's loader (public/export-worker-loader.js), next to the app's files.
const LOADER: &str = "export-worker-loader.js";

/// The page's side: starts a worker, hands it the format (`svg`, `mermaid` or `har`) and the
/// timeline's stored JSON, and waits for the exported text or a message saying what failed.
pub async fn export(format: &str, timeline_json: &str) -> Result<String, String> {
    ask_for(format, timeline_json, "").await
}

/// The checkup's Markdown report of `scorecard_json` (the scorecard as stored), dated
/// `generated_at`, made in the worker.
pub async fn checkup_markdown(scorecard_json: &str, generated_at: &str) -> Result<String, String> {
    ask_for("checkup", scorecard_json, generated_at).await
}

/// Posts `[what, document, stamp]` and reads the answer.
async fn ask_for(what: &str, document: &str, stamp: &str) -> Result<String, String> {
    let request = js_sys::Array::of3(
        &JsValue::from_str(what),
        &JsValue::from_str(document),
        &JsValue::from_str(stamp),
    );
    let answer = worker::ask(LOADER, &request)
        .await
        .map_err(|failed| match failed {
            worker::Failed::Start(message) => message,
            worker::Failed::Stopped => {
                "The export stopped (its worker failed to load or ran out of memory); try again."
                    .to_owned()
            }
        })?;
    let parts = js_sys::Array::from(&answer);
    let text = |i: u32| parts.get(i).as_string().unwrap_or_default();
    match text(0).as_str() {
        "ok" => Ok(text(1)),
        "error" => Err(text(1)),
        _ => Err("The export worker gave no answer; reload the page and try again.".into()),
    }
}

/// The worker's side (its `main`): answers each `[format, document, stamp]` with the export.
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
    let stamp = request.get(2).as_string().unwrap_or_default();
    match exported(&format, &json, &stamp) {
        Some(text) => {
            js_sys::Array::of2(&JsValue::from_str("ok"), &JsValue::from_str(&text)).into()
        }
        None => worker::error(&format!("The export worker knows no format {format:?}.")),
    }
}

/// The run in `json` (its stored form, masks only) exported as `format`; for `checkup`, the
/// stored scorecard in `json` as the Markdown report dated `stamp`.
fn exported(format: &str, json: &str, stamp: &str) -> Option<String> {
    if format == "checkup" {
        return load_stored::<Scorecard>(json).map(|card| card.to_markdown(stamp));
    }
    let timeline = Timeline::from_json(json);
    Some(match format {
        "svg" => to_svg(&timeline),
        "mermaid" => to_mermaid(&timeline),
        "har" => to_har(&timeline),
        _ => return None,
    })
}
