//! The memory-only store of revealable secret values, kept apart from the timeline's steps.
//!
//! A step carries only the mask of a secret (`dBjf…jXk (43)`); the real value, for the
//! inspector's Reveal button, lives here keyed by (step, parameter name). Nothing here is
//! serialisable, and `Debug` prints the keys, never a value, so saving, exporting or logging a
//! timeline cannot leak one.

use super::timeline::StepId;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// One secret value (a verifier, a code, a token, a client secret): redacted in `Debug`, not
/// `Clone` (it exists once in memory), not serialisable.
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a value.
    pub fn new(value: &str) -> Self {
        SecretValue(value.to_owned())
    }

    /// The real value, for an explicit reveal only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A secret on its way into a timeline: carried by a `Param` built with `Param::secret` until
/// the step is pushed, then moved into the timeline's [`SecretStore`]. Cloning shares the one
/// value (a handle), never duplicates it; it takes no part in equality and prints redacted.
#[derive(Clone, Default)]
pub(crate) struct Carried(pub(crate) Option<Arc<SecretValue>>);

impl PartialEq for Carried {
    // Two params are the same chip whatever secret they carry: the value is not the step's data.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Carried {}

impl fmt::Debug for Carried {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(_) => f.write_str("[redacted]"),
            None => f.write_str("none"),
        }
    }
}

/// The revealable values of one run, keyed by (step, parameter name), in memory only.
///
/// Cloning is cheap and shares the values (`Arc`), so a clone of the timeline (the UI's memo)
/// can still reveal them while no value is ever copied; a push to one clone does not show in
/// the other (copy-on-write of the key map).
#[derive(Clone, Default)]
pub struct SecretStore {
    values: Arc<BTreeMap<(StepId, String), Arc<SecretValue>>>,
}

impl SecretStore {
    /// Keeps `value` as the revealable value of parameter `name` of step `step`.
    pub(crate) fn keep(&mut self, step: StepId, name: &str, value: Arc<SecretValue>) {
        Arc::make_mut(&mut self.values).insert((step, name.to_owned()), value);
    }

    /// The value of parameter `name` of step `step`, if it is still in memory.
    pub fn get(&self, step: StepId, name: &str) -> Option<&SecretValue> {
        self.values
            .get(&(step, name.to_owned()))
            .map(|value| value.as_ref())
    }

    /// How many values are kept.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether nothing is kept (e.g. after a reload: values never leave memory).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
impl SecretStore {
    /// Every kept value (tests only: to look for each of them where none may appear).
    pub(crate) fn exposed(&self) -> impl Iterator<Item = &str> {
        self.values.values().map(|value| value.expose())
    }
}

impl fmt::Debug for SecretStore {
    // The keys say what is kept; the values never print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(
                self.values
                    .keys()
                    .map(|(step, name)| format!("{step}/{name}: [redacted]")),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s02_debug_of_the_store_and_of_a_value_prints_no_secret() {
        let mut store = SecretStore::default();
        store.keep(
            3,
            "code_verifier",
            Arc::new(SecretValue::new(
                "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            )),
        );
        let printed = format!("{store:?} {:?}", SecretValue::new("hunter2"));
        assert!(!printed.contains("dBjftJeZ4CVP"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("3/code_verifier"), "{printed}");
        assert_eq!(
            store.get(3, "code_verifier").map(SecretValue::expose),
            Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        );
    }

    #[test]
    fn s02_a_value_kept_after_a_clone_shows_only_in_the_store_it_was_kept_in() {
        let mut first = SecretStore::default();
        first.keep(0, "code", Arc::new(SecretValue::new("A")));
        let mut second = first.clone();
        second.keep(1, "code", Arc::new(SecretValue::new("B")));
        assert_eq!(first.len(), 1);
        assert_eq!(second.get(0, "code").map(SecretValue::expose), Some("A"));
        assert!(first.get(1, "code").is_none());
    }
}
