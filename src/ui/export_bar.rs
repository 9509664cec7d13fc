//! Export the run as a standalone SVG, Mermaid text or a HAR, with copy and download.

use crate::browser::files;
use crate::diagram::export::{standalone_svg, to_har, to_mermaid};
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
    let message = RwSignal::new(String::new());
    let produce = move |format: Format| {
        let text = match format {
            Format::Svg => files::element_markup("diagram")
                .map(|m| standalone_svg(&m))
                .unwrap_or_default(),
            Format::Mermaid => timeline.with(to_mermaid),
            Format::Har => timeline.with(to_har),
        };
        message.set(String::new());
        output.set(Some((format, text)));
    };
    let copy = move |_| {
        let Some((_, text)) = output.get_untracked() else {
            return;
        };
        spawn_local(async move {
            match files::copy(&text).await {
                Ok(()) => message.set("Copied.".to_owned()),
                Err(e) => message.set(e),
            }
        });
    };
    let download = move |_| {
        if let Some((format, text)) = output.get_untracked() {
            if let Err(e) = files::download(format.filename(), format.mime(), &text) {
                message.set(e);
            }
        }
    };
    view! {
        <div class="exports" role="group" aria-label="Export">
            <span>"Export: "</span>
            <button id="export-svg" on:click=move |_| produce(Format::Svg)>"SVG"</button>
            <button id="export-mermaid" on:click=move |_| produce(Format::Mermaid)>"Mermaid"</button>
            <button id="export-har" on:click=move |_| produce(Format::Har)>"HAR"</button>
            {move || output.get().map(|(format, text)| view! {
                <div class="export-output">
                    <textarea id="export-output" readonly rows="8" data-format=format.filename()
                        prop:value=text></textarea>
                    <button id="export-copy" on:click=copy>"Copy"</button>
                    <button id="export-download" on:click=download>"Download " {format.filename()}</button>
                    <span class="hint" role="status">{move || message.get()}</span>
                </div>
            })}
        </div>
    }
}
