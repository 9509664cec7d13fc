// Headless smoke test of the bundled provider + demo API. No dependencies:
// fetch with manual redirects and a tiny cookie jar play the browser.
//
//   node smoke.mjs                 # strict checks against a running server (LAB_* env as for server.mjs)
//   node smoke.mjs --weak          # LAB_WEAK=all checks against a running server started with LAB_WEAK=all
//   node smoke.mjs --spawn         # starts server.mjs itself: the strict checks, then a second
//                                  # instance with LAB_WEAK=all on free ports for the weak checks
//   node smoke.mjs --spawn --weak  # only the weak instance and its checks
//
// Exits non-zero on any failure; the last line is "N passed, M failed".
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const env = process.env;
// the server under test; `target` switches them to the LAB_WEAK instance
let ISSUER_PORT;
let ISSUER;
let LAB_BASE;
let API;
function target(serverEnv) {
  ISSUER_PORT = serverEnv.LAB_ISSUER_PORT ?? (serverEnv.LAB_ISSUER ? new URL(serverEnv.LAB_ISSUER).port : '9000');
  ISSUER = (serverEnv.LAB_ISSUER ?? `http://127.0.0.1:${ISSUER_PORT}`).replace(/\/+$/, '');
  LAB_BASE = `http://127.0.0.1:${ISSUER_PORT}`;
  API = `http://127.0.0.1:${serverEnv.LAB_API_PORT ?? '9001'}`;
}
target(env);
const APP = (env.LAB_APP_ORIGINS ?? 'http://127.0.0.1:8080').split(',')[0].trim().replace(/\/+$/, '');
const REDIRECT_URI = `${APP}/`;
const EVIL = 'http://evil.example';
const CONFIDENTIAL_SECRET = 'demo-secret-not-secret-in-a-browser';

// ------------------------------------------------------------------ checks
let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed += 1; else failed += 1;
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? ` — ${detail}` : ''}`);
  return ok;
}
function section(title) {
  console.log(`\n== ${title}`);
}
const short = (s, n = 90) => {
  const t = String(s);
  return t.length > n ? `${t.slice(0, n)}…(${t.length} chars)` : t;
};

// ------------------------------------------------------------- cookie jar
class Jar {
  cookies = new Map(); // `${name};${path}` -> { name, value, path }

  update(url, res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = new URL(url).pathname.replace(/\/[^/]*$/, '') || '/';
      let expired = false;
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        const key = k.trim().toLowerCase();
        if (key === 'path') path = v.trim();
        if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
        if (key === 'max-age' && Number(v) <= 0) expired = true;
      }
      const id = `${name};${path}`;
      if (expired || value === '') this.cookies.delete(id);
      else this.cookies.set(id, { name, value, path });
    }
  }

  header(url) {
    const { pathname } = new URL(url);
    return [...this.cookies.values()]
      .filter((c) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

async function request(jar, url, { method = 'GET', form, headers = {} } = {}) {
  const h = { ...headers };
  const cookie = jar?.header(url);
  if (cookie) h.cookie = cookie;
  let body;
  if (form) {
    body = new URLSearchParams(form);
    h['content-type'] = 'application/x-www-form-urlencoded';
  }
  const res = await fetch(url, { method, headers: h, body, redirect: 'manual' });
  jar?.update(url, res);
  return res;
}

/** Follow redirects like a browser until a page at the provider or a redirect to the app. */
async function navigate(jar, url, init) {
  let res = await request(jar, url, init);
  let current = url;
  for (let hops = 0; hops < 10; hops += 1) {
    if (res.status < 300 || res.status > 399) break;
    const next = new URL(res.headers.get('location'), current).href;
    await res.arrayBuffer();
    if (new URL(next).origin === new URL(APP).origin) return { callback: new URL(next), status: res.status };
    current = next;
    res = await request(jar, current);
  }
  return { res, url: current, status: res.status, text: await res.text() };
}

const unescapeHtml = (s) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
const formAction = (html, base) => {
  const m = /<form method="post" action="([^"]+)"/.exec(html);
  return m ? new URL(unescapeHtml(m[1]), base).href : null;
};

// ------------------------------------------------------------------ OAuth
const b64url = (buf) => Buffer.from(buf).toString('base64url');
function newPkce() {
  const verifier = b64url(randomBytes(32));
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authUrl(params) {
  const u = new URL(discovery.authorization_endpoint);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return u.href;
}

/** Runs /auth -> (login) -> (consent) and returns the final callback URL or the last page. */
async function authorize(jar, params, { login, password, decision = 'allow' } = {}) {
  let step = await navigate(jar, authUrl(params));
  if (step.callback) return step;
  if (step.text.includes('id="sign-in"')) {
    step = await navigate(jar, formAction(step.text, step.url), { method: 'POST', form: { login, password } });
    if (step.callback) return step;
  }
  if (step.text.includes('id="allow"')) {
    step = await navigate(jar, formAction(step.text, step.url), { method: 'POST', form: { decision } });
  }
  return step;
}

async function tokenRequest(form, { origin = APP, headers = {} } = {}) {
  const h = { ...headers };
  if (origin) h.origin = origin;
  const res = await request(null, discovery.token_endpoint, { method: 'POST', form, headers: h });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch { /* not JSON */ }
  return { res, text, json, status: res.status, acao: res.headers.get('access-control-allow-origin'), type: res.headers.get('content-type') };
}

// ------------------------------------------------- prompt=none probes
// The probes the app's provider checkup makes: prompt=none never stops at the login page, so
// without a session the answer is login_required when the request was accepted, and
// invalid_request / unsupported_response_type when it was refused (checked before interactions).
const PLAIN_CHALLENGE = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ'; // 43 chars: a valid verifier
const PROBES = {
  a: { label: 'a. code, no code_challenge', params: { response_type: 'code', scope: 'openid' } },
  b: { label: 'b. code, code_challenge_method=plain', params: { response_type: 'code', scope: 'openid', code_challenge: PLAIN_CHALLENGE, code_challenge_method: 'plain' } },
  b2: { label: 'b2. code, code_challenge without a method', params: { response_type: 'code', scope: 'openid', code_challenge: PLAIN_CHALLENGE } },
  c: { label: 'c. response_type=token, scope openid', params: { response_type: 'token', scope: 'openid' } },
  c2: { label: 'c2. response_type=token, scope profile', params: { response_type: 'token', scope: 'profile' } },
  d: { label: 'd. code + S256 (control)', params: { response_type: 'code', scope: 'openid', code_challenge: createHash('sha256').update(PLAIN_CHALLENGE).digest('base64url'), code_challenge_method: 'S256' } },
};

/** One GET /auth without following the redirect; `p` holds the response (query or fragment). */
async function probe(jar, params) {
  const res = await request(jar, authUrl({ client_id: 'flow-lab', redirect_uri: REDIRECT_URI, state: 'abc', prompt: 'none', ...params }));
  await res.arrayBuffer();
  const location = res.headers.get('location');
  const url = location ? new URL(location) : null;
  const where = !url ? 'none' : (url.hash.length > 1 ? 'fragment' : 'query');
  const p = new URLSearchParams(where === 'fragment' ? url.hash.slice(1) : (url?.search ?? ''));
  const shown = url ? `${res.status} ${url.origin}${url.pathname}${where === 'fragment' ? '#' : '?'}${[...p.keys()].join('&')}: ${p.get('error') ?? ''} ${p.get('error_description') ?? ''}` : `${res.status}`;
  return { status: res.status, url, where, p, shown };
}

/** redirect back to the app, the response in `where`, `error`, state echoed; iss as `iss` (null = absent) */
function probeIs(r, { where, error, iss }) {
  return r.status === 303 && r.url?.origin === new URL(APP).origin && r.where === where
    && r.p.get('error') === error && r.p.get('state') === 'abc' && r.p.get('iss') === iss;
}

const tokenForm = (code, verifier) => ({
  grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: 'flow-lab',
  ...(verifier === undefined ? {} : { code_verifier: verifier }),
});

async function api(path, token, { origin = APP, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (origin) h.origin = origin;
  const res = await fetch(`${API}${path}`, { headers: h });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch { /* ignore */ }
  return { status: res.status, json, text, www: res.headers.get('www-authenticate'), headers: res.headers };
}

async function faults(body, method = 'POST', contentType = 'application/json') {
  const res = await fetch(`${LAB_BASE}/__lab/faults`, {
    method,
    headers: body !== undefined ? { 'content-type': contentType } : {},
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

function decodeJwt(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

/** a fresh code for flow-lab via an existing session (no interaction needed) */
async function quickCode(jar, scope = 'openid read:profile') {
  const pkce = newPkce();
  const state = b64url(randomBytes(16));
  const step = await authorize(jar, {
    client_id: 'flow-lab', response_type: 'code', redirect_uri: REDIRECT_URI, scope, state,
    code_challenge: pkce.challenge, code_challenge_method: 'S256',
  });
  return { code: step.callback?.searchParams.get('code'), pkce, step };
}

// ------------------------------------------------------------------ spawn
const children = [];
async function startServer(serverEnv) {
  const localNode = join(HERE, 'node_modules', '.bin', 'node');
  const node = existsSync(localNode) ? localNode : process.execPath;
  const child = spawn(node, [join(HERE, 'server.mjs')], { stdio: ['ignore', 'pipe', 'inherit'], env: serverEnv });
  children.push(child);
  let out = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 15000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\nready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
  if (env.SMOKE_VERBOSE) child.stdout.pipe(process.stdout);
  else child.stdout.resume();
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(String(port)));
    });
  });
}

/** env for the LAB_WEAK=all instance: same settings, other (free) ports */
async function weakEnv() {
  const issuerPort = await freePort();
  const apiPort = await freePort();
  const weak = { ...env, LAB_WEAK: 'all', LAB_ISSUER_PORT: issuerPort, LAB_API_PORT: apiPort };
  if (env.LAB_ISSUER) {
    const u = new URL(env.LAB_ISSUER);
    u.port = issuerPort;
    weak.LAB_ISSUER = u.href;
  }
  delete weak.LAB_NO_CORS;
  return weak;
}

// ------------------------------------------------------------------ tests
let discovery;

async function strictChecks() {
  await faults(undefined, 'DELETE');

  section('discovery');
  const dres = await fetch(`${ISSUER}/.well-known/openid-configuration`);
  discovery = await dres.json();
  check('discovery 200', dres.status === 200, `${ISSUER}/.well-known/openid-configuration`);
  check('issuer matches exactly', discovery.issuer === ISSUER, discovery.issuer);
  check('code_challenge_methods_supported is ["S256"]', JSON.stringify(discovery.code_challenge_methods_supported) === '["S256"]', JSON.stringify(discovery.code_challenge_methods_supported));
  check('authorization_response_iss_parameter_supported (RFC 9207)', discovery.authorization_response_iss_parameter_supported === true);
  const wantScopes = ['openid', 'profile', 'email', 'offline_access', 'read:profile', 'read:files'];
  check('scopes_supported has all lab scopes', wantScopes.every((s) => discovery.scopes_supported?.includes(s)), discovery.scopes_supported?.join(' '));
  check('revocation/introspection/end_session endpoints', ['revocation_endpoint', 'introspection_endpoint', 'end_session_endpoint'].every((k) => discovery[k]),
    [discovery.revocation_endpoint, discovery.introspection_endpoint, discovery.end_session_endpoint].join(' '));
  check('only response_type code', JSON.stringify(discovery.response_types_supported) === '["code"]', JSON.stringify(discovery.response_types_supported));

  section('PKCE policy at /auth');
  {
    const jar = new Jar();
    const noPkce = await navigate(jar, authUrl({ client_id: 'flow-lab', response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid', state: 's1' }));
    const p = noPkce.callback?.searchParams;
    check('public client without code_challenge -> error redirect', p?.get('error') === 'invalid_request', `${p?.get('error')}: ${p?.get('error_description')}`);
    const plain = await navigate(jar, authUrl({
      client_id: 'flow-lab', response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid', state: 's2',
      code_challenge: b64url(randomBytes(32)), code_challenge_method: 'plain',
    }));
    const q = plain.callback?.searchParams;
    check('code_challenge_method=plain refused', q?.get('error') === 'invalid_request' && !q.has('code'), `${q?.get('error')}: ${q?.get('error_description')}`);
  }

  section('prompt=none probes, no session (strict: all refused but the control)');
  {
    const jar = new Jar();
    let r = await probe(jar, PROBES.a.params);
    check(`${PROBES.a.label} -> query invalid_request (PKCE required), iss`, probeIs(r, { where: 'query', error: 'invalid_request', iss: ISSUER }) && r.p.get('error_description') === 'Authorization Server policy requires PKCE to be used for this request', r.shown);
    r = await probe(jar, PROBES.b.params);
    check(`${PROBES.b.label} -> query invalid_request, iss`, probeIs(r, { where: 'query', error: 'invalid_request', iss: ISSUER }) && r.p.get('error_description') === 'not supported value of code_challenge_method', r.shown);
    r = await probe(jar, PROBES.b2.params);
    check(`${PROBES.b2.label} -> query invalid_request, iss`, probeIs(r, { where: 'query', error: 'invalid_request', iss: ISSUER }) && r.p.get('error_description') === 'code_challenge_method must be provided', r.shown);
    r = await probe(jar, PROBES.c.params);
    check(`${PROBES.c.label} -> FRAGMENT unsupported_response_type, iss`, probeIs(r, { where: 'fragment', error: 'unsupported_response_type', iss: ISSUER }), r.shown);
    r = await probe(jar, PROBES.c2.params);
    check(`${PROBES.c2.label} -> FRAGMENT unsupported_response_type, iss`, probeIs(r, { where: 'fragment', error: 'unsupported_response_type', iss: ISSUER }), r.shown);
    r = await probe(jar, PROBES.d.params);
    check(`${PROBES.d.label} -> query login_required, iss`, probeIs(r, { where: 'query', error: 'login_required', iss: ISSUER }), r.shown);
    const bogus = await tokenRequest(tokenForm('bogus', PLAIN_CHALLENGE));
    check('token with a bogus code -> 400 invalid_grant, ACAO app, no-store', bogus.status === 400 && bogus.json?.error === 'invalid_grant' && bogus.acao === APP && bogus.res.headers.get('cache-control') === 'no-store',
      `${bogus.status} ${bogus.text} ACAO=${bogus.acao} Cache-Control=${bogus.res.headers.get('cache-control')}`);
  }

  section('alice: login, consent, code (public client, PKCE S256)');
  const alice = new Jar();
  const pkce = newPkce();
  const state = b64url(randomBytes(32));
  const nonce = b64url(randomBytes(16));
  const first = await navigate(alice, authUrl({
    client_id: 'flow-lab', response_type: 'code', redirect_uri: REDIRECT_URI,
    scope: 'openid profile email read:profile offline_access', state, nonce,
    code_challenge: pkce.challenge, code_challenge_method: 'S256',
    login_hint: '"><script>alert(1)</script>',
  }));
  const loginHtml = first.text ?? '';
  check('GET /auth lands on the login page', first.status === 200 && /\/interaction\/[\w-]+$/.test(new URL(first.url).pathname), `${first.status} ${first.url}`);
  check('login page title', loginHtml.includes('<title>OAuth Flow Lab — demo provider</title>'));
  check('login page fields login/password/sign-in + hint', ['id="login" name="login"', 'id="password" name="password"', 'id="sign-in"', 'id="demo-accounts"'].every((s) => loginHtml.includes(s)));
  check('login page names the client', loginHtml.includes('OAuth Flow Lab</strong>') && loginHtml.includes('<code id="client-id">flow-lab</code>'));
  check('echoed login_hint is HTML-escaped', !loginHtml.includes('<script>alert(1)') && loginHtml.includes('&lt;script&gt;'));
  const loginAction = formAction(loginHtml, first.url);
  const wrong = await navigate(alice, loginAction, { method: 'POST', form: { login: 'alice', password: 'nope' } });
  check('wrong password -> 200 at provider with #login-error', wrong.status === 200 && !wrong.callback && wrong.text.includes('id="login-error"') && wrong.text.includes('Wrong user name or password'), `${wrong.status} ${wrong.url}`);
  const consent = await navigate(alice, formAction(wrong.text, wrong.url), { method: 'POST', form: { login: 'alice', password: 'wonderland' } });
  const ch = consent.text ?? '';
  check('right password -> consent page', consent.status === 200 && ch.includes('id="allow"') && ch.includes('id="deny"'), `${consent.status} ${consent.url}`);
  check('consent lists scopes with descriptions', ['read:profile', 'Read your profile', 'offline_access', 'Stay signed in (refresh token)', 'openid', 'profile', 'email'].every((s) => ch.includes(s)));
  check('consent names client and account', ch.includes('OAuth Flow Lab</strong>') && ch.includes('Alice Liddell'));
  const cb = await navigate(alice, formAction(ch, consent.url), { method: 'POST', form: { decision: 'allow' } });
  const cbq = cb.callback?.searchParams;
  check('Allow -> 303 to app with code, state, iss', cb.status === 303 && cb.callback.origin + cb.callback.pathname === REDIRECT_URI && cbq.has('code') && cbq.get('state') === state && cbq.get('iss') === ISSUER,
    cb.callback ? `${REDIRECT_URI}?${[...cbq.keys()].join('=…&')}=…  (iss=${cbq.get('iss')})` : 'no callback');
  const code = cbq?.get('code');

  section('token endpoint (back channel, CORS)');
  const tok = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: 'flow-lab', code_verifier: pkce.verifier });
  const t = tok.json ?? {};
  check('token 200 with access/id/refresh tokens', tok.status === 200 && t.access_token && t.id_token && t.refresh_token && t.token_type === 'Bearer', `${tok.status} keys=${Object.keys(t).join(',')}`);
  check('token response ACAO = app origin', tok.acao === APP, `Access-Control-Allow-Origin: ${tok.acao}`);
  check('token response Cache-Control no-store', /no-store/.test(tok.res.headers.get('cache-control') ?? ''));
  check('access token scope includes read:profile + offline_access', (t.scope ?? '').split(' ').includes('read:profile') && (t.scope ?? '').split(' ').includes('offline_access'), `scope="${t.scope}" expires_in=${t.expires_in}`);
  if (t.id_token) {
    const idt = decodeJwt(t.id_token);
    check('id_token iss/aud/nonce/sub', idt.iss === ISSUER && idt.aud === 'flow-lab' && idt.nonce === nonce && idt.sub === 'alice', `sub=${idt.sub} name=${idt.name} email=${idt.email}`);
  }

  section('resource API');
  const prof = await api('/api/profile', t.access_token);
  check('/api/profile with token -> 200 alice', prof.status === 200 && prof.json?.sub === 'alice' && prof.json?.name === 'Alice Liddell' && prof.json?.email === 'alice@example.test', `${prof.status} ${prof.text}`);
  check('/api/profile CORS: ACAO + Vary + Expose WWW-Authenticate', prof.headers.get('access-control-allow-origin') === APP && /origin/i.test(prof.headers.get('vary') ?? '') && /www-authenticate/i.test(prof.headers.get('access-control-expose-headers') ?? ''));
  const files403 = await api('/api/files', t.access_token);
  check('/api/files without read:files -> 403 insufficient_scope', files403.status === 403 && files403.json?.error === 'insufficient_scope' && /error="insufficient_scope"/.test(files403.www) && /scope="read:files"/.test(files403.www), `${files403.status} WWW-Authenticate: ${files403.www}`);
  const none = await api('/api/profile', null);
  check('no token -> 401 Bearer realm and DPoP algs (RFC 9449 §7.1), no error', none.status === 401 && none.www === 'Bearer realm="flow-lab-api", DPoP realm="flow-lab-api", algs="ES256 ES384 PS256 RS256 Ed25519 EdDSA"', `${none.status} WWW-Authenticate: ${none.www}`);
  const garbage = await api('/api/profile', 'garbage-token-123');
  check('garbage token -> 401 invalid_token', garbage.status === 401 && /error="invalid_token"/.test(garbage.www), `${garbage.status} WWW-Authenticate: ${garbage.www}`);
  const inQuery = await fetch(`${API}/api/profile?access_token=${encodeURIComponent(t.access_token)}`);
  check('token in query is ignored -> 401', inQuery.status === 401, `${inQuery.status}`);
  const refreshAsAccess = await api('/api/profile', t.refresh_token);
  check('refresh token used as access token -> 401', refreshAsAccess.status === 401, `${refreshAsAccess.status} ${refreshAsAccess.json?.error_description}`);
  const pre = await fetch(`${API}/api/files`, { method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
  check('API preflight from app origin', pre.status === 204 && pre.headers.get('access-control-allow-origin') === APP && /authorization/i.test(pre.headers.get('access-control-allow-headers') ?? ''), `${pre.status} allow-headers=${pre.headers.get('access-control-allow-headers')}`);
  const preEvil = await fetch(`${API}/api/files`, { method: 'OPTIONS', headers: { origin: EVIL, 'access-control-request-method': 'GET' } });
  check('API preflight from foreign origin has no ACAO', !preEvil.headers.get('access-control-allow-origin'));
  const me = await fetch(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${t.access_token}`, origin: APP } });
  const meJson = await me.json();
  check('userinfo /me 200 with claims + ACAO', me.status === 200 && meJson.sub === 'alice' && meJson.email === 'alice@example.test' && me.headers.get('access-control-allow-origin') === APP, JSON.stringify(meJson));

  section('refresh token rotation');
  const ref1 = await tokenRequest({ grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: 'flow-lab' });
  check('refresh -> 200, new access + rotated refresh token', ref1.status === 200 && ref1.json?.access_token && ref1.json?.refresh_token && ref1.json.refresh_token !== t.refresh_token && ref1.acao === APP, `${ref1.status}`);
  const ref2 = await tokenRequest({ grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: 'flow-lab' });
  check('reusing the rotated-out refresh token -> invalid_grant', ref2.status === 400 && ref2.json?.error === 'invalid_grant', `${ref2.status} ${ref2.json?.error}: ${ref2.json?.error_description}`);

  section('revocation');
  const fresh = await quickCode(alice);
  check('existing session + grant -> straight back to the app (no pages)', !!fresh.code, fresh.step.callback ? 'callback with code' : `${fresh.step.status} ${fresh.step.url}`);
  const tok2 = await tokenRequest({ grant_type: 'authorization_code', code: fresh.code, redirect_uri: REDIRECT_URI, client_id: 'flow-lab', code_verifier: fresh.pkce.verifier });
  const at2 = tok2.json?.access_token;
  check('second token 200', tok2.status === 200 && !!at2);
  const before = await api('/api/profile', at2);
  const rev = await request(null, discovery.revocation_endpoint, { method: 'POST', form: { token: at2, token_type_hint: 'access_token', client_id: 'flow-lab' }, headers: { origin: APP } });
  check('revocation 200 with ACAO', rev.status === 200 && rev.headers.get('access-control-allow-origin') === APP, `${rev.status}`);
  const after = await api('/api/profile', at2);
  check('revoked token -> 401 invalid_token', before.status === 200 && after.status === 401 && /error="invalid_token"/.test(after.www), `before=${before.status} after=${after.status} ${after.www}`);

  section('prompt=none probes with a session (strict; the grant exists again)');
  {
    let r = await probe(alice, PROBES.a.params);
    check('a. with a session: still invalid_request (PKCE is checked before the session)', probeIs(r, { where: 'query', error: 'invalid_request', iss: ISSUER }), r.shown);
    r = await probe(alice, { ...PROBES.c.params, scope: 'openid read:profile' });
    check('c. with a session: still FRAGMENT unsupported_response_type', probeIs(r, { where: 'fragment', error: 'unsupported_response_type', iss: ISSUER }), r.shown);
    r = await probe(alice, { ...PROBES.d.params, scope: 'openid read:profile' });
    check('d. with a session: query code, iss', r.status === 303 && r.where === 'query' && r.p.has('code') && r.p.get('iss') === ISSUER && r.p.get('state') === 'abc', r.shown);
  }

  section('code replay and wrong verifier');
  const replay = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: 'flow-lab', code_verifier: pkce.verifier });
  check('code replay -> 400 invalid_grant', replay.status === 400 && replay.json?.error === 'invalid_grant', `${replay.status} ${replay.json?.error}: ${replay.json?.error_description}`);
  const afterReplay = await api('/api/profile', ref1.json?.access_token);
  check('…and tokens from the replayed code\'s grant are revoked', afterReplay.status === 401, `${afterReplay.status}`);
  const wv = await quickCode(alice);
  const wrongVerifier = await tokenRequest({ grant_type: 'authorization_code', code: wv.code, redirect_uri: REDIRECT_URI, client_id: 'flow-lab', code_verifier: newPkce().verifier });
  check('wrong code_verifier -> 400 invalid_grant', wrongVerifier.status === 400 && wrongVerifier.json?.error === 'invalid_grant', `${wrongVerifier.status} ${wrongVerifier.json?.error}: ${wrongVerifier.json?.error_description}`);
  const nv = await quickCode(alice);
  const noVerifier = await tokenRequest({ grant_type: 'authorization_code', code: nv.code, redirect_uri: REDIRECT_URI, client_id: 'flow-lab' });
  check('missing code_verifier -> 400 invalid_grant', noVerifier.status === 400 && noVerifier.json?.error === 'invalid_grant', `${noVerifier.status} ${noVerifier.json?.error}: ${noVerifier.json?.error_description}`);
  // oidc-provider checks PKCE before it looks at (and sets) the consumed flag
  const wvRight = await tokenRequest(tokenForm(wv.code, wv.pkce.verifier));
  check('a failed redemption (wrong verifier) does not burn the code: the right verifier still redeems it', wvRight.status === 200 && !!wvRight.json?.access_token, `${wvRight.status} ${wvRight.json?.error ?? ''}`);
  const nvRight = await tokenRequest(tokenForm(nv.code, nv.pkce.verifier));
  check('…nor does one without a verifier', nvRight.status === 200 && !!nvRight.json?.access_token, `${nvRight.status} ${nvRight.json?.error ?? ''}`);
  const replayWrong = await tokenRequest(tokenForm(wv.code, newPkce().verifier));
  const wvStill = await api('/api/profile', wvRight.json?.access_token);
  check('replay with a WRONG verifier -> invalid_grant, tokens NOT revoked', replayWrong.status === 400 && replayWrong.json?.error === 'invalid_grant' && wvStill.status === 200, `${replayWrong.status} ${replayWrong.json?.error}; API with the first token: ${wvStill.status}`);
  const replayRight = await tokenRequest(tokenForm(wv.code, wv.pkce.verifier));
  const wvGone = await api('/api/profile', wvRight.json?.access_token);
  check('replay with the right verifier -> invalid_grant "already consumed", tokens revoked (API 401)', replayRight.status === 400 && replayRight.json?.error === 'invalid_grant' && wvGone.status === 401, `${replayRight.status} ${replayRight.json?.error}; API with the first token: ${wvGone.status}`);
  const foreign = await tokenRequest({ grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT_URI, client_id: 'flow-lab', code_verifier: pkce.verifier }, { origin: EVIL });
  check('token request from a foreign origin -> 400, no ACAO', foreign.status === 400 && !foreign.acao, `${foreign.status} ${foreign.json?.error_description}`);

  section('bob: deny, then read:files');
  const bob = new Jar();
  const bobState = b64url(randomBytes(16));
  const bp = newPkce();
  const denied = await authorize(bob, {
    client_id: 'flow-lab', response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid read:files', state: bobState,
    code_challenge: bp.challenge, code_challenge_method: 'S256',
  }, { login: 'bob', password: 'builder', decision: 'deny' });
  const dq = denied.callback?.searchParams;
  check('Deny -> error=access_denied&state&iss', dq?.get('error') === 'access_denied' && dq.get('state') === bobState && dq.get('iss') === ISSUER && !dq.has('code'),
    denied.callback ? denied.callback.href : `${denied.status}`);
  check('Deny error_description', dq?.get('error_description') === 'The user denied access', dq?.get('error_description'));
  const bp2 = newPkce();
  const bobOk = await authorize(bob, {
    client_id: 'flow-lab', response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid read:files', state: 'b2',
    code_challenge: bp2.challenge, code_challenge_method: 'S256',
  }, { login: 'bob', password: 'builder' });
  const bobTok = await tokenRequest({ grant_type: 'authorization_code', code: bobOk.callback?.searchParams.get('code'), redirect_uri: REDIRECT_URI, client_id: 'flow-lab', code_verifier: bp2.verifier });
  check('bob token has read:files and no refresh token (no offline_access)', bobTok.status === 200 && bobTok.json.scope.split(' ').includes('read:files') && !bobTok.json.refresh_token, `scope="${bobTok.json?.scope}"`);
  const bobFiles = await api('/api/files', bobTok.json?.access_token);
  check('/api/files -> 200 bob\'s files', bobFiles.status === 200 && bobFiles.json?.owner === 'bob' && bobFiles.json.files.length > 0, short(bobFiles.text, 120));
  const bobProfile = await api('/api/profile', bobTok.json?.access_token);
  check('/api/profile without read:profile -> 403', bobProfile.status === 403 && /scope="read:profile"/.test(bobProfile.www), bobProfile.www);

  section('confidential client, PKCE off');
  const conf = await authorize(alice, {
    client_id: 'flow-lab-confidential', response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid read:profile', state: 'c1',
  });
  const confCode = conf.callback?.searchParams.get('code');
  check('/auth without PKCE accepted for the confidential client', !!confCode, conf.callback ? conf.callback.href.replace(/code=[^&]+/, 'code=…') : `${conf.status} ${conf.url}`);
  const noSecret = await tokenRequest({ grant_type: 'authorization_code', code: confCode, redirect_uri: REDIRECT_URI, client_id: 'flow-lab-confidential' });
  check('token without the secret -> 401 invalid_client', noSecret.status === 401 && noSecret.json?.error === 'invalid_client', `${noSecret.status} ${noSecret.json?.error}`);
  const conf2 = await authorize(alice, { client_id: 'flow-lab-confidential', response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid read:profile', state: 'c2' });
  const confTok = await tokenRequest({ grant_type: 'authorization_code', code: conf2.callback?.searchParams.get('code'), redirect_uri: REDIRECT_URI, client_id: 'flow-lab-confidential', client_secret: CONFIDENTIAL_SECRET });
  check('client_secret_post without verifier -> tokens, ACAO set', confTok.status === 200 && !!confTok.json?.access_token && confTok.acao === APP, `${confTok.status} ACAO=${confTok.acao}`);

  section('fault switches');
  const fx = async (fault, form, extra = {}) => {
    const set = await faults({ token: fault, ...extra });
    if (set.status !== 200) return { setStatus: set.status };
    return tokenRequest(form ?? { grant_type: 'authorization_code', code: 'not-a-real-code', redirect_uri: REDIRECT_URI, client_id: 'flow-lab', code_verifier: newPkce().verifier });
  };
  const realCodeForm = async () => {
    const q = await quickCode(alice);
    return { grant_type: 'authorization_code', code: q.code, redirect_uri: REDIRECT_URI, client_id: 'flow-lab', code_verifier: q.pkce.verifier };
  };

  let r = await fx('html500');
  check('html500 -> 500 text/html (with ACAO)', r.status === 500 && /text\/html/.test(r.type) && r.acao === APP, `${r.status} ${r.type} ${short(r.text, 60)}`);
  r = await fx('not_json');
  check('not_json -> 200 "this is not json"', r.status === 200 && r.text === 'this is not json' && r.json === undefined, `${r.status} ${r.type} "${r.text}"`);
  r = await fx('json_text_plain', await realCodeForm());
  check('json_text_plain -> 200 token JSON as text/plain', r.status === 200 && /^text\/plain/.test(r.type) && !!r.json?.access_token && r.acao === APP, `${r.status} ${r.type}`);
  r = await fx('expires_in_string', await realCodeForm());
  check('expires_in_string -> expires_in is a string', r.status === 200 && typeof r.json?.expires_in === 'string', `expires_in=${JSON.stringify(r.json?.expires_in)}`);
  r = await fx('no_cors', await realCodeForm());
  check('no_cors -> 200 tokens without ACAO', r.status === 200 && !!r.json?.access_token && !r.acao, `${r.status} ACAO=${r.acao}`);
  r = await fx('redirect307');
  check('redirect307 -> 307 Location elsewhere', r.status === 307 && /\/__lab\/redirected-token$/.test(r.res.headers.get('location') ?? ''), `${r.status} Location: ${r.res.headers.get('location')}`);
  r = await fx('invalid_grant');
  check('invalid_grant -> 400 JSON invalid_grant', r.status === 400 && r.json?.error === 'invalid_grant', `${r.status} ${r.text}`);
  r = await fx('huge_error_description');
  const desc = r.json?.error_description ?? '';
  check('huge_error_description -> 400, 100 KB, HTML + U+202E', r.status === 400 && r.json?.error === 'invalid_request' && desc.length >= 100 * 1024 && desc.includes('<img src=x onerror=alert(1)>') && desc.includes('\u202E'), `${r.status} length=${desc.length}`);
  await faults({ token: 'hang' });
  const hangStart = Date.now();
  let hangOutcome;
  try {
    await fetch(discovery.token_endpoint, { method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x', client_id: 'flow-lab' }), signal: AbortSignal.timeout(1500), headers: { origin: APP } });
    hangOutcome = 'answered';
  } catch (err) {
    hangOutcome = err.name;
  }
  check('hang -> no answer (client timeout)', hangOutcome === 'TimeoutError', `${hangOutcome} after ${Date.now() - hangStart} ms`);
  const reset = await faults(undefined, 'DELETE');
  check('DELETE /__lab/faults resets', reset.status === 200 && reset.json.token === null && reset.json.callback_iss === null);
  r = await tokenRequest(await realCodeForm());
  check('after reset the token endpoint is normal again', r.status === 200 && typeof r.json?.expires_in === 'number' && r.acao === APP, `${r.status}`);
  await faults({ token: 'invalid_grant', times: 1 });
  const once1 = await tokenRequest(await realCodeForm());
  const once2 = await tokenRequest(await realCodeForm());
  check('"times": 1 applies the fault to the next request only', once1.json?.error === 'invalid_grant' && once2.status === 200, `${once1.status} then ${once2.status}`);
  const bad = await faults({ token: 'nonsense' });
  check('unknown fault name -> 400', bad.status === 400);
  const notJsonCtl = await faults({ token: 'html500' }, 'POST', 'text/plain');
  check('fault control refuses non-JSON bodies (no CSRF via simple requests)', notJsonCtl.status === 415);
  const state415 = await faults(undefined, 'GET');
  check('…and the refused request changed nothing', state415.json?.token === null, JSON.stringify({ token: state415.json?.token }));

  await faults({ callback_iss: 'http://evil.example' });
  let cbf = await quickCode(alice);
  check('callback_iss="http://evil.example" rewrites iss', cbf.step.callback?.searchParams.get('iss') === 'http://evil.example', `iss=${cbf.step.callback?.searchParams.get('iss')}`);
  await faults({ callback_iss: '' });
  cbf = await quickCode(alice);
  check('callback_iss="" removes iss', cbf.step.callback && !cbf.step.callback.searchParams.has('iss') && cbf.step.callback.searchParams.has('code'), cbf.step.callback ? `params: ${[...cbf.step.callback.searchParams.keys()].join(',')}` : 'no callback');
  await faults({ callback_iss: null });
  cbf = await quickCode(alice);
  check('callback_iss=null -> real iss again', cbf.step.callback?.searchParams.get('iss') === ISSUER);

  section('misc pages');
  const stale = await fetch(`${ISSUER}/interaction/doesnotexist`);
  const staleText = await stale.text();
  check('interaction page without cookie -> 400 error page', stale.status === 400 && staleText.includes('id="provider-error"'), `${stale.status}`);
  check('provider pages send a CSP', /default-src 'none'/.test(stale.headers.get('content-security-policy') ?? ''));
  const logout = await navigate(alice, `${discovery.end_session_endpoint}?client_id=flow-lab&post_logout_redirect_uri=${encodeURIComponent(REDIRECT_URI)}&state=bye`);
  check('end_session shows the sign-out page', logout.status === 200 && logout.text.includes('id="logout-yes"'), `${logout.status}`);
  const logoutAction = /<form id="op.logoutForm" method="post" action="([^"]+)"><input type="hidden" name="xsrf" value="([^"]+)"/.exec(logout.text ?? '');
  if (logoutAction) {
    const done = await navigate(alice, logoutAction[1], { method: 'POST', form: { xsrf: logoutAction[2], logout: 'yes' } });
    check('sign out -> back to the app with state', done.callback?.searchParams.get('state') === 'bye', done.callback?.href ?? `${done.status}`);
    const again = await navigate(alice, authUrl({ client_id: 'flow-lab', response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid', state: 's', code_challenge: newPkce().challenge, code_challenge_method: 'S256' }));
    check('after sign-out /auth asks for the password again', again.status === 200 && (again.text ?? '').includes('id="sign-in"'));
  } else {
    check('logout form found', false);
  }
}

// ------------------------------------------------------------ LAB_WEAK=all
async function weakChecks() {
  await faults(undefined, 'DELETE');

  section('LAB_WEAK=all: discovery');
  const dres = await fetch(`${ISSUER}/.well-known/openid-configuration`);
  discovery = await dres.json();
  check('weak discovery 200, issuer matches', dres.status === 200 && discovery.issuer === ISSUER, discovery.issuer);
  check('code_challenge_methods_supported is ["S256","plain"]', JSON.stringify(discovery.code_challenge_methods_supported) === '["S256","plain"]', JSON.stringify(discovery.code_challenge_methods_supported));
  check('response_types_supported includes token', discovery.response_types_supported?.includes('token') && discovery.response_types_supported.includes('code'), JSON.stringify(discovery.response_types_supported));
  check('authorization_response_iss_parameter_supported not advertised', !('authorization_response_iss_parameter_supported' in discovery));

  section('LAB_WEAK=all: prompt=none probes, no session (all accepted: login_required, no iss)');
  {
    const jar = new Jar();
    for (const [key, { label, params }] of Object.entries(PROBES)) {
      const r = await probe(jar, params);
      const where = key.startsWith('c') ? 'fragment' : 'query';
      check(`${label} -> ${where} login_required, no iss`, probeIs(r, { where, error: 'login_required', iss: null }), r.shown);
    }
    const bogus = await tokenRequest(tokenForm('bogus', PLAIN_CHALLENGE));
    check('token with a bogus code -> 400 invalid_grant, no ACAO (no_cors), no-store', bogus.status === 400 && bogus.json?.error === 'invalid_grant' && !bogus.acao && bogus.res.headers.get('cache-control') === 'no-store',
      `${bogus.status} ${bogus.text} ACAO=${bogus.acao} Cache-Control=${bogus.res.headers.get('cache-control')}`);
    const pre = await fetch(discovery.token_endpoint, { method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'POST' } });
    check('token preflight from the app origin: no Access-Control-* header', ![...pre.headers.keys()].some((k) => k.startsWith('access-control-')), `${pre.status} ${[...pre.headers.keys()].join(',')}`);
  }

  section('LAB_WEAK=all: login and code without PKCE (pkce_optional)');
  const jar = new Jar();
  const first = await authorize(jar, {
    client_id: 'flow-lab', response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid profile read:profile', state: 'w1',
  }, { login: 'alice', password: 'wonderland' });
  const fq = first.callback?.searchParams;
  check('no code_challenge: login + consent -> code, state, no iss', !!fq?.get('code') && fq.get('state') === 'w1' && !fq.has('iss'), first.callback ? `params: ${[...fq.keys()].join(',')}` : `${first.status} ${first.url}`);
  const t1 = await tokenRequest(tokenForm(fq?.get('code')));
  check('token without code_verifier -> 200, no ACAO, Cache-Control no-store', t1.status === 200 && !!t1.json?.access_token && !t1.acao && t1.res.headers.get('cache-control') === 'no-store', `${t1.status} ACAO=${t1.acao} Cache-Control=${t1.res.headers.get('cache-control')}`);

  section('LAB_WEAK=all: prompt=none with a session');
  let r = await probe(jar, PROBES.a.params);
  check('a. no code_challenge -> query code, no iss', r.status === 303 && r.where === 'query' && r.p.has('code') && !r.p.has('iss') && r.p.get('state') === 'abc', r.shown);
  let tr = await tokenRequest(tokenForm(r.p.get('code')));
  check('…redeemed without code_verifier -> 200', tr.status === 200 && !!tr.json?.access_token, `${tr.status} ${tr.json?.error ?? ''}`);
  const verifier = b64url(randomBytes(32));
  r = await probe(jar, { ...PROBES.b.params, code_challenge: verifier });
  check('b. plain -> query code, no iss', r.where === 'query' && r.p.has('code') && !r.p.has('iss'), r.shown);
  const plainCode = r.p.get('code');
  tr = await tokenRequest(tokenForm(plainCode, newPkce().verifier));
  check('…a wrong verifier -> 400 invalid_grant', tr.status === 400 && tr.json?.error === 'invalid_grant', `${tr.status} ${tr.json?.error}`);
  tr = await tokenRequest(tokenForm(plainCode, verifier));
  check('…code_verifier = the plain challenge -> 200 (the failed try did not burn the code)', tr.status === 200 && !!tr.json?.access_token, `${tr.status} ${tr.json?.error ?? ''}: ${tr.json?.error_description ?? ''}`);
  r = await probe(jar, { ...PROBES.b2.params, code_challenge: verifier });
  tr = await tokenRequest(tokenForm(r.p.get('code'), verifier));
  check('b2. challenge without a method = plain -> code, redeemed with the plain verifier', r.p.has('code') && tr.status === 200, `${r.shown} -> token ${tr.status}`);
  r = await probe(jar, { ...PROBES.b.params, code_challenge: 'too-short' });
  check('plain challenge that is not a valid verifier -> invalid_request', r.p.get('error') === 'invalid_request', r.shown);
  const s256 = newPkce();
  r = await probe(jar, { ...PROBES.d.params, code_challenge: s256.challenge });
  tr = await tokenRequest(tokenForm(r.p.get('code')));
  check('a challenge that WAS sent is still checked: S256 code without verifier -> invalid_grant', r.p.has('code') && tr.status === 400 && tr.json?.error === 'invalid_grant', `${r.shown} -> token ${tr.status} ${tr.json?.error}`);
  tr = await tokenRequest(tokenForm(r.p.get('code'), s256.verifier));
  check('…and S256 with its verifier -> 200', tr.status === 200, `${tr.status}`);

  section('LAB_WEAK=all: implicit (response_type=token)');
  r = await probe(jar, { ...PROBES.c.params, scope: 'openid read:profile' });
  check('c. token -> FRAGMENT access_token, token_type Bearer, state, no iss', r.status === 303 && r.where === 'fragment' && !!r.p.get('access_token') && r.p.get('token_type') === 'Bearer' && r.p.get('state') === 'abc' && !r.p.has('iss') && !r.url.search,
    `${r.status} ${r.where}: ${[...r.p.keys()].join(',')}`);
  const implicitProfile = await api('/api/profile', r.p.get('access_token'));
  check('…the access token from the URL works at the API', implicitProfile.status === 200 && implicitProfile.json?.sub === 'alice', `${implicitProfile.status}`);
  r = await probe(jar, { ...PROBES.c2.params, scope: 'read:profile' });
  check('c2. token without openid in scope -> fragment access_token (openid and a nonce added)', r.where === 'fragment' && !!r.p.get('access_token') && !!r.p.get('id_token') && !!decodeJwt(r.p.get('id_token')).nonce, r.shown);

  section('LAB_WEAK=all: the fault switches still have the last word');
  await faults({ callback_iss: 'http://evil.example' });
  r = await probe(jar, PROBES.a.params);
  check('callback_iss="http://evil.example" puts iss back (query)', r.p.get('iss') === 'http://evil.example' && r.p.has('code'), r.shown);
  r = await probe(jar, { ...PROBES.c.params, scope: 'openid read:profile' });
  check('…and into a fragment response', r.where === 'fragment' && r.p.get('iss') === 'http://evil.example' && r.p.has('access_token'), r.shown);
  await faults(undefined, 'DELETE');
  const denied = await authorize(new Jar(), {
    client_id: 'flow-lab', response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid', state: 'deny',
  }, { login: 'bob', password: 'builder', decision: 'deny' });
  const dq = denied.callback?.searchParams;
  check('Deny after login -> access_denied without iss', dq?.get('error') === 'access_denied' && dq.get('state') === 'deny' && !dq.has('iss'), denied.callback?.href ?? `${denied.status}`);
}

async function main() {
  const spawnServers = process.argv.includes('--spawn');
  const weakOnly = process.argv.includes('--weak');
  if (!weakOnly) {
    if (spawnServers) await startServer(Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'LAB_WEAK')));
    try {
      await strictChecks();
    } finally {
      await faults(undefined, 'DELETE').catch(() => {});
    }
  }
  if (weakOnly || spawnServers) {
    if (spawnServers) {
      const serverEnv = await weakEnv();
      target(serverEnv);
      await startServer(serverEnv);
    }
    console.log(`\n######## LAB_WEAK=all instance at ${ISSUER}`);
    await weakChecks();
  }
}

try {
  await main();
} catch (err) {
  failed += 1;
  console.log(`FAIL  unexpected error: ${err.stack}`);
} finally {
  await faults(undefined, 'DELETE').catch(() => {});
  for (const child of children) child.kill('SIGTERM');
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
