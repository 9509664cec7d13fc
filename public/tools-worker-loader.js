// Starts the tools Web Worker (HAR import and exports: src/bin/tools_worker.rs,
// src/browser/tools_worker.rs): a classic worker script from this origin, so the page's CSP needs
// no blob: URL. trunk's `data-loader-shim` would do the same but pass the wasm's path in the form
// wasm-bindgen deprecated (a console warning on every request).
importScripts('./tools-worker.js');
wasm_bindgen({ module_or_path: './tools-worker_bg.wasm' });
