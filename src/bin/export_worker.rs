//! The exports' Web Worker: a wasm of its own, loaded only when the person asks for an export
//! (SVG, Mermaid, HAR), so the exporters stay out of the first load
//! (src/browser/export_worker.rs).

fn main() {
    console_error_panic_hook::set_once();
    oauth_flow_lab::browser::export_worker::serve();
}
