//! The teaching text in the page (`crate::text`): one signal holds the catalog's state, fetched
//! once the page has settled (`super::settled`: on a callback page, after the tokens are drawn),
//! so the callback's token request and the tokens' display never wait for it. The run is resolved once, in the page's timeline memo ([`resolved_timeline`]), so the
//! diagram, the list, the inspector and the exports show plain text; the few other texts (preset
//! hints, the lab's texts, the scorecard) go through [`tr`] / [`shown`], which redraw when the
//! catalog arrives.

use crate::flow::timeline::Timeline;
use crate::text::{self, Catalog, FILE};
use leptos::prelude::*;
use std::cell::Cell;
use std::sync::Arc;

/// Where the catalog is.
#[derive(Clone, Debug, PartialEq)]
pub enum Notes {
    /// On its way: references show "…".
    Loading,
    /// Arrived.
    Ready(Arc<Catalog>),
    /// Could not be fetched or read: the message, shown once at the top of the page.
    Failed(String),
}

impl Notes {
    /// The state as the page's `data-notes` attribute shows it (tests wait on it).
    pub fn label(&self) -> &'static str {
        match self {
            Notes::Loading => "loading",
            Notes::Ready(_) => "ready",
            Notes::Failed(_) => "failed",
        }
    }
}

/// What a reference shows when the catalog could not be loaded.
pub const UNAVAILABLE: &str = "[note not loaded]";

thread_local! {
    static NOTES: Cell<Option<RwSignal<Notes>>> = const { Cell::new(None) };
    static PRELOADED: std::cell::RefCell<Option<Arc<Catalog>>> = const { std::cell::RefCell::new(None) };
}

/// Hands the page a catalog it then uses instead of fetching one: for the in-browser tests,
/// whose test server does not serve the app's files.
pub fn preload(catalog: Catalog) {
    PRELOADED.with(|p| *p.borrow_mut() = Some(Arc::new(catalog)));
}

/// Creates the page's catalog signal and starts the fetch once the page has settled
/// ([`super::settled`]).
pub fn provide() -> RwSignal<Notes> {
    if let Some(catalog) = PRELOADED.with(|p| p.borrow().clone()) {
        let notes = RwSignal::new(Notes::Ready(catalog));
        NOTES.with(|n| n.set(Some(notes)));
        return notes;
    }
    let notes = RwSignal::new(Notes::Loading);
    NOTES.with(|n| n.set(Some(notes)));
    // Once the page's first work is done (on a callback page: after the tokens are drawn): the
    // catalog's arrival redraws every note, which otherwise landed in the middle of the
    // exchange and the ID token's check (issue 12).
    let settled = super::settled::settled();
    let mut started = false;
    crate::diagram::view::effect(Box::new(move || {
        if started || !settled.get() {
            return;
        }
        started = true;
        leptos::task::spawn_local(async move {
            let state = match crate::browser::teaching::load().await {
                Ok(catalog) => Notes::Ready(Arc::new(catalog)),
                Err(message) => Notes::Failed(message),
            };
            notes.set(state);
        });
    }));
    notes
}

/// The catalog's state (tracked: a view reading it redraws when it changes).
pub fn state() -> Notes {
    // `try_get`: a page unmounted and mounted again (the in-browser tests) leaves a disposed
    // signal behind until the new one is made.
    NOTES
        .with(Cell::get)
        .and_then(|n| n.try_get())
        .unwrap_or(Notes::Loading)
}

/// The catalog, if it has arrived (untracked: for exports made on a click).
pub fn catalog_now() -> Option<Arc<Catalog>> {
    match NOTES.with(Cell::get).and_then(|n| n.try_get_untracked()) {
        Some(Notes::Ready(c)) => Some(c),
        _ => None,
    }
}

/// How long an export waits for the catalog before it goes ahead without it.
const EXPORT_WAIT_MS: i32 = 5_000;

/// Waits (at most [`EXPORT_WAIT_MS`]) until the catalog has arrived or failed, so an export made
/// on a click right after the page loaded carries the notes, not "…". `Err`: the line to show
/// beside the export when they are missing from it.
pub async fn settled_for_export() -> Result<(), String> {
    const STEP_MS: i32 = 50;
    let mut waited = 0;
    loop {
        match NOTES.with(Cell::get).and_then(|n| n.try_get_untracked()) {
            Some(Notes::Ready(_)) => return Ok(()),
            Some(Notes::Failed(why)) => {
                return Err(format!(
                    "The teaching notes could not be loaded ({why}): this export shows \
                     {UNAVAILABLE} in their place. Reload the page and export again."
                ))
            }
            _ if waited >= EXPORT_WAIT_MS => {
                return Err(format!(
                    "The teaching notes did not arrive within {} s: this export shows … in \
                     their place. Export again in a moment.",
                    EXPORT_WAIT_MS / 1000
                ))
            }
            _ => {
                crate::browser::clock::sleep(STEP_MS).await;
                waited += STEP_MS;
            }
        }
    }
}

/// The text as shown: references resolved, "…" while loading, a short mark if it failed.
/// Tracked, so call it inside a reactive closure.
pub fn tr(raw: &str) -> String {
    if !text::has_refs(raw) {
        return raw.to_owned();
    }
    match state() {
        Notes::Ready(c) => text::resolve(raw, Some(&c)).into_owned(),
        Notes::Loading => text::resolve(raw, None).into_owned(),
        Notes::Failed(_) => text::resolve_or(raw, None, UNAVAILABLE).into_owned(),
    }
}

/// A fixed text as a view that redraws when the catalog arrives. One function, so every call
/// site shares one closure type (one rendering path in the wasm, not one per site).
pub fn shown(raw: &'static str) -> impl IntoView {
    move || tr(raw)
}

/// [`shown`] for a text made at run time (a checkup line's detail or fix).
pub fn shown_owned(raw: String) -> impl IntoView {
    move || tr(&raw)
}

/// The run with its teaching text resolved, as the diagram, the list, the inspector and the
/// exports show it. Tracked: the views that read it redraw once when the catalog arrives, and
/// show plain text otherwise (no per-note reactive code).
pub fn resolved_timeline(raw: &Timeline) -> Timeline {
    match state() {
        Notes::Ready(c) => raw.with_text_resolved(Some(&c), text::LOADING),
        Notes::Loading => raw.with_text_resolved(None, text::LOADING),
        Notes::Failed(_) => raw.with_text_resolved(None, UNAVAILABLE),
    }
}

/// Every text field of a timeline resolved with the loaded catalog (for the exports and the
/// worker's Markdown, which are made from the data on a click).
pub fn resolved(raw: &str) -> String {
    match catalog_now() {
        Some(c) => text::resolve(raw, Some(&c)).into_owned(),
        None => text::resolve_or(raw, None, UNAVAILABLE).into_owned(),
    }
}

/// The one line shown when the catalog could not be loaded: what failed and what to do.
#[component]
pub fn NotesStatus() -> impl IntoView {
    move || match state() {
        Notes::Failed(why) => Some(view! {
            <p id="notes-status" class="hint" role="status">
                {format!("The teaching notes could not be loaded ({why}). The flow still works; \
                          reload the page to try again, and check that {FILE} is served next to \
                          index.html.")}
            </p>
        }),
        _ => None,
    }
}
