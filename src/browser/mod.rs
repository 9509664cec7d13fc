//! The ONLY module that touches web-sys: storage, the address bar, fetch, time, WebCrypto.
//! Everything here is thin; decisions are made in `protocol` and `flow`.

pub mod cache;
pub mod clock;
pub mod export_worker;
pub mod files;
pub mod har_worker;
pub mod http;
pub mod location;
pub mod popup;
pub mod storage;
pub mod teaching;
pub mod viewport;
pub mod webcrypto;
pub mod worker;
