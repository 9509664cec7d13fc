// The demo resource API (provider/lib/api.mjs, the same code the bundled provider serves) for
// tokens issued by LemonLDAP::NG: every request's token is checked at LemonLDAP::NG's own
// introspection endpoint (RFC 7662), authenticated as its confidential relying party `demo-api`
// (client_secret_basic), and must carry the route's scope (read:profile, read:files).
//
//   LLNG_ISSUER=http://127.0.0.1:9330 LLNG_API_PORT=9331 node provider/lemonldap-ng/api.mjs
//
// Environment: LLNG_ISSUER (default http://127.0.0.1:9330), LLNG_API_PORT (default 9331),
// LLNG_API_SECRET (the secret `run` gave `demo-api`; default "demo-api-secret"),
// LAB_APP_ORIGINS (CORS, default http://127.0.0.1:8080).
import http from 'node:http';
import { createApiHandler } from '../lib/api.mjs';

const env = process.env;
const issuer = (env.LLNG_ISSUER ?? 'http://127.0.0.1:9330').replace(/\/+$/, '');
const port = Number(env.LLNG_API_PORT ?? 9331);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`lemonldap-ng/api: LLNG_API_PORT is not a port: ${env.LLNG_API_PORT}`);
  process.exit(2);
}
const appOrigins = (env.LAB_APP_ORIGINS ?? 'http://127.0.0.1:8080')
  .split(',').map((o) => o.trim().replace(/\/+$/, '')).filter(Boolean);
const apiUrl = `http://127.0.0.1:${port}`;

// LemonLDAP::NG 2.16.1's introspection answers `active: true` only for access tokens (it looks
// the token up with getAccessToken; refresh tokens live elsewhere) and leaves out `token_type`,
// which RFC 7662 §2.2 makes OPTIONAL. The shared handler insists on it (the bundled provider
// sends it), so this adapter, on the API's own loopback port, forwards the request unchanged and
// names an active answer's type `Bearer`; anything else passes through as it came.
const introspectionUrl = `${issuer}/oauth2/introspect`;
async function introspectAdapter(req, res) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const answer = await fetch(introspectionUrl, {
    method: 'POST',
    headers: {
      authorization: req.headers.authorization ?? '',
      'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: Buffer.concat(chunks),
    signal: AbortSignal.timeout(5000),
  });
  let text = await answer.text();
  try {
    const info = JSON.parse(text);
    if (info.active === true && info.token_type === undefined) {
      text = JSON.stringify({ ...info, token_type: 'Bearer' });
    }
  } catch { /* not JSON: passed through */ }
  res.writeHead(answer.status, { 'Content-Type': 'application/json' });
  res.end(text);
}

const handler = createApiHandler({
  appOrigins,
  introspectionUrl: `http://127.0.0.1:${port}/__introspect`,
  clientId: 'demo-api',
  clientSecret: env.LLNG_API_SECRET || 'demo-api-secret',
  apiUrl,
});

http.createServer((req, res) => {
  const local = req.url === '/__introspect' && req.method === 'POST'
    && ['127.0.0.1', '::ffff:127.0.0.1'].includes(req.socket.remoteAddress);
  (local ? introspectAdapter(req, res) : handler(req, res)).catch((err) => {
    console.error(`lemonldap-ng/api: ${err.message}`);
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
    res.end('{"error":"server_error"}');
  });
}).listen(port, '127.0.0.1', () => {
  console.error(`lemonldap-ng/api: ${apiUrl}/api/profile, tokens introspected at ${introspectionUrl}`);
});
