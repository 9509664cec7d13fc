//! Host tests of the session engine: one per transition.
use super::*;
