//! The flow engine: pure functions that validate each event with `protocol` and append the
//! matching step to the timeline. The browser glue does the I/O in between.
//!
//! One file per endpoint the flow talks to, in the order of a login: [`discovery`],
//! [`authorize`], [`callback`], [`token`], [`resource`]; [`exchange`] holds what the
//! back-channel steps share (masking, recording an answer).

mod authorize;
mod callback;
mod discovery;
mod exchange;
mod resource;
mod token;

pub use authorize::*;
pub use callback::*;
pub use discovery::*;
pub(crate) use exchange::*;
pub use resource::*;
pub use token::*;

use crate::flow::timeline::{Step, StepKind, Timeline};

/// Appends the step that ends a run restored after a reload: the tokens were in memory only.
pub fn page_reloaded(timeline: &mut Timeline, now_ms: u64) {
    timeline.push_done(
        Step::local(
            StepKind::Logout,
            "Page reloaded: the tokens in memory are gone",
            now_ms,
        )
        .with_note(t!("engine.tokens_are_kept")),
        0.0,
    );
}

/// Appends the logout step: tokens are dropped from memory.
pub fn logged_out(timeline: &mut Timeline, now_ms: u64) {
    timeline.push_done(
        Step::local(StepKind::Logout, "Forget the tokens held in memory", now_ms)
            .with_note(t!("engine.tokens_lived_only")),
        0.0,
    );
}

#[cfg(test)]
mod tests;
