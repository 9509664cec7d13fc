//! OAuth Flow Lab: a real OAuth 2.0 PKCE public client that records every step of the flow on
//! one timeline, which the UI draws as it happens.

// First, so `t!` is in scope in every module below.
#[macro_use]
pub mod text;
pub mod browser;
pub mod diagram;
pub mod flow;
pub mod protocol;
pub mod ui;

pub use ui::App;
