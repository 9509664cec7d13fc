//! The HAR import's Web Worker: a wasm of its own, loaded only when the person imports a file,
//! so the HAR reader and the importer stay out of the first load, and a stranger's file is
//! parsed off the page's thread and heap (src/browser/har_worker.rs).

fn main() {
    console_error_panic_hook::set_once();
    oauth_flow_lab::browser::har_worker::serve();
}
