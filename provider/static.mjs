// Tiny static file server for the built app (used by the e2e tests).
//
//   node static.mjs <dist-dir> <port>
//
// Listens on 127.0.0.1 only. Unknown paths without a file extension fall back
// to index.html (single-page app); unknown files with an extension are 404.
// Sends Referrer-Policy: no-referrer, X-Content-Type-Options: nosniff,
// Cache-Control: no-store, and Content-Security-Policy from $LAB_CSP if set.
import http from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';

const [dirArg, portArg] = process.argv.slice(2);
if (!dirArg || !portArg) {
  console.error('usage: node static.mjs <dist-dir> <port>');
  process.exit(2);
}
const ROOT = resolve(dirArg);
const PORT = Number(portArg);
if (!Number.isInteger(PORT) || PORT < 1 || PORT > 65535) {
  console.error(`static: not a port: ${portArg}`);
  process.exit(2);
}
try {
  if (!(await stat(ROOT)).isDirectory()) throw new Error('not a directory');
} catch (err) {
  console.error(`static: cannot serve ${ROOT}: ${err.message}`);
  process.exit(2);
}

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
};

const CSP = process.env.LAB_CSP;

function baseHeaders() {
  const h = {
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  };
  if (CSP) h['Content-Security-Policy'] = CSP;
  return h;
}

async function fileAt(path) {
  try {
    const info = await stat(path);
    if (info.isFile()) return { path, size: info.size };
    if (info.isDirectory()) {
      const index = join(path, 'index.html');
      const i = await stat(index);
      if (i.isFile()) return { path: index, size: i.size };
    }
  } catch { /* not found */ }
  return null;
}

function sendText(req, res, status, text, extra = {}) {
  res.writeHead(status, { ...baseHeaders(), 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...extra });
  res.end(req.method === 'HEAD' ? undefined : text);
}

async function handle(req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendText(req, res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    return;
  }
  let pathname;
  try {
    pathname = decodeURIComponent(new URL(req.url, 'http://static.invalid').pathname);
  } catch {
    sendText(req, res, 400, 'bad request\n');
    return;
  }
  if (pathname.includes('\0')) {
    sendText(req, res, 400, 'bad request\n');
    return;
  }
  const target = resolve(ROOT, `.${pathname}`);
  if (target !== ROOT && !target.startsWith(ROOT + sep)) {
    sendText(req, res, 404, 'not found\n');
    return;
  }

  let file = await fileAt(target);
  if (!file && !extname(pathname)) file = await fileAt(join(ROOT, 'index.html'));
  if (!file) {
    sendText(req, res, 404, 'not found\n');
    return;
  }

  const type = MIME[extname(file.path).toLowerCase()] ?? 'application/octet-stream';
  res.writeHead(200, { ...baseHeaders(), 'Content-Type': type, 'Content-Length': file.size });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file.path);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

const server = http.createServer((req, res) => {
  const path = (req.url ?? '').split('?')[0];
  res.once('close', () => console.log(`static ${req.method} ${path} ${res.headersSent ? res.statusCode : '---'}`));
  handle(req, res).catch((err) => {
    console.error(`static error: ${err.message}`);
    if (!res.headersSent) sendText(req, res, 500, 'internal error\n');
    else res.destroy();
  });
});

server.once('error', (err) => {
  console.error(`static: cannot listen on 127.0.0.1:${PORT}: ${err.code ?? err.message}`);
  process.exit(2);
});
server.listen(PORT, '127.0.0.1', () => {
  console.log(`static: serving ${ROOT} on http://127.0.0.1:${PORT}/${CSP ? ' (with Content-Security-Policy from LAB_CSP)' : ''}`);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
