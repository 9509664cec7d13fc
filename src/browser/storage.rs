//! sessionStorage (per tab) for the pending login and the non-secret timeline; localStorage for
//! non-secret settings only. Nothing OAuth-secret ever goes to localStorage or cookies.

use crate::flow::attack::LabRecord;
use crate::flow::problem::Problem;
use crate::flow::settings::ProviderSettings;
use crate::flow::timeline::Timeline;
use crate::protocol::pending::{PendingAuthorization, PendingSet};
use crate::protocol::state::State;
use web_sys::Storage;

/// sessionStorage key of the pending logins of this tab.
pub const PENDING_KEY: &str = "oauth-flow-lab.pending";
/// sessionStorage key of the current run's non-secret timeline.
pub const TIMELINE_KEY: &str = "oauth-flow-lab.timeline";
/// sessionStorage key of the attack lab's record (reports, current run, pending probe).
pub const LAB_KEY: &str = "oauth-flow-lab.attack-lab";
/// localStorage key of the non-secret provider settings.
pub const SETTINGS_KEY: &str = "oauth-flow-lab.settings";

/// This tab's sessionStorage, if the browser allows it.
pub(super) fn session() -> Option<Storage> {
    web_sys::window().and_then(|w| w.session_storage().ok().flatten())
}

fn local() -> Option<Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

fn cannot_store() -> Problem {
    Problem::local(
        "This browser refused to store the login state in sessionStorage (storage disabled or \
         full), so the answer from the provider could not be checked.",
        "Allow site data for this page (or leave private mode), then log in again. The login \
         was not started: without state the callback could be forged.",
    )
}

/// Saves a new pending login next to any others of this tab (A-5, C-22c). Refuses to go on
/// when storage does not work: a login without a stored state must not start.
pub fn save_pending(pending: PendingAuthorization, now_ms: u64) -> Result<(), Problem> {
    let storage = session().ok_or_else(cannot_store)?;
    let mut set = load_pending_set(&storage).unwrap_or_else(|_| PendingSet::new());
    set.remove_expired(now_ms);
    set.insert(pending);
    storage
        .set_item(PENDING_KEY, &set.to_json())
        .map_err(|_| cannot_store())?;
    // Read back: some browsers accept the write and drop it (quota, policies).
    match storage.get_item(PENDING_KEY) {
        Ok(Some(_)) => Ok(()),
        _ => Err(cannot_store()),
    }
}

/// Takes (and deletes) the pending login matching `state`, whatever happens next (C-20).
/// A tampered entry is discarded whole and reported (C-27).
pub fn take_pending(state: &State) -> Result<Option<PendingAuthorization>, Problem> {
    let Some(storage) = session() else {
        return Ok(None);
    };
    let mut set = match load_pending_set(&storage) {
        Ok(set) => set,
        Err(problem) => {
            let _ = storage.remove_item(PENDING_KEY);
            return Err(problem);
        }
    };
    let taken = set.take(state);
    if set.is_empty() {
        let _ = storage.remove_item(PENDING_KEY);
    } else {
        let _ = storage.set_item(PENDING_KEY, &set.to_json());
    }
    Ok(taken)
}

/// The pending logins of this tab, as the session engine wants them at page load (nothing is
/// removed here: the engine says what to keep with [`store_pending`]).
pub fn load_pending() -> Result<PendingSet, Problem> {
    match session() {
        Some(storage) => load_pending_set(&storage),
        None => Ok(PendingSet::new()),
    }
}

/// Replaces the pending logins by `set` (removed when empty).
pub fn store_pending(set: &PendingSet) {
    let Some(storage) = session() else { return };
    if set.is_empty() {
        let _ = storage.remove_item(PENDING_KEY);
    } else {
        let _ = storage.set_item(PENDING_KEY, &set.to_json());
    }
}

/// Drops pending logins older than the TTL (S-3) and says how many were dropped.
pub fn drop_expired_pending(now_ms: u64) -> usize {
    let Some(storage) = session() else {
        return 0;
    };
    let Ok(mut set) = load_pending_set(&storage) else {
        let _ = storage.remove_item(PENDING_KEY);
        return 0;
    };
    let dropped = set.remove_expired(now_ms);
    if set.is_empty() {
        let _ = storage.remove_item(PENDING_KEY);
    } else if dropped > 0 {
        let _ = storage.set_item(PENDING_KEY, &set.to_json());
    }
    dropped
}

fn load_pending_set(storage: &Storage) -> Result<PendingSet, Problem> {
    match storage.get_item(PENDING_KEY) {
        Ok(Some(json)) => PendingSet::from_json(&json).map_err(|e| Problem::from_error(&e)),
        _ => Ok(PendingSet::new()),
    }
}

/// Writes `text` under `key`, best effort: the records below are conveniences (a diagram that
/// survives the redirect, remembered settings), never what a security check depends on.
pub(super) fn put(storage: Option<Storage>, key: &str, text: &str) {
    if let Some(storage) = storage {
        let _ = storage.set_item(key, text);
    }
}

/// The text stored under `key`, if any.
pub(super) fn read(storage: Option<Storage>, key: &str) -> Option<String> {
    storage?.get_item(key).ok()?
}

/// Saves the non-secret timeline so the diagram resumes after the redirect.
pub fn save_timeline(timeline: &Timeline) {
    put(session(), TIMELINE_KEY, &timeline.to_json());
}

/// The saved timeline of this tab, if any.
pub fn load_timeline() -> Option<Timeline> {
    read(session(), TIMELINE_KEY).map(|json| Timeline::from_json(&json))
}

/// Saves the non-secret settings (issuer, client id, scopes, API base).
pub fn save_settings(settings: &ProviderSettings) {
    put(local(), SETTINGS_KEY, &settings.to_json());
}

/// The saved settings, or the bundled provider's defaults.
pub fn load_settings() -> ProviderSettings {
    read(local(), SETTINGS_KEY)
        .map(|json| ProviderSettings::from_json(&json))
        .unwrap_or_default()
}

/// Saves the attack lab's record for the trip to the provider and back.
pub fn save_lab(record: &LabRecord) {
    put(session(), LAB_KEY, &record.to_json());
}

/// The attack lab's record of this tab (empty when none or unreadable).
pub fn load_lab() -> LabRecord {
    read(session(), LAB_KEY)
        .map(|json| LabRecord::from_json(&json))
        .unwrap_or_default()
}
