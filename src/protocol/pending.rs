//! The pending authorization: what this tab must remember across the redirect to check the
//! callback and redeem the code. Stored in sessionStorage as JSON (the one place where the
//! verifier and state are serialized), consumed when the callback arrives.

use crate::protocol::error::{sanitize_for_display, Explain, Side};
use crate::protocol::pkce::{CodeVerifier, PkceError};
use crate::protocol::state::{State, StateError};
use crate::protocol::uri::{HttpUrl, UriError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How long a login may stay pending: 10 minutes, the longest recommended code lifetime
/// (RFC 6749 §4.1.2).
pub const PENDING_TTL_MS: u64 = 600_000;

/// How many logins one tab may have pending at once (C-22c).
pub const MAX_PENDING: usize = 4;

/// A `created_at_ms` this far in the future is not trusted (clock change or tampering).
const MAX_CLOCK_SKEW_MS: u64 = 60_000;

/// Largest stored JSON accepted.
const MAX_STORED_JSON: usize = 64 * 1024;

/// Format version of the stored JSON.
const STORAGE_VERSION: u32 = 1;

/// One login this tab started and has not yet seen come back.
#[derive(Debug)]
pub struct PendingAuthorization {
    /// The `state` sent; the callback is matched by it.
    pub state: State,
    /// The PKCE verifier; `None` = the confidential "PKCE off" comparison.
    pub verifier: Option<CodeVerifier>,
    /// The issuer the request was sent to (mix-up defence, RFC 9700 §4.4.2).
    pub issuer: String,
    /// The client id used.
    pub client_id: String,
    /// The exact redirect URI sent (must be repeated byte for byte in the token request).
    pub redirect_uri: String,
    /// Where to redeem the code.
    pub token_endpoint: String,
    /// The scope requested.
    pub scope: String,
    /// When the login started (epoch milliseconds).
    pub created_at_ms: u64,
    /// Whether the provider promised `iss` in every response (RFC 9207).
    pub iss_parameter_supported: bool,
    /// The OpenID Connect nonce sent, if any.
    pub nonce: Option<String>,
}

impl PendingAuthorization {
    /// Whether the login is older than [`PENDING_TTL_MS`] (or claims to start in the future).
    pub fn is_expired(&self, now_ms: u64) -> bool {
        if self.created_at_ms > now_ms.saturating_add(MAX_CLOCK_SKEW_MS) {
            return true;
        }
        now_ms.saturating_sub(self.created_at_ms) > PENDING_TTL_MS
    }

    fn to_stored(&self) -> StoredPending {
        StoredPending {
            state: self.state.secret().to_owned(),
            verifier: self.verifier.as_ref().map(|v| v.secret().to_owned()),
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            redirect_uri: self.redirect_uri.clone(),
            token_endpoint: self.token_endpoint.clone(),
            scope: self.scope.clone(),
            created_at_ms: self.created_at_ms,
            iss_parameter_supported: self.iss_parameter_supported,
            nonce: self.nonce.clone(),
        }
    }

    /// Re-validates everything read back from storage (C-27): storage is outside our control.
    fn from_stored(stored: StoredPending) -> Result<Self, PendingError> {
        let state = State::parse(&stored.state).map_err(PendingError::InvalidState)?;
        let verifier = match stored.verifier {
            Some(v) => Some(CodeVerifier::parse(&v).map_err(PendingError::InvalidVerifier)?),
            None => None,
        };
        if stored.issuer.is_empty() {
            return Err(PendingError::MissingField("issuer"));
        }
        if stored.client_id.is_empty() {
            return Err(PendingError::MissingField("client_id"));
        }
        for (field, value) in [
            ("issuer", &stored.issuer),
            ("redirect_uri", &stored.redirect_uri),
            ("token_endpoint", &stored.token_endpoint),
        ] {
            HttpUrl::parse(value)
                .and_then(|url| url.require_secure())
                .map_err(|error| PendingError::InvalidUrl { field, error })?;
        }
        Ok(PendingAuthorization {
            state,
            verifier,
            issuer: stored.issuer,
            client_id: stored.client_id,
            redirect_uri: stored.redirect_uri,
            token_endpoint: stored.token_endpoint,
            scope: stored.scope,
            created_at_ms: stored.created_at_ms,
            iss_parameter_supported: stored.iss_parameter_supported,
            nonce: stored.nonce,
        })
    }
}

/// Plain-string mirror of [`PendingAuthorization`] for storage; private so that nothing else
/// can serialize secrets by accident.
#[derive(Serialize)]
struct StoredPending {
    state: String,
    verifier: Option<String>,
    issuer: String,
    client_id: String,
    redirect_uri: String,
    token_endpoint: String,
    scope: String,
    created_at_ms: u64,
    iss_parameter_supported: bool,
    nonce: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(try_from = "Map<String, Value>")]
struct StoredSet {
    version: u32,
    pending: Vec<StoredPending>,
}

/// Read from the parsed object, member by member, with the rules serde's derive had: every
/// member required but `verifier` and `nonce` (missing or `null`: none), each of its type (a
/// `u32` / `u64` a whole number that fits), unknown members ignored; repeats were refused by the
/// check before. One `Map` deserializer the app has anyway instead of a derived visitor and a
/// sequence reader for these two types (issue 14's size goal).
impl TryFrom<Map<String, Value>> for StoredSet {
    type Error = &'static str;

    fn try_from(mut object: Map<String, Value>) -> Result<Self, Self::Error> {
        let version = object
            .remove("version")
            .and_then(|v| v.as_u64())
            .and_then(|v| u32::try_from(v).ok())
            .ok_or("version")?;
        let Some(Value::Array(entries)) = object.remove("pending") else {
            return Err("pending");
        };
        let pending = entries
            .into_iter()
            .map(|entry| match entry {
                Value::Object(entry) => StoredPending::try_from(entry),
                _ => Err("pending entry"),
            })
            .collect::<Result<_, _>>()?;
        Ok(StoredSet { version, pending })
    }
}

impl TryFrom<Map<String, Value>> for StoredPending {
    type Error = &'static str;

    fn try_from(mut entry: Map<String, Value>) -> Result<Self, Self::Error> {
        let mut string = |name| match entry.remove(name) {
            Some(Value::String(s)) => Ok(s),
            _ => Err(name),
        };
        let state = string("state")?;
        let issuer = string("issuer")?;
        let client_id = string("client_id")?;
        let redirect_uri = string("redirect_uri")?;
        let token_endpoint = string("token_endpoint")?;
        let scope = string("scope")?;
        let mut optional = |name| match entry.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(name),
        };
        let verifier = optional("verifier")?;
        let nonce = optional("nonce")?;
        Ok(StoredPending {
            state,
            verifier,
            issuer,
            client_id,
            redirect_uri,
            token_endpoint,
            scope,
            created_at_ms: entry
                .remove("created_at_ms")
                .and_then(|v| v.as_u64())
                .ok_or("created_at_ms")?,
            iss_parameter_supported: entry
                .remove("iss_parameter_supported")
                .and_then(|v| v.as_bool())
                .ok_or("iss_parameter_supported")?,
            nonce,
        })
    }
}

impl StoredSet {
    fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The stored fields, all required but `verifier` and `nonce`, with their types; no member
    /// repeated at any level.
    fn from_json(text: &str) -> Option<StoredSet> {
        crate::protocol::document::load_stored(text)
    }
}

/// The logins pending in this tab, keyed by `state`, oldest first.
#[derive(Debug, Default)]
pub struct PendingSet {
    entries: Vec<PendingAuthorization>,
}

impl PendingSet {
    /// An empty set.
    pub fn new() -> Self {
        PendingSet::default()
    }

    /// Adds a login; beyond [`MAX_PENDING`] the oldest is evicted (C-22c). A login with the
    /// same `state` replaces the old one.
    pub fn insert(&mut self, pending: PendingAuthorization) {
        self.entries.retain(|p| p.state != pending.state);
        self.entries.push(pending);
        while self.entries.len() > MAX_PENDING {
            self.entries.remove(0);
        }
    }

    /// Removes and returns the login started with `state`; a second call returns `None`, which
    /// is what makes a replayed callback fail (C-20).
    pub fn take(&mut self, state: &State) -> Option<PendingAuthorization> {
        let index = self.entries.iter().position(|p| &p.state == state)?;
        Some(self.entries.remove(index))
    }

    /// Drops logins older than the TTL and returns how many were dropped (S-3).
    pub fn remove_expired(&mut self, now_ms: u64) -> usize {
        let before = self.entries.len();
        self.entries.retain(|p| !p.is_expired(now_ms));
        before - self.entries.len()
    }

    /// Number of pending logins.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no login is pending.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The JSON for sessionStorage, with the real state and verifier values.
    pub fn to_json(&self) -> String {
        let stored = StoredSet {
            version: STORAGE_VERSION,
            pending: self.entries.iter().map(|p| p.to_stored()).collect(),
        };
        stored.to_json()
    }

    /// Reads the stored JSON back, refusing anything malformed or tampered with (C-27): the
    /// caller then clears storage and shows the error.
    pub fn from_json(json: &str) -> Result<PendingSet, PendingError> {
        if json.len() > MAX_STORED_JSON {
            return Err(PendingError::TooLarge { len: json.len() });
        }
        let stored = StoredSet::from_json(json).ok_or(PendingError::Malformed)?;
        if stored.version != STORAGE_VERSION {
            return Err(PendingError::UnsupportedVersion(stored.version));
        }
        if stored.pending.len() > MAX_PENDING {
            return Err(PendingError::TooManyEntries(stored.pending.len()));
        }
        let mut set = PendingSet::new();
        for entry in stored.pending {
            let pending = PendingAuthorization::from_stored(entry)?;
            if set.entries.iter().any(|p| p.state == pending.state) {
                return Err(PendingError::DuplicateState);
            }
            set.entries.push(pending);
        }
        Ok(set)
    }
}

/// Why the stored pending logins cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PendingError {
    /// The stored JSON is implausibly large.
    TooLarge {
        /// Length in bytes.
        len: usize,
    },
    /// Not the JSON this app writes (bad syntax, wrong types, missing or duplicate fields).
    Malformed,
    /// Written by another version of the app.
    UnsupportedVersion(u32),
    /// More entries than this app ever stores.
    TooManyEntries(usize),
    /// Two entries with the same `state`.
    DuplicateState,
    /// A stored `state` that this app could not have made.
    InvalidState(StateError),
    /// A stored verifier that fails `CodeVerifier::parse`.
    InvalidVerifier(PkceError),
    /// A required field is empty.
    MissingField(&'static str),
    /// A stored URL that is not an acceptable endpoint.
    InvalidUrl {
        /// Which field.
        field: &'static str,
        /// Why.
        error: UriError,
    },
}

impl std::fmt::Display for PendingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PendingError::TooLarge { len } => write!(f, "stored login too large ({len} bytes)"),
            PendingError::Malformed => f.write_str("stored login is not valid JSON of this app"),
            PendingError::UnsupportedVersion(v) => write!(f, "stored login has version {v}"),
            PendingError::TooManyEntries(n) => write!(f, "{n} stored logins (max {MAX_PENDING})"),
            PendingError::DuplicateState => f.write_str("two stored logins share a state"),
            PendingError::InvalidState(e) => write!(f, "stored login: {e}"),
            PendingError::InvalidVerifier(e) => write!(f, "stored login: {e}"),
            PendingError::MissingField(field) => write!(f, "stored login has an empty {field}"),
            PendingError::InvalidUrl { field, error } => {
                write!(f, "stored login has an invalid {field}: {error}")
            }
        }
    }
}

impl std::error::Error for PendingError {}

impl Explain for PendingError {
    fn what_happened(&self) -> String {
        match self {
            PendingError::UnsupportedVersion(_) => "The login saved in this tab was written by \
                another version of this app, so it cannot be checked."
                .to_owned(),
            _ => format!(
                "The login saved in this tab's sessionStorage is damaged or was altered ({}), \
                 so the answer from the provider cannot be checked against it.",
                sanitize_for_display(&self.to_string(), 200)
            ),
        }
    }

    fn whose_side(&self) -> Side {
        match self {
            PendingError::UnsupportedVersion(_) => Side::ThisApp,
            // Only script running on this origin can write sessionStorage.
            _ => Side::Attacker,
        }
    }

    fn what_to_do(&self) -> String {
        "The saved login was discarded. Start a new login from this tab.".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(state: &str, created_at_ms: u64) -> PendingAuthorization {
        PendingAuthorization {
            state: State::parse(state).unwrap(),
            verifier: Some(CodeVerifier::from_random([9; 32])),
            issuer: "https://as.example".into(),
            client_id: "flow-lab".into(),
            redirect_uri: "https://app.example/".into(),
            token_endpoint: "https://as.example/token".into(),
            scope: "openid read:profile".into(),
            created_at_ms,
            iss_parameter_supported: true,
            nonce: Some("n".into()),
        }
    }

    #[test]
    fn a05_pending_stores_state_verifier_issuer_redirect_and_time() {
        let mut set = PendingSet::new();
        set.insert(pending("state-1", 1_000));
        let json = set.to_json();
        let mut back = PendingSet::from_json(&json).unwrap();
        let p = back.take(&State::parse("state-1").unwrap()).unwrap();
        assert_eq!(p.state.secret(), "state-1");
        assert_eq!(
            p.verifier.unwrap().secret(),
            CodeVerifier::from_random([9; 32]).secret()
        );
        assert_eq!(p.issuer, "https://as.example");
        assert_eq!(p.redirect_uri, "https://app.example/");
        assert_eq!(p.token_endpoint, "https://as.example/token");
        assert_eq!(p.created_at_ms, 1_000);
        assert!(p.iss_parameter_supported);
        assert_eq!(p.nonce.as_deref(), Some("n"));
    }

    #[test]
    fn a05_pkce_off_variant_round_trips_without_verifier() {
        let mut p = pending("s", 1);
        p.verifier = None;
        let mut set = PendingSet::new();
        set.insert(p);
        let back = PendingSet::from_json(&set.to_json()).unwrap();
        assert!(back.entries[0].verifier.is_none());
    }

    #[test]
    fn x08_pending_debug_is_redacted() {
        let p = pending("visible-state-value", 0);
        let verifier = p.verifier.as_ref().unwrap().secret().to_owned();
        let shown = format!("{p:?}");
        assert!(!shown.contains("visible-state-value"));
        assert!(!shown.contains(&verifier));
    }

    #[test]
    fn c20_take_consumes_the_entry() {
        let mut set = PendingSet::new();
        set.insert(pending("s1", 0));
        let state = State::parse("s1").unwrap();
        assert!(set.take(&state).is_some());
        assert!(set.take(&state).is_none());
        assert!(set.is_empty());
    }

    #[test]
    fn c03_unknown_state_finds_nothing_and_leaves_others_alone() {
        let mut set = PendingSet::new();
        set.insert(pending("s1", 0));
        assert!(set.take(&State::parse("WRONG").unwrap()).is_none());
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn c22c_two_logins_in_one_tab_each_match_their_own_entry() {
        let mut set = PendingSet::new();
        set.insert(pending("first", 0));
        set.insert(pending("second", 10));
        assert_eq!(set.len(), 2);
        let second = set.take(&State::parse("second").unwrap()).unwrap();
        assert_eq!(second.created_at_ms, 10);
        let first = set.take(&State::parse("first").unwrap()).unwrap();
        assert_eq!(first.created_at_ms, 0);
    }

    #[test]
    fn c22c_at_most_four_pending_oldest_evicted() {
        let mut set = PendingSet::new();
        for i in 0..5 {
            set.insert(pending(&format!("s{i}"), i));
        }
        assert_eq!(set.len(), MAX_PENDING);
        assert!(set.take(&State::parse("s0").unwrap()).is_none());
        assert!(set.take(&State::parse("s4").unwrap()).is_some());
    }

    #[test]
    fn c22c_same_state_replaces() {
        let mut set = PendingSet::new();
        set.insert(pending("s", 1));
        set.insert(pending("s", 2));
        assert_eq!(set.len(), 1);
        assert_eq!(
            set.take(&State::parse("s").unwrap()).unwrap().created_at_ms,
            2
        );
    }

    #[test]
    fn c23_expiry_after_ten_minutes() {
        let p = pending("s", 1_000);
        assert!(!p.is_expired(1_000));
        assert!(!p.is_expired(1_000 + PENDING_TTL_MS));
        assert!(p.is_expired(1_000 + PENDING_TTL_MS + 1));
        // A start time far in the future is not trusted either.
        assert!(!p.is_expired(0));
        assert!(pending("s", 10_000_000).is_expired(0));
    }

    #[test]
    fn s03_remove_expired_counts_dropped_entries() {
        let mut set = PendingSet::new();
        set.insert(pending("old", 0));
        set.insert(pending("new", PENDING_TTL_MS));
        assert_eq!(set.remove_expired(PENDING_TTL_MS + 1), 1);
        assert_eq!(set.len(), 1);
        assert!(set.take(&State::parse("new").unwrap()).is_some());
    }

    fn stored_with(edit: impl FnOnce(&mut serde_json::Value)) -> String {
        let mut set = PendingSet::new();
        set.insert(pending("s", 0));
        let mut value: serde_json::Value = serde_json::from_str(&set.to_json()).unwrap();
        edit(&mut value["pending"][0]);
        value.to_string()
    }

    #[test]
    fn c27_bad_json_is_rejected() {
        for json in [
            "",
            "{",
            "null",
            "[]",
            "{\"version\":1}",
            "{\"version\":1,\"pending\":{}}",
        ] {
            assert_eq!(
                PendingSet::from_json(json).unwrap_err(),
                PendingError::Malformed,
                "{json}"
            );
        }
        assert_eq!(
            PendingSet::from_json("{\"version\":2,\"pending\":[]}").unwrap_err(),
            PendingError::UnsupportedVersion(2)
        );
        assert!(matches!(
            PendingSet::from_json(&" ".repeat(MAX_STORED_JSON + 1)),
            Err(PendingError::TooLarge { .. })
        ));
    }

    #[test]
    fn c27_short_verifier_is_rejected() {
        let json = stored_with(|p| p["verifier"] = "abcdefghij".into());
        assert_eq!(
            PendingSet::from_json(&json).unwrap_err(),
            PendingError::InvalidVerifier(PkceError::TooShort { len: 10 })
        );
    }

    #[test]
    fn c27_empty_or_insecure_issuer_is_rejected() {
        let json = stored_with(|p| p["issuer"] = "".into());
        assert_eq!(
            PendingSet::from_json(&json).unwrap_err(),
            PendingError::MissingField("issuer")
        );
        let json = stored_with(|p| p["issuer"] = "http://evil.example".into());
        assert_eq!(
            PendingSet::from_json(&json).unwrap_err(),
            PendingError::InvalidUrl {
                field: "issuer",
                error: UriError::InsecureEndpoint("http://evil.example".into())
            }
        );
        let json = stored_with(|p| p["token_endpoint"] = "javascript:alert(1)".into());
        assert!(matches!(
            PendingSet::from_json(&json),
            Err(PendingError::InvalidUrl {
                field: "token_endpoint",
                ..
            })
        ));
    }

    #[test]
    fn c27_bad_state_and_duplicates_are_rejected() {
        let json = stored_with(|p| p["state"] = "".into());
        assert_eq!(
            PendingSet::from_json(&json).unwrap_err(),
            PendingError::InvalidState(StateError::Empty)
        );
        let json = stored_with(|p| p["created_at_ms"] = (-1).into());
        assert_eq!(
            PendingSet::from_json(&json).unwrap_err(),
            PendingError::Malformed
        );
        let one = stored_with(|_| {});
        let value: serde_json::Value = serde_json::from_str(&one).unwrap();
        let entry = value["pending"][0].clone();
        let twice = serde_json::json!({"version": 1, "pending": [entry.clone(), entry]});
        assert_eq!(
            PendingSet::from_json(&twice.to_string()).unwrap_err(),
            PendingError::DuplicateState
        );
        let entries: Vec<_> = (0..5)
            .map(|i| {
                let mut e = value["pending"][0].clone();
                e["state"] = format!("s{i}").into();
                e
            })
            .collect();
        let many = serde_json::json!({"version": 1, "pending": entries});
        assert_eq!(
            PendingSet::from_json(&many.to_string()).unwrap_err(),
            PendingError::TooManyEntries(5)
        );
    }

    /// C-27: the stored fields' rules, member by member: each required one missing or of another
    /// type, and each optional one of another type, is `Malformed`; `null` or missing optional
    /// members and unknown members are read.
    #[test]
    fn c27_each_stored_member_missing_or_of_another_type_is_malformed() {
        let required = [
            "state",
            "issuer",
            "client_id",
            "redirect_uri",
            "token_endpoint",
            "scope",
            "created_at_ms",
            "iss_parameter_supported",
        ];
        for name in required {
            let json = stored_with(|p| {
                p.as_object_mut().unwrap().remove(name);
            });
            assert_eq!(
                PendingSet::from_json(&json).unwrap_err(),
                PendingError::Malformed,
                "{name} missing"
            );
        }
        for name in required.into_iter().chain(["verifier", "nonce"]) {
            for wrong in [serde_json::json!([]), serde_json::json!({}), 1.5.into()] {
                let json = stored_with(|p| p[name] = wrong.clone());
                assert_eq!(
                    PendingSet::from_json(&json).unwrap_err(),
                    PendingError::Malformed,
                    "{name}: {wrong}"
                );
            }
        }
        for (name, wrong) in [
            ("created_at_ms", serde_json::json!("1")),
            ("created_at_ms", serde_json::json!(u64::MAX as f64 * 2.0)),
            ("iss_parameter_supported", serde_json::json!(1)),
            ("state", serde_json::json!(null)),
        ] {
            let json = stored_with(|p| p[name] = wrong.clone());
            assert_eq!(
                PendingSet::from_json(&json).unwrap_err(),
                PendingError::Malformed,
                "{name}: {wrong}"
            );
        }
        let big = r#"{"version":4294967297,"pending":[]}"#;
        assert_eq!(
            PendingSet::from_json(big).unwrap_err(),
            PendingError::Malformed
        );
        for json in [
            r#"{"version":1,"pending":[1]}"#,
            r#"{"version":1,"pending":null}"#,
            r#"{"version":"1","pending":[]}"#,
            r#"{"version":1.0,"pending":[]}"#,
        ] {
            assert_eq!(
                PendingSet::from_json(json).unwrap_err(),
                PendingError::Malformed,
                "{json}"
            );
        }
        let json = stored_with(|p| {
            p["verifier"] = serde_json::Value::Null;
            p.as_object_mut().unwrap().remove("nonce");
            p["extra"] = serde_json::json!({"x": [1]});
        });
        let set = PendingSet::from_json(&json).unwrap();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn c27_error_explains_and_blames_tampering() {
        let err = PendingError::InvalidVerifier(PkceError::TooShort { len: 10 });
        assert_eq!(err.whose_side(), Side::Attacker);
        assert!(err.what_happened().contains("altered"));
        assert!(err.what_to_do().contains("Start a new login"));
    }
}
