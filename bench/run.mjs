// The benchmark's browser driver: talks to chromedriver's W3C HTTP API directly (no npm
// packages), measures the app and the baseline in headless Chromium, prints a table and writes
// JSON. scripts/bench builds both pages, starts the provider, the two static servers and
// chromedriver on loopback, runs this, and stops them all.
//
//   node bench/run.mjs --driver URL --app URL --baseline URL --issuer URL --api URL \
//        --app-dist DIR --baseline-dist DIR --loads N --logins N --out DIR
//
// Every wait is bounded; every browser session is deleted, pass or fail.
import { readdirSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, extname } from 'node:path';
import os from 'node:os';

const opt = {};
for (let i = 2; i < process.argv.length; i += 2) opt[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const k of ['driver', 'app', 'baseline', 'issuer', 'api', 'app-dist', 'baseline-dist', 'out']) {
  if (!opt[k]) { console.error(`bench/run.mjs: missing --${k}`); process.exit(2); }
}
const LOADS = Math.max(1, Number(opt.loads ?? 10));
const LOGINS = Math.max(1, Number(opt.logins ?? 10));
const WAIT_MS = 20000;
// How long the bench leaves a page alone while it measures (a cold load after its load event,
// the callback page after the Allow click) before it reads the marks: chromedriver's polls run
// script in the page and take the machine's CPU, which a user's page does not pay. 0: poll at once.
const QUIET_MS = Math.max(0, Number(opt.quiet ?? 1000));
const APP_READY = 'oauth-flow-lab:ready';
const APP_TOKENS = 'oauth-flow-lab:tokens';
// The emulated latency of the slow-network series, per request (a provider across the internet).
const SLOW_LATENCY_MS = 50;
const APP_DIAGRAM = 'oauth-flow-lab:diagram';
const APP_START = 'oauth-flow-lab:start';
// A provider's token, key set and discovery addresses (the bundled one's, or the cross-site one's).
const at = (issuer) => ({ token: `${issuer}/token`, jwks: `${issuer}/jwks`, discovery: `${issuer}/.well-known/openid-configuration` });
// The size budget is the one tests/size_budget.rs enforces, read from there (one source).
const BUDGET_KB = Number(readFileSync(new URL('../tests/size_budget.rs', import.meta.url), 'utf8')
  .match(/const BUDGET_KB: usize = (\d+);/)?.[1] ?? NaN);
const BASE_READY = 'baseline:ready';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error('[bench]', ...a);

// ---------------------------------------------------------------- WebDriver over HTTP
async function wd(method, path, body) {
  const res = await fetch(`${opt.driver}${path}`, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : undefined,
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(60000),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.value ?? json).slice(0, 300)}`);
  return json.value;
}

const CHROME_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-extensions', '--window-size=1280,900',
  '--enable-precise-memory-info', '--js-flags=--expose-gc',
];

// Trace categories for the traced logins (BENCH_TRACES): the renderer's tasks, style, layout,
// paint, script, wasm compilation and the page's performance marks, on one clock.
const TRACE_CATEGORIES = 'devtools.timeline,disabled-by-default-devtools.timeline,blink.user_timing,v8,v8.wasm,v8.execute';

class Session {
  static async open(traced = false) {
    const value = await wd('POST', '/session', {
      capabilities: {
        alwaysMatch: {
          browserName: 'chrome',
          timeouts: { pageLoad: WAIT_MS, script: WAIT_MS, implicit: 0 },
          'goog:chromeOptions': {
            binary: process.env.CHROMIUM ?? '/usr/bin/chromium',
            // A traced session records its browser's first 12 s (a login takes 3-6 s) into a file.
            args: traced ? [...CHROME_ARGS, `--trace-startup=${TRACE_CATEGORIES}`, `--trace-startup-file=${traced}`, '--trace-startup-duration=12', '--trace-startup-format=json'] : CHROME_ARGS,
            perfLoggingPrefs: { enableNetwork: true, enablePage: false },
          },
          'goog:loggingPrefs': { performance: 'ALL' },
        },
      },
    });
    const s = new Session();
    s.id = value.sessionId;
    return s;
  }
  async close() { try { await wd('DELETE', `/session/${this.id}`); } catch (e) { log('close:', e.message); } }
  go(url) { return wd('POST', `/session/${this.id}/url`, { url }); }
  // A Chrome DevTools Protocol command, through chromedriver.
  cdp(cmd, params = {}) { return wd('POST', `/session/${this.id}/goog/cdp/execute`, { cmd, params }); }
  js(script, args = []) { return wd('POST', `/session/${this.id}/execute/sync`, { script, args }); }
  async find(css, ms = WAIT_MS) {
    const deadline = Date.now() + ms;
    for (;;) {
      try {
        const v = await wd('POST', `/session/${this.id}/element`, { using: 'css selector', value: css });
        return Object.values(v)[0];
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${css}`);
        await sleep(50);
      }
    }
  }
  async click(css) { const el = await this.find(css); await wd('POST', `/session/${this.id}/element/${el}/click`, {}); }
  async type(css, text) { const el = await this.find(css); await wd('POST', `/session/${this.id}/element/${el}/value`, { text }); }
  async until(what, script, args = [], ms = WAIT_MS) {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await this.js(script, args);
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(25);
    }
  }
  async perfLog() {
    let entries;
    try { entries = await wd('POST', `/session/${this.id}/se/log`, { type: 'performance' }); }
    catch { entries = await wd('POST', `/session/${this.id}/log`, { type: 'performance' }); }
    return entries.map((e) => { try { return JSON.parse(e.message).message; } catch { return null; } }).filter(Boolean);
  }
}

async function withSession(fn, traced = false) {
  const s = await Session.open(traced);
  try { return await fn(s); } finally { await s.close(); }
}

// A traced login's trace file, read once the browser has written it (at 12 s).
async function traceFile(path) {
  for (let i = 0; i < 250; i++) {
    try { const t = JSON.parse(readFileSync(path, 'utf8')); return Array.isArray(t) ? t : t.traceEvents; } catch { await sleep(100); }
  }
  throw new Error(`no trace written to ${path}`);
}

// ---------------------------------------------------------------- statistics
const median = (xs) => { const a = [...xs].sort((x, y) => x - y); const n = a.length; return n ? (n % 2 ? a[(n - 1) / 2] : (a[n / 2 - 1] + a[n / 2]) / 2) : null; };
const summary = (xs) => {
  const a = xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
  if (!a.length) return null;
  const m = median(a);
  return { n: a.length, median: m, min: Math.min(...a), max: Math.max(...a), mad: median(a.map((x) => Math.abs(x - m))), samples: a };
};

// ---------------------------------------------------------------- 1. transfer sizes (dist on disk)
function distSizes(dir) {
  const files = readdirSync(dir)
    .filter((f) => ['.html', '.js', '.wasm', '.css'].includes(extname(f)))
    // The HAR import's and the exports' Web Workers are fetched only when a file is imported
    // or an export asked for: not the first load.
    .filter((f) => !f.startsWith('har-worker') && !f.startsWith('export-worker'))
    .map((f) => {
      const bytes = readFileSync(join(dir, f));
      return { file: f, kind: extname(f).slice(1), raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
    })
    .sort((a, b) => a.kind.localeCompare(b.kind) || a.file.localeCompare(b.file));
  const total = files.reduce((t, f) => ({ raw: t.raw + f.raw, gzip: t.gzip + f.gzip }), { raw: 0, gzip: 0 });
  const byKind = {};
  for (const f of files) {
    byKind[f.kind] ??= { raw: 0, gzip: 0 };
    byKind[f.kind].raw += f.raw;
    byKind[f.kind].gzip += f.gzip;
  }
  return { files, byKind, total };
}

// ---------------------------------------------------------------- 2. cold loads
const READ_LOAD = `
  const nav = performance.getEntriesByType('navigation')[0];
  const mark = performance.getEntriesByName(arguments[0])[0];
  if (!mark) return null;
  const res = performance.getEntriesByType('resource');
  return {
    ready_ms: mark.startTime,
    dom_content_loaded_ms: nav.domContentLoadedEventEnd,
    load_event_ms: nav.loadEventEnd,
    requests: 1 + res.length,
    bytes_fetched: nav.encodedBodySize + res.reduce((t, e) => t + e.encodedBodySize, 0),
    wasm_fetched_ms: Math.max(0, ...res.filter(e => e.name.endsWith('.wasm')).map(e => e.responseEnd)),
    // The app's own start mark (the wasm compiled and running): splits load → ready in two.
    start_ms: performance.getEntriesByName('oauth-flow-lab:start')[0]?.startTime ?? null,
  };`;

// The sampling profiler slows the page down, so profiled runs are extra runs, never timed ones.
async function startProfiler(s) {
  await s.cdp('Profiler.enable');
  await s.cdp('Profiler.setSamplingInterval', { interval: 100 });
  await s.cdp('Profiler.start');
}
// The raw profile is kept too (written as target/bench/*.cpuprofile, for DevTools' Performance tab).
const stopProfiler = async (s) => { const p = (await s.cdp('Profiler.stop')).profile; return { ...profileSummary(p), raw: p }; };

async function coldLoad(url, mark, profiled = false, traced = false) {
  return withSession(async (s) => {
    if (profiled) await startProfiler(s);
    await s.go(url);
    // A profile runs until the marks are read: the quiet second would add what follows them.
    if (!profiled) await sleep(QUIET_MS);
    const load = await s.until(`${mark} on ${url}`, READ_LOAD, [mark]);
    if (traced) return { ...load, events: await traceFile(traced) };
    return profiled ? { profile: await stopProfiler(s) } : load;
  }, traced);
}

// ---------------------------------------------------------------- 3-6. login, replay, heap
const FRAME_PROBE = `
  window.__bench = { longtasks: [], frames: [], recording: false };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__bench.longtasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) { window.__bench.noLongtask = String(e); }
  const tick = (t) => { if (window.__bench.recording) window.__bench.frames.push(t); requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  return true;`;

const MUTATION_PROBE = `
  window.__mutations = {};
  const parts = ['#diagram', '#timeline', '#inspector', '.tokens', '.identity', '.settings', '.controls', 'section'];
  const part = (n) => {
    const e = n.nodeType === 1 ? n : n.parentElement;
    return (e && parts.find((p) => e.closest(p))) || 'other';
  };
  new MutationObserver((list) => {
    if (performance.getEntriesByName('oauth-flow-lab:tokens').length) return;
    for (const m of list) {
      const k = part(m.target) + ' ' + (m.type === 'attributes' ? 'attr' : m.type === 'childList' ? 'nodes' : 'text');
      window.__mutations[k] = (window.__mutations[k] || 0) + (m.type === 'childList' ? m.addedNodes.length + m.removedNodes.length : 1);
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  // The elements in the page when the tokens mark is set, all and per part: what the callback
  // page built (and the browser laid out) before it showed the tokens. The observer above counts
  // an inserted subtree as one node; this counts every element.
  const mark = performance.mark.bind(performance);
  performance.mark = (name, options) => {
    if (name === 'oauth-flow-lab:tokens' && !window.__elements) {
      const count = (s) => document.querySelectorAll(s).length;
      window.__elements = { all: count('*') };
      for (const p of parts) window.__elements[p] = count(p + ' *');
      // Every node, text and comment ones included (Leptos marks dynamic children with them).
      const kinds = { 'text nodes': 0, 'comment nodes': 0 };
      const walker = document.createTreeWalker(document, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_COMMENT);
      while (walker.nextNode()) kinds[walker.currentNode.nodeType === 3 ? 'text nodes' : 'comment nodes']++;
      Object.assign(window.__elements, kinds);
    }
    return mark(name, options);
  };`;

// Timed logins: the frame after the tokens mark. The app marks the tokens when they are in the
// page (as the baseline marks its ready); this is when the browser starts the frame that paints
// them, so the table keeps both (a build that marked at the next frame itself reads one more).
const PAINT_PROBE = `
  const markPainted = performance.mark.bind(performance);
  const wrapped = performance.mark;
  performance.mark = function (name, options) {
    const entry = wrapped.call(performance, name, options);
    if (name === 'oauth-flow-lab:tokens') requestAnimationFrame(() => markPainted('bench:tokens-painted'));
    return entry;
  };`;

const HEAP = `if (window.gc) window.gc(); return performance.memory ? performance.memory.usedJSHeapSize : null;`;

function frameStats(frames) {
  const gaps = [];
  for (let i = 1; i < frames.length; i++) gaps.push(frames[i] - frames[i - 1]);
  if (!gaps.length) return { frames: frames.length, dropped: null, longest_frame_ms: null, frame_ms: null };
  const period = Math.min(median(gaps), 1000 / 30); // the display's frame period (60 Hz: 16.7 ms)
  const dropped = gaps.reduce((t, g) => t + Math.max(0, Math.round(g / period) - 1), 0);
  return { frames: frames.length, dropped, longest_frame_ms: Math.max(...gaps), frame_ms: period };
}

// Plays the diagram's replay at 4x (or the baseline's replay) and watches frames and long tasks.
async function replay(s, isApp) {
  await s.js(FRAME_PROBE);
  await s.find('#replay-play', 5000);
  if (isApp) {
    const ok = await s.js(`
      const sel = document.querySelector('#replay-speed');
      if (!sel) return false;
      sel.value = '4';
      sel.dispatchEvent(new Event('change', { bubbles: true }));
      return sel.value === '4';`);
    if (!ok) throw new Error('#replay-speed has no 4x option');
  }
  const started = await s.js(`window.__bench.recording = true; return performance.now();`);
  await s.click('#replay-play');
  // Wait until the replay has started, then until it has run through every step.
  await s.until('replay to start', `const b = document.querySelector('#replay-play');
    return b && /pause/i.test(b.getAttribute('aria-label') || b.textContent);`, [], 5000);
  await s.until('replay to finish', `const b = document.querySelector('#replay-play');
    return b && !/pause/i.test(b.getAttribute('aria-label') || b.textContent);`, [], 60000);
  const r = await s.js(`window.__bench.recording = false;
    const start = arguments[0];
    return { ended: performance.now(), frames: window.__bench.frames,
             longtasks: window.__bench.longtasks.filter(e => e.start >= start),
             longtasks_before: window.__bench.longtasks.filter(e => e.start < start),
             position: (document.querySelector('#replay-position') || {}).textContent || null,
             no_longtask: window.__bench.noLongtask || null };`, [started]);
  const f = frameStats(r.frames);
  return {
    replay_ms: r.ended - started,
    position: r.position,
    longtasks: r.longtasks.length,
    longest_task_ms: r.longtasks.reduce((m, e) => Math.max(m, e.duration), 0),
    longtasks_before_replay: r.longtasks_before.length,
    longest_task_before_replay_ms: r.longtasks_before.reduce((m, e) => Math.max(m, e.duration), 0),
    observer_error: r.no_longtask,
    ...f,
  };
}

function countRequests(events, urls = at(opt.issuer)) {
  // Network.requestWillBeSent covers every request of the tab, across the provider round trip.
  const sent = events.filter((e) => e.method === 'Network.requestWillBeSent').map((e) => e.params);
  const preflight = (p) => p.type === 'Preflight' || p.request.method === 'OPTIONS';
  return {
    token_posts: sent.filter((p) => p.request.method === 'POST' && p.request.url === urls.token).length,
    // Token POSTs with a DPoP proof (the bundled provider's default): each needs a preflight.
    dpop_posts: sent.filter((p) => p.request.method === 'POST' && p.request.url === urls.token
      && Object.keys(p.request.headers ?? {}).some((h) => h.toLowerCase() === 'dpop')).length,
    preflights: sent.filter(preflight).length,
    preflight_urls: sent.filter(preflight).map((p) => p.request.url),
    discovery_gets: sent.filter((p) => p.request.method === 'GET' && p.request.url === urls.discovery).length,
    total: sent.length,
  };
}

// Self time per category and per named function (ms) in a CDP CPU profile. Release wasm has no
// names, so its functions count as one category; calls into the browser (DOM, Date, fetch)
// keep their names, which is what finds a slow one.
function profileSummary(p) {
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const categories = {}, functions = {};
  for (let i = 0; i < p.samples.length; i++) {
    const ms = (p.timeDeltas[i + 1] ?? 0) / 1000;
    const f = byId.get(p.samples[i]);
    const name = f.functionName || '(anonymous)';
    const category = /\.wasm$/.test(f.url) || name.startsWith('wasm-') ? 'wasm'
      : f.url ? 'JS glue'
      : /^\(/.test(name) ? name : 'browser API calls';
    categories[category] = (categories[category] ?? 0) + ms;
    if (!/^\(|^wasm-function/.test(name)) functions[name] = (functions[name] ?? 0) + ms;
  }
  return { categories, functions };
}

// `dpop`: true runs with the bundled provider's default (DPoP on: it lists ES256); false sets
// the settings' DPoP switch off, the second series that separates DPoP's share of the own time.
// `latency_ms`: the callback page runs on an emulated network with that much latency per
// request (Chrome's network emulation, set after the provider's consent page loaded): what a
// provider across the internet costs, where each request the app waits for in turn counts.
// `app`: the build to log in with (`--compare`: a second build, interleaved login by login).
// `provider`: the issuer and API to log in with (`CROSS_SITE`: a provider on another site).
async function login(profiled = false, dpop = true, traced = false, latency_ms = 0, app = opt.app, provider = { issuer: opt.issuer, api: opt.api }) {
  return withSession(async (s) => {
    await s.go(app);
    await s.js(`localStorage.setItem('oauth-flow-lab.settings', arguments[0]); return true;`, [JSON.stringify({
      issuer: provider.issuer, client_id: 'flow-lab', scope: 'openid profile read:profile read:files', api_base: provider.api,
      ...(dpop ? {} : { dpop: false }),
    })]);
    await s.go(app);
    await s.find('#login');
    await s.perfLog(); // drop what the two loads logged; count only the login's requests
    await s.click('#login');
    await s.type('input[name=login]', 'alice');
    await s.type('input[name=password]', 'wonderland');
    await s.click('#sign-in');
    // A CPU profile (CDP, through chromedriver) from the Allow click to the tokens mark: it names
    // where the callback page's time goes (wasm, its JS glue, DOM calls, the browser's own work).
    if (profiled) {
      await startProfiler(s);
      // Profiled runs only (never timed): counts the callback page's DOM writes by kind and by
      // the part of the page they land in, from the document's start to the tokens mark.
      await s.cdp('Page.enable');
      await s.cdp('Page.addScriptToEvaluateOnNewDocument', { source: MUTATION_PROBE });
    }
    await s.cdp('Page.enable');
    await s.cdp('Page.addScriptToEvaluateOnNewDocument', { source: PAINT_PROBE });
    if (latency_ms) {
      await s.cdp('Network.enable');
      await s.cdp('Network.emulateNetworkConditions', { offline: false, latency: latency_ms, downloadThroughput: -1, uploadThroughput: -1 });
    }
    await s.click('#allow');
    if (!profiled) await sleep(QUIET_MS);
    const phase = await s.until('phase logged-in or failed', `const m = document.querySelector('#lab');
      const p = m && m.dataset.phase; return (p === 'logged-in' || p === 'failed') ? p : null;`);
    if (phase !== 'logged-in') throw new Error(`login ended in phase ${phase}`);
    const t = await s.until('the tokens mark', `
      const tokens = performance.getEntriesByName(arguments[0])[0];
      if (!tokens) return null;
      const nav = performance.getEntriesByType('navigation')[0];
      const fetches = performance.getEntriesByType('resource').filter(e => e.name === arguments[1]);
      const ready = performance.getEntriesByName(arguments[2])[0];
      const start = performance.getEntriesByName(arguments[3])[0];
      const jwks = performance.getEntriesByType('resource').filter(e => e.name === arguments[4]);
      const jwks_network_ms = jwks.reduce((t, e) => t + e.duration, 0);
      const token_network_ms = fetches.reduce((t, e) => t + e.duration, 0);
      // The token request leaves before the page is mounted: only its part after the ready mark
      // is time the app spent waiting; the part before overlapped the app's own work. The key
      // set may be out at the same time (asked for while the code is redeemed): time during
      // which either was out counts once.
      const busy_until = ready ? ready.startTime : 0;
      const spans = [...fetches, ...jwks].map(e => [Math.max(e.startTime, busy_until), e.responseEnd])
        .filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
      let network_wait_ms = 0, reached = -Infinity;
      for (const [a, b] of spans) {
        if (b > reached) { network_wait_ms += b - Math.max(a, reached); reached = b; }
      }
      const token_wait_ms = fetches.reduce((t, e) => t + Math.max(0, e.responseEnd - Math.max(e.startTime, busy_until)), 0);
      return { start_ms: start ? start.startTime : null, jwks_network_ms, network_wait_ms,
               own_ms: start ? tokens.startTime - start.startTime - network_wait_ms : null, token_wait_ms, callback_url_has_code: /[?&]code=/.test(nav.name), tokens_ms: tokens.startTime,
               ready_ms: ready ? ready.startTime : null,
               token_fetches: fetches.length,
               token_network_ms,
               token_sent_ms: fetches.length ? fetches[0].startTime : null,
               after_token_ms: fetches.length ? tokens.startTime - fetches[fetches.length - 1].responseEnd : null };`, [APP_TOKENS, at(provider.issuer).token, APP_READY, APP_START, at(provider.issuer).jwks]);
    // Back from the provider, the diagram is drawn after the tokens (issue 12): its own mark,
    // so the time to the whole page stays in the table. A build without the mark reads null.
    // Not in profiled runs: their profile ends at the tokens.
    let diagram_ms = null;
    if (!profiled) try {
      diagram_ms = await s.until('the diagram mark', `const d = performance.getEntriesByName(arguments[0])[0];
        return d ? d.startTime : null;`, [APP_DIAGRAM], 3000);
    } catch { /* an older build: no diagram mark */ }
    t.diagram_after_tokens_ms = diagram_ms === null ? null : diagram_ms - t.tokens_ms;
    t.own_diagram_ms = diagram_ms === null || t.own_ms === null ? null : t.own_ms + t.diagram_after_tokens_ms;
    let painted_ms = null;
    if (!profiled) try {
      painted_ms = await s.until('the painted mark', `const p = performance.getEntriesByName('bench:tokens-painted')[0];
        return p ? p.startTime : null;`, [], 1000);
    } catch { /* no frame came */ }
    t.own_painted_ms = painted_ms === null || t.own_ms === null ? null : t.own_ms + painted_ms - t.tokens_ms;
    if (profiled) return { profile: await stopProfiler(s), mutations: await s.js(`return window.__mutations || null;`), elements: await s.js(`return window.__elements || null;`) };
    if (traced) return { own_ms: t.own_ms, events: await traceFile(traced) };
    if (latency_ms) return t;
    const requests = countRequests(await s.perfLog(), at(provider.issuer));
    // The two series must be what they say: a DPoP-off run sends no proof, a DPoP-on run does.
    if ((requests.dpop_posts > 0) !== dpop) throw new Error(`a DPoP-${dpop ? 'on' : 'off'} login sent ${requests.dpop_posts} token POSTs with a proof`);
    if (!dpop) return { ...t, callback_processing_ms: t.tokens_ms - t.token_network_ms, requests };
    let anim;
    try { anim = await replay(s, true); } catch (e) { anim = { error: e.message }; }
    const heap = await s.js(HEAP);
    return { ...t, callback_processing_ms: t.tokens_ms - t.token_network_ms, requests, replay: anim, heap_bytes: heap };
  }, traced);
}

// Where the callback page's own time goes, from a trace: the self time of each trace event
// (style, layout, paint, script, wasm compilation, GC...) on the page's main thread between the
// app's start mark and its tokens mark (or `end`: the ready mark of a cold load), in ms. The
// network it waited for shows as idle (not counted); `idle_ms` is the window minus every event.
function traceSummary(events, end = APP_TOKENS) {
  const markOf = (name) => events.filter((e) => e.name === name && e.cat?.includes('blink.user_timing'));
  const tokens = markOf(end).at(-1);
  if (!tokens) return { error: `no ${end} mark in ${events.length} trace events` };
  const start = markOf(APP_START).filter((e) => e.pid === tokens.pid && e.ts <= tokens.ts).at(-1);
  if (!start) return { error: `no ${APP_START} mark before the tokens mark` };
  // The page's main thread, and the WebCrypto thread (keys, signatures) apart.
  const threadNamed = (name) => events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === tokens.pid && e.args?.name === name)?.tid;
  const tid = threadNamed('CrRendererMain');
  // Every event that overlaps the window, clipped to it: the task that calls the app's `main`
  // begins before the start mark (instantiation) and may run to the end mark.
  const inWindow = events.filter((e) => e.pid === tokens.pid && e.ph === 'X' && e.dur > 0 && e.ts < tokens.ts && e.ts + e.dur > start.ts)
    .map((e) => ({ ...e, begin: Math.max(e.ts, start.ts), end: Math.min(e.ts + e.dur, tokens.ts) }));
  const crypto = threadNamed('WebCrypto');
  // Chromium 156 runs WebCrypto on its thread pool, untraced in these categories: null then.
  const crypto_ms = crypto === undefined ? null
    : inWindow.filter((e) => e.tid === crypto && e.name === 'RunTask').reduce((t, e) => t + e.end - e.begin, 0) / 1000;
  const mine = inWindow.filter((e) => e.tid === tid).sort((a, b) => a.begin - b.begin || b.end - a.end);
  const self = {};
  const stack = [];
  let top = 0;
  for (const e of mine) {
    while (stack.length && stack.at(-1).end <= e.begin) stack.pop();
    const parent = stack.at(-1);
    if (parent) self[parent.name] -= Math.min(e.end, parent.end) - e.begin;
    else top += e.end - e.begin;
    self[e.name] = (self[e.name] ?? 0) + (e.end - e.begin);
    stack.push({ name: e.name, end: e.end });
  }
  const window_ms = (tokens.ts - start.ts) / 1000;
  // Functions V8 compiled on first call in the window, and the main thread's CPU time for it
  // (thread time: a compile the OS paused for another process counts only what it ran).
  const lazy = mine.filter((e) => e.name === 'wasm.CompileLazy');
  const lazy_compiles = lazy.length, lazy_compile_cpu_ms = lazy.reduce((t, e) => t + (e.tdur ?? e.dur), 0) / 1000;
  const by = Object.fromEntries(Object.entries(self).map(([k, v]) => [k, v / 1000]).filter(([, v]) => v >= 0.05).sort((a, b) => b[1] - a[1]));
  return { window_ms, busy_ms: top / 1000, idle_ms: window_ms - top / 1000, crypto_ms, lazy_compiles, lazy_compile_cpu_ms, self_ms: by };
}

async function baselineFlow() {
  return withSession(async (s) => {
    await s.go(opt.baseline);
    await s.until('baseline ready', `return performance.getEntriesByName(arguments[0]).length > 0;`, [BASE_READY]);
    let anim;
    try { anim = await replay(s, false); } catch (e) { anim = { error: e.message }; }
    return { replay: anim, heap_bytes: await s.js(HEAP) };
  });
}

// Proves the preflight counter sees a preflight: a POST with a non-safelisted header forces one.
async function preflightSelfCheck() {
  return withSession(async (s) => {
    await s.go(opt.app);
    await s.perfLog();
    await wd('POST', `/session/${s.id}/execute/async`, {
      script: `const done = arguments[arguments.length - 1];
        fetch(arguments[0], { method: 'POST', headers: { 'X-Bench-Probe': '1' }, body: 'grant_type=x' })
          .then(() => done(true), () => done(false));`,
      args: [at(opt.issuer).token],
    });
    await sleep(300);
    return countRequests(await s.perfLog()).preflights;
  });
}

// ---------------------------------------------------------------- run
const started = new Date();
const result = {
  date: started.toISOString(),
  machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? '?', memory_gib: Math.round(os.totalmem() / 2 ** 30), platform: `${os.type()} ${os.release()}`, node: process.version },
  settings: { loads: LOADS, logins: LOGINS },
  app: { sizes: distSizes(opt['app-dist']), loads: [], logins: [], logins_dpop_off: [] },
  // A second build (`--compare`), measured login by login between the first's: an A/B whose
  // two sides see the same moments of a noisy machine.
  compare: opt.compare ? { sizes: distSizes(opt['compare-dist']), loads: [], logins: [], logins_dpop_off: [], logins_slow: [], logins_cross_site: [] } : null,
  baseline: { sizes: distSizes(opt['baseline-dist']), loads: [], flows: [] },
  errors: [],
};
try {
  const version = await wd('GET', '/status');
  result.machine.chromedriver = version?.build?.version ?? null;
} catch { /* optional */ }

// One measurement into `list`; a failure is recorded under `label` and the bench goes on.
async function keep(list, label, run) {
  try { list.push(await run()); }
  catch (e) { result.errors.push(`${label}: ${e.message}`); log(`${label}:`, e.message); }
}

// `n` DPoP logins of one series (`key`) with `latency_ms` and `provider`, each followed by the
// compare build's (interleaved); `said` puts a login's figure in the progress line.
async function loginSeries(key, label, n, latency_ms, provider, said) {
  result.app[key] = [];
  for (let i = 0; i < n; i++) {
    await keep(result.app[key], `${label} login ${i + 1}`, () => login(false, true, false, latency_ms, opt.app, provider));
    if (opt.compare) {
      await keep(result.compare[key], `compare ${label} login ${i + 1}`, () => login(false, true, false, latency_ms, opt.compare, provider));
    }
    log(`${label} login ${i + 1}/${n}: ${said(result.app[key].at(-1))}`);
  }
}

// Interleaved, so a noisy moment hurts both pages alike.
for (let i = 0; i < LOADS; i++) {
  const pages = [['app', opt.app, APP_READY], ['baseline', opt.baseline, BASE_READY]];
  if (opt.compare) pages.push(['compare', opt.compare, APP_READY]);
  for (const [who, url, mark] of pages) {
    await keep(result[who].loads, `${who} cold load ${i + 1}`, () => coldLoad(url, mark));
  }
  log(`cold load ${i + 1}/${LOADS}: app ${result.app.loads.at(-1)?.ready_ms?.toFixed(1)} ms, baseline ${result.baseline.loads.at(-1)?.ready_ms?.toFixed(1)} ms`);
}
for (let i = 0; i < LOGINS; i++) {
  await keep(result.app.logins, `login ${i + 1}`, () => login());
  await keep(result.app.logins_dpop_off, `DPoP-off login ${i + 1}`, () => login(false, false));
  if (opt.compare) {
    await keep(result.compare.logins, `compare login ${i + 1}`, () => login(false, true, false, 0, opt.compare));
    await keep(result.compare.logins_dpop_off, `compare DPoP-off login ${i + 1}`, () => login(false, false, false, 0, opt.compare));
  }
  await keep(result.baseline.flows, `baseline flow ${i + 1}`, () => baselineFlow());
  const l = result.app.logins.at(-1);
  log(`login ${i + 1}/${LOGINS}: own ${l?.own_ms?.toFixed(1)} ms (DPoP off ${result.app.logins_dpop_off.at(-1)?.own_ms?.toFixed(1)} ms), callback ${l?.callback_processing_ms?.toFixed(1)} ms, token POSTs ${l?.requests?.token_posts}, preflights ${l?.requests?.preflights}, replay long tasks ${l?.replay?.longtasks}`);
}
const SLOW = Math.max(0, Number(opt['slow-logins'] ?? 4));
await loginSeries('logins_slow', 'slow-network', SLOW, SLOW_LATENCY_MS, undefined,
  (l) => `nav start → tokens ${l?.tokens_ms?.toFixed(1)} ms`);
// Logins against a second provider on another site (http://localhost, the app on 127.0.0.1), as
// with any real provider: the browser runs the callback page in a new renderer process, which
// compiles the app's wasm functions again; with the bundled provider (same site) the callback
// page reuses the process, and the code the first page compiled.
const CROSS_SITE = opt['cross-issuer'] ? Math.max(0, Number(opt['cross-logins'] ?? 4)) : 0;
const crossSite = { issuer: opt['cross-issuer'], api: opt['cross-api'] };
await loginSeries('logins_cross_site', 'cross-site', CROSS_SITE, 0, crossSite,
  (l) => `own ${l?.own_ms?.toFixed(1)} ms`);
const PROFILES = Math.max(0, Number(opt.profiles ?? 3));
result.app.profiles = { loads: [], logins: [], logins_dpop_off: [] };
result.baseline.profiles = { loads: [] };
for (let i = 0; i < PROFILES; i++) {
  try {
    result.app.profiles.loads.push(await coldLoad(opt.app, APP_READY, true));
    result.baseline.profiles.loads.push(await coldLoad(opt.baseline, BASE_READY, true));
    result.app.profiles.logins.push(await login(true));
    result.app.profiles.logins_dpop_off.push(await login(true, false));
  } catch (e) { result.errors.push(`profiled run ${i + 1}: ${e.message}`); log(`profiled run ${i + 1}:`, e.message); }
}
log(`${PROFILES} profiled cold loads per page and ${PROFILES} profiled logins done`);
const TRACES = Math.max(0, Number(opt.traces ?? 0));
result.app.traces = { logins: [], logins_dpop_off: [], logins_cross_site: [], loads: [] };
for (let i = 0; i < TRACES; i++) {
  try {
    const file = join(opt.out, `trace-load-${i + 1}.json`);
    rmSync(file, { force: true });
    const t = await coldLoad(opt.app, APP_READY, false, file);
    t.trace = traceSummary(t.events, APP_READY);
    delete t.events;
    result.app.traces.loads.push(t);
    log(`traced cold load ${i + 1}: window ${t.trace.window_ms?.toFixed(1)} ms, busy ${t.trace.busy_ms?.toFixed(1)} ms ${t.trace.error ?? ''}`);
  } catch (e) { result.errors.push(`traced cold load ${i + 1}: ${e.message}`); log(`traced cold load ${i + 1}:`, e.message); }
  const series = [['logins', true], ['logins_dpop_off', false], ...(CROSS_SITE ? [['logins_cross_site', true, crossSite]] : [])];
  for (const [key, dpop, provider] of series) {
    try {
      const file = join(opt.out, `trace-${key}-${i + 1}.json`);
      rmSync(file, { force: true });
      const t = await login(false, dpop, file, 0, opt.app, provider);
      t.trace = traceSummary(t.events);
      delete t.events;
      result.app.traces[key].push(t);
      log(`traced login ${i + 1} (${key}): window ${t.trace.window_ms?.toFixed(1)} ms, busy ${t.trace.busy_ms?.toFixed(1)} ms ${t.trace.error ?? ''}`);
    } catch (e) { result.errors.push(`traced login ${i + 1}: ${e.message}`); log(`traced login ${i + 1}:`, e.message); }
  }
}
try { result.preflight_self_check = await preflightSelfCheck(); }
catch (e) { result.errors.push(`preflight self-check: ${e.message}`); }

// ---------------------------------------------------------------- summaries
const pick = (xs, f) => summary(xs.map(f));
const replays = (xs) => xs.map((x) => x.replay).filter((r) => r && !r.error);
result.summary = {
  app: {
    ready_ms: pick(result.app.loads, (l) => l.ready_ms),
    load_event_ms: pick(result.app.loads, (l) => l.load_event_ms),
    load_start_ms: pick(result.app.loads.filter((l) => l.start_ms !== null), (l) => l.start_ms),
    load_mount_ms: pick(result.app.loads.filter((l) => l.start_ms !== null), (l) => l.ready_ms - l.start_ms),
    load_wasm_fetched_ms: pick(result.app.loads, (l) => l.wasm_fetched_ms),
    callback_tokens_ms: pick(result.app.logins, (l) => l.tokens_ms),
    token_network_ms: pick(result.app.logins, (l) => l.token_network_ms),
    callback_processing_ms: pick(result.app.logins, (l) => l.callback_processing_ms),
    callback_ready_ms: pick(result.app.logins, (l) => l.ready_ms),
    token_sent_ms: pick(result.app.logins, (l) => l.token_sent_ms),
    after_token_ms: pick(result.app.logins, (l) => l.after_token_ms),
    start_ms: pick(result.app.logins, (l) => l.start_ms),
    jwks_network_ms: pick(result.app.logins, (l) => l.jwks_network_ms),
    network_wait_ms: pick(result.app.logins, (l) => l.network_wait_ms),
    slow_tokens_ms: pick(result.app.logins_slow ?? [], (l) => l.tokens_ms),
    cross_own_ms: pick(result.app.logins_cross_site, (l) => l.own_ms),
    cross_start_ms: pick(result.app.logins_cross_site, (l) => l.start_ms),
    cross_tokens_ms: pick(result.app.logins_cross_site, (l) => l.tokens_ms),
    token_wait_ms: pick(result.app.logins, (l) => l.token_wait_ms),
    own_ms: pick(result.app.logins, (l) => l.own_ms),
    own_ms_dpop_off: pick(result.app.logins_dpop_off, (l) => l.own_ms),
    diagram_after_tokens_ms: pick(result.app.logins, (l) => l.diagram_after_tokens_ms),
    own_diagram_ms: pick(result.app.logins, (l) => l.own_diagram_ms),
    own_painted_ms: pick(result.app.logins, (l) => l.own_painted_ms),
    token_wait_ms_dpop_off: pick(result.app.logins_dpop_off, (l) => l.token_wait_ms),
    preflights_dpop_off: pick(result.app.logins_dpop_off, (l) => l.requests.preflights),
    token_posts: pick(result.app.logins, (l) => l.requests.token_posts),
    preflights: pick(result.app.logins, (l) => l.requests.preflights),
    dpop_posts: pick(result.app.logins, (l) => l.requests.dpop_posts ?? 0),
    discovery_gets: pick(result.app.logins, (l) => l.requests.discovery_gets),
    replay_ms: pick(replays(result.app.logins), (r) => r.replay_ms),
    longtasks: pick(replays(result.app.logins), (r) => r.longtasks),
    longest_task_ms: pick(replays(result.app.logins), (r) => r.longest_task_ms),
    longtasks_login: pick(replays(result.app.logins), (r) => r.longtasks_before_replay),
    longest_task_login_ms: pick(replays(result.app.logins), (r) => r.longest_task_before_replay_ms),
    dropped_frames: pick(replays(result.app.logins), (r) => r.dropped),
    longest_frame_ms: pick(replays(result.app.logins), (r) => r.longest_frame_ms),
    heap_bytes: pick(result.app.logins, (l) => l.heap_bytes),
  },
  baseline: {
    ready_ms: pick(result.baseline.loads, (l) => l.ready_ms),
    load_event_ms: pick(result.baseline.loads, (l) => l.load_event_ms),
    load_wasm_fetched_ms: pick(result.baseline.loads, (l) => l.wasm_fetched_ms),
    replay_ms: pick(replays(result.baseline.flows), (r) => r.replay_ms),
    longtasks: pick(replays(result.baseline.flows), (r) => r.longtasks),
    longest_task_ms: pick(replays(result.baseline.flows), (r) => r.longest_task_ms),
    longtasks_login: pick(replays(result.baseline.flows), (r) => r.longtasks_before_replay),
    longest_task_login_ms: pick(replays(result.baseline.flows), (r) => r.longest_task_before_replay_ms),
    dropped_frames: pick(replays(result.baseline.flows), (r) => r.dropped),
    longest_frame_ms: pick(replays(result.baseline.flows), (r) => r.longest_frame_ms),
    heap_bytes: pick(result.baseline.flows, (l) => l.heap_bytes),
  },
};
const replayErrors = result.app.logins.map((l) => l.replay?.error).filter(Boolean);
if (replayErrors.length) result.errors.push(`app replay not measured (${replayErrors[0]}): long tasks are those of the login only`);

// ---------------------------------------------------------------- table
const kb = (b) => (b / 1024).toFixed(1);
const ms = (s) => (s ? `${s.median.toFixed(1)} ms (${s.min.toFixed(1)}–${s.max.toFixed(1)})` : '—');
const num = (s, unit = '') => (s ? `${+s.median.toFixed(1)}${unit} (${+s.min.toFixed(1)}–${+s.max.toFixed(1)})` : '—');
const mib = (s) => (s ? `${(s.median / 2 ** 20).toFixed(2)} MiB (${(s.min / 2 ** 20).toFixed(2)}–${(s.max / 2 ** 20).toFixed(2)})` : '—');
const ratio = (a, b) => (a && b && b.median ? `${(a.median / b.median).toFixed(2)}×` : '');
const rows = [];
const row = (figure, app, base = '—', r = '', goal = '') => rows.push([figure, app, base, r, goal]);
const A = result.summary.app, B = result.summary.baseline, SA = result.app.sizes, SB = result.baseline.sizes;
for (const kind of ['html', 'js', 'wasm', 'css']) {
  const a = SA.byKind[kind], b = SB.byKind[kind];
  row(`${kind} (raw / gzip -9)`, a ? `${kb(a.raw)} / ${kb(a.gzip)} KB` : '—', b ? `${kb(b.raw)} / ${kb(b.gzip)} KB` : '—',
    a && b ? `${(a.gzip / b.gzip).toFixed(2)}×` : '');
}
row('total first load (raw / gzip -9)', `${kb(SA.total.raw)} / ${kb(SA.total.gzip)} KB`, `${kb(SB.total.raw)} / ${kb(SB.total.gzip)} KB`,
  `${(SA.total.gzip / SB.total.gzip).toFixed(2)}×`,
  `budget ≤ ${BUDGET_KB} KB gz: ${SA.total.gzip <= BUDGET_KB * 1024 ? 'met' : 'NOT met'} (issue's first 120 KB: ${SA.total.gzip <= 120 * 1024 ? 'met' : 'not met'})`);
row(`load → ready, median (min–max), n=${A.ready_ms?.n ?? 0}`, ms(A.ready_ms), ms(B.ready_ms), ratio(A.ready_ms, B.ready_ms), '≤ 150 ms');
row('load event (same loads)', ms(A.load_event_ms), ms(B.load_event_ms), ratio(A.load_event_ms, B.load_event_ms));
row('  of which nav start → wasm fetched', ms(A.load_wasm_fetched_ms), ms(B.load_wasm_fetched_ms), ratio(A.load_wasm_fetched_ms, B.load_wasm_fetched_ms));
row('  nav start → app start (wasm compiled, instantiated, main called) / app start → ready (the first screen built)', `${ms(A.load_start_ms)} / ${ms(A.load_mount_ms)}`);
row(`callback page: nav start → tokens, n=${A.callback_tokens_ms?.n ?? 0}`, ms(A.callback_tokens_ms));
row('  token request network time', ms(A.token_network_ms));
row('  callback processing (difference)', ms(A.callback_processing_ms), '—', '', '≤ 20 ms');
row('    of which nav start → token request sent', ms(A.token_sent_ms), ms(B.ready_ms), '', 'baseline: its load → ready');
row('    of which token response → tokens shown', ms(A.after_token_ms));
row('  callback page: nav start → ready mark', ms(A.callback_ready_ms));
row('  nav start → app start (download, compile, instantiate)', ms(A.start_ms), '', '', 'a size matter: see the first load');
row("  app's own time: app start → tokens, minus the network it waited for", ms(A.own_ms), '—', '', '≤ 20 ms (the goal read without the page load)');
row("    the same as a ratio: app's own time / the baseline's load → ready (same run)", ms(A.own_ms), ms(B.ready_ms), ratio(A.own_ms, B.ready_ms), '≤ 0.25 (issue 12)');
row(`  own time, DPoP off / on: app start → tokens minus network, n=${A.own_ms_dpop_off?.n ?? 0} / ${A.own_ms?.n ?? 0}`,
  `${ms(A.own_ms_dpop_off)} / ${ms(A.own_ms)}`, ms(B.ready_ms),
  A.own_ms_dpop_off && A.own_ms && B.ready_ms ? `${(A.own_ms_dpop_off.median / B.ready_ms.median).toFixed(2)}× / ${(A.own_ms.median / B.ready_ms.median).toFixed(2)}×` : '',
  `≤ 0.25 (issue 12); DPoP's share ${A.own_ms_dpop_off && A.own_ms ? (A.own_ms.median - A.own_ms_dpop_off.median).toFixed(1) + ' ms' : '?'}`);
row("    to the frame that paints the tokens (the app's tokens mark + the wait for the next frame)", ms(A.own_painted_ms), ms(B.ready_ms), ratio(A.own_painted_ms, B.ready_ms), 'the baseline marks ready without that wait');
row('    then tokens → diagram drawn (back from the provider, the diagram follows the tokens)', ms(A.diagram_after_tokens_ms));
row("  app's own time to the whole page: app start → diagram drawn, minus the network", ms(A.own_diagram_ms), ms(B.ready_ms), ratio(A.own_diagram_ms, B.ready_ms));
row('    token request network time after the ready mark (waited for)', ms(A.token_wait_ms));
row('    the same, DPoP off', ms(A.token_wait_ms_dpop_off));
row('    JWKS network time', ms(A.jwks_network_ms));
row('    network waited for: token request and JWKS after the ready mark, overlaps once', ms(A.network_wait_ms));
row(`callback page, provider on another site (as any real provider): own time, DPoP on, n=${A.cross_own_ms?.n ?? 0}`, ms(A.cross_own_ms), ms(B.ready_ms), ratio(A.cross_own_ms, B.ready_ms), 'a new renderer process compiles the wasm again; same site: the row above');
row('  its nav start → app start / nav start → tokens', A.cross_own_ms ? `${ms(A.cross_start_ms)} / ${ms(A.cross_tokens_ms)}` : '—', '—');
row(`callback page on a slow network (${SLOW_LATENCY_MS} ms per request, emulated): nav start → tokens, DPoP on, n=${A.slow_tokens_ms?.n ?? 0}`, ms(A.slow_tokens_ms), '—', '', 'each request the app waits for in turn costs a round trip');
row('token POSTs per login', num(A.token_posts), '—', '', 'exactly 1');
row('CORS preflights per login (DPoP off: ' + num(A.preflights_dpop_off) + ')', num(A.preflights), '—', '', `${A.dpop_posts ? '1: a DPoP run (the DPoP header is not CORS-safelisted)' : '0'} (self-check saw ${result.preflight_self_check ?? '?'} for a forced one)`);
row('discovery GETs per login', num(A.discovery_gets), '—', '', '≤ 1');
row('replay at 4× (app) / baseline replay, duration', ms(A.replay_ms), ms(B.replay_ms));
row('  long tasks during replay', num(A.longtasks), num(B.longtasks), '', '0 over 50 ms');
row('  longest long task during replay', num(A.longest_task_ms, ' ms'), num(B.longest_task_ms, ' ms'));
row('  dropped frames during replay', num(A.dropped_frames), num(B.dropped_frames));
row('  longest frame during replay', num(A.longest_frame_ms, ' ms'), num(B.longest_frame_ms, ' ms'));
row('long tasks before the replay (login / load)', num(A.longtasks_login), num(B.longtasks_login));
row('  longest of those', num(A.longest_task_login_ms, ' ms'), num(B.longest_task_login_ms, ' ms'));
row('JS heap after the flow (after gc)', mib(A.heap_bytes), mib(B.heap_bytes), ratio(A.heap_bytes, B.heap_bytes));
if (result.compare) {
  // The same figures of the second build, from logins interleaved with the first's.
  const C = {
    ready_ms: pick(result.compare.loads, (l) => l.ready_ms),
    own_ms: pick(result.compare.logins, (l) => l.own_ms),
    own_ms_dpop_off: pick(result.compare.logins_dpop_off, (l) => l.own_ms),
    own_diagram_ms: pick(result.compare.logins, (l) => l.own_diagram_ms),
    slow_tokens_ms: pick(result.compare.logins_slow, (l) => l.tokens_ms),
    cross_own_ms: pick(result.compare.logins_cross_site, (l) => l.own_ms),
  };
  const both = (a, c) => `${ms(a)}  vs  ${ms(c)}`;
  row(`compare (${opt['compare-dist']}), first load gzip: app vs compare`, `${kb(SA.total.gzip)} vs ${kb(result.compare.sizes.total.gzip)} KB`);
  row('compare: load → ready, app vs compare', both(A.ready_ms, C.ready_ms), ms(B.ready_ms));
  row('compare: own time DPoP on, app vs compare', both(A.own_ms, C.own_ms), ms(B.ready_ms));
  row('compare: own time DPoP off, app vs compare', both(A.own_ms_dpop_off, C.own_ms_dpop_off), ms(B.ready_ms));
  row('compare: own time to the whole page, app vs compare', both(A.own_diagram_ms, C.own_diagram_ms));
  row(`compare: slow network (${SLOW_LATENCY_MS} ms per request) nav start → tokens, app vs compare`, both(A.slow_tokens_ms, C.slow_tokens_ms));
  row('compare: own time with a provider on another site, DPoP on, app vs compare', both(A.cross_own_ms, C.cross_own_ms));
}

const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...[['figure', 'app', 'baseline', 'ratio', 'goal'], ...rows].map((r) => [...r[i]].length)));
const line = (r) => r.map((c, i) => c + ' '.repeat(widths[i] - [...c].length)).join('  ').trimEnd();
const out = [];
out.push(`OAuth Flow Lab benchmark — ${result.date}`);
out.push(`machine: ${result.machine.cpus} × ${result.machine.cpu_model}, ${result.machine.memory_gib} GiB, ${result.machine.platform}; chromedriver ${result.machine.chromedriver ?? '?'}`);
out.push('');
out.push(line(['figure', 'app', 'baseline', 'ratio', 'goal']));
out.push(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) out.push(line(r));
out.push('');
out.push('app files (raw / gzip -9):');
for (const f of SA.files) out.push(`  ${f.file.padEnd(48)} ${String(f.raw).padStart(8)} ${String(f.gzip).padStart(8)}`);
// Median self time per category and per named function over the profiled samples.
function profileLines(samples, what) {
  const profiled = samples.filter((x) => x.profile);
  if (!profiled.length) return [];
  const medianOf = (key, name) => median(profiled.map((x) => x.profile[key][name] ?? 0));
  const names = (key) => [...new Set(profiled.flatMap((x) => Object.keys(x.profile[key])))]
    .map((name) => [name, medianOf(key, name)]).sort((a, b) => b[1] - a[1]);
  return [
    '',
    `${what} (median self time of ${profiled.length}):`,
    '  ' + names('categories').filter(([, v]) => v >= 0.05).map(([n, v]) => `${n} ${v.toFixed(1)} ms`).join(', '),
    '  slowest named functions: ' + names('functions').slice(0, 6).map(([n, v]) => `${n} ${v.toFixed(1)} ms`).join(', '),
  ];
}
out.push(...profileLines(result.app.profiles.loads, 'cold load CPU profile, app, navigation → ready'));
out.push(...profileLines(result.baseline.profiles.loads, 'cold load CPU profile, baseline, navigation → ready'));
out.push(...profileLines(result.app.profiles.logins, 'callback page CPU profile, Allow click → tokens shown'));
{
  const ms_ = result.app.profiles.logins.map((x) => x.mutations).filter(Boolean);
  if (ms_.length) {
    const keys = [...new Set(ms_.flatMap(Object.keys))].map((k) => [k, median(ms_.map((m) => m[k] ?? 0))]).sort((a, b) => b[1] - a[1]);
    out.push('');
    out.push(`callback page DOM writes until the tokens mark (median of ${ms_.length}; nodes = added + removed):`);
    out.push('  ' + keys.map(([k, v]) => `${k} ${v}`).join(', '));
  }
  const es = result.app.profiles.logins.map((x) => x.elements).filter(Boolean);
  if (es.length) {
    const keys = Object.keys(es[0]).map((k) => [k, median(es.map((e) => e[k] ?? 0))]);
    out.push(`callback page elements at the tokens mark (median of ${es.length}; per part: elements inside it; then text and comment nodes):`);
    out.push('  ' + keys.map(([k, v]) => `${k} ${v}`).join(', '));
  }
}
out.push(...profileLines(result.app.profiles.logins_dpop_off, 'callback page CPU profile, DPoP off, Allow click → tokens shown'));
// Median self time per trace event over the traced logins (BENCH_TRACES).
for (const [key, what] of [['logins', 'callback page trace, DPoP on, app start → tokens mark'], ['logins_dpop_off', 'callback page trace, DPoP off, app start → tokens mark'], ['logins_cross_site', 'callback page trace, provider on another site, DPoP on, app start → tokens mark'], ['loads', 'cold load trace, app start → ready mark (the first screen)']]) {
  const ts = (result.app.traces[key] ?? []).map((x) => x.trace).filter((t) => t && !t.error);
  if (!ts.length) continue;
  const names = [...new Set(ts.flatMap((t) => Object.keys(t.self_ms)))]
    .map((n) => [n, median(ts.map((t) => t.self_ms[n] ?? 0))]).sort((a, b) => b[1] - a[1]);
  out.push('');
  out.push(`${what} (median of ${ts.length}): window ${median(ts.map((t) => t.window_ms)).toFixed(1)} ms, main thread busy ${median(ts.map((t) => t.busy_ms)).toFixed(1)} ms, WebCrypto thread busy ${ts.every((t) => t.crypto_ms === null) ? 'not traced' : `${median(ts.map((t) => t.crypto_ms ?? 0)).toFixed(1)} ms`}; functions compiled on first call ${median(ts.map((t) => t.lazy_compiles))} (main thread CPU ${median(ts.map((t) => t.lazy_compile_cpu_ms)).toFixed(1)} ms); main thread self time by event:`);
  out.push('  ' + names.filter(([, v]) => v >= 0.5).map(([n, v]) => `${n} ${v.toFixed(1)}`).join(', '));
}
if (result.errors.length) { out.push(''); out.push('problems:'); for (const e of result.errors) out.push(`  - ${e}`); }
console.log(out.join('\n'));

mkdirSync(opt.out, { recursive: true });
const stamp = result.date.replace(/[:.]/g, '-');
const json = JSON.stringify(result, (k, v) => (k === 'raw' && v && typeof v === 'object' ? undefined : v), 2);
writeFileSync(join(opt.out, `bench-${stamp}.json`), json);
writeFileSync(join(opt.out, 'latest.json'), json);
writeFileSync(join(opt.out, 'latest.txt'), out.join('\n') + '\n');
for (const [what, xs] of Object.entries({ load: result.app.profiles.loads, login: result.app.profiles.logins, 'login-dpop-off': result.app.profiles.logins_dpop_off })) {
  xs.forEach((x, i) => x.profile?.raw && writeFileSync(join(opt.out, `profile-${what}-${i + 1}.cpuprofile`), JSON.stringify(x.profile.raw)));
}
console.log(`\nJSON: ${join(opt.out, `bench-${stamp}.json`)} (also latest.json, latest.txt)`);
// Failing to measure is a failure of the benchmark; figures over a goal are reported, not fatal.
const measured = result.app.loads.length && result.app.logins.length && result.baseline.loads.length;
process.exit(measured ? 0 : 1);
