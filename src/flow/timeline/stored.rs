//! The stored timeline read back from the parsed object.
//!
//! The stored timeline (sessionStorage, the HAR worker's report, the checkup's evidence) is read
//! from the parsed object with the rules serde's derive had, pinned by the `stored_timeline_*`
//! tests: every member required but the `Option`s (missing: `None`) and, as under
//! `#[serde(default)]`, `callout`, `difference`, `defence` and `ghost`; unknown members ignored;
//! a member of another type, or a kind / actor / channel / status this app does not store, makes
//! the whole text unreadable (`Timeline::from_json` then gives an empty run, as before). A plain
//! match per member instead of a derived visitor per type and a sequence reader per list type
//! (issue 14's size goal: they were about 20 KB raw of the first load).

use super::*;
use crate::protocol::document::{stored, stored_or_default, unit_variant, FromStored, Map, Value};

impl TryFrom<Map<String, Value>> for Timeline {
    type Error = &'static str;

    fn try_from(mut o: Map<String, Value>) -> Result<Self, Self::Error> {
        Ok(Timeline {
            steps: stored(&mut o, "steps").ok_or("not a stored timeline")?,
            secrets: SecretStore::default(),
        })
    }
}

impl TryFrom<Map<String, Value>> for Step {
    type Error = &'static str;

    fn try_from(mut o: Map<String, Value>) -> Result<Self, Self::Error> {
        let mut read = || {
            Some(Step {
                kind: stored(&mut o, "kind")?,
                from: stored(&mut o, "from")?,
                to: stored(&mut o, "to")?,
                channel: stored(&mut o, "channel")?,
                label: stored(&mut o, "label")?,
                status: stored(&mut o, "status")?,
                started_at_ms: stored(&mut o, "started_at_ms")?,
                duration_ms: stored(&mut o, "duration_ms")?,
                params: stored(&mut o, "params")?,
                exchange: stored(&mut o, "exchange")?,
                note: stored(&mut o, "note")?,
                deviations: stored(&mut o, "deviations")?,
                callout: stored_or_default(&mut o, "callout")?,
                difference: stored_or_default(&mut o, "difference")?,
                defence: stored_or_default(&mut o, "defence")?,
                ghost: stored_or_default(&mut o, "ghost")?,
            })
        };
        read().ok_or("not a stored step")
    }
}

impl FromStored for Step {
    fn from_stored(value: Value) -> Option<Self> {
        match value {
            Value::Object(o) => Step::try_from(o).ok(),
            _ => None,
        }
    }
}

impl FromStored for Param {
    fn from_stored(value: Value) -> Option<Self> {
        let Value::Object(mut o) = value else {
            return None;
        };
        Some(Param {
            name: stored(&mut o, "name")?,
            shown: stored(&mut o, "shown")?,
            secret: stored(&mut o, "secret")?,
            carried: Carried::default(),
        })
    }
}

impl FromStored for HttpExchange {
    fn from_stored(value: Value) -> Option<Self> {
        let Value::Object(mut o) = value else {
            return None;
        };
        Some(HttpExchange {
            method: stored(&mut o, "method")?,
            url: stored(&mut o, "url")?,
            request_headers: stored(&mut o, "request_headers")?,
            request_body: stored(&mut o, "request_body")?,
            status: stored(&mut o, "status")?,
            response_headers: stored(&mut o, "response_headers")?,
            response_body: stored(&mut o, "response_body")?,
        })
    }
}

impl FromStored for StepStatus {
    fn from_stored(value: Value) -> Option<Self> {
        // serde_json's spellings of an enum: a unit variant's name, or an object with the
        // variant's name as its one member (`null` for a unit variant, the fields for `Failed`).
        let name = match value {
            Value::String(name) => name,
            Value::Object(o) if o.len() == 1 => match o.into_iter().next()? {
                (name, Value::Object(mut fields)) if name == "Failed" => {
                    return Some(StepStatus::Failed {
                        reason: stored(&mut fields, "reason")?,
                    })
                }
                (name, Value::Null) => name,
                _ => return None,
            },
            _ => return None,
        };
        match name.as_str() {
            "Pending" => Some(StepStatus::Pending),
            "Active" => Some(StepStatus::Active),
            "Ok" => Some(StepStatus::Ok),
            _ => None,
        }
    }
}

impl FromStored for StepKind {
    fn from_stored(value: Value) -> Option<Self> {
        unit_variant(value)
    }
}

impl FromStored for Actor {
    fn from_stored(value: Value) -> Option<Self> {
        unit_variant(value)
    }
}

impl FromStored for Channel {
    fn from_stored(value: Value) -> Option<Self> {
        unit_variant(value)
    }
}
