//! OAuth Flow Lab: a real OAuth 2.0 PKCE public client that records every step of the flow on
//! one timeline, which the UI draws as it happens.

pub mod browser;
pub mod diagram;
pub mod flow;
pub mod protocol;
pub mod ui;

pub use ui::App;
