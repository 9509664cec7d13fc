// Starts the app without an inline script, so the Content-Security-Policy can stay
// `script-src 'self' 'wasm-unsafe-eval'` with no hash or nonce (checklist X-10, tests/CHECKLIST.md).
// Trunk.toml's `pattern_script` writes the <script> tag that loads this file and names the
// content-hashed JS and wasm files in its data attributes.
const tag = document.querySelector('script[data-trunk-js][data-trunk-wasm]');
const { default: init } = await import(tag.dataset.trunkJs);
const wasm = await init({ module_or_path: tag.dataset.trunkWasm });
dispatchEvent(new CustomEvent('TrunkApplicationStarted', { detail: { wasm } }));
