//! PURE flow model: the timeline of steps and the engine that appends them.
//! No web-sys, no leptos: the browser glue feeds events in, with the time as an argument.

pub mod attack;
pub mod checkup;
pub mod engine;
pub mod explain;
pub mod har_import;
pub mod lab_session;
pub mod lifecycle;
pub mod oidc;
pub mod presets;
pub mod probe_session;
pub mod problem;
pub mod scripted;
pub mod secrets;
pub mod server_check;
pub mod session;
pub mod settings;
pub mod stolen_token;
pub mod timeline;
