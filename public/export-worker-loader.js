// Starts the exports' Web Worker (src/bin/export_worker.rs, src/browser/export_worker.rs): a
// classic worker script from this origin, so the page's CSP needs no blob: URL (as
// har-worker-loader.js).
importScripts('./export-worker.js');
wasm_bindgen({ module_or_path: './export-worker_bg.wasm' });
