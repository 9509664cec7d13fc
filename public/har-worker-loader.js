// Starts the HAR import's Web Worker (src/bin/har_worker.rs, src/browser/har_worker.rs): a
// classic worker script from this origin, so the page's CSP needs no blob: URL. trunk's
// `data-loader-shim` would do the same but pass the wasm's path in the form wasm-bindgen
// deprecated (a console warning on every import).
importScripts('./har-worker.js');
wasm_bindgen({ module_or_path: './har-worker_bg.wasm' });
