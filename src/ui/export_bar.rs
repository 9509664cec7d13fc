//! Export the run as a standalone SVG, Mermaid text or a HAR, with copy and download.

use crate::browser::files;
use crate::diagram::export::{to_har, to_mermaid};
use crate::diagram::svg::to_svg;
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
    let produce = move |format: Format| {
        let text = match format {
            Format::Svg => timeline.with(to_svg),
            Format::Mermaid => timeline.with(to_mermaid),
            Format::Har => timeline.with(to_har),
        };
        output.set(Some((format, text)));
    };
    view! {
        <div class="exports" role="group" aria-label="Export">
            <span>"Export: "</span>
            <button id="export-svg" on:click=move |_| produce(Format::Svg)>"SVG"</button>
            <button id="export-mermaid" on:click=move |_| produce(Format::Mermaid)>"Mermaid"</button>
            <button id="export-har" on:click=move |_| produce(Format::Har)>"HAR"</button>
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
