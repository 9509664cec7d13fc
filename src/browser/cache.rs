//! sessionStorage (per tab) for what must survive the trip to the provider besides the pending
//! login: the provider's metadata (public, re-validated when read back) and a marker that an
//! RP-initiated logout is under way. Nothing secret is written here.

use super::storage::{put, session};
use crate::flow::engine::{metadata_document, metadata_from_document};
use crate::flow::timeline::Timeline;
use crate::protocol::discovery::ProviderMetadata;
use crate::protocol::document::load_stored;
use crate::protocol::pending::MAX_PENDING;
use crate::protocol::state::State;
use std::collections::BTreeMap;
use web_sys::Storage;

/// sessionStorage key of the metadata documents, by issuer.
pub const METADATA_KEY: &str = "oauth-flow-lab.metadata";
/// sessionStorage key of the runs (timelines) of the logins still pending, by login.
pub const RUNS_KEY: &str = "oauth-flow-lab.runs";
/// sessionStorage key set while the browser is at the provider's logout page.
pub const END_SESSION_KEY: &str = "oauth-flow-lab.end-session";
/// How many providers' metadata one tab keeps.
const MAX_PROVIDERS: usize = 4;

/// The saved metadata documents by issuer (anything unreadable counts as none).
fn load_map(storage: &Storage) -> BTreeMap<String, String> {
    storage
        .get_item(METADATA_KEY)
        .ok()
        .flatten()
        .and_then(|json| load_stored(&json))
        .unwrap_or_default()
}

/// Keeps the validated metadata of `metadata.issuer` for this tab.
pub fn save_metadata(metadata: &ProviderMetadata) {
    let Some(storage) = session() else { return };
    let mut map = load_map(&storage);
    map.remove(&metadata.issuer);
    while map.len() >= MAX_PROVIDERS {
        let Some(oldest) = map.keys().next().cloned() else {
            break;
        };
        map.remove(&oldest);
    }
    map.insert(metadata.issuer.clone(), metadata_document(metadata));
    if let Ok(json) = serde_json::to_string(&map) {
        let _ = storage.set_item(METADATA_KEY, &json);
    }
}

/// The metadata saved for `issuer`, validated again as if it had just been fetched.
pub fn load_metadata(issuer: &str) -> Option<ProviderMetadata> {
    let storage = session()?;
    let map = load_map(&storage);
    metadata_from_document(issuer, map.get(issuer)?)
}

/// Notes that the browser is leaving for the provider's end-session endpoint, with the
/// `state` of that request (checked when the provider hands it back).
pub fn mark_end_session(state: &str) {
    put(session(), END_SESSION_KEY, state);
}

/// The `state` the logout request carried, while the marker is set.
pub fn end_session_state() -> Option<String> {
    session()
        .and_then(|s| s.get_item(END_SESSION_KEY).ok().flatten())
        .filter(|v| v != "1")
}

/// Whether this load is the return from the provider's logout page (the marker is removed).
pub fn take_end_session_mark() -> bool {
    let Some(storage) = session() else {
        return false;
    };
    let marked = storage.get_item(END_SESSION_KEY).ok().flatten().is_some();
    let _ = storage.remove_item(END_SESSION_KEY);
    marked
}

use crate::flow::session::run_id;

/// Whether the browser left for the provider's logout page (the marker stays until the
/// session says to forget it).
pub fn end_session_marked() -> bool {
    session().is_some_and(|s| s.get_item(END_SESSION_KEY).ok().flatten().is_some())
}

/// Every provider's metadata this tab kept, each validated again as if just fetched.
pub fn load_all_metadata() -> Vec<ProviderMetadata> {
    let Some(storage) = session() else {
        return Vec::new();
    };
    load_map(&storage)
        .iter()
        .filter_map(|(issuer, document)| metadata_from_document(issuer, document))
        .collect()
}

/// The runs of the logins still pending, as `(run id, timeline JSON)`.
pub fn load_runs() -> Vec<(String, String)> {
    session().map(|s| load_runs_from(&s)).unwrap_or_default()
}

/// Replaces the kept runs.
pub fn store_runs_of(runs: &[(String, String)]) {
    if let Some(storage) = session() {
        store_runs(&storage, runs);
    }
}

fn load_runs_from(storage: &Storage) -> Vec<(String, String)> {
    storage
        .get_item(RUNS_KEY)
        .ok()
        .flatten()
        .and_then(|json| runs_from_json(&json))
        .unwrap_or_default()
}

fn store_runs(storage: &Storage, runs: &[(String, String)]) {
    if runs.is_empty() {
        let _ = storage.remove_item(RUNS_KEY);
    } else {
        let _ = storage.set_item(RUNS_KEY, &runs_to_json(runs));
    }
}

/// The runs as a JSON array of `[id, timeline JSON]` pairs.
fn runs_to_json(runs: &[(String, String)]) -> String {
    serde_json::to_string(runs).unwrap_or_default()
}

/// Reads [`runs_to_json`]'s format back; anything else is `None`.
fn runs_from_json(json: &str) -> Option<Vec<(String, String)>> {
    serde_json::from_str(json).ok()
}

/// Keeps the run of a login about to leave for the provider, so that its callback continues
/// its own timeline even if another login (perhaps at another provider) was started since.
pub fn save_run(state: &State, timeline: &Timeline) {
    let Some(storage) = session() else { return };
    let mut runs = load_runs_from(&storage);
    let id = run_id(state);
    runs.retain(|(run, _)| *run != id);
    while runs.len() >= MAX_PENDING {
        runs.remove(0);
    }
    runs.push((id, timeline.to_json()));
    store_runs(&storage, &runs);
}

/// Takes the run of the login that `state` answers, if this tab kept it.
pub fn take_run(state: &State) -> Option<Timeline> {
    let storage = session()?;
    let mut runs = load_runs_from(&storage);
    let id = run_id(state);
    let position = runs.iter().position(|(run, _)| *run == id)?;
    let (_, json) = runs.remove(position);
    store_runs(&storage, &runs);
    Some(Timeline::from_json(&json))
}
