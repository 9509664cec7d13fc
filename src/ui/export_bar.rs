//! Export the run as a standalone SVG, Mermaid text or a HAR, with copy and download.
//!
//! The exporters run in a Web Worker of their own (`browser::export_worker`), not in the page:
//! they are pure code used only after a click, so the first load does not carry them (issue 14).

use crate::browser::{export_worker, files};
use crate::flow::timeline::Timeline;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// One export format.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Svg,
    Mermaid,
    Har,
}

impl Format {
    fn filename(self) -> &'static str {
        match self {
            Format::Svg => "oauth-flow.svg",
            Format::Mermaid => "oauth-flow.mmd",
            Format::Har => "oauth-flow.har",
        }
    }

    /// The worker's name for it.
    fn key(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Mermaid => "mermaid",
            Format::Har => "har",
        }
    }

    fn mime(self) -> &'static str {
        match self {
            Format::Svg => "image/svg+xml",
            Format::Mermaid => "text/plain",
            Format::Har => "application/json",
        }
    }
}

/// Buttons that produce each export into a read-only text box, with Copy and Download.
#[component]
pub fn ExportBar(
    /// The run to export.
    #[prop(into)]
    timeline: Signal<Timeline>,
) -> impl IntoView {
    let output = RwSignal::new(None::<(Format, String)>);
    let problem = RwSignal::new(String::new());
    let produce = move |format: Format| {
        output.set(None);
        problem.set(String::new());
        spawn_local(async move {
            // An export made right after the page loaded waits for the teaching notes.
            let notes = super::notes::settled_for_export().await;
            // The stored form: masks only, the secret store is never serialised.
            let json = timeline.with_untracked(Timeline::to_json);
            match export_worker::export(format.key(), &json).await {
                Ok(text) => {
                    output.set(Some((format, text)));
                    problem.set(notes.err().unwrap_or_default());
                }
                Err(e) => problem.set(e),
            }
        });
    };
    view! {
        <div class="exports" role="group" aria-label="Export">
            <span>"Export: "</span>
            <button id="export-svg" on:click=move |_| produce(Format::Svg)>"SVG"</button>
            <button id="export-mermaid" on:click=move |_| produce(Format::Mermaid)>"Mermaid"</button>
            <button id="export-har" on:click=move |_| produce(Format::Har)>"HAR"</button>
            <span class="hint" role="status">{move || problem.get()}</span>
            {move || output.get().map(|(format, text)| view! {
                <TextOutput id="export-output" text=text filename=format.filename() mime=format.mime() />
            })}
        </div>
    }
}

/// A produced text in a read-only box, with Copy and Download and a status line for either.
#[component]
pub fn TextOutput(
    /// The text box's id.
    id: &'static str,
    /// What to show, copy and download.
    text: String,
    /// The download's file name.
    filename: &'static str,
    /// The download's media type.
    mime: &'static str,
) -> impl IntoView {
    let message = RwSignal::new(String::new());
    let copied = text.clone();
    let copy = move |_| {
        let text = copied.clone();
        spawn_local(async move {
            match files::copy(&text).await {
                Ok(()) => message.set("Copied.".to_owned()),
                Err(e) => message.set(e),
            }
        });
    };
    let saved = text.clone();
    let download = move |_| {
        if let Err(e) = files::download(filename, mime, &saved) {
            message.set(e);
        }
    };
    view! {
        <div class="export-output">
            <textarea id=id readonly rows="8" data-format=filename prop:value=text></textarea>
            <button class="copy" on:click=copy>"Copy"</button>
            <button class="download" on:click=download>"Download " {filename}</button>
            <span class="hint" role="status">{move || message.get()}</span>
        </div>
    }
}
