//! Shared end-to-end harness: the trunk-built app in headless Chromium against the bundled
//! provider, each test with its own provider, app server and chromedriver on free loopback ports.
//! Needs `trunk build --release --dist target/e2e-dist` first (scripts/test does it).
//!
//! `services`: the processes of one lab (and LemonLDAP::NG); `glewlwyd`: the third provider;
//! `page`: the page object (what a test does in the app and reads back); `raw_http`: requests
//! outside the browser (fault switches, CDP); `csp`: the page's policy and its violations. All
//! re-exported here (Glewlwyd's starter is a method of `Lab`), so a test file only says
//! `mod common;`.
#![allow(dead_code)] // each test file uses its own subset

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const WAIT: Duration = Duration::from_secs(20);

mod csp;
mod page;
mod raw_http;
mod services;

// Each test file uses its own subset of these.
#[allow(unused_imports)]
pub use csp::*;
#[allow(unused_imports)]
pub use page::*;
#[allow(unused_imports)]
pub use raw_http::*;
#[allow(unused_imports)]
pub use services::*;

/// One isolated world: provider + API + app server + chromedriver + a browser session.
pub struct Lab {
    pub client: Client,
    pub app: String,
    pub issuer: String,
    pub api: String,
    /// chromedriver's base URL, for its vendor endpoints (CDP, the browser log).
    pub driver: String,
    _services: Vec<Service>,
}

// Glewlwyd (issue 15): a third independent real provider (provider/glewlwyd/README.md).
pub mod glewlwyd;
