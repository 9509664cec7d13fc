//! The tools Web Worker: a wasm of its own, loaded only when the person imports a HAR file or
//! asks for an export, so the HAR reader, the importer and the exporters stay out of the first
//! load, and a stranger's file is parsed off the page's thread and heap
//! (src/browser/tools_worker.rs).

fn main() {
    console_error_panic_hook::set_once();
    oauth_flow_lab::browser::tools_worker::serve();
}
