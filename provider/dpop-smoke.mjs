// DPoP (RFC 9449) end to end against the real bundled provider and demo API, without a
// browser: scripted code flows (fetch + a cookie jar, like smoke.mjs), proofs signed with
// jose, and the API's and provider's real answers.
//
//   node dpop-smoke.mjs            # starts server.mjs twice on free ports: default, then LAB_DPOP_NONCE=1
//
// Exits non-zero on any failure; the last line is "N passed, M failed".
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT,
} from 'jose';

const HERE = dirname(fileURLToPath(import.meta.url));
const APP = 'http://127.0.0.1:8080';
const REDIRECT_URI = `${APP}/`;
const API_SECRET = randomBytes(24).toString('base64url'); // to introspect as demo-api

// ------------------------------------------------------------------ checks
let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed += 1; else failed += 1;
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? ` — ${detail}` : ''}`);
  return ok;
}
const section = (title) => console.log(`\n== ${title}`);

// ------------------------------------------------------------------ servers
const children = [];
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startServer(extraEnv = {}) {
  const issuerPort = await freePort();
  const apiPort = await freePort();
  const serverEnv = { ...process.env, ...extraEnv };
  for (const name of ['LAB_WEAK', 'LAB_ISSUER', 'LAB_NO_CORS', 'LAB_DISCOVERY']) delete serverEnv[name];
  Object.assign(serverEnv, {
    LAB_ISSUER_PORT: String(issuerPort), LAB_API_PORT: String(apiPort), LAB_APP_ORIGINS: APP, LAB_API_CLIENT_SECRET: API_SECRET,
  });
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
  if (process.env.SMOKE_VERBOSE) child.stdout.pipe(process.stdout); else child.stdout.resume();
  const issuer = `http://127.0.0.1:${issuerPort}`;
  const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  return { issuer, api: `http://127.0.0.1:${apiPort}`, discovery };
}

// --------------------------------------------------------- browser stand-in
class Jar {
  cookies = new Map();

  update(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

const unescapeHtml = (s) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'");
const formAction = (html, base) => {
  const m = /<form method="post" action="([^"]+)"/.exec(html);
  return m ? new URL(unescapeHtml(m[1]), base).href : null;
};

/** Follows redirects until a provider page or the redirect to the app. */
async function navigate(jar, url, { method = 'GET', form } = {}) {
  let current = url;
  let init = { method, form };
  for (let hops = 0; hops < 10; hops += 1) {
    const headers = { cookie: jar.header() };
    let body;
    if (init.form) {
      body = new URLSearchParams(init.form);
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(current, { method: init.method, headers, body, redirect: 'manual' });
    jar.update(res);
    if (res.status < 300 || res.status > 399) return { url: current, text: await res.text() };
    const next = new URL(res.headers.get('location'), current);
    await res.arrayBuffer();
    if (next.origin === APP) return { callback: next };
    current = next.href;
    init = { method: 'GET' };
  }
  throw new Error('too many redirects');
}

/** A code for `clientId` from a full login (alice) and consent. */
async function code(server, clientId, scope = 'openid offline_access read:profile') {
  const jar = new Jar();
  const verifier = randomBytes(32).toString('base64url');
  const auth = new URL(server.discovery.authorization_endpoint);
  for (const [k, v] of Object.entries({
    client_id: clientId, response_type: 'code', redirect_uri: REDIRECT_URI, scope, state: randomBytes(16).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  })) auth.searchParams.set(k, v);
  let step = await navigate(jar, auth.href);
  if (step.text?.includes('id="sign-in"')) step = await navigate(jar, formAction(step.text, step.url), { method: 'POST', form: { login: 'alice', password: 'wonderland' } });
  if (step.text?.includes('id="allow"')) step = await navigate(jar, formAction(step.text, step.url), { method: 'POST', form: { decision: 'allow' } });
  const got = step.callback?.searchParams.get('code');
  if (!got) throw new Error(`no code for ${clientId}: ${step.text?.slice(0, 300)}`);
  return { code: got, verifier };
}

// ------------------------------------------------------------------ DPoP
async function newKey(alg = 'ES256') {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const jwk = await exportJWK(publicKey);
  return { alg, privateKey, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
}

const ath = (token) => createHash('sha256').update(token).digest('base64url');

/** A proof for one request; `claims` overrides or adds claims, `header` header members. */
function proof(key, htm, htu, { token, nonce, claims = {}, header = {} } = {}) {
  return new SignJWT({
    jti: randomBytes(16).toString('base64url'),
    htm,
    htu,
    iat: Math.floor(Date.now() / 1000),
    ...(token ? { ath: ath(token) } : {}),
    ...(nonce ? { nonce } : {}),
    ...claims,
  }).setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk: key.jwk, ...header }).sign(key.privateKey);
}

async function token(server, form, dpop) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (dpop) headers.dpop = dpop;
  const res = await fetch(server.discovery.token_endpoint, { method: 'POST', headers, body: new URLSearchParams(form) });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, json, text, nonce: res.headers.get('dpop-nonce'), www: res.headers.get('www-authenticate') };
}

async function api(server, path, authorization, dpop) {
  const headers = {};
  if (authorization) headers.authorization = authorization;
  if (dpop) headers.dpop = dpop;
  const res = await fetch(`${server.api}${path}`, { headers });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, json, www: res.headers.get('www-authenticate') ?? '', nonce: res.headers.get('dpop-nonce'), shown: `${res.status} ${res.headers.get('www-authenticate') ?? ''}` };
}

async function introspect(server, value) {
  const res = await fetch(server.discovery.introspection_endpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`demo-api:${API_SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: value }),
  });
  return res.json();
}

const codeForm = (clientId, c) => ({
  grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: REDIRECT_URI, client_id: clientId,
});
const dpopRefused = (r, error) => r.status === 401 && /^DPoP |, DPoP /.test(r.www) && r.www.includes(`error="${error}"`) && /algs="ES256[^"]*"/.test(r.www);

// ------------------------------------------------------------------ checks
async function defaultChecks(server) {
  const { discovery } = server;
  section('discovery');
  check('dpop_signing_alg_values_supported: the lab\'s list, ES256 first', JSON.stringify(discovery.dpop_signing_alg_values_supported) === JSON.stringify(['ES256', 'ES384', 'PS256', 'RS256', 'Ed25519', 'EdDSA']), JSON.stringify(discovery.dpop_signing_alg_values_supported));

  section('flow-lab without a proof: still Bearer, and the API still takes it');
  const bearer = await token(server, codeForm('flow-lab', await code(server, 'flow-lab')));
  check('token_type Bearer', bearer.status === 200 && bearer.json?.token_type === 'Bearer', `${bearer.status} ${bearer.json?.token_type}`);
  const bearerInfo = await introspect(server, bearer.json.access_token);
  check('introspection: no cnf for a Bearer token', bearerInfo.active && bearerInfo.cnf === undefined && bearerInfo.token_type === 'Bearer', JSON.stringify({ token_type: bearerInfo.token_type, cnf: bearerInfo.cnf }));
  let r = await api(server, '/api/profile', `Bearer ${bearer.json.access_token}`);
  check('API 200 for the Bearer token sent as Bearer', r.status === 200 && r.json?.sub === 'alice', r.shown);
  r = await api(server, '/api/profile');
  check('API without a token: 401 with a Bearer and a DPoP challenge', r.status === 401 && r.www.startsWith('Bearer realm="flow-lab-api"') && /DPoP realm="flow-lab-api", algs="ES256/.test(r.www), r.shown);
  const key = await newKey();
  const profileUrl = `${server.api}/api/profile`;
  r = await api(server, '/api/profile', `DPoP ${bearer.json.access_token}`, await proof(key, 'GET', profileUrl, { token: bearer.json.access_token }));
  check('a Bearer (unbound) token sent as DPoP: 401 invalid_token', dpopRefused(r, 'invalid_token'), r.shown);

  section('flow-lab with a proof: DPoP-bound token');
  const c = await code(server, 'flow-lab', 'openid offline_access read:profile read:files');
  const tokenProof = await proof(key, 'POST', server.discovery.token_endpoint);
  const bound = await token(server, codeForm('flow-lab', c), tokenProof);
  check('token_type DPoP', bound.status === 200 && bound.json?.token_type === 'DPoP', `${bound.status} ${bound.json?.token_type ?? bound.text}`);
  check('no nonce asked by default (a fresh DPoP-Nonce may come along)', bound.status === 200, `DPoP-Nonce: ${bound.nonce}`);
  const at = bound.json.access_token;
  const info = await introspect(server, at);
  check('introspection: token_type DPoP, cnf.jkt = the key\'s RFC 7638 thumbprint', info.token_type === 'DPoP' && info.cnf?.jkt === key.jkt, JSON.stringify({ token_type: info.token_type, cnf: info.cnf, jkt: key.jkt }));

  section('demo API with the DPoP-bound token');
  const good = await proof(key, 'GET', profileUrl, { token: at });
  r = await api(server, '/api/profile', `DPoP ${at}`, good);
  check('good proof: 200', r.status === 200 && r.json?.sub === 'alice', r.shown);
  r = await api(server, '/api/token-info', `DPoP ${at}`, await proof(key, 'GET', `${server.api}/api/token-info`, { token: at }));
  check('GET /api/token-info with a proof: 200, cnf.jkt = the key\'s thumbprint (what the app shows beside its own)', r.status === 200 && r.json?.cnf?.jkt === key.jkt && r.json?.token_type === 'DPoP', r.shown);
  r = await api(server, '/api/token-info', `Bearer ${at}`);
  check('GET /api/token-info with the bound token as Bearer: 401 (protected like the other routes)', r.status === 401, r.shown);
  r = await api(server, '/api/profile', `DPoP ${at}`, await proof(key, 'GET', `${profileUrl}?q=1#f`, { token: at }));
  check('htu with query and fragment is compared without them: 200', r.status === 200, r.shown);
  r = await api(server, '/api/profile', `DPoP ${at}`);
  check('no proof: 401 invalid_dpop_proof', dpopRefused(r, 'invalid_dpop_proof'), r.shown);
  const thief = await newKey();
  r = await api(server, '/api/profile', `DPoP ${at}`, await proof(thief, 'GET', profileUrl, { token: at }));
  check('proof by another key (the thief\'s): 401 invalid_token, cnf.jkt mismatch', dpopRefused(r, 'invalid_token') && /cnf\.jkt/.test(r.json?.error_description ?? ''), r.shown);
  r = await api(server, '/api/profile', `DPoP ${at}`, good);
  check('replayed proof (same jti): 401 invalid_dpop_proof', dpopRefused(r, 'invalid_dpop_proof') && /already used/.test(r.json?.error_description ?? ''), r.shown);
  r = await api(server, '/api/profile', `DPoP ${at}`, await proof(key, 'GET', `${server.api}/api/files`, { token: at }));
  check('proof for another URL: 401 invalid_dpop_proof (htu)', dpopRefused(r, 'invalid_dpop_proof') && /htu mismatch/.test(r.json?.error_description ?? ''), r.shown);
  // node:http, since fetch does not let a caller set Host.
  const forged = await proof(key, 'GET', 'http://other.example/api/profile', { token: at });
  r = await new Promise((resolve, reject) => {
    http.get(profileUrl, { headers: { host: 'other.example', authorization: `DPoP ${at}`, dpop: forged } }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, www: res.headers['www-authenticate'] ?? '', json: JSON.parse(body) }));
    }).on('error', reject);
  });
  check('proof for another server, sent with a matching forged Host: 401 invalid_dpop_proof (htu)', dpopRefused(r, 'invalid_dpop_proof') && /htu mismatch/.test(r.json?.error_description ?? ''), `${r.status} ${r.www}`);
  r = await api(server, '/api/profile', `DPoP ${at}`, await proof(key, 'POST', profileUrl, { token: at }));
  check('proof for another method: 401 invalid_dpop_proof (htm)', dpopRefused(r, 'invalid_dpop_proof') && /htm mismatch/.test(r.json?.error_description ?? ''), r.shown);
  r = await api(server, '/api/profile', `DPoP ${at}`, await proof(key, 'GET', profileUrl, { token: bearer.json.access_token }));
  check('proof for another token: 401 invalid_dpop_proof (ath)', dpopRefused(r, 'invalid_dpop_proof') && /ath mismatch/.test(r.json?.error_description ?? ''), r.shown);
  r = await api(server, '/api/profile', `DPoP ${at}`, await proof(key, 'GET', profileUrl));
  check('proof without ath: 401 invalid_dpop_proof', dpopRefused(r, 'invalid_dpop_proof'), r.shown);
  r = await api(server, '/api/profile', `DPoP ${at}`, await proof(key, 'GET', profileUrl, { token: at, claims: { iat: Math.floor(Date.now() / 1000) - 600 } }));
  check('proof made 10 minutes ago: 401 invalid_dpop_proof (iat)', dpopRefused(r, 'invalid_dpop_proof') && /iat/.test(r.json?.error_description ?? ''), r.shown);
  r = await api(server, '/api/profile', `DPoP ${at}`, await proof(key, 'GET', profileUrl, { token: at, header: { typ: 'JWT' } }));
  check('typ JWT: 401 invalid_dpop_proof', dpopRefused(r, 'invalid_dpop_proof') && /typ/.test(r.json?.error_description ?? ''), r.shown);
  const [h, p] = good.split('.');
  const noneHeader = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(h, 'base64url')), alg: 'none' })).toString('base64url');
  r = await api(server, '/api/profile', `DPoP ${at}`, `${noneHeader}.${p}.AAAA`);
  check('alg none: 401 invalid_dpop_proof', dpopRefused(r, 'invalid_dpop_proof') && /alg/.test(r.json?.error_description ?? ''), r.shown);
  r = await api(server, '/api/profile', `DPoP ${at}`, `${h}.${p}.${Buffer.alloc(64).toString('base64url')}`);
  check('a forged signature: 401 invalid_dpop_proof', dpopRefused(r, 'invalid_dpop_proof') && /signature/.test(r.json?.error_description ?? ''), r.shown);
  r = await api(server, '/api/profile', `Bearer ${at}`);
  check('the DPoP-bound token sent as Bearer (a stolen copy): 401 + WWW-Authenticate: DPoP invalid_token', dpopRefused(r, 'invalid_token') && /bound to a DPoP key/.test(r.json?.error_description ?? ''), r.shown);
  r = await api(server, '/api/files', `DPoP ${at}`, await proof(key, 'GET', `${server.api}/api/files`, { token: at }));
  check('/api/files with its own proof: 200', r.status === 200 && r.json?.owner === 'alice', r.shown);

  section('provider: userinfo and refresh with DPoP');
  let res = await fetch(server.discovery.userinfo_endpoint, { headers: { authorization: `DPoP ${at}`, dpop: await proof(key, 'GET', server.discovery.userinfo_endpoint, { token: at }) } });
  check('userinfo with DPoP + proof: 200', res.status === 200, `${res.status}`);
  res = await fetch(server.discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${at}` } });
  check('userinfo with the bound token as Bearer: 401', res.status === 401, `${res.status} ${res.headers.get('www-authenticate')}`);
  const rt = bound.json.refresh_token;
  check('a refresh token came with the DPoP token', typeof rt === 'string');
  let refresh = await token(server, { grant_type: 'refresh_token', refresh_token: rt, client_id: 'flow-lab' }, await proof(thief, 'POST', server.discovery.token_endpoint));
  check('refresh with another key\'s proof: refused (the refresh token is bound too)', refresh.status === 400 && refresh.json?.error === 'invalid_grant', `${refresh.status} ${refresh.text}`);
  refresh = await token(server, { grant_type: 'refresh_token', refresh_token: rt, client_id: 'flow-lab' }, await proof(key, 'POST', server.discovery.token_endpoint));
  check('refresh with the same key: 200 DPoP', refresh.status === 200 && refresh.json?.token_type === 'DPoP', `${refresh.status} ${refresh.json?.token_type ?? refresh.text}`);

  section('clients that require DPoP');
  const required = await token(server, codeForm('flow-lab-dpop', await code(server, 'flow-lab-dpop')));
  check('flow-lab-dpop without a proof: 400 invalid_grant', required.status === 400 && required.json?.error === 'invalid_grant', `${required.status} ${required.text}`);
  const c2 = await code(server, 'flow-lab-dpop-nonce');
  const first = await token(server, codeForm('flow-lab-dpop-nonce', c2), await proof(key, 'POST', server.discovery.token_endpoint));
  check('flow-lab-dpop-nonce, proof without nonce: 400 use_dpop_nonce + DPoP-Nonce header', first.status === 400 && first.json?.error === 'use_dpop_nonce' && !!first.nonce, `${first.status} ${first.text} DPoP-Nonce: ${first.nonce}`);
  const retry = await token(server, codeForm('flow-lab-dpop-nonce', c2), await proof(key, 'POST', server.discovery.token_endpoint, { nonce: first.nonce }));
  check('…one retry with that nonce: 200 DPoP (the code was not used up by the first try)', retry.status === 200 && retry.json?.token_type === 'DPoP', `${retry.status} ${retry.json?.token_type ?? retry.text}`);

  section('CORS for a browser client');
  res = await fetch(server.discovery.token_endpoint, { method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,dpop' } });
  check('token endpoint preflight allows the DPoP header', res.status === 204 && /dpop/i.test(res.headers.get('access-control-allow-headers') ?? ''), `${res.status} ${res.headers.get('access-control-allow-headers')}`);
  const nonceCors = await fetch(server.discovery.token_endpoint, {
    method: 'POST', headers: { origin: APP, 'content-type': 'application/x-www-form-urlencoded', dpop: await proof(key, 'POST', server.discovery.token_endpoint) },
    body: new URLSearchParams(codeForm('flow-lab-dpop-nonce', await code(server, 'flow-lab-dpop-nonce'))),
  });
  check('token endpoint exposes DPoP-Nonce to the app origin', nonceCors.status === 400 && /dpop-nonce/i.test(nonceCors.headers.get('access-control-expose-headers') ?? ''), `${nonceCors.status} ${nonceCors.headers.get('access-control-expose-headers')}`);
  res = await fetch(profileUrl, { method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization,dpop' } });
  check('API preflight allows Authorization and DPoP', res.status === 204 && /dpop/i.test(res.headers.get('access-control-allow-headers') ?? ''), `${res.status} ${res.headers.get('access-control-allow-headers')}`);
  r = await fetch(profileUrl, { headers: { origin: APP } });
  check('API exposes WWW-Authenticate and DPoP-Nonce', /dpop-nonce/i.test(r.headers.get('access-control-expose-headers') ?? ''), r.headers.get('access-control-expose-headers'));
}

async function algChecks(server) {
  section('every proof algorithm the app offers besides ES256 (RS256, PS256, EdDSA, Ed25519)');
  const profileUrl = `${server.api}/api/profile`;
  for (const alg of ['RS256', 'PS256', 'EdDSA', 'Ed25519']) {
    const key = await newKey(alg);
    const c = await code(server, 'flow-lab');
    const bound = await token(server, codeForm('flow-lab', c), await proof(key, 'POST', server.discovery.token_endpoint));
    const at = bound.json?.access_token;
    const info = at ? await introspect(server, at) : {};
    check(`${alg}: token_type DPoP, cnf.jkt = the ${key.jwk.kty} key's thumbprint`, bound.status === 200 && bound.json?.token_type === 'DPoP' && info.cnf?.jkt === key.jkt, `${bound.status} ${bound.json?.token_type ?? bound.text}`);
    const r = await api(server, '/api/profile', `DPoP ${at}`, await proof(key, 'GET', profileUrl, { token: at }));
    check(`${alg}: the demo API verifies the proof: 200`, r.status === 200 && r.json?.sub === 'alice', r.shown);
  }
}

async function iatChecks(server, window) {
  section(`API_DPOP_IAT_WINDOW_S=${window}: after the window, iat refuses a replayed proof`);
  const key = await newKey();
  const c = await code(server, 'flow-lab');
  const bound = await token(server, codeForm('flow-lab', c), await proof(key, 'POST', server.discovery.token_endpoint));
  const at = bound.json?.access_token;
  const profileUrl = `${server.api}/api/profile`;
  const captured = await proof(key, 'GET', profileUrl, { token: at });
  let r = await api(server, '/api/profile', `DPoP ${at}`, captured);
  check('the app\'s own proof: 200', r.status === 200, r.shown);
  r = await api(server, '/api/profile', `DPoP ${at}`, captured);
  check('replayed at once: 401 invalid_dpop_proof (jti already used)', dpopRefused(r, 'invalid_dpop_proof') && /already used/.test(r.json?.error_description ?? ''), r.shown);
  await new Promise((resolve) => { setTimeout(resolve, (window + 2) * 1000); });
  r = await api(server, '/api/profile', `DPoP ${at}`, captured);
  check(`replayed after ${window + 2} s: 401 invalid_dpop_proof naming iat (the jti was forgotten with the window)`, dpopRefused(r, 'invalid_dpop_proof') && /iat is not within/.test(r.json?.error_description ?? ''), r.shown);
}

async function nonceChecks(server) {
  section('LAB_DPOP_NONCE=1: nonces everywhere');
  const key = await newKey();
  const c = await code(server, 'flow-lab');
  const first = await token(server, codeForm('flow-lab', c), await proof(key, 'POST', server.discovery.token_endpoint));
  check('flow-lab, token request: 400 use_dpop_nonce + DPoP-Nonce', first.status === 400 && first.json?.error === 'use_dpop_nonce' && !!first.nonce, `${first.status} ${first.text}`);
  const second = await token(server, codeForm('flow-lab', c), await proof(key, 'POST', server.discovery.token_endpoint, { nonce: first.nonce }));
  check('…retry with the nonce: 200 DPoP', second.status === 200 && second.json?.token_type === 'DPoP', `${second.status} ${second.json?.token_type ?? second.text}`);
  const at = second.json?.access_token;
  const profileUrl = `${server.api}/api/profile`;
  let r = await api(server, '/api/profile', `DPoP ${at}`, await proof(key, 'GET', profileUrl, { token: at }));
  check('API, proof without nonce: 401 WWW-Authenticate: DPoP error="use_dpop_nonce" + DPoP-Nonce', dpopRefused(r, 'use_dpop_nonce') && !!r.nonce, `${r.shown} DPoP-Nonce: ${r.nonce}`);
  const apiNonce = r.nonce;
  r = await api(server, '/api/profile', `DPoP ${at}`, await proof(key, 'GET', profileUrl, { token: at, nonce: apiNonce }));
  check('…retry with the API\'s nonce: 200', r.status === 200 && r.json?.sub === 'alice', r.shown);
  r = await api(server, '/api/profile', `DPoP ${at}`, await proof(key, 'GET', profileUrl, { token: at, nonce: first.nonce === apiNonce ? 'x' : first.nonce }));
  check('a nonce the API did not issue: 401 use_dpop_nonce again', dpopRefused(r, 'use_dpop_nonce'), r.shown);
}

try {
  const server = await startServer();
  await defaultChecks(server);
  await algChecks(server);
  const iatServer = await startServer({ API_DPOP_IAT_WINDOW_S: '2' });
  await iatChecks(iatServer, 2);
  const nonceServer = await startServer({ LAB_DPOP_NONCE: '1' });
  await nonceChecks(nonceServer);
} catch (err) {
  failed += 1;
  console.log(`FAIL  unexpected error: ${err.stack}`);
} finally {
  for (const child of children) child.kill('SIGTERM');
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
