//! Import a browser HAR: file picker and drag-and-drop, the findings worst first with their
//! Markdown export, and the rebuilt run on the ordinary diagram. The file is read and graded in
//! a Web Worker started for it (browser::har_worker), in this tab's memory only; nothing in it
//! is fetched, navigated to or rendered as markup. This tab holds only the view: the importer
//! is not part of the first load.

use super::diagram_panel::diagram_with_controls;
use super::export_bar::TextOutput;
use super::notes::resolved;
use super::timeline_list::TimelineList;
use crate::browser::{files, har_worker};
use crate::flow::har_import::wire::{Report, ReportedFinding};
use crate::flow::timeline::Timeline;
use crate::protocol::har::{HarError, MAX_HAR_BYTES};
use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The "Import HAR" tab.
#[component]
pub fn HarImport() -> impl IntoView {
    let timeline = RwSignal::new(Timeline::new());
    let summary = RwSignal::new(None::<Report>);
    let error = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let load = move |file: files::PickedFile| {
        let (_, size) = files::file_info(&file);
        if size > MAX_HAR_BYTES as f64 {
            error.set(
                HarError::TooLarge {
                    bytes: size as usize,
                }
                .to_string(),
            );
            return;
        }
        busy.set(true);
        error.set(String::new());
        spawn_local(async move {
            match har_worker::import(&file).await {
                Ok(mut report) => {
                    timeline.set(std::mem::take(&mut report.timeline));
                    summary.set(Some(report));
                }
                Err(e) => {
                    error.set(e);
                    summary.set(None);
                    timeline.set(Timeline::new());
                }
            }
            busy.set(false);
        });
    };
    let drop = move |ev: ev::DragEvent| {
        ev.prevent_default();
        if let Some(file) = files::dropped_file(&ev) {
            load(file);
        }
    };
    let pick = move |ev: ev::Event| {
        if let Some(file) = files::picked_file(&ev) {
            load(file);
        }
    };
    let drawn: Signal<Timeline> =
        Signal::derive(move || timeline.with(super::notes::resolved_timeline));
    view! {
        <section class="panel har-import" aria-labelledby="har-title">
            <h2 id="har-title">"Import a HAR"</h2>
            <p class="hint">
                "Debug any app's login: in the developer tools' Network tab, save the login as \
                 HAR and open it here. The file is read by a separate worker in this tab's memory \
                 only: nothing is uploaded or stored, and no URL in it is fetched."
            </p>
            <label id="har-drop" class="har-drop" on:dragover=|ev: ev::DragEvent| ev.prevent_default()
                on:drop=drop>
                "Choose or drop a .har file: "
                <input id="har-file" type="file" accept=".har,application/json" on:change=pick />
            </label>
            <p class="hint" role="status">{move || if busy.get() { "Reading…" } else { "" }}</p>
            <p id="har-error" class="har-error" role="alert">{move || error.get()}</p>
            {move || summary.get().map(summary_view)}
        </section>
        {super::show_when(
            Box::new(move || summary.with(Option::is_some)),
            Box::new(move || view! {
                <section class="panel diagram-panel" aria-label="Imported run">
                    {diagram_with_controls(drawn)}
                </section>
                <TimelineList timeline=drawn />
            }.into_any()),
            super::nothing(),
        )}
    }
}

fn summary_view(s: Report) -> impl IntoView {
    let markdown = RwSignal::new(None::<String>);
    let text = s.markdown.clone();
    view! {
        <p id="har-summary">
            {format!(
                "{}: {} entries ({}), {} left out as not OAuth. {} finding(s), worst first.",
                s.file,
                s.entries,
                if s.creator.is_empty() { "unknown tool" } else { s.creator.as_str() },
                s.left_out,
                s.findings.len()
            )}
        </p>
        <table id="har-findings" class="scorecard">
            <thead><tr><th>"Severity"</th><th>"Row"</th><th>"Step"</th><th>"Finding"</th></tr></thead>
            <tbody>
                {s.findings.is_empty().then(|| view! {
                    <tr><td colspan="4">"No problem found in what the HAR shows."</td></tr>
                })}
                {s.findings.into_iter().map(|f: ReportedFinding| { let row = f.row.clone(); view! {
                    <tr data-row=row data-severity=f.severity.label()>
                        <td class=format!("verdict {}", f.severity.label())>{f.severity.label()}</td>
                        <td>{f.row}</td>
                        <td>{f.step + 1}</td>
                        <td><strong>{f.title}</strong>" "{f.detail}</td>
                    </tr>
                }}).collect_view()}
            </tbody>
        </table>
        <ul id="har-not-checked" class="hint">
            {s.not_checked.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}
        </ul>
        <button id="export-har-findings" on:click=move |_| markdown.set(Some(resolved(&text)))>
            "Export Markdown"
        </button>
        {move || markdown.get().map(|text| view! {
            <TextOutput id="har-markdown" text=text filename="har-findings.md" mime="text/markdown" />
        })}
    }
}
