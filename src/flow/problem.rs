//! What goes wrong, as the user is told it: a fetch with no HTTP answer ([`TransportError`]),
//! and any error of the flow as three plain sentences ([`Problem`]).

use crate::protocol::error::{Explain, Side};

/// A fetch that produced no HTTP response at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// The request failed at the network level: offline, refused, or blocked by CORS.
    Network {
        /// The origin the app tried to reach.
        origin: String,
    },
    /// No answer within the time limit.
    Timeout {
        /// The limit that ran out.
        after_ms: u32,
    },
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.what_happened())
    }
}

impl std::error::Error for TransportError {}

impl Explain for TransportError {
    fn what_happened(&self) -> String {
        match self {
            TransportError::Network { origin } => format!(
                "The request to {origin} failed before any answer could be read: the server is \
                 down or unreachable, or it does not allow this page's origin (CORS)."
            ),
            TransportError::Timeout { after_ms } => format!(
                "The server did not answer within {} seconds, so the request was abandoned.",
                after_ms / 1000
            ),
        }
    }

    fn whose_side(&self) -> Side {
        Side::Network
    }

    fn what_to_do(&self) -> String {
        match self {
            TransportError::Network { .. } => "Check that the server is running. If it is, \
                its CORS settings must allow this page's origin (the browser hides the details \
                from the page on purpose). Nothing was retried: start again when it is fixed."
                .to_owned(),
            TransportError::Timeout { .. } => {
                "Check that the server is up, then start again. Nothing is retried automatically."
                    .to_owned()
            }
        }
    }
}

/// Any error of the flow, rendered to the user as three plain sentences.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// What went wrong.
    pub what_happened: String,
    /// Whose side it is on.
    pub whose_side: Side,
    /// What the user can do about it.
    pub what_to_do: String,
}

impl Problem {
    /// Builds the three sentences from any explained error.
    pub fn from_error(error: &dyn Explain) -> Self {
        Problem {
            what_happened: error.what_happened(),
            whose_side: error.whose_side(),
            what_to_do: error.what_to_do(),
        }
    }

    /// A problem found in the app itself (storage, settings).
    pub fn local(what_happened: &str, what_to_do: &str) -> Self {
        Problem {
            what_happened: what_happened.to_owned(),
            whose_side: Side::ThisApp,
            what_to_do: what_to_do.to_owned(),
        }
    }
}
